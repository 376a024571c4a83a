import json
import os
import os.path as osp

import numpy as np
from PIL import Image

from escnet_mmseg.datasets import SyntheticShapesDataset
from tests.tools.tool_loader import load_tool

gen = load_tool('tools/generate_synthetic_data.py')
ARGS = ['--num-train', '6', '--num-val', '3', '--size', '32']


def files(root):
    out = {}
    for d, _, names in os.walk(root):
        for n in names:
            path = osp.join(d, n)
            with open(path, 'rb') as f:
                out[osp.relpath(path, root)] = f.read()
    return out


def test_same_seed_gives_identical_bytes(tmp_path):
    a, b = str(tmp_path / 'a'), str(tmp_path / 'b')
    assert gen.main(['--out', a, '--seed', '3'] + ARGS) == 0
    assert gen.main(['--out', b, '--seed', '3'] + ARGS) == 0
    fa, fb = files(a), files(b)
    assert len(fa) == 2 * (6 + 3) + 1  # images, labels, meta.json
    assert fa == fb


def test_different_seed_gives_different_data(tmp_path):
    a, b = str(tmp_path / 'a'), str(tmp_path / 'b')
    gen.main(['--out', a, '--seed', '0'] + ARGS)
    gen.main(['--out', b, '--seed', '1'] + ARGS)
    fa, fb = files(a), files(b)
    assert fa.keys() == fb.keys()
    pngs = [k for k in fa if k.endswith('.png')]
    assert all(fa[k] != fb[k] for k in pngs if k.startswith('img_dir'))


def test_splits_do_not_depend_on_each_other(tmp_path):
    a, b = str(tmp_path / 'a'), str(tmp_path / 'b')
    gen.main(
        ['--out', a, '--num-train', '2', '--num-val', '1', '--size', '32'])
    gen.main(
        ['--out', b, '--num-train', '3', '--num-val', '4', '--size', '32'])
    fa, fb = files(a), files(b)
    for k in fa:
        if k.endswith('.png'):
            assert fa[k] == fb[k], k


def test_refuses_non_empty_folder(tmp_path, capsys):
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'notes.txt').write_text('keep me')
    assert gen.main(['--out', str(out)] + ARGS) == 1
    assert 'not empty' in capsys.readouterr().err
    assert sorted(os.listdir(out)) == ['notes.txt']
    assert gen.main(['--out', str(out), '--overwrite'] + ARGS) == 0
    assert (out / 'notes.txt').read_text() == 'keep me'
    # Overwriting replaces the previous dataset instead of adding to it.
    assert gen.main([
        '--out',
        str(out), '--overwrite', '--num-train', '2', '--num-val', '1',
        '--size', '32'
    ]) == 0
    assert len(os.listdir(out / 'img_dir' / 'train')) == 2


def test_meta_and_labels_match_the_dataset_class(tmp_path):
    out = str(tmp_path / 'syn')
    assert gen.main(['--out', out, '--num-train', '12', '--num-val', '2']) == 0
    with open(osp.join(out, 'meta.json')) as f:
        meta = json.load(f)
    assert tuple(meta['classes']) == SyntheticShapesDataset.METAINFO['classes']
    assert meta['palette'] == SyntheticShapesDataset.METAINFO['palette']
    assert meta['seed'] == 0 and meta['size'] == 64
    assert meta['counts'] == dict(train=12, val=2)
    seen = set()
    for i in range(12):
        img = np.array(
            Image.open(osp.join(out, 'img_dir', 'train', f'{i:05d}.png')))
        label = np.array(
            Image.open(osp.join(out, 'ann_dir', 'train', f'{i:05d}.png')))
        assert img.shape == (64, 64, 3) and img.dtype == np.uint8
        assert label.shape == (64, 64) and label.dtype == np.uint8
        assert label.max() < len(meta['classes'])  # every pixel labelled
        seen |= set(np.unique(label).tolist())
    assert seen == set(range(len(meta['classes'])))
    ds = SyntheticShapesDataset(
        data_root=out,
        data_prefix=dict(
            img_path='img_dir/train', seg_map_path='ann_dir/train'))
    assert len(ds) == 12


def test_classes_are_visually_distinct(tmp_path):
    """Each class has its own mean colour, far from every other class."""
    out = str(tmp_path / 'syn')
    gen.main(['--out', out, '--num-train', '8', '--num-val', '0'])
    sums, counts = np.zeros((6, 3)), np.zeros(6)
    for i in range(8):
        img = np.array(
            Image.open(osp.join(out, 'img_dir', 'train',
                                f'{i:05d}.png'))).reshape(-1, 3)
        label = np.array(
            Image.open(osp.join(out, 'ann_dir', 'train',
                                f'{i:05d}.png'))).ravel()
        np.add.at(sums, label, img)
        counts += np.bincount(label, minlength=6)
    means = sums / counts[:, None]
    dist = np.linalg.norm(means[:, None] - means[None], axis=-1)
    assert dist[~np.eye(6, dtype=bool)].min() > 40
