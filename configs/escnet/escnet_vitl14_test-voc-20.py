# ESC-Net ViT-L/14 (trained on COCO-Stuff) evaluated on
# PASCAL VOC, 20 classes (PAS-20),
# with CAT-Seg's protocol (docs/train_test.md):
#   tools/dist_test.sh \
#       configs/escnet/escnet_vitl14_test-voc-20.py CHECKPOINT 4
# The model is asked for the 20 names of CAT-Seg's voc20.json
# (escnet_mmseg/datasets/prompts.py).
_base_ = [
    '../_base_/models/escnet_vitl14_catseg-eval.py',
    '../_base_/datasets/voc-20.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/test_only.py',
]
# The default vocabulary (the VocabularyHook sets the same from the
# dataset): MMSeg's benchmark.py and init_model need no edits.
model = dict(vocabulary='voc20')
