"""Loading a trained checkpoint: strict (what does not fit is refused) and
safe (no code from the file runs), through every Python entry point."""
import argparse
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from escnet_mmseg.apis import OpenVocabInferencer, init_model, set_vocabulary
from escnet_mmseg.utils import (CheckpointError, load_checkpoint_strict,
                                read_checkpoint)
from tests.tiny import NAMES, REPO, TINY_CONFIG, build_tiny_model
from tests.tools.checkpoints import (PALETTE, Planted, one_block_model_cfg,
                                     plant, write_checkpoint)

CONFIGS = sorted((REPO / 'configs' / 'escnet').glob('*.py'))
IMAGE = np.random.RandomState(0).randint(0, 255, (48, 56, 3), np.uint8)


@pytest.fixture(scope='module')
def ckpt(tmp_path_factory):
    """One checkpoint of the tiny config as a training run saves it, one of
    another model, and damaged copies."""
    d = tmp_path_factory.mktemp('ckpt')
    good = write_checkpoint(d / 'good.pth')
    truncated = d / 'truncated.pth'
    truncated.write_bytes(good.read_bytes()[:good.stat().st_size // 2])
    other = write_checkpoint(
        d / 'one_block.pth', one_block_model_cfg(), training_state=False)
    return SimpleNamespace(dir=d, good=good, truncated=truncated, other=other)


def _weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def _unchanged(model, before) -> bool:
    return all(
        torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_a_training_checkpoint_loads_without_trust(ckpt):
    # (a list on torch 2.4, a set's items in any order on newer torch)
    allowed_before = set(torch.serialization.get_safe_globals())
    checkpoint = read_checkpoint(str(ckpt.good))
    # allowed for this read only, not for every later torch.load
    assert set(torch.serialization.get_safe_globals()) == allowed_before
    # MMEngine's training state comes along (plain types only) ...
    hub = checkpoint['message_hub']['log_scalars']['train/loss']
    assert type(hub).__name__ == 'HistoryBuffer'
    assert hub.current() == pytest.approx(0.5)
    assert checkpoint['optimizer']['state'] and checkpoint['param_schedulers']
    # ... and the model gets every weight and the vocabulary.
    model = build_tiny_model(vocabulary=None, seed=1)
    load_checkpoint_strict(model, str(ckpt.good))
    for key, value in model.state_dict().items():
        assert torch.equal(value, checkpoint['state_dict'][key]), key
    assert model.vocabulary == NAMES
    assert model.dataset_meta['palette'] == PALETTE


def test_planted_code_never_runs_unless_trusted(ckpt, tmp_path):
    marker = tmp_path / 'pwned'
    planted = plant(ckpt.good, tmp_path / 'planted.pth', note=Planted(marker))
    with pytest.raises(CheckpointError) as err:
        read_checkpoint(str(planted))
    assert str(planted) in str(err.value)
    assert '`builtins.exec`' in str(err.value)
    assert '--trust-checkpoint' in str(err.value)
    model = build_tiny_model(vocabulary=None)
    before = _weights(model)
    for load in (lambda: load_checkpoint_strict(model, str(planted)),
                 lambda: init_model(TINY_CONFIG, str(planted), device='cpu'),
                 lambda: OpenVocabInferencer(
                     str(TINY_CONFIG), weights=str(planted), device='cpu')):
        with pytest.raises(CheckpointError, match='builtins.exec'):
            load()
        assert not marker.exists()
    assert _unchanged(model, before)
    # The plant is live: full unpickling (trust) runs it.
    read_checkpoint(str(planted), trust=True)
    assert marker.read_text() == 'unpickled'


def test_other_types_need_trust(ckpt, tmp_path):
    path = plant(
        ckpt.good, tmp_path / 'args.pth', args=argparse.Namespace(lr=0.1))
    with pytest.raises(CheckpointError, match='`argparse.Namespace`'):
        read_checkpoint(str(path))
    assert read_checkpoint(str(path), trust=True)['args'].lr == 0.1
    model = init_model(
        TINY_CONFIG, str(path), device='cpu', trust_checkpoint=True)
    assert model.vocabulary == NAMES


def test_unreadable_files_are_named(ckpt, tmp_path):
    text = tmp_path / 'notes.pth'
    text.write_text('not a checkpoint')
    cases = {
        ckpt.truncated: 'cannot read checkpoint',
        text: 'cannot read checkpoint',
        tmp_path / 'missing.pth': 'checkpoint not found',
    }
    for path, message in cases.items():
        for trust in (False, True):
            with pytest.raises(CheckpointError) as err:
                read_checkpoint(str(path), trust=trust)
            assert message in str(err.value) and str(path) in str(err.value)
    tensor = tmp_path / 'tensor.pth'
    torch.save(torch.zeros(2), tensor)
    with pytest.raises(CheckpointError, match='holds a Tensor, not a dict'):
        read_checkpoint(str(tensor))


def test_a_checkpoint_of_another_model_is_refused(ckpt, tmp_path):
    model = build_tiny_model(vocabulary=None, seed=3)
    before = _weights(model)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint_strict(model, str(ckpt.other))
    message = str(err.value)
    assert str(ckpt.other) in message and 'does not fit' in message
    assert 'missing' in message and 'neck.blocks.1.' in message
    # untouched: no half-loaded model
    assert _unchanged(model, before)
    # unexpected keys and other shapes are refused the same way
    state = torch.load(ckpt.good, weights_only=False)
    state['state_dict']['neck.extra.weight'] = torch.zeros(1)
    key = next(k for k, v in state['state_dict'].items() if v.dim() == 2)
    state['state_dict'][key] = torch.zeros(3, 3)
    torch.save(state, tmp_path / 'changed.pth')
    with pytest.raises(CheckpointError) as err:
        load_checkpoint_strict(model, str(tmp_path / 'changed.pth'))
    assert 'neck.extra.weight' in str(err.value)
    assert f'{key}: (3, 3) in the file' in str(err.value)
    # through every entry point
    with pytest.raises(CheckpointError, match='does not fit'):
        init_model(TINY_CONFIG, str(ckpt.other), device='cpu')
    with pytest.raises(CheckpointError, match='does not fit'):
        OpenVocabInferencer(
            str(TINY_CONFIG), weights=str(ckpt.other), device='cpu')


def test_ddp_prefixed_keys_load(ckpt, tmp_path):
    state = torch.load(ckpt.good, weights_only=False)
    state['state_dict'] = {
        'module.' + k: v
        for k, v in state['state_dict'].items()
    }
    torch.save(state, tmp_path / 'ddp.pth')
    model = build_tiny_model(vocabulary=None, seed=1)
    load_checkpoint_strict(model, str(tmp_path / 'ddp.pth'))
    assert model.vocabulary == NAMES


def test_mmseg_init_model_inference_and_show(ckpt, tmp_path):
    """MMSeg's own API on an ESC-Net checkpoint; the vocabulary comes from
    the checkpoint and is changed with set_vocabulary."""
    from mmseg.apis import inference_model
    from mmseg.apis import init_model as mmseg_init_model
    from mmseg.apis import show_result_pyplot
    model = mmseg_init_model(str(TINY_CONFIG), str(ckpt.good), device='cpu')
    assert model.vocabulary == NAMES
    result = inference_model(model, IMAGE)
    assert result.seg_logits.data.shape == (len(NAMES), 48, 56)
    out = tmp_path / 'vis.png'
    painted = show_result_pyplot(
        model, IMAGE, result, show=False, out_file=str(out))
    assert out.is_file() and painted.shape == (48, 56, 3)
    # the strict loader gives the same model
    ours = init_model(TINY_CONFIG, str(ckpt.good), device='cpu')
    assert torch.equal(
        inference_model(ours, IMAGE).seg_logits.data, result.seg_logits.data)
    # another vocabulary, painted with its own palette
    classes, palette = set_vocabulary(model, ['sky', 'ground, floor'])
    assert model.vocabulary == ('sky', 'ground, floor')
    assert model.dataset_meta == dict(classes=classes, palette=palette)
    result = inference_model(model, IMAGE)
    assert result.seg_logits.data.shape == (2, 48, 56)
    assert set(result.pred_sem_seg.data.unique().tolist()) <= {0, 1}
    show_result_pyplot(model, IMAGE, result, show=False, out_file=str(out))
    with pytest.raises(ValueError, match='palette'):
        set_vocabulary(model, ['a', 'b'], palette=[[0, 0, 0]])


def test_inferencer_reads_the_config_from_the_checkpoint(ckpt):
    inferencer = OpenVocabInferencer(
        None, weights=str(ckpt.good), device='cpu')
    assert inferencer.model.vocabulary == NAMES
    result = inferencer(IMAGE, return_datasamples=True)
    assert result.seg_logits.data.shape == (len(NAMES), 48, 56)


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_mmseg_init_model_builds_every_config(path):
    """MMSeg's init_model passes `pretrained=None` to the segmentor."""
    from mmseg.apis import init_model as mmseg_init_model
    with torch.device('meta'):  # ViT-L without memory; no weights read
        model = mmseg_init_model(str(path), None, device='meta')
    assert type(model).__name__ == 'ESCNet' and not model.training
    assert model.cfg.model.pretrained is None
