# The vitl14 model with CAT-Seg's evaluation protocol (docs/train_test.md),
# the base of every benchmark config: the test image resized to 640x640,
# 2x2 windows of 384 at stride 256 plus the whole image as a global view
# (5 views, through the network one at a time), class probabilities fused
# back at 640x640, then resized to the image size.
_base_ = ['./escnet_vitl14.py']
model = dict(
    test_cfg=dict(
        mode='slide_global',
        out_size=(640, 640),
        crop_size=(384, 384),
        stride=(256, 256),
        global_view=True,
        # One view at a time: the ESC blocks' per-class state and
        # activations are those of one view, so the peak memory hardly
        # grows with the vocabulary (docs/efficiency.md); None batches all.
        view_batch_size=1,
        # The metric reads the label maps only: no (T, H, W) seg_logits
        # (the classes stream after the network, docs/efficiency.md).
        return_logits=False))
