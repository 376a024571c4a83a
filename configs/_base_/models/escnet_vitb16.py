# ESC-Net with CLIP ViT-B/16 at 384 px (24x24 tokens): the defaults of
# escnet.py, which every other ESC-Net config builds on.
_base_ = ['./escnet.py']
