# ESC-Net ViT-B/16 (trained on COCO-Stuff) evaluated on
# ADE20K, 150 classes,
# with CAT-Seg's protocol (docs/train_test.md):
#   tools/dist_test.sh \
#       configs/escnet/escnet_vitb16_test-ade20k-150.py CHECKPOINT 4
# The model is asked for the 150 names of CAT-Seg's ade150.json
# (escnet_mmseg/datasets/prompts.py).
_base_ = [
    '../_base_/models/escnet_vitb16_catseg-eval.py',
    '../_base_/datasets/ade20k-150.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/test_only.py',
]
# The default vocabulary (the VocabularyHook sets the same from the
# dataset): MMSeg's benchmark.py and init_model need no edits.
model = dict(vocabulary='ade150')
