# PASCAL VOC 2012 validation, 'background' + 20 object classes (PAS-20b),
# scored as published: the model is asked for the 20 VOC classes and 39
# PASCAL-Context classes (CAT-Seg's voc20b.json); a pixel predicted as one of
# the 39 counts as background (label 0, the dataset's prompt_to_label applied
# by PromptIoUMetric). mIoU over background + 20 classes; boundaries (255)
# are ignored. Same files as voc-20.py:
#   data/VOCdevkit/VOC2012/JPEGImages/*.jpg
#   data/VOCdevkit/VOC2012/SegmentationClass/*.png
#   data/VOCdevkit/VOC2012/ImageSets/Segmentation/val.txt
dataset_type = 'PascalVOC20bDataset'
data_root = 'data/VOCdevkit/VOC2012'
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2560, 640), keep_ratio=True),
    # Annotations are loaded after ``Resize``: metrics are computed at the
    # original resolution.
    dict(type='LoadSegAnnotations16'),
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
            ], [dict(type='LoadSegAnnotations16')],
            [dict(type='PackSegInputs')]
        ])
]
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/val.txt',
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
