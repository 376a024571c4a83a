"""Named vocabularies: the stock configs name their prompt list, so MMSeg's
own tools build a usable ESC-Net from them without edits."""
import runpy
import sys

import pytest
import torch
from mmseg.apis import init_model

from escnet_mmseg.datasets import load_prompts, resolve_vocabulary
from tests.datasets.tiny_data import write_tiny_dataset
from tests.tiny import NAMES, REPO, build_tiny_model, tiny_model_cfg
from tests.tools.checkpoints import mmseg_tools_dir, write_checkpoint

CONFIGS = REPO / 'configs' / 'escnet'
# benchmark of the evaluation configs -> the packaged prompt list they name
BENCHMARKS = {
    'ade20k-150': 'ade150',
    'ade20k-847': 'ade847',
    'pascal-context-59': 'pc59',
    'pascal-context-459': 'pc459',
    'voc-20': 'voc20',
    'voc-20b': 'voc20b',
}
# config stem -> the packaged prompt list it names
NAMED = {
    f'escnet_{b}_{what}': name
    for b in ('vitb16', 'vitl14')
    for what, name in [('coco-stuff',
                        'coco'), *((f'test-{k}', v)
                                   for k, v in BENCHMARKS.items())]
}


def test_every_stock_config_is_listed():
    stems = {p.stem for p in CONFIGS.glob('escnet_vit*.py')}
    assert stems == set(NAMED)


@pytest.mark.parametrize('stem', sorted(NAMED))
def test_init_model_without_checkpoint_has_the_configs_vocabulary(stem):
    # MMSeg's init_model, unedited; the meta device builds ViT-L for free.
    with torch.device('meta'):
        model = init_model(str(CONFIGS / f'{stem}.py'), None, device='meta')
    assert model.vocabulary == load_prompts(NAMED[stem])
    assert model.out_channels == len(load_prompts(NAMED[stem]))


def test_vocabulary_priority_and_names():
    model = build_tiny_model(vocabulary=None)
    assert model.default_vocabulary is None
    with pytest.raises(RuntimeError, match="model.vocabulary=.*'ade150'"):
        model.vocabulary
    model = build_tiny_model(
        dict(tiny_model_cfg(), vocabulary='voc20'), vocabulary=None)
    assert model.vocabulary == load_prompts('voc20')
    model.dataset_meta = dict(classes=list(NAMES))  # a checkpoint's
    assert model.vocabulary == NAMES
    model.set_vocabulary('pc59')  # the VocabularyHook's, or a user's
    assert model.vocabulary == load_prompts('pc59')
    assert resolve_vocabulary(['sky', 'wall,walls']) == ('sky', 'wall,walls')
    with pytest.raises(ValueError, match="'ade9000' is a single string"):
        resolve_vocabulary('ade9000')


def test_mmseg_benchmark_runs_on_a_stock_evaluation_config(
        tmp_path, monkeypatch):
    """MMSeg's analysis_tools/benchmark.py on the A-150 evaluation config:
    only the model is the tiny one (same test mode) and the data a tiny
    A-150 copy read in the main process; the vocabulary is the config's."""
    root = tmp_path / 'data'
    write_tiny_dataset('ade20k-150', str(root))
    model = tiny_model_cfg()
    for key in ('type', 'test_cfg', 'train_cfg'):
        model.pop(key)
    config = tmp_path / 'bench.py'
    stock = CONFIGS / 'escnet_vitb16_test-ade20k-150.py'
    config.write_text(
        f'_base_ = [{str(stock)!r}]\n'
        f'model = {model!r}\n'
        f'test_dataloader = dict(num_workers=0, persistent_workers=False, '
        f'dataset=dict(data_root={str(root)!r}))\n')
    checkpoint = write_checkpoint(tmp_path / 'tiny.pth', training_state=False)
    script = mmseg_tools_dir() / 'analysis_tools' / 'benchmark.py'
    monkeypatch.setattr(sys, 'argv', [
        str(script),
        str(config),
        str(checkpoint), '--work-dir',
        str(tmp_path / 'work')
    ])
    calls = []
    from escnet_mmseg.models import ESCNet
    predict = ESCNet.predict

    def counted(self, inputs, data_samples=None):
        calls.append(self.num_classes)
        return predict(self, inputs, data_samples)

    monkeypatch.setattr(ESCNet, 'predict', counted)
    with pytest.warns(RuntimeWarning):  # no image after its 5 warm-up ones
        runpy.run_path(str(script), run_name='__main__')
    assert calls == [150, 150]  # both tiny A-150 images, the A-150 prompts
    assert list((tmp_path / 'work').glob('fps_*.json'))
