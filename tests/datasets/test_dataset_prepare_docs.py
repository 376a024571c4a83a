"""docs/dataset_prepare.md as a new user runs it: every ``bash`` block,
exactly as written, on tiny fake archives with the released archives'
names and layouts (``wget`` hands them out), then the documented Python
check. The resulting folders must be what the dataset configs read."""
import json
import shutil
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config
from mmseg.registry import DATASETS
from PIL import Image
from scipy.io import savemat

from escnet_mmseg.datasets import pascal_context_val_ids
from tests.datasets.tiny_data import write_tiny_dataset
from tests.docs_blocks import DOCS, REPO, DocShell, code_blocks
from tests.tools.test_converters import rle_counts, write_fake_ade

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which('unzip') is None, reason='the docs unpack with unzip')
]
PREPARE = DOCS / 'dataset_prepare.md'
HW = (6, 8)


def _png(path: Path, arr: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)


def _image(path: Path) -> None:
    _png(path, np.full(HW + (3, ), 128, np.uint8))


def _zip(archive: Path, tree: Path) -> None:
    """``archive`` holding the content of ``tree`` (paths relative to it)."""
    with zipfile.ZipFile(archive, 'w') as z:
        for f in sorted(tree.rglob('*')):
            z.write(f, f.relative_to(tree).as_posix())


def _tar(archive: Path, tree: Path, mode: str = 'w') -> None:
    with tarfile.open(archive, mode) as t:
        for child in sorted(tree.iterdir()):
            t.add(child, child.name)


def coco_archives(out: Path, work: Path) -> None:
    for split, stem in (('train2017', '000000000009'), ('val2017',
                                                        '000000000139')):
        _image(work / split / split / f'{stem}.jpg')
        _zip(out / f'{split}.zip', work / split)
        # stuffthingmaps ids: 0..181 (11 unused thing ids), 255 unlabelled.
        raw = np.array([[0, 10, 91, 181, 255, 12, 5, 0]] * HW[0], np.uint8)
        _png(work / 'maps' / split / f'{stem}.png', raw)
    _zip(out / 'stuffthingmaps_trainval2017.zip', work / 'maps')


def ade150_archive(out: Path, work: Path) -> None:
    top = work / 'ade' / 'ADEChallengeData2016'
    for split, stem in (('training', 'ADE_train_00000001'),
                        ('validation', 'ADE_val_00000001')):
        _image(top / 'images' / split / f'{stem}.jpg')
        _png(top / 'annotations' / split / f'{stem}.png',
             np.arange(48, dtype=np.uint8).reshape(HW) * 3)  # 0..141
    _zip(out / 'ADEChallengeData2016.zip', work / 'ade')


def voc2010_archives(out: Path, work: Path) -> None:
    voc = work / 'voc2010' / 'VOCdevkit' / 'VOC2010'
    # The PC-459 converter needs every id of the packaged validation list;
    # only the images a dataset loads here need to be real.
    stems = ('2008_000001', ) + tuple(pascal_context_val_ids())
    for stem in ('2008_000001', '2008_000002'):
        _image(voc / 'JPEGImages' / f'{stem}.jpg')
    for stem in stems[2:]:
        (voc / 'JPEGImages' / f'{stem}.jpg').write_bytes(b'')
    _tar(out / 'VOCtrainval_03-May-2010.tar', work / 'voc2010')
    # trainval_merged.json: image 1 (val) has an aeroplane (PC-59 id 1).
    mask = np.zeros(HW, bool)
    mask[1:3, 1:4] = True
    images = [
        dict(
            image_id=i,
            file_name=f'2008_00000{i}.jpg',
            phase=phase,
            height=HW[0],
            width=HW[1]) for i, phase in ((1, 'val'), (2, 'train'))
    ]
    annos = [
        dict(
            image_id=1,
            category_id=2,
            segmentation=dict(size=list(HW), counts=rle_counts(mask)))
    ]
    (out / 'trainval_merged.json').write_text(
        json.dumps(dict(images=images, annos_segmentation=annos)))
    # trainval.tar.gz: trainval/<id>.mat, ids 0 (unlabelled) .. 459.
    full = work / 'full' / 'trainval'
    full.mkdir(parents=True)
    label = np.array([[0, 1, 459, 300] * 2] * HW[0], np.uint16)
    for stem in stems:
        savemat(full / f'{stem}.mat', dict(LabelMap=label))
    _tar(out / 'trainval.tar.gz', work / 'full', 'w:gz')


def voc2012_archive(out: Path, work: Path) -> None:
    write_tiny_dataset('voc-20',
                       str(work / 'voc2012' / 'VOCdevkit' / 'VOC2012'))
    _tar(out / 'VOCtrainval_11-May-2012.tar', work / 'voc2012')


@pytest.fixture(scope='module')
def prepared(tmp_path_factory):
    """A scratch checkout after running every block of the document, with
    the ADE20K full release "downloaded by hand" into data/ first."""
    base = tmp_path_factory.mktemp('prepare')
    fakes, work = base / 'downloads', base / 'work'
    fakes.mkdir()
    for make in (coco_archives, ade150_archive, voc2010_archives,
                 voc2012_archive):
        make(fakes, work)
    shell = DocShell(base / 'checkout', fakes)
    index = np.tile(np.array([2978, 1831, 1857, 0]), (HW[0], 2))
    write_fake_ade(shell.root / 'data' / 'ADE20K_2021_17_01',
                   'ADE_val_00000001', index)
    blocks = code_blocks(PREPARE, 'bash')
    for block in blocks:
        # Each block must end where it started: the repository root.
        res = shell.run(
            'ROOT=$(pwd -P)\n' + block + 'test "$(pwd -P)" = "$ROOT"\n',
            timeout=900)
        assert res.returncode == 0, (block, res.stdout, res.stderr)
    return shell, blocks


def _dataset(root: Path, name: str, split: str = 'test'):
    cfg = Config.fromfile(
        str(REPO / 'configs' / '_base_' / 'datasets' / f'{name}.py'))
    cfg = cfg[f'{split}_dataloader'].dataset
    cfg.data_root = str(root / cfg.data_root)  # the configs' relative root
    return DATASETS.build(cfg)


def test_every_block_ran_and_fetched_each_archive_once(prepared):
    shell, blocks = prepared
    assert len(blocks) >= 6
    names = sorted(Path(u).name for u in shell.urls())
    assert names == sorted(p.name for p in shell.fakes.iterdir()
                           if p.name != 'urls.log')


@pytest.mark.parametrize('name,split,values', [
    ('coco-stuff164k', 'train', {0, 10, 80, 170, 255, 11, 5}),
    ('coco-stuff164k', 'test', {0, 10, 80, 170, 255, 11, 5}),
    ('ade20k-150', 'test', set(range(256))),
    ('ade20k-847', 'test', {0, 11, 255, 65535}),
    ('pascal-context-59', 'test', {255, 0}),
    ('pascal-context-459', 'test', {65535, 0, 458, 299}),
    ('voc-20', 'test', {255, 0, 14, 19}),
    ('voc-20b', 'test', {0, 1, 15, 20, 255}),
    ('synthetic', 'train', set(range(6))),
])
def test_the_configs_read_the_prepared_folders(prepared, name, split, values):
    shell, _ = prepared
    ds = _dataset(shell.root, name, split)
    assert len(ds) >= 1
    gt = ds[0]['data_samples'].gt_sem_seg.data.unique().tolist()
    assert set(gt) <= values and len(gt) > 1


def test_the_documented_python_check_runs(prepared):
    shell, _ = prepared
    (snippet, ) = [
        b for b in code_blocks(PREPARE, 'python') if 'DATASETS.build' in b
    ]
    res = shell.run(f"python - <<'EOF'\n{snippet}EOF\n")
    assert res.returncode == 0, res.stderr
    count, labels = res.stdout.strip().split(' ', 1)
    assert count == '1' and 'tensor([' in labels
