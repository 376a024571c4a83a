# ESC-Net / CAT-Seg training schedule: AdamW, lr 2e-4 (CLIP and SAM blocks
# x0.01 = 2e-6), weight decay 1e-4, cosine decay over 80k iterations,
# gradient clipping. Total batch 4 (4 GPUs x 1 image).
optimizer = dict(type='AdamW', lr=2e-4, betas=(0.9, 0.999), weight_decay=1e-4)
optim_wrapper = dict(
    # `tools/train.py --amp` switches this to AmpOptimWrapper.
    type='OptimWrapper',
    optimizer=optimizer,
    # Clip the L2 norm of the gradient of the whole model to 0.01, CAT-Seg's
    # setting (detectron2 "full_model" clipping, CLIP_VALUE 0.01); ESC-Net
    # builds on CAT-Seg and only says it clips gradients.
    clip_grad=dict(max_norm=0.01, norm_type=2),
    # Pretrained parts at lr x 0.01: CLIP, SAM's attention layers and prompt
    # encoder. The SAM blocks' new projections (text/image/out) train at the
    # full lr, so the key is 'sam_block.layer', not 'sam_block'.
    paramwise_cfg=dict(
        custom_keys={
            'backbone': dict(lr_mult=0.01),
            'sam_block.layer': dict(lr_mult=0.01),
            'prompt_encoder': dict(lr_mult=0.01),
        }))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=80000,
        eta_min=0.0,
        begin=0,
        end=80000,
        by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=80000, val_interval=8000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=8000,
        max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
