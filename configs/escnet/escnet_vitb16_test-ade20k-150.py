# ESC-Net ViT-B/16 (trained on COCO-Stuff) evaluated on
# ADE20K-150:
#   tools/dist_test.sh configs/escnet/escnet_vitb16_test-ade20k-150.py CHECKPOINT 4
# Model and runtime come from the training config; data, metric and
# vocabulary (the dataset's class names) from ../_base_/datasets/ade20k-150.py.
# MMEngine refuses a key defined by two `_base_` files and the training
# config already defines the COCO-Stuff dataloaders, so the dataset file is
# read here and replaces them.
_base_ = ['./escnet_vitb16_coco-stuff.py']

import mmengine.config as _mmcfg  # noqa: E402

_ds = _mmcfg.Config.fromfile(
    '{{ fileDirname }}/../_base_/datasets/ade20k-150.py')
dataset_type = _ds.dataset_type
data_root = _ds.data_root
test_pipeline = _ds.test_pipeline
tta_pipeline = _ds.tta_pipeline
val_dataloader = dict(_ds.val_dataloader, _delete_=True)
test_dataloader = dict(_ds.test_dataloader, _delete_=True)
val_evaluator = dict(_ds.val_evaluator, _delete_=True)
test_evaluator = dict(_ds.test_evaluator, _delete_=True)
del _ds

# Sliding-window inference with windows of the CLIP input size.
model = dict(
    test_cfg=dict(mode='slide', crop_size=(384, 384), stride=(256, 256)))
