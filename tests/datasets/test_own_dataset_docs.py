"""docs/own_dataset.md followed on a tiny dataset the test writes: the
smoke-test commands run as written (train, then test the checkpoint), and
the 16-bit fragment keeps labels above 255."""
import numpy as np
import pytest
from mmengine.config import Config
from mmseg.registry import DATASETS
from PIL import Image

from tests.docs_blocks import DOCS, REPO, DocShell, block_with, code_blocks

GUIDE = DOCS / 'own_dataset.md'
BASE = REPO / 'configs' / '_base_' / 'datasets' / 'own-dataset.py'


def write_own_dataset(root, classes, dtype=np.uint8, values=None):
    """The guide's layout: ``.jpg`` images and ``.png`` label maps whose
    ids are the positions in ``classes`` (left to right bands) plus an
    ignored border."""
    rng = np.random.default_rng(0)
    ignore = np.iinfo(dtype).max
    values = list(range(len(classes))) if values is None else values
    for split, count in (('train', 4), ('val', 2)):
        for i in range(count):
            label = np.repeat(np.array(values, dtype), 96 // len(values))
            label = np.tile(label, (48, 1))
            label[:, :2] = ignore
            colours = rng.integers(0, 255, (max(values) + 1, 3))
            image = colours[np.where(label == ignore, 0, label)]
            stem = f'{split}{i:03d}'
            for folder, arr, suffix in (('img_dir', image.astype(np.uint8),
                                         '.jpg'), ('ann_dir', label, '.png')):
                path = root / folder / split / (stem + suffix)
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(arr).save(path)


@pytest.mark.slow
def test_smoke_test_commands_run_as_written(tmp_path):
    shell = DocShell(tmp_path / 'checkout', tmp_path / 'downloads')
    classes = Config.fromfile(str(BASE)).metainfo.classes
    write_own_dataset(shell.root / 'data' / 'my_dataset', classes)
    res = shell.run(block_with(GUIDE, 'escnet_tiny_own-dataset.py'))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    log = res.stdout + res.stderr
    assert 'mIoU' in log
    # The per-class table lists the dataset's names, synonyms included.
    rows = {
        line.split('|')[1].strip()
        for line in log.splitlines() if line.count('|') >= 3
    }
    assert set(classes) <= rows and 'star, stars' in rows


def test_sixteen_bit_fragment_keeps_wide_labels(tmp_path):
    (fragment, ) = [
        b for b in code_blocks(GUIDE, 'python') if 'LoadSegAnnotations16' in b
    ]
    # "add to your config": one that inherits the dataset base.
    cfg_file = tmp_path / 'wide.py'
    cfg_file.write_text(f'_base_ = [{str(BASE)!r}]\n' + fragment)
    cfg = Config.fromfile(str(cfg_file))
    assert cfg.model.decode_head.ignore_index == 65535
    assert cfg.model.data_preprocessor.seg_pad_val == 65535
    assert cfg.val_evaluator.ignore_index == 65535
    root = tmp_path / 'data'
    write_own_dataset(root, range(400), np.uint16, values=[0, 7, 300, 399])
    for split in ('train', 'val'):
        dataset_cfg = cfg[f'{split}_dataloader'].dataset
        ds = DATASETS.build(dict(dataset_cfg, data_root=str(root)))
        assert ds.ignore_index == 65535
        gt = ds[0]['data_samples'].gt_sem_seg.data.unique().tolist()
        # (a training crop may miss a band; none is cast to 8 bits)
        assert 300 in gt and set(gt) <= {0, 7, 300, 399, 65535}
