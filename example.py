crop_size = (
    64,
    64,
)
custom_hooks = [
    dict(type='VocabularyHook'),
]
custom_imports = dict(
    allow_failed_imports=False, imports=[
        'escnet_mmseg',
    ])
data_preprocessor = dict(
    bgr_to_rgb=True,
    mean=[
        122.7709383,
        116.7460125,
        104.09373615,
    ],
    pad_val=0,
    seg_pad_val=255,
    size=(
        384,
        384,
    ),
    std=[
        68.5005327,
        66.6321579,
        70.32316305,
    ],
    type='SegDataPreProcessor')
data_root = 'data/synthetic'
dataset_type = 'SyntheticShapesDataset'
default_hooks = dict(
    checkpoint=dict(
        by_epoch=False, interval=200, max_keep_ckpts=2, type='CheckpointHook'),
    logger=dict(interval=50, log_metric_by_epoch=False, type='LoggerHook'),
    param_scheduler=dict(type='ParamSchedulerHook'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    timer=dict(type='IterTimerHook'),
    visualization=dict(type='SegVisualizationHook'))
default_scope = 'mmseg'
env_cfg = dict(
    cudnn_benchmark=True,
    dist_cfg=dict(backend='nccl'),
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0))
find_unused_parameters = True
load_from = None
log_level = 'INFO'
log_processor = dict(by_epoch=False)
max_iters = 600
model = dict(
    backbone=dict(
        finetune='full',
        image_size=64,
        model_cfg=dict(
            embed_dim=32,
            text_cfg=dict(
                context_length=16,
                heads=2,
                layers=2,
                vocab_size=49408,
                width=32),
            vision_cfg=dict(
                head_width=16, image_size=64, layers=4, patch_size=8,
                width=32)),
        model_name=None,
        out_indices=(
            1,
            2,
        ),
        pretrained=None,
        quick_gelu=False,
        type='CLIPBackbone'),
    data_preprocessor=dict(
        bgr_to_rgb=True,
        mean=[
            122.7709383,
            116.7460125,
            104.09373615,
        ],
        pad_val=0,
        seg_pad_val=255,
        size=(
            64,
            64,
        ),
        std=[
            68.5005327,
            66.6321579,
            70.32316305,
        ],
        type='SegDataPreProcessor'),
    decode_head=dict(
        align_corners=False,
        decoder_channels=(
            16,
            8,
        ),
        ignore_index=255,
        in_channels=32,
        loss_decode=dict(
            avg_non_ignore=True,
            loss_weight=1.0,
            type='CrossEntropyLoss',
            use_sigmoid=False),
        skip_channels=(
            32,
            16,
        ),
        skip_in_channels=32,
        type='ESCNetHead'),
    neck=dict(
        alpha=0.5,
        channels=32,
        clip_channels=32,
        grid_size=(
            8,
            8,
        ),
        kmeans_iters=10,
        logit_scale=100.0,
        num_blocks=2,
        num_points=3,
        prompt_types=(
            'points',
            'masks',
        ),
        sam_checkpoint=None,
        sam_dims=32,
        sam_layer_ids=(
            0,
            1,
        ),
        sam_mlp_dim=64,
        sam_num_heads=2,
        softmax_over='class',
        type='ESCNeck',
        use_sam_block=True,
        vlf=dict(num_heads=2, window_size=4)),
    test_cfg=dict(class_chunk_size=None, mode='whole'),
    text_encoder=dict(templates='single', type='ESCTextEncoder'),
    train_cfg=dict(),
    type='ESCNet')
optim_wrapper = dict(
    clip_grad=dict(max_norm=1.0, norm_type=2),
    optimizer=dict(lr=0.002, type='AdamW', weight_decay=0.0001),
    type='OptimWrapper')
param_scheduler = [
    dict(begin=0, by_epoch=False, end=50, start_factor=0.1, type='LinearLR'),
    dict(
        begin=50,
        by_epoch=False,
        end=600,
        eta_min=1e-05,
        type='CosineAnnealingLR'),
]
randomness = dict(seed=0)
resume = False
test_cfg = dict(type='TestLoop')
test_dataloader = dict(
    batch_size=1,
    dataset=dict(
        data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
        data_root='/tmp/pytest-of-root/pytest-43/mmseg_tools0/data',
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='PackSegInputs'),
        ],
        type='SyntheticShapesDataset'),
    num_workers=0,
    persistent_workers=False,
    sampler=dict(shuffle=False, type='DefaultSampler'))
test_evaluator = dict(
    ignore_index=255, iou_metrics=[
        'mIoU',
    ], type='IoUMetric')
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_cfg = dict(max_iters=600, type='IterBasedTrainLoop', val_interval=600)
train_dataloader = dict(
    batch_size=2,
    dataset=dict(
        data_prefix=dict(
            img_path='img_dir/train', seg_map_path='ann_dir/train'),
        data_root='/tmp/pytest-of-root/pytest-43/mmseg_tools0/data',
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(prob=0.5, type='RandomFlip'),
            dict(type='PackSegInputs'),
        ],
        type='SyntheticShapesDataset'),
    num_workers=0,
    persistent_workers=False,
    sampler=dict(shuffle=True, type='InfiniteSampler'))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(prob=0.5, type='RandomFlip'),
    dict(type='PackSegInputs'),
]
tta_model = dict(type='SegTTAModel')
tta_pipeline = [
    dict(backend_args=None, type='LoadImageFromFile'),
    dict(
        transforms=[
            [
                dict(direction='horizontal', prob=0.0, type='RandomFlip'),
                dict(direction='horizontal', prob=1.0, type='RandomFlip'),
            ],
            [
                dict(type='LoadAnnotations'),
            ],
            [
                dict(type='PackSegInputs'),
            ],
        ],
        type='TestTimeAug'),
]
val_cfg = dict(type='ValLoop')
val_dataloader = dict(
    batch_size=1,
    dataset=dict(
        data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
        data_root='/tmp/pytest-of-root/pytest-43/mmseg_tools0/data',
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='PackSegInputs'),
        ],
        type='SyntheticShapesDataset'),
    num_workers=0,
    persistent_workers=False,
    sampler=dict(shuffle=False, type='DefaultSampler'))
val_evaluator = dict(
    ignore_index=255, iou_metrics=[
        'mIoU',
    ], type='IoUMetric')
vis_backends = [
    dict(type='LocalVisBackend'),
]
visualizer = dict(
    name='visualizer',
    type='SegLocalVisualizer',
    vis_backends=[
        dict(type='LocalVisBackend'),
    ])
