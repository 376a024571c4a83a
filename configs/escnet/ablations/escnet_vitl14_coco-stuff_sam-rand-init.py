# Table 2 (b): ESC-Net ViT-L/14 with SAM blocks (and prompt encoder) randomly
# initialised: the same computation as (c) without SAM's pretrained weights.
_base_ = ['../escnet_vitl14_coco-stuff.py']
model = dict(neck=dict(sam_checkpoint=None))
