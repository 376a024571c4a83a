"""An evaluation config run end to end through MMEngine's Runner (what
`tools/test.py CONFIG CHECKPOINT` does), on a tiny model and tiny data."""
import copy

from mmengine.config import Config
from mmengine.runner import Runner

from escnet_mmseg.datasets.prompts import load_prompts
from tests.datasets.tiny_data import write_tiny_dataset
from tests.tiny import REPO, tiny_cfg


def test_eval_config_runs_with_the_tiny_model(tmp_path):
    # PAS-20b: 59 prompts, 21 labels, PromptIoUMetric.
    bench = 'voc-20b'
    cfg = Config.fromfile(
        str(REPO / 'configs' / 'escnet' / f'escnet_vitb16_test-{bench}.py'))
    protocol = copy.deepcopy(cfg.model.test_cfg)
    cfg.model = tiny_cfg().model
    # The protocol at the tiny model's scale (64 px CLIP input).
    cfg.model.test_cfg = dict(
        protocol, out_size=(80, 80), crop_size=(48, 48), stride=(32, 32))
    root = tmp_path / 'data'
    write_tiny_dataset(bench, str(root))
    loader = cfg.test_dataloader
    loader.update(num_workers=0, persistent_workers=False)
    loader.dataset.data_root = str(root)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.env_cfg = dict(dist_cfg=dict(backend='gloo'))
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    assert 0 <= metrics['mIoU'] <= 100
    # The VocabularyHook gave the model the benchmark's prompts.
    assert runner.model.vocabulary == load_prompts('voc20b')
