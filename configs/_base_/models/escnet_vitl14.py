# ESC-Net with CLIP ViT-L/14 at 336 px (24x24 tokens): the paper's main model
# (Table 1, 451.3 M parameters). Everything else as in escnet.py.
_base_ = ['./escnet.py']
model = dict(
    data_preprocessor=dict(size=(336, 336)),
    backbone=dict(
        model_name='ViT-L-14-336', image_size=336, out_indices=(7, 15)),
    neck=dict(clip_channels=768),
    decode_head=dict(skip_in_channels=1024))
