# PASCAL-Context validation with 59 classes (PC-59), MMSeg's dataset and
# layout (tools/dataset_converters/pascal_context_59.py):
#   data/VOCdevkit/VOC2010/JPEGImages/*.jpg
#   data/VOCdevkit/VOC2010/SegmentationClassContext/*.png  (0 = background)
#   data/VOCdevkit/VOC2010/ImageSets/SegmentationContext/val.txt
# Labels 1..59 become 0..58 and the background 255 (reduce_zero_label=True).
dataset_type = 'PascalContextDataset59'
data_root = 'data/VOCdevkit/VOC2010'
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
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClassContext'),
        ann_file='ImageSets/SegmentationContext/val.txt',
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
