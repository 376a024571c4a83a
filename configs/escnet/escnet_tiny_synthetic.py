# A tiny, randomly initialised ESC-Net trained on the embedded synthetic
# shapes dataset (tools/generate_synthetic_data.py): the `make demo` job and
# the end-to-end tests. Same architecture as the paper's, at toy width/depth:
# 64 px input, 8x8 tokens, 2 ESC blocks, no pretrained CLIP or SAM weights.
_base_ = [
    '../_base_/models/escnet.py', '../_base_/datasets/synthetic.py',
    '../_base_/default_runtime.py'
]
crop_size = (64, 64)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        model_name=None,
        model_cfg=dict(
            embed_dim=32,
            vision_cfg=dict(
                image_size=64, layers=4, width=32, patch_size=8,
                head_width=16),
            text_cfg=dict(
                context_length=16,
                vocab_size=49408,
                width=32,
                heads=2,
                layers=2)),
        pretrained=None,
        image_size=64,
        out_indices=(1, 2),
        finetune='full',  # random weights: everything has to learn
        # CAT-Seg's dense last block keeps only the value path of the last
        # attention: with random (not CLIP-pretrained) weights that leaves
        # weak tokens, so the toy model uses the ordinary block.
        last_block='plain',
        quick_gelu=False),
    neck=dict(
        clip_channels=32,
        channels=32,
        grid_size=(8, 8),
        num_blocks=2,
        sam_dims=32,
        sam_num_heads=2,
        sam_mlp_dim=64,
        sam_checkpoint=None,
        sam_layer_ids=(0, 1),
        num_points=3,
        vlf=dict(num_heads=2, window_size=4)),
    decode_head=dict(
        in_channels=32,
        skip_in_channels=32,
        skip_channels=(32, 16),
        guidance_channels=(8, 4),
        decoder_channels=(16, 8),
        channels_per_group=4))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4),
    clip_grad=dict(max_norm=1.0, norm_type=2))
max_iters = 600
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(
        type='CosineAnnealingLR',
        by_epoch=False,
        begin=50,
        end=max_iters,
        eta_min=1e-5)
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=200, max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
randomness = dict(seed=0)
