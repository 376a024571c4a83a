# Your own labelled dataset (docs/own_dataset.md), MMSeg's BaseSegDataset:
#   data/my_dataset/img_dir/{train,val}/xxx.jpg
#   data/my_dataset/ann_dir/{train,val}/xxx.png   (class ids 0..N-1, 255)
# The model is asked for the class names below (the VocabularyHook copies
# them into it); a name with synonyms is "wall, walls" (the first one
# prompts the text encoder). Replace the names, keep their order = ids.
dataset_type = 'BaseSegDataset'
data_root = 'data/my_dataset'
metainfo = dict(
    classes=('sky', 'grass', 'circle', 'square', 'triangle', 'star, stars'),
    # One RGB colour per class, for painting only (optional).
    palette=[[128, 160, 255], [40, 160, 40], [220, 40, 40], [240, 200, 40],
             [40, 40, 200], [200, 80, 200]])
# Optional: ask the model for other words than the class names, one prompt
# per class (the labels and the metric keep the names above), e.g.
# metainfo['prompts'] = ('sky', 'lawn, grass', ...)
crop_size = (384, 384)
# COCO-Stuff's training augmentation (configs/_base_/datasets/
# coco-stuff164k.py).
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', scale=(1333, 384), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0),
    dict(type='PhotoMetricDistortion'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2560, 640), keep_ratio=True),
    # Labels are loaded after Resize: metrics at the original resolution.
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        img_suffix='.jpg',
        seg_map_suffix='.png',
        data_prefix=dict(
            img_path='img_dir/train', seg_map_path='ann_dir/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        img_suffix='.jpg',
        seg_map_suffix='.png',
        data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# detectron2's mIoU (mean over the classes with ground truth), as the
# benchmarks; MMSeg's is logged as mIoU_mmseg.
val_evaluator = dict(
    type='PromptIoUMetric',
    iou_metrics=['mIoU'],
    ignore_index=255,
    miou_convention='detectron2')
test_evaluator = val_evaluator
