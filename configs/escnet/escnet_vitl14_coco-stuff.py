# ESC-Net, CLIP ViT-L/14 @ 336 (24x24 tokens), trained on COCO-Stuff 164k:
# the paper's main model (Table 1, 451.3 M parameters). Same recipe as
# escnet_vitb16_coco-stuff.py.
_base_ = [
    '../_base_/models/escnet_vitl14.py',
    '../_base_/datasets/coco-stuff164k.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_80k.py',
]
crop_size = (336, 336)
model = dict(data_preprocessor=dict(size=crop_size))
optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
# The COCO-Stuff pipeline at the 336 px CLIP input (short side ~336, long
# side capped at 4x, as the 384 px base).
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(
        type='RandomResize',
        scale=(1344, 336),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
