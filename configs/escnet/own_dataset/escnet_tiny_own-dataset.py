# A smoke test of your own dataset on a CPU (docs/own_dataset.md): the toy
# ESC-Net (random weights, no downloads) trains 20 iterations on the data of
# configs/_base_/datasets/own-dataset.py at 64 px and is validated once.
# Not a useful model: it checks the files, the class names and the config.
_base_ = [
    '../../_base_/models/escnet_tiny.py',
    '../../_base_/datasets/own-dataset.py',
    '../../_base_/default_runtime.py',
    '../../_base_/schedules/schedule_80k.py',
]
crop_size = (64, 64)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', scale=(256, 64), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(256, 64), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=20, val_interval=20)
default_hooks = dict(
    logger=dict(interval=5), checkpoint=dict(interval=20, max_keep_ckpts=1))
