import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmcv.transforms import LoadImageFromFile
from mmseg.datasets.transforms import LoadAnnotations, PackSegInputs
from mmseg.evaluation import IoUMetric
from mmseg.registry import DATASETS
from PIL import Image

from escnet_mmseg.datasets import (ADE20K_847_ADE_IDS, ADE20K_847_CLASSES,
                                   PASCAL_CONTEXT_459_CLASSES,
                                   SYNTHETIC_CLASSES, LoadSegAnnotations16)
from tests.datasets.tiny_data import LABEL_VALUES, label_map

NEW_DATASETS = {
    # config name -> (type, constructor kwargs relative to data_root)
    'ade20k-847': ('ADE20K847Dataset',
                   dict(
                       data_prefix=dict(
                           img_path='images_detectron2/validation',
                           seg_map_path='annotations_detectron2/validation'))),
    'pascal-context-459':
    ('PascalContext459Dataset',
     dict(
         data_prefix=dict(
             img_path='JPEGImages',
             seg_map_path='annotations_detectron2/pc459_val'))),
    'voc-20': ('PascalVOC20Dataset',
               dict(
                   data_prefix=dict(
                       img_path='JPEGImages',
                       seg_map_path='SegmentationClass'),
                   ann_file='ImageSets/Segmentation/val.txt')),
    'voc-20b': ('PascalVOC20bDataset',
                dict(
                    data_prefix=dict(
                        img_path='JPEGImages',
                        seg_map_path='SegmentationClass'),
                    ann_file='ImageSets/Segmentation/val.txt')),
    'synthetic':
    ('SyntheticShapesDataset',
     dict(
         data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'))
     ),
}

LOAD16 = [dict(type='LoadSegAnnotations16'), dict(type='PackSegInputs')]


def build(name, root, pipeline=(), **kwargs):
    type_, cfg = NEW_DATASETS[name]
    cfg = dict(cfg, type=type_, data_root=root, pipeline=list(pipeline))
    cfg.update(kwargs)
    return DATASETS.build(cfg)


@pytest.mark.parametrize('type_,num_classes', [
    ('ADE20K847Dataset', 847),
    ('PascalContext459Dataset', 459),
    ('PascalVOC20Dataset', 20),
    ('PascalVOC20bDataset', 21),
    ('SyntheticShapesDataset', 6),
    ('COCOStuffDataset', 171),
    ('ADE20KDataset', 150),
    ('PascalContextDataset59', 59),
])
def test_class_counts(type_, num_classes):
    meta = DATASETS.get(type_).METAINFO
    assert len(meta['classes']) == num_classes
    assert len(set(meta['classes'])) == num_classes
    assert len(meta['palette']) == num_classes
    assert all(isinstance(c, str) and c.strip() for c in meta['classes'])
    if not type_.startswith(('COCO', 'ADE20KD', 'PascalContextD')):
        # (MMSeg's own ADE-150 list has 'bed '; the tokenizer strips it.)
        assert all(c.strip() == c for c in meta['classes'])


def test_class_lists():
    assert ADE20K_847_CLASSES[:3] == ('wall', 'building, edifice', 'sky')
    assert ADE20K_847_CLASSES[-1] == 'adding machine, totalizer, totaliser'
    assert len(set(ADE20K_847_ADE_IDS)) == 847
    assert ADE20K_847_ADE_IDS[0] == 2978  # wall
    assert PASCAL_CONTEXT_459_CLASSES[:2] == ('accordion', 'aeroplane')
    assert PASCAL_CONTEXT_459_CLASSES[-1] == 'wool'
    voc20 = DATASETS.get('PascalVOC20Dataset').METAINFO['classes']
    voc20b = DATASETS.get('PascalVOC20bDataset').METAINFO['classes']
    assert voc20b == ('background', ) + voc20
    # PAS-20b uses MMSeg's VOC names and order.
    assert voc20b == DATASETS.get('PascalVOCDataset').METAINFO['classes']
    assert DATASETS.get(
        'SyntheticShapesDataset').METAINFO['classes'] == SYNTHETIC_CLASSES


@pytest.mark.parametrize('name', sorted(NEW_DATASETS))
def test_new_datasets_load_tiny_copy(tiny_datasets, name):
    ds = build(name, tiny_datasets[name], LOAD16)
    assert len(ds) == 2
    info = ds.get_data_info(0)
    assert osp.isfile(info['img_path']) and osp.isfile(info['seg_map_path'])
    assert info['num_classes'] == len(ds.metainfo['classes'])
    sample = ds[0]
    gt = sample['data_samples'].gt_sem_seg.data
    assert gt.dtype == torch.int64 and gt.shape[0] == 1
    valid = gt[gt != ds.ignore_index]
    assert valid.numel() > 0 and int(valid.max()) < len(ds.metainfo['classes'])


def test_pc459_lists_annotated_images_only(tiny_datasets):
    ds = build('pascal-context-459', tiny_datasets['pascal-context-459'])
    names = [osp.basename(ds.get_data_info(i)['img_path']) for i in range(2)]
    assert names == ['2008_000001.jpg', '2008_000002.jpg']


@pytest.mark.parametrize('name,num_classes', [('ade20k-847', 847),
                                              ('pascal-context-459', 459)])
def test_16bit_labels_survive_loading_and_packing(tiny_datasets, name,
                                                  num_classes):
    ds = build(name, tiny_datasets[name], LOAD16)
    assert ds.ignore_index == 65535
    gt = ds[0]['data_samples'].gt_sem_seg.data
    raw = np.array(Image.open(ds.get_data_info(0)['seg_map_path']))
    assert raw.dtype == np.uint16
    assert torch.equal(gt[0], torch.from_numpy(raw.astype(np.int64)))
    values = set(torch.unique(gt).tolist())
    assert set(LABEL_VALUES[name]) == values
    assert 300 in values and 65535 in values and num_classes - 1 in values


def test_mmseg_loader_would_truncate(tiny_datasets):
    """Documents why LoadSegAnnotations16 exists."""
    path = osp.join(tiny_datasets['ade20k-847'], 'annotations_detectron2',
                    'validation', 'ADE_val_00000001.tif')
    results = dict(
        seg_map_path=path,
        reduce_zero_label=False,
        seg_fields=[],
        num_classes=847,
        ignore_index=65535)
    ours = LoadSegAnnotations16()(dict(results, seg_fields=[]))['gt_seg_map']
    theirs = LoadAnnotations()(dict(results, seg_fields=[]))['gt_seg_map']
    assert ours.dtype == np.uint16 and theirs.dtype == np.uint8
    assert 846 in ours and 846 not in theirs and 846 % 256 in theirs


def test_iou_metric_counts_16bit_labels(tiny_datasets):
    ds = build('ade20k-847', tiny_datasets['ade20k-847'], LOAD16)
    metric = IoUMetric(iou_metrics=['mIoU'], ignore_index=65535)
    metric.dataset_meta = ds.metainfo
    samples = []
    for i in range(len(ds)):
        gt = ds[i]['data_samples'].gt_sem_seg.data
        pred = gt.clone()
        pred[gt == 65535] = 5  # predictions on ignored pixels do not count
        samples.append(
            dict(
                pred_sem_seg=dict(data=pred),
                gt_sem_seg=dict(data=gt),
                img_path=ds.get_data_info(i)['img_path']))
    metric.process({}, samples)
    intersect, union, _, area_label = (sum(r) for r in zip(*metric.results))
    for c in (0, 11, 300, 846):
        n = sum(int((s['gt_sem_seg']['data'] == c).sum()) for s in samples)
        assert n > 0 and area_label[c] == n and intersect[c] == n
    assert area_label[5] == 0 and union[5] == 0
    assert metric.compute_metrics(metric.results)['mIoU'] == 100.0

    # A wrong prediction on class 846 costs exactly that class.
    metric.results = []
    bad = []
    for s in samples:
        pred = s['pred_sem_seg']['data'].clone()
        pred[pred == 846] = 845
        bad.append(dict(s, pred_sem_seg=dict(data=pred)))
    metric.process({}, bad)
    intersect, union, _, _ = (sum(r) for r in zip(*metric.results))
    assert intersect[846] == 0 and union[846] > 0 and union[845] > 0


def test_out_of_range_label_is_reported(tiny_datasets):
    root = tiny_datasets['ade20k-847']
    path = osp.join(root, 'annotations_detectron2', 'validation',
                    'ADE_val_00000002.tif')
    Image.fromarray(label_map([0, 900], np.random.default_rng(0),
                              np.uint16)).save(path)
    ds = build('ade20k-847', root, LOAD16)
    ds[0]
    with pytest.raises(ValueError, match=r'ADE_val_00000002\.tif.*900'):
        ds[1]


def test_missing_data_root_names_the_path(tmp_path):
    missing = str(tmp_path / 'no_such_root')
    with pytest.raises(FileNotFoundError, match='no_such_root'):
        build('ade20k-847', missing)


def test_missing_annotation_is_named(tiny_datasets):
    root = tiny_datasets['voc-20']
    os.remove(osp.join(root, 'SegmentationClass', '2007_000002.png'))
    with pytest.raises(FileNotFoundError, match='2007_000002.png'):
        build('voc-20', root)


def test_missing_split_file_is_named(tiny_datasets):
    root = tiny_datasets['voc-20b']
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        build('voc-20b', root, ann_file='ImageSets/Segmentation/nope.txt')


def test_empty_folder_is_reported(tmp_path):
    for sub in ('img_dir/val', 'ann_dir/val'):
        os.makedirs(tmp_path / sub)
    with pytest.raises(FileNotFoundError, match='no samples'):
        build('synthetic', str(tmp_path))


def test_voc20_and_voc20b_label_encodings(tiny_datasets):

    def raw_label(name):
        return np.array(
            Image.open(
                osp.join(tiny_datasets[name], 'SegmentationClass',
                         '2007_000001.png')))

    raw = raw_label('voc-20')
    assert set(np.unique(raw)) == set(LABEL_VALUES['voc-20'])
    gt20 = build('voc-20', tiny_datasets['voc-20'],
                 LOAD16)[0]['data_samples'].gt_sem_seg.data[0].numpy()
    gt20b = build('voc-20b', tiny_datasets['voc-20b'],
                  LOAD16)[0]['data_samples'].gt_sem_seg.data[0].numpy()
    # PAS-20: background and boundaries ignored, classes shifted down.
    assert (gt20[raw == 0] == 255).all() and (gt20[raw == 255] == 255).all()
    assert (gt20[raw == 1] == 0).all() and (gt20[raw == 20] == 19).all()
    # PAS-20b: raw VOC ids, background is class 0.
    np.testing.assert_array_equal(gt20b, raw_label('voc-20b'))


def test_class_subset_uses_16bit_ignore(tiny_datasets):
    classes = (ADE20K_847_CLASSES[300], ADE20K_847_CLASSES[846])
    ds = build(
        'ade20k-847',
        tiny_datasets['ade20k-847'],
        LOAD16,
        metainfo=dict(classes=classes))
    assert ds.label_map[300] == 0 and ds.label_map[846] == 1
    assert ds.label_map[0] == 65535
    raw = np.array(Image.open(ds.get_data_info(0)['seg_map_path']))
    gt = ds[0]['data_samples'].gt_sem_seg.data[0].numpy()
    assert (gt[raw == 300] == 0).all() and (gt[raw == 846] == 1).all()
    assert (gt[(raw != 300) & (raw != 846)] == 65535).all()
    with pytest.raises(ValueError, match='not among'):
        build(
            'ade20k-847',
            tiny_datasets['ade20k-847'],
            metainfo=dict(classes=('wall', 'no such class')))


@pytest.mark.parametrize('dtype', [np.uint8, np.uint16])
def test_reduce_zero_label_keeps_the_empty_value(tmp_path, dtype):
    empty = np.iinfo(dtype).max
    arr = np.array([[0, 1, 2], [3, empty, 0]], dtype=dtype)
    path = str(tmp_path / 'label.png')
    Image.fromarray(arr).save(path)
    out = LoadSegAnnotations16()(dict(
        seg_map_path=path, reduce_zero_label=True,
        seg_fields=[]))['gt_seg_map']
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, [[empty, 0, 1], [2, empty, empty]])


def test_pack_and_image_loading_agree_on_shape(tiny_datasets):
    root = tiny_datasets['pascal-context-459']
    ds = build('pascal-context-459', root)
    results = ds.get_data_info(0)
    results = LoadImageFromFile()(results)
    results = LoadSegAnnotations16()(results)
    packed = PackSegInputs()(results)
    assert packed['inputs'].shape[1:] == packed[
        'data_samples'].gt_sem_seg.shape
