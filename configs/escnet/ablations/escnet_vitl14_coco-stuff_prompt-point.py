# Table 3 (a): ESC-Net ViT-L/14 whose SAM blocks get point prompts only.
# Row (d), points + masks, is the main config.
_base_ = ['../escnet_vitl14_coco-stuff.py']
model = dict(neck=dict(prompt_types=('points', )))
