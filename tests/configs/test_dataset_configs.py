"""The dataset, runtime, schedule and evaluation configs: data, metric,
prompts and test mode of every benchmark."""
import copy
import os.path as osp

import pytest
from mmengine.config import Config
from mmseg.registry import DATASETS

from tests.datasets.tiny_data import (DATASET_NAMES, IMAGE_SHAPE,
                                      SYNTHETIC_COUNTS, num_val_samples)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATASET_CFG = osp.join(REPO, 'configs', '_base_', 'datasets', '{}.py')
EVAL_CFG = osp.join(REPO, 'configs', 'escnet', 'escnet_{}_test-{}.py')
BENCHMARKS = {
    # name -> (dataset type, number of classes, ignore index)
    'ade20k-150': ('ADE20KDataset', 150, 255),
    'ade20k-847': ('ADE20K847Dataset', 847, 65535),
    'pascal-context-59': ('PascalContextDataset59', 59, 255),
    'pascal-context-459': ('PascalContext459Dataset', 459, 65535),
    'voc-20': ('PascalVOC20Dataset', 20, 255),
    'voc-20b': ('PascalVOC20bDataset', 21, 255),
}


def build_with_root(dataset_cfg, root):
    cfg = copy.deepcopy(dataset_cfg)
    cfg.data_root = root
    return DATASETS.build(cfg)


def image_shape(name):
    if name == 'synthetic':
        return (SYNTHETIC_COUNTS['size'], ) * 2
    return IMAGE_SHAPE


@pytest.mark.parametrize('name', DATASET_NAMES)
def test_dataset_config_test_split_builds(tiny_datasets, name):
    cfg = Config.fromfile(DATASET_CFG.format(name))
    assert cfg.data_root.startswith('data/')
    # detectron2's mIoU convention (the published numbers') everywhere.
    if name == 'synthetic':  # the toy data: MMSeg's own metric
        assert cfg.test_evaluator.type == 'IoUMetric'
    else:
        assert cfg.test_evaluator.type == 'PromptIoUMetric'
        assert cfg.test_evaluator.miou_convention == 'detectron2'
    assert cfg.test_evaluator.iou_metrics == ['mIoU']
    assert cfg.val_dataloader.batch_size == 1
    ds = build_with_root(cfg.test_dataloader.dataset, tiny_datasets[name])
    assert len(ds) == num_val_samples(name)
    assert cfg.test_evaluator.ignore_index == ds.ignore_index
    sample = ds[0]
    gt = sample['data_samples'].gt_sem_seg
    # Labels stay at the original resolution, the image is resized.
    assert tuple(gt.shape) == image_shape(name)
    if name != 'synthetic':
        assert min(sample['inputs'].shape[1:]) == 640
    valid = gt.data[gt.data != ds.ignore_index]
    assert int(valid.max()) < len(ds.metainfo['classes'])


@pytest.mark.parametrize('name', ['coco-stuff164k', 'synthetic'])
def test_dataset_config_train_split_builds(tiny_datasets, name):
    cfg = Config.fromfile(DATASET_CFG.format(name))
    assert cfg.train_dataloader.sampler.type == 'InfiniteSampler'
    ds = build_with_root(cfg.train_dataloader.dataset, tiny_datasets[name])
    sample = ds[0]
    # Random scale jitter can leave an image below the crop size (the data
    # preprocessor pads it); it is never above.
    shape = tuple(sample['inputs'].shape[1:])
    assert all(s <= c for s, c in zip(shape, cfg.crop_size)), shape
    if name == 'synthetic':
        assert shape == image_shape(name)
    else:  # short side resized to 384, then a full 384x384 crop
        assert shape == (384, 384)
    assert sample['data_samples'].gt_sem_seg.shape == sample['inputs'].shape[
        1:]


def test_coco_stuff_config_matches_paper_recipe():
    cfg = Config.fromfile(DATASET_CFG.format('coco-stuff164k'))
    assert cfg.dataset_type == 'COCOStuffDataset'
    assert cfg.crop_size == (384, 384)
    assert cfg.train_dataloader.batch_size == 1  # x 4 GPUs
    types = [t['type'] for t in cfg.train_pipeline]
    # CAT-Seg's: short side exactly 384 (no jitter), 384 crop without a
    # category-ratio constraint, colour distortion, flip.
    assert types == [
        'LoadImageFromFile', 'LoadAnnotations', 'Resize', 'RandomCrop',
        'PhotoMetricDistortion', 'RandomFlip', 'PackSegInputs'
    ]
    resize, crop = cfg.train_pipeline[2], cfg.train_pipeline[3]
    assert min(resize.scale) == 384 and resize.keep_ratio
    assert crop.crop_size == (384, 384) and crop.cat_max_ratio == 1.0


@pytest.mark.parametrize('backbone,clip_size', [('vitb16', (384, 384)),
                                                ('vitl14', (336, 336))])
def test_both_backbones_train_on_384_crops(backbone, clip_size):
    """ViT-L/14 trains on the same 384 crops; the model resizes them to
    its 336 px CLIP input."""
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'escnet',
                 f'escnet_{backbone}_coco-stuff.py'))
    base = Config.fromfile(DATASET_CFG.format('coco-stuff164k'))
    assert cfg.train_dataloader.dataset.pipeline == base.train_pipeline
    assert tuple(cfg.model.data_preprocessor.size) == (384, 384)
    assert (cfg.model.backbone.image_size, ) * 2 == clip_size
    assert cfg.model.decode_head.loss_decode.type == 'PerClassBCELoss'
    assert cfg.model.backbone.finetune == 'attention'
    assert cfg.model.backbone.last_block == 'dense'


def test_synthetic_config():
    cfg = Config.fromfile(DATASET_CFG.format('synthetic'))
    assert cfg.data_root == 'data/synthetic'
    assert cfg.crop_size == (64, 64)
    assert cfg.train_dataloader.batch_size == 4
    assert cfg.train_dataloader.num_workers == 2
    assert cfg.train_dataloader.persistent_workers
    assert cfg.test_dataloader.batch_size == 1


def test_runtime_and_schedule():
    rt = Config.fromfile(osp.join(REPO, 'configs/_base_/default_runtime.py'))
    assert rt.default_scope == 'mmseg'
    assert rt.custom_imports.imports == ['escnet_mmseg']
    assert not rt.custom_imports.allow_failed_imports
    assert dict(type='VocabularyHook') in rt.custom_hooks
    assert rt.visualizer.type == 'ContiguousSegVisualizer'
    sch = Config.fromfile(
        osp.join(REPO, 'configs/_base_/schedules/schedule_80k.py'))
    assert sch.optim_wrapper.type == 'OptimWrapper'
    assert sch.optimizer.type == 'AdamW'
    assert sch.optimizer.lr == 2e-4 and sch.optimizer.weight_decay == 1e-4
    keys = sch.optim_wrapper.paramwise_cfg.custom_keys
    assert keys.backbone.lr_mult == 0.01  # CLIP
    assert any(
        k.startswith('sam_block') and v.lr_mult == 0.01
        for k, v in keys.items())  # pretrained SAM layers
    assert sch.optim_wrapper.clip_grad.max_norm > 0
    assert sch.param_scheduler[0].type == 'CosineAnnealingLR'
    assert sch.param_scheduler[0].end == 80000
    assert sch.train_cfg.max_iters == 80000
    assert sch.train_cfg.val_interval == 8000
    ckpt = sch.default_hooks.checkpoint
    assert not ckpt.by_epoch and ckpt.interval == 8000
    assert ckpt.max_keep_ckpts == 3


# benchmark -> (prompt list, evaluator type)
PROMPTS = {
    'ade20k-150': ('ade150', 'PromptIoUMetric'),
    'ade20k-847': ('ade847', 'PromptIoUMetric'),
    'pascal-context-59': ('pc59', 'PromptIoUMetric'),
    'pascal-context-459': ('pc459', 'PromptIoUMetric'),
    'voc-20': ('voc20', 'PromptIoUMetric'),
    'voc-20b': ('voc20b', 'PromptIoUMetric'),
}
# CAT-Seg's evaluation (its inference_sliding_window), for both backbones.
CATSEG_TEST_CFG = dict(
    mode='slide_global',
    out_size=(640, 640),
    crop_size=(384, 384),
    stride=(256, 256),
    global_view=True)


@pytest.mark.parametrize('backbone', ['vitb16', 'vitl14'])
@pytest.mark.parametrize('bench', sorted(BENCHMARKS))
def test_eval_configs(tiny_datasets, backbone, bench):
    from escnet_mmseg.datasets.prompts import load_prompts
    from escnet_mmseg.engine import dataset_vocabulary
    type_, num_classes, ignore_index = BENCHMARKS[bench]
    prompt_list, metric = PROMPTS[bench]
    cfg = Config.fromfile(EVAL_CFG.format(backbone, bench))
    train = Config.fromfile(
        osp.join(REPO, 'configs', 'escnet',
                 f'escnet_{backbone}_coco-stuff.py'))
    # The model is the training config's, with CAT-Seg's evaluation.
    assert cfg.model.backbone == train.model.backbone
    assert cfg.model.neck == train.model.neck
    assert cfg.model.decode_head == train.model.decode_head
    test_cfg = cfg.model.test_cfg.to_dict()
    for key, value in CATSEG_TEST_CFG.items():
        assert test_cfg.pop(key) == value, key
    large = num_classes > 256
    assert test_cfg.pop('max_classes', None) == (256 if large else None)
    assert (test_cfg.pop('class_chunk_size', None) is not None) == large
    # The metric reads label maps only: no (T, H, W) logits per image.
    assert test_cfg.pop('return_logits') is False
    # One view at a time through the network: flat memory over vocabularies.
    assert test_cfg.pop('view_batch_size') == 1
    assert not test_cfg, f'unexpected test_cfg keys {test_cfg}'
    # The data and metric are the benchmark's, with nothing left of COCO.
    assert 'train_dataloader' not in cfg and 'optim_wrapper' not in cfg
    assert cfg.test_cfg == dict(type='TestLoop')
    assert cfg.default_hooks.visualization.type == 'SegVisualizationHook'
    for key in ('val_dataloader', 'test_dataloader'):
        loader = cfg[key]
        assert loader.dataset.type == type_
        assert 'coco' not in str(loader).lower()
        assert loader.dataset.pipeline == cfg.test_pipeline
    for key in ('val_evaluator', 'test_evaluator'):
        assert cfg[key] == dict(
            type=metric,
            iou_metrics=['mIoU'],
            ignore_index=ignore_index,
            miou_convention='detectron2')
    assert cfg.pretty_text  # the merged config can be dumped
    ds = build_with_root(cfg.test_dataloader.dataset, tiny_datasets[bench])
    assert len(ds.metainfo['classes']) == num_classes
    assert ds.ignore_index == ignore_index
    assert ds[0]['data_samples'].gt_sem_seg.shape == IMAGE_SHAPE
    # What the VocabularyHook gives the model: the benchmark's prompts,
    # also the config's default vocabulary (tools that skip the hook).
    assert dataset_vocabulary(ds) == load_prompts(prompt_list)
    assert cfg.model.vocabulary == prompt_list


def test_no_config_reads_another_with_config_fromfile():
    """Configs are composed from `_base_` lists and overrides only."""
    import subprocess
    res = subprocess.run(
        ['grep', '-r', 'Config.fromfile',
         osp.join(REPO, 'configs')],
        capture_output=True,
        text=True)
    assert res.returncode == 1, res.stdout  # grep: 1 = no match
