# Table 3 (f): ESC-Net ViT-L/14 whose SAM blocks get point, box and mask
# prompts.
# A box prompt is the smallest box around one k-means cluster of the PPG.
# Row (d), points + masks, is the main config.
_base_ = ['../escnet_vitl14_coco-stuff.py']
model = dict(neck=dict(prompt_types=('points', 'boxes', 'masks')))
