# ESC-Net ViT-B/16 (trained on COCO-Stuff) evaluated on
# ADE20K-Full, 847 classes,
# with CAT-Seg's protocol (docs/train_test.md):
#   tools/dist_test.sh \
#       configs/escnet/escnet_vitb16_test-ade20k-847.py CHECKPOINT 4
# The model is asked for the 847 names of CAT-Seg's ade847.json
# (escnet_mmseg/datasets/prompts.py).
_base_ = [
    '../_base_/models/escnet_vitb16_catseg-eval.py',
    '../_base_/datasets/ade20k-847.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/test_only.py',
]
# CAT-Seg's protocol comes with the model base. max_classes: each view
# keeps its 256 classes of highest CLIP correlation (the others get
# logit -100), as CAT-Seg scores large vocabularies; set it to None for
# the exact all-class result. class_chunk_size bounds memory (same
# result; lower it if short).
# vocabulary: the default one (the VocabularyHook sets the same from the
# dataset), so MMSeg's benchmark.py and init_model need no edits.
model = dict(
    test_cfg=dict(max_classes=256, class_chunk_size=128), vocabulary='ade847')
