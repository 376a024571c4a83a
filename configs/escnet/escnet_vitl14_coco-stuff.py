# ESC-Net, CLIP ViT-L/14 @ 336 (24x24 tokens), trained on COCO-Stuff 164k:
# the paper's main model (Table 1, 451.3 M parameters).
_base_ = ['./escnet_vitb16_coco-stuff.py']
crop_size = (336, 336)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        model_name='ViT-L-14-336', image_size=336, out_indices=(7, 15)),
    neck=dict(clip_channels=768),
    decode_head=dict(skip_in_channels=1024))
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
