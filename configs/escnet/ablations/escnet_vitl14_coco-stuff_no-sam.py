# Table 2 (a): ESC-Net ViT-L/14 without SAM blocks. F_v is not refined: the
# VLF of every ESC block gets Conv1x1(F_v) for every class (no prompts, no
# SAM weights).
_base_ = ['../escnet_vitl14_coco-stuff.py']
model = dict(neck=dict(sam_block=None))
