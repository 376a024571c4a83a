# Table 2 (b) at ViT-B/16: randomly initialised SAM blocks and prompt encoder.
_base_ = ['../escnet_vitb16_coco-stuff.py']
model = dict(neck=dict(sam_checkpoint=None))
