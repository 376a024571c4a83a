# ESC-Net ViT-B/16 on your own dataset (docs/own_dataset.md): the model with
# the published 5-view test protocol, your dataset, the runtime and the
# 80k schedule (AdamW 2e-4 for a total batch of 4). Evaluate a COCO-Stuff
# checkpoint on it (zero-shot):
#   python tools/test.py CONFIG CKPT
# or fine-tune from it:
#   python tools/train.py CONFIG --cfg-options load_from=CKPT
_base_ = [
    '../../_base_/models/escnet_vitb16_catseg-eval.py',
    '../../_base_/datasets/own-dataset.py',
    '../../_base_/default_runtime.py',
    '../../_base_/schedules/schedule_80k.py',
]
crop_size = (384, 384)
model = dict(data_preprocessor=dict(size=crop_size))
