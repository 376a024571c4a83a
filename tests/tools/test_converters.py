import hashlib
import json
import os
import os.path as osp
import re

import numpy as np
import pytest
from mmseg.registry import DATASETS
from PIL import Image
from scipy.io import savemat

from escnet_mmseg.datasets import ADE20K_847_ADE_IDS, pascal_context_val_ids
from escnet_mmseg.datasets.pascal_context_459 import (
    PASCAL_CONTEXT_VAL_FILE, VOC2010_VAL_NOT_IN_BENCHMARK)
from escnet_mmseg.utils.cli import run_tool
from tests.datasets.tiny_data import write_tiny_dataset
from tests.tools.tool_loader import load_tool

CONVERTERS = 'tools/dataset_converters/'
DATA = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'data')


def save(arr, path):
    os.makedirs(osp.dirname(str(path)), exist_ok=True)
    Image.fromarray(arr).save(str(path))


def read(path):
    return np.array(Image.open(str(path)))


# --------------------------------------------------------------- COCO-Stuff
def test_coco_stuff164k(tmp_path, capsys):
    coco = load_tool(CONVERTERS + 'coco_stuff164k.py')
    root = tmp_path / 'coco'
    raw = np.array([[0, 10, 11, 12], [90, 91, 181, 182], [255, 255, 5, 0]],
                   dtype=np.uint8)
    for split in ('train2017', 'val2017'):
        save(raw, root / 'annotations' / split / '000000000009.png')
    assert run_tool(coco.main, [str(root), '--nproc', '1']) == 0
    out = read(root / 'annotations' / 'val2017' /
               '000000000009_labelTrainIds.png')
    expected = np.array([[0, 10, 255, 11], [255, 80, 170, 255],
                         [255, 255, 5, 0]])
    np.testing.assert_array_equal(out, expected)
    assert (root / 'annotations' / 'train2017' /
            '000000000009_labelTrainIds.png').exists()
    # Second run: outputs exist -> refuses; --overwrite replaces them.
    assert run_tool(coco.main, [str(root), '--nproc', '1']) == 1
    assert 'already exist' in capsys.readouterr().err
    assert run_tool(coco.main, [str(root), '--nproc', '1', '--overwrite']) == 0
    # The converted labels are not taken for inputs on a later run.
    assert run_tool(coco.main, [str(root), '--overwrite']) == 0


def test_coco_stuff164k_copies_images_to_out_dir(tmp_path):
    coco = load_tool(CONVERTERS + 'coco_stuff164k.py')
    root, out = tmp_path / 'coco', tmp_path / 'out'
    save(
        np.zeros((4, 4), np.uint8), root / 'annotations' / 'val2017' / '1.png')
    save(np.zeros((4, 4, 3), np.uint8), root / 'images' / 'val2017' / '1.jpg')
    assert run_tool(
        coco.main,
        [str(root), '-o',
         str(out), '--splits', 'val2017', '--nproc', '1']) == 0
    assert (out / 'images' / 'val2017' / '1.jpg').exists()
    assert (out / 'annotations' / 'val2017' / '1_labelTrainIds.png').exists()


def test_coco_stuff164k_missing_input_is_named(tmp_path, capsys):
    coco = load_tool(CONVERTERS + 'coco_stuff164k.py')
    assert run_tool(coco.main, [str(tmp_path / 'nowhere')]) == 1
    err = capsys.readouterr().err
    assert 'nowhere' in err and 'train2017' in err


# ------------------------------------------------------------------ ADE-847
def encode_ade_seg(index: np.ndarray) -> np.ndarray:
    """RGB ``_seg.png`` content for object indices (inverse of the decoder)."""
    seg = np.zeros(index.shape + (3, ), np.uint8)
    seg[..., 0] = index // 256 * 10
    seg[..., 1] = index % 256
    seg[..., 2] = 7  # instance channel, ignored
    return seg


def write_fake_ade(root, name, index, scene='abbey'):
    folder = root / 'images' / 'ADE' / 'validation' / 'cultural' / scene
    rng = np.random.default_rng(0)
    save(
        rng.integers(0, 255, index.shape + (3, ), dtype=np.uint8),
        folder / f'{name}.jpg')
    save(encode_ade_seg(index), folder / f'{name}_seg.png')


def test_ade20k_847(tmp_path):
    ade = load_tool(CONVERTERS + 'ade20k_847.py')
    root = tmp_path / 'ADE20K_2021_17_01'
    # wall -> 0, person -> 11, pier -> 255, adding machine -> 846,
    # an index outside the 847 -> 65535, unlabelled (0) -> 65535.
    ids = np.array([2978, 1831, 1857, 3148, 5, 0])
    index = np.tile(ids, (4, 2))
    write_fake_ade(root, 'ADE_val_00000001', index)
    big = np.full((600, 700), 1831)
    big[:300] = 2978
    write_fake_ade(root, 'ADE_val_00000002', big, scene='bar')
    assert run_tool(ade.main, [str(root), '--nproc', '2']) == 0

    ann_dir = root / 'annotations_detectron2' / 'validation'
    out = read(ann_dir / 'ADE_val_00000001.tif')
    assert out.dtype == np.uint16 and out.shape == index.shape
    np.testing.assert_array_equal(out[0, :6], [0, 11, 255, 846, 65535, 65535])
    # Short side above 512 px: resized to 512 (image and labels).
    out2 = read(ann_dir / 'ADE_val_00000002.tif')
    img2 = read(root / 'images_detectron2' / 'validation' /
                'ADE_val_00000002.jpg')
    assert out2.shape == (512, 597) and img2.shape == (512, 597, 3)
    assert set(np.unique(out2)) == {0, 11}

    # The output is what ADE20K847Dataset + LoadSegAnnotations16 read.
    ds = DATASETS.build(
        dict(
            type='ADE20K847Dataset',
            data_root=str(root),
            data_prefix=dict(
                img_path='images_detectron2/validation',
                seg_map_path='annotations_detectron2/validation'),
            pipeline=[
                dict(type='LoadSegAnnotations16'),
                dict(type='PackSegInputs')
            ]))
    gt = ds[0]['data_samples'].gt_sem_seg.data
    assert {0, 11, 255, 846, 65535} == set(gt.unique().tolist())


def test_ade20k_847_lut_covers_all_ids():
    ade = load_tool(CONVERTERS + 'ade20k_847.py')
    lut = ade.ade_index_to_train_id_lut()
    assert lut[list(ADE20K_847_ADE_IDS)].tolist() == list(range(847))
    assert (lut != 65535).sum() == 847
    seg = encode_ade_seg(np.array([[max(ADE20K_847_ADE_IDS), 6655]]))
    assert ade.decode_object_index(seg).tolist() == [[3156, 6655]]


def test_ade20k_847_errors(tmp_path, capsys):
    ade = load_tool(CONVERTERS + 'ade20k_847.py')
    root = tmp_path / 'ADE'
    assert run_tool(ade.main, [str(root)]) == 1
    assert osp.join('images', 'ADE', 'validation') in capsys.readouterr().err
    write_fake_ade(root, 'ADE_val_00000001', np.zeros((4, 4), int))
    os.remove(root / 'images' / 'ADE' / 'validation' / 'cultural' / 'abbey' /
              'ADE_val_00000001_seg.png')
    assert run_tool(ade.main, [str(root), '--nproc', '1']) == 1
    assert 'ADE_val_00000001_seg.png' in capsys.readouterr().err


# ------------------------------------------------------------------ PC-459
def test_packaged_pascal_context_val_list():
    """CAT-Seg's 5,104 PC-459 validation ids, byte for byte."""
    ids = pascal_context_val_ids()
    assert len(ids) == 5104 == len(set(ids))
    assert list(ids) == sorted(ids)
    assert all(re.fullmatch(r'\d{4}_\d{6}', i) for i in ids)
    assert (ids[0], ids[1333], ids[-1]) == ('2008_000002', '2008_005147',
                                            '2010_006086')
    # VOC2010's 5,105 validation ids are these and one more.
    assert VOC2010_VAL_NOT_IN_BENCHMARK == ('2010_001606', )
    assert '2010_001606' not in ids
    assert ids.index('2010_001614') == ids.index('2010_001601') + 1
    with open(osp.join(DATA, 'catseg_split_lists.sha256')) as f:
        digest, name = [
            line.split() for line in f if not line.startswith('#')
        ][0]
    assert name == osp.basename(PASCAL_CONTEXT_VAL_FILE)
    with open(PASCAL_CONTEXT_VAL_FILE, 'rb') as f:
        assert hashlib.sha256(f.read()).hexdigest() == digest


def write_fake_voc2010(root, ids, label=None):
    """trainval/<id>.mat and an empty JPEGImages/<id>.jpg for each id."""
    (root / 'trainval').mkdir(parents=True)
    (root / 'JPEGImages').mkdir()
    for i in ids:
        lab = np.ones((2, 3), np.uint16) if label is None else label
        savemat(root / 'trainval' / f'{i}.mat', dict(LabelMap=lab))
        (root / 'JPEGImages' / f'{i}.jpg').write_bytes(b'')


@pytest.fixture
def pc459(monkeypatch):
    """The converter, its packaged list replaced by two ids."""
    pc = load_tool(CONVERTERS + 'pascal_context_459.py')
    monkeypatch.setattr(pc, 'pascal_context_val_ids', lambda:
                        ('2008_000001', '2008_000002'))
    return pc


def test_pascal_context_459(tmp_path, capsys, pc459):
    root = tmp_path / 'VOC2010'
    write_fake_voc2010(root, ['2008_000001', '2008_000002'])
    label = np.array([[0, 1, 2], [301, 459, 459]], dtype=np.uint16)
    savemat(root / 'trainval' / '2008_000001.mat', dict(LabelMap=label))
    (root / 'labels.txt').write_text('1: accordion\n2: aeroplane\n3: bike\n')
    assert run_tool(pc459.main, [str(root), '--nproc', '1']) == 0
    assert 'differs' in capsys.readouterr().out  # labels.txt id 3 warned
    out = read(root / 'annotations_detectron2' / 'pc459_val' /
               '2008_000001.tif')
    assert out.dtype == np.uint16
    np.testing.assert_array_equal(out, [[65535, 0, 1], [300, 458, 458]])

    savemat(root / 'trainval' / '2008_000002.mat',
            dict(LabelMap=np.full((2, 3), 460, np.uint16)))
    assert run_tool(pc459.main,
                    [str(root), '--overwrite', '--nproc', '1']) == 1
    err = capsys.readouterr().err
    assert '2008_000002.mat' in err and '460' in err


def test_pascal_context_459_names_differing_ids(tmp_path, capsys, pc459):
    """Other val lists are compared with the packaged one, never used."""
    root = tmp_path / 'VOC2010'
    write_fake_voc2010(root, ['2008_000001', '2008_000002', '2008_000003'])
    split = root / 'ImageSets' / 'SegmentationContext' / 'val.txt'
    split.parent.mkdir(parents=True)
    split.write_text('2008_000001\n2008_000002\n2008_000003\n')
    (root / 'pascalcontext_val.txt').write_text('2008_000001\n2008_000002')
    assert run_tool(pc459.main, [str(root), '--nproc', '1']) == 0
    out = capsys.readouterr().out
    assert ('only in val.txt: 2008_000003; only in the packaged list: none'
            in out)
    assert 'pascalcontext_val.txt lists the same 2 ids' in out
    # VOC2010's own val list: the packaged ids and the one it leaves out.
    main = root / 'ImageSets' / 'Main' / 'val.txt'
    main.parent.mkdir()
    main.write_text('2008_000001\n2008_000002\n2010_001606\n')
    assert run_tool(pc459.main,
                    [str(root), '--overwrite', '--nproc', '1']) == 0
    assert (f'{main} holds the 2 ids of the packaged PC-459 list and '
            '2010_001606, VOC2010\'s validation image that the PC-459 '
            'benchmark leaves out (expected)') in capsys.readouterr().out
    main.write_text('2008_000001\n2008_000002\n2010_001607\n')
    assert run_tool(pc459.main,
                    [str(root), '--overwrite', '--nproc', '1']) == 0
    assert ('only in val.txt: 2010_001607; only in the packaged list: none'
            in capsys.readouterr().out)
    written = root / 'annotations_detectron2' / 'pc459_val'
    assert sorted(p.name for p in written.iterdir()) == [
        '2008_000001.tif', '2008_000002.tif'
    ]
    assert pc459.compare_split(str(split), ['2008_000001', '2008_000009']) \
        == (['2008_000002', '2008_000003'], ['2008_000009'])

    # --split-file converts other ids (and says how they differ).
    assert run_tool(
        pc459.main,
        [str(root), '--split-file',
         str(split), '--overwrite', '--nproc', '1']) == 0
    assert len(list(written.iterdir())) == 3
    assert 'only in val.txt: 2008_000003' in capsys.readouterr().out


def test_pascal_context_459_default_is_packaged_list(tmp_path, capsys):
    """Without .mat files for all 5,104 ids, the first missing are named."""
    pc = load_tool(CONVERTERS + 'pascal_context_459.py')
    root = tmp_path / 'VOC2010'
    write_fake_voc2010(root, pascal_context_val_ids()[:2])
    assert run_tool(pc.main, [str(root), '--nproc', '1']) == 1
    err = capsys.readouterr().err
    assert '5102 of the 5104 label maps' in err
    assert str(root / 'trainval') in err
    assert '2008_000007, 2008_000009, 2008_000016, 2008_000021, ' \
        '2008_000026, ...' in err


def test_pascal_context_459_missing_images(tmp_path, capsys, pc459):
    root = tmp_path / 'VOC2010'
    write_fake_voc2010(root, ['2008_000001', '2008_000002'])
    (root / 'JPEGImages' / '2008_000002.jpg').unlink()
    assert run_tool(pc459.main, [str(root), '--nproc', '1']) == 1
    err = capsys.readouterr().err
    assert '1 of the 2 images' in err and '2008_000002' in err
    assert str(root / 'JPEGImages') in err
    assert not (root / 'annotations_detectron2').exists()

    (root / 'JPEGImages' / '2008_000002.jpg').write_bytes(b'')
    assert run_tool(pc459.main,
                    [str(root), '--split-file',
                     str(root / 'none.txt')]) == 1
    assert 'none.txt' in capsys.readouterr().err


# ------------------------------------------------------------------- PC-59
def encode_rle_string(counts) -> str:
    """COCO's compressed RLE (``rleToString`` of maskApi.c)."""
    out = []
    for i, c in enumerate(counts):
        x = c - counts[i - 2] if i > 2 else c
        more = True
        while more:
            ch = x & 0x1f
            x >>= 5
            more = (x != -1) if (ch & 0x10) else (x != 0)
            if more:
                ch |= 0x20
            out.append(chr(ch + 48))
    return ''.join(out)


def rle_counts(mask: np.ndarray) -> list:
    flat = mask.T.ravel().astype(int)  # column-major
    counts, current, run = [], 0, 0
    for v in flat:
        if v != current:
            counts.append(run)
            current, run = v, 0
        run += 1
    counts.append(run)
    return counts


def test_rle_roundtrip():
    pc = load_tool(CONVERTERS + 'pascal_context_59.py')
    rng = np.random.default_rng(0)
    for shape in [(5, 7), (40, 33), (64, 64)]:
        mask = rng.random(shape) > 0.7
        mask[:, :shape[1] // 2] = False  # long runs (multi-char numbers)
        counts = rle_counts(mask)
        s = encode_rle_string(counts)
        assert pc.rle_counts_from_string(s) == counts
        dec = pc.decode_rle(dict(size=list(shape), counts=s))
        np.testing.assert_array_equal(dec, mask)
        dec = pc.decode_rle(dict(size=list(shape), counts=counts))
        np.testing.assert_array_equal(dec, mask)


def test_pascal_context_59(tmp_path):
    pc = load_tool(CONVERTERS + 'pascal_context_59.py')
    root = tmp_path / 'VOC2010'
    (root / 'JPEGImages').mkdir(parents=True)
    h, w = 6, 8
    aeroplane = np.zeros((h, w), bool)
    aeroplane[1:3, 1:4] = True
    wood = np.zeros((h, w), bool)
    wood[2:5, 3:7] = True  # painted after, so it wins on the overlap
    data = dict(
        images=[
            dict(
                image_id=1,
                file_name='2008_000001.jpg',
                phase='val',
                height=h,
                width=w),
            dict(
                image_id=2,
                file_name='2008_000002.jpg',
                phase='train',
                height=h,
                width=w),
        ],
        annos_segmentation=[
            dict(
                image_id=1,
                category_id=2,
                segmentation=dict(size=[h, w], counts=rle_counts(aeroplane))),
            dict(
                image_id=1,
                category_id=458,
                segmentation=dict(
                    size=[h, w], counts=encode_rle_string(rle_counts(wood)))),
        ])
    json_path = tmp_path / 'trainval_merged.json'
    json_path.write_text(json.dumps(data))
    assert run_tool(pc.main, [str(root), str(json_path), '--nproc', '1']) == 0
    out = read(root / 'SegmentationClassContext' / '2008_000001.png')
    expected = np.zeros((h, w), np.uint8)
    expected[aeroplane] = 1
    expected[wood] = 59
    np.testing.assert_array_equal(out, expected)
    # An image without annotations is all background.
    assert not read(
        root / 'SegmentationClassContext' / '2008_000002.png').any()
    split_dir = root / 'ImageSets' / 'SegmentationContext'
    assert (split_dir / 'val.txt').read_text() == '2008_000001\n'
    assert (split_dir / 'train.txt').read_text() == '2008_000002\n'

    data['annos_segmentation'][0]['category_id'] = 3  # not a PC-59 class
    json_path.write_text(json.dumps(data))
    assert run_tool(
        pc.main,
        [str(root), str(json_path), '--overwrite', '--nproc', '1']) == 1


# ------------------------------------------------------------------ VOC-20
def test_voc20_checker(tmp_path, capsys):
    voc = load_tool(CONVERTERS + 'voc20.py')
    root = tmp_path / 'VOC2012'
    write_tiny_dataset('voc-20', str(root))
    assert run_tool(voc.main, [str(root), '--nproc', '1']) == 0
    assert 'ready for PAS-20' in capsys.readouterr().out
    save(
        np.full((3, 3), 37, np.uint8),
        root / 'SegmentationClass' / '2007_000002.png')
    os.remove(root / 'JPEGImages' / '2007_000001.jpg')
    assert run_tool(voc.main, [str(root), '--nproc', '2']) == 1
    err = capsys.readouterr().err
    assert '2007_000002.png' in err and '37' in err
    assert '2007_000001.jpg: missing' in err


@pytest.mark.parametrize('script', [
    'coco_stuff164k.py', 'ade20k_847.py', 'pascal_context_459.py',
    'pascal_context_59.py', 'voc20.py'
])
def test_converters_have_nproc(script):
    tool = load_tool(CONVERTERS + script)
    args = tool.parse_args(['x'] + (
        ['y'] if script == 'pascal_context_59.py' else []) + ['--nproc', '3'])
    assert args.nproc == 3
