# Table 2 (a) at ViT-B/16: ESC-Net without SAM blocks (the VLF gets
# Conv1x1(F_v) for every class). The reference of the SAM-block cost in
# docs/efficiency.md (tools/analysis_tools/benchmark.py compare).
_base_ = ['../escnet_vitb16_coco-stuff.py']
model = dict(neck=dict(sam_block=None))
