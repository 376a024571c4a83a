# ESC-Net, CLIP ViT-L/14 @ 336 (24x24 tokens), trained on COCO-Stuff 164k:
# the paper's main model (Table 1, 451.3 M parameters). As in CAT-Seg it
# trains on the same 384x384 crops as ViT-B/16; the model resizes them to
# CLIP's 336 px input (ESCNet.extract_feat).
_base_ = ['./escnet_vitb16_coco-stuff.py']
model = dict(
    backbone=dict(
        model_name='ViT-L-14-336', image_size=336, out_indices=(7, 15)),
    neck=dict(clip_channels=768),
    decode_head=dict(skip_in_channels=1024))
