# COCO-Stuff 164k (171 classes): the ESC-Net training set.
# Layout (tools/dataset_converters/coco_stuff164k.py, as in MMSeg):
#   data/coco_stuff164k/images/{train2017,val2017}/*.jpg
#   data/coco_stuff164k/annotations/{train2017,val2017}/*_labelTrainIds.png
dataset_type = 'COCOStuffDataset'
data_root = 'data/coco_stuff164k'
crop_size = (384, 384)
# CAT-Seg's training augmentation: short side resized to exactly 384 (long
# side at most 1333, detectron2's ResizeShortestEdge default), a random
# 384x384 crop without a category-ratio constraint, photometric distortion
# (SSD's colour augmentation) and a horizontal flip. Images smaller than the
# crop are padded by the data preprocessor (labels with the ignore index).
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
    # Annotations are loaded after ``Resize``: metrics are computed at the
    # original resolution.
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
# Flips only: the evaluation's slide_global (and whole) resize every input
# to a fixed size before the network, so scale factors would change nothing
# there (ESCTTAModel refuses them). With model.test_cfg.mode='slide', scales
# matter: img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75].
img_ratios = [1.0]
tta_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(
        type='TestTimeAug',
        transforms=[
            [
                dict(type='Resize', scale_factor=r, keep_ratio=True)
                for r in img_ratios
            ],
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal')
            ], [dict(type='LoadAnnotations')], [dict(type='PackSegInputs')]
        ])
]
train_dataloader = dict(
    batch_size=1,  # per GPU; the paper trains on 4 GPUs (total batch 4)
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='images/train2017', seg_map_path='annotations/train2017'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='images/val2017', seg_map_path='annotations/val2017'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# detectron2's mIoU (mean over the classes with ground truth), the
# convention of the published numbers; MMSeg's is logged as mIoU_mmseg.
val_evaluator = dict(
    type='PromptIoUMetric',
    iou_metrics=['mIoU'],
    ignore_index=255,
    miou_convention='detectron2')
test_evaluator = val_evaluator
