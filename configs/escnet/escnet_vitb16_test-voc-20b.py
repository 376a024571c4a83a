# ESC-Net ViT-B/16 (trained on COCO-Stuff) evaluated on
# PASCAL VOC, 20 classes + background (PAS-20b),
# with CAT-Seg's protocol (docs/train_test.md):
#   tools/dist_test.sh \
#       configs/escnet/escnet_vitb16_test-voc-20b.py CHECKPOINT 4
# The model is asked for the 59 names of CAT-Seg's voc20b.json
# (escnet_mmseg/datasets/prompts.py).
# The 39 PASCAL-Context prompts after the 20 VOC classes are scored as
# background (PromptIoUMetric); mIoU over background + 20 classes.
_base_ = [
    '../_base_/models/escnet_vitb16_catseg-eval.py',
    '../_base_/datasets/voc-20b.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/test_only.py',
]
# The default vocabulary (the VocabularyHook sets the same from the
# dataset): MMSeg's benchmark.py and init_model need no edits.
model = dict(vocabulary='voc20b')
