# ESC-Net, CLIP ViT-L/14 @ 336 (24x24 tokens), trained on COCO-Stuff 164k:
# the paper's main model (Table 1, 451.3 M parameters). Same recipe as
# escnet_vitb16_coco-stuff.py: as in CAT-Seg it trains on the same 384x384
# crops as ViT-B/16, which the model resizes to CLIP's 336 px input
# (ESCNet.extract_feat). fp32 as CAT-Seg; `tools/train.py --amp` for fp16.
_base_ = [
    '../_base_/models/escnet_vitl14.py',
    '../_base_/datasets/coco-stuff164k.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_80k.py',
]
crop_size = (384, 384)
# vocabulary: the default vocabulary (the VocabularyHook sets the dataset's),
# what MMSeg's benchmark.py and init_model without a checkpoint use.
model = dict(data_preprocessor=dict(size=crop_size), vocabulary='coco')
