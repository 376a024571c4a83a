# Table 3 (b): ESC-Net ViT-L/14 whose SAM blocks get box prompts only.
# A box prompt is the smallest box around one k-means cluster of the PPG.
# Row (d), points + masks, is the main config.
_base_ = ['../escnet_vitl14_coco-stuff.py']
model = dict(neck=dict(prompt_types=('boxes', )))
