# ESC-Net / CAT-Seg training schedule: AdamW, lr 2e-4 (CLIP and SAM blocks
# x0.01 = 2e-6), weight decay 1e-4, cosine decay over 80k iterations,
# gradient clipping. Total batch 4 (4 GPUs x 1 image).
optimizer = dict(type='AdamW', lr=2e-4, betas=(0.9, 0.999), weight_decay=1e-4)
optim_wrapper = dict(
    # fp32, as CAT-Seg trains; `tools/train.py --amp` switches this to
    # AmpOptimWrapper (fp16, faster, less memory).
    type='OptimWrapper',
    optimizer=optimizer,
    # Clip the L2 norm of the gradient of the whole model to 0.01, CAT-Seg's
    # setting (detectron2 "full_model" clipping, CLIP_VALUE 0.01); ESC-Net
    # builds on CAT-Seg and only says it clips gradients.
    clip_grad=dict(max_norm=0.01, norm_type=2),
    paramwise_cfg=dict(
        # detectron2's defaults in CAT-Seg's build_optimizer: no weight decay
        # on normalisation layers and embeddings.
        norm_decay_mult=0.0,
        custom_keys={
            # Pretrained parts at lr x 0.01: CLIP, SAM's attention layers and
            # prompt encoder. The SAM blocks' new projections (text/image/
            # out) train at the full lr, so the key is 'sam_block.layer', not
            # 'sam_block'.
            'backbone':
            dict(lr_mult=0.01),
            'sam_block.layer':
            dict(lr_mult=0.01),
            'prompt_encoder':
            dict(lr_mult=0.01),
            # A matching custom key overrides norm_decay_mult, and only the
            # longest matching key applies, so the norms and embeddings of
            # the parts above are listed (each key longer than 'backbone')
            # with both multipliers: CLIP's LayerNorms (ln_pre, ln_1, ln_2,
            # ln_post, ln_final) and position / class / token embeddings,
            # the SAM layers' norm1-4, the prompt encoder's embeddings and
            # LayerNorm2d layers.
            'visual.ln_pre.':
            dict(lr_mult=0.01, decay_mult=0.0),
            'visual.ln_post.':
            dict(lr_mult=0.01, decay_mult=0.0),
            'clip.ln_final.':
            dict(lr_mult=0.01, decay_mult=0.0),
            '.ln_1.weight':
            dict(lr_mult=0.01, decay_mult=0.0),
            '.ln_1.bias':
            dict(lr_mult=0.01, decay_mult=0.0),
            '.ln_2.weight':
            dict(lr_mult=0.01, decay_mult=0.0),
            '.ln_2.bias':
            dict(lr_mult=0.01, decay_mult=0.0),
            'positional_embedding':
            dict(lr_mult=0.01, decay_mult=0.0),
            'class_embedding':
            dict(lr_mult=0.01, decay_mult=0.0),
            'token_embedding':
            dict(lr_mult=0.01, decay_mult=0.0),
            'sam_block.layer.norm':
            dict(lr_mult=0.01, decay_mult=0.0),
            'prompt_encoder.point_embeddings':
            dict(lr_mult=0.01, decay_mult=0.0),
            'prompt_encoder.not_a_point_embed':
            dict(lr_mult=0.01, decay_mult=0.0),
            'prompt_encoder.no_mask_embed':
            dict(lr_mult=0.01, decay_mult=0.0),
            'prompt_encoder.mask_downscaling.1.':
            dict(lr_mult=0.01, decay_mult=0.0),
            'prompt_encoder.mask_downscaling.4.':
            dict(lr_mult=0.01, decay_mult=0.0),
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
