# Table 2 (c) = Table 3 (d): the full ESC-Net ViT-L/14, pretrained SAM blocks
# fed with point and mask prompts. Identical to the main training config;
# listed here so every row of the ablation tables has a config.
_base_ = ['../escnet_vitl14_coco-stuff.py']
