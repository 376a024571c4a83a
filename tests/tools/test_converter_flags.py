"""The converters' optional flags: --short-side, --mat-dir, --split-file,
--out-dir (each changes where or how the outputs are written)."""
import json

import numpy as np
from scipy.io import savemat

from escnet_mmseg.utils.cli import run_tool
from tests.tools.test_converters import (CONVERTERS, read, rle_counts,
                                         write_fake_ade)
from tests.tools.tool_loader import load_tool


def _ade_run(tmp_path, *flags):
    ade = load_tool(CONVERTERS + 'ade20k_847.py')
    root = tmp_path / 'ADE'
    index = np.full((40, 60), 1831)  # person -> 11
    index[:20] = 2978  # wall -> 0
    write_fake_ade(root, 'ADE_val_00000001', index)
    assert run_tool(ade.main, [str(root), '--nproc', '1', *flags]) == 0
    return root


def test_ade20k_847_short_side(tmp_path):
    root = _ade_run(tmp_path / 'a', '--short-side', '20')
    ann = read(root / 'annotations_detectron2' / 'validation' /
               'ADE_val_00000001.tif')
    img = read(root / 'images_detectron2' / 'validation' /
               'ADE_val_00000001.jpg')
    assert ann.shape == (20, 30) and img.shape == (20, 30, 3)
    assert (ann[:10] == 0).all() and (ann[10:] == 11).all()
    # 0 keeps the original size
    root = _ade_run(tmp_path / 'b', '--short-side', '0')
    assert read(root / 'annotations_detectron2' / 'validation' /
                'ADE_val_00000001.tif').shape == (40, 60)


def test_ade20k_847_out_dir(tmp_path):
    out = tmp_path / 'out'
    root = _ade_run(tmp_path, '--out-dir', str(out))
    assert (out / 'annotations_detectron2' / 'validation' /
            'ADE_val_00000001.tif').is_file()
    assert (out / 'images_detectron2' / 'validation' /
            'ADE_val_00000001.jpg').is_file()
    assert not (root / 'annotations_detectron2').exists()


def test_pascal_context_459_mat_dir_split_file_out_dir(tmp_path):
    pc = load_tool(CONVERTERS + 'pascal_context_459.py')
    root = tmp_path / 'VOC2010'
    (root / 'JPEGImages').mkdir(parents=True)
    (root / 'JPEGImages' / 'b.jpg').write_bytes(b'')  # a.jpg is not needed
    mats = tmp_path / 'mats'
    mats.mkdir()
    savemat(mats / 'a.mat', dict(LabelMap=np.array([[0, 5]], np.uint16)))
    savemat(mats / 'b.mat', dict(LabelMap=np.array([[7, 1]], np.uint16)))
    split = tmp_path / 'ids.txt'
    split.write_text('b\n')  # only b is converted
    out = tmp_path / 'pc459'
    assert run_tool(pc.main, [
        str(root), '--mat-dir',
        str(mats), '--split-file',
        str(split), '--out-dir',
        str(out), '--nproc', '1'
    ]) == 0
    assert sorted(p.name for p in out.iterdir()) == ['b.tif']
    np.testing.assert_array_equal(read(out / 'b.tif'), [[6, 0]])
    assert not (root / 'annotations_detectron2').exists()


def test_pascal_context_59_out_dir(tmp_path):
    pc = load_tool(CONVERTERS + 'pascal_context_59.py')
    root = tmp_path / 'VOC2010'
    (root / 'JPEGImages').mkdir(parents=True)
    mask = np.zeros((3, 4), bool)
    mask[1:, 2:] = True
    data = dict(
        images=[
            dict(
                image_id=1, file_name='x.jpg', phase='val', height=3, width=4)
        ],
        annos_segmentation=[
            dict(
                image_id=1,
                category_id=2,
                segmentation=dict(size=[3, 4], counts=rle_counts(mask)))
        ])
    (tmp_path / 'a.json').write_text(json.dumps(data))
    out = tmp_path / 'labels59'
    assert run_tool(pc.main, [
        str(root),
        str(tmp_path / 'a.json'), '-o',
        str(out), '--splits', 'val', '--nproc', '1'
    ]) == 0
    np.testing.assert_array_equal(read(out / 'x.png'), mask.astype(np.uint8))
    assert not (root / 'SegmentationClassContext').exists()
