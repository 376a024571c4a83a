# ESC-Net ViT-B/16 (trained on COCO-Stuff) evaluated on
# PASCAL-Context, 459 classes (PC-459),
# with CAT-Seg's protocol (docs/train_test.md):
#   tools/dist_test.sh \
#       configs/escnet/escnet_vitb16_test-pascal-context-459.py CHECKPOINT 4
# The model is asked for the 459 names of CAT-Seg's pc459.json
# (escnet_mmseg/datasets/prompts.py).
_base_ = [
    '../_base_/models/escnet_vitb16.py',
    '../_base_/datasets/pascal-context-459.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/test_only.py',
]
# The test image resized to 640x640, 2x2 windows of 384 at stride 256
# plus the whole image as a global view (5 views, one batch), class
# probabilities fused back at 640x640, then resized to the image size.
# max_classes: each view keeps its 256 classes of highest CLIP
# correlation (the others get logit -100), as CAT-Seg scores large
# vocabularies; set it to None for the exact all-class result.
# class_chunk_size bounds memory (same result; lower it if short).
model = dict(
    test_cfg=dict(
        mode='slide_global',
        out_size=(640, 640),
        crop_size=(384, 384),
        stride=(256, 256),
        global_view=True,
        max_classes=256,
        class_chunk_size=128))
