# ESC-Net at toy width/depth with random weights (no CLIP or SAM files):
# 64 px input, 8x8 tokens, 2 ESC blocks. The model of
# configs/escnet/escnet_tiny_synthetic.py (`make demo`, the end-to-end
# tests) and of the own-dataset smoke test.
_base_ = ['./escnet.py']
model = dict(
    data_preprocessor=dict(size=(64, 64)),
    backbone=dict(
        model_name=None,
        model_cfg=dict(
            embed_dim=32,
            vision_cfg=dict(
                image_size=64, layers=4, width=32, patch_size=8,
                head_width=16),
            text_cfg=dict(
                context_length=16,
                vocab_size=49408,
                width=32,
                heads=2,
                layers=2)),
        pretrained=None,
        image_size=64,
        out_indices=(1, 2),
        finetune='full',  # random weights: everything has to learn
        # CAT-Seg's dense last block keeps only the value path of the last
        # attention: with random (not CLIP-pretrained) weights that leaves
        # weak tokens, so the toy model uses the ordinary block.
        last_block='plain',
        quick_gelu=False),
    neck=dict(
        clip_channels=32,
        channels=32,
        grid_size=(8, 8),
        num_blocks=2,
        ppg=dict(num_points=3),
        sam_block=dict(embed_dims=32, num_heads=2, mlp_dim=64),
        vlf=dict(num_heads=2, window_size=4),
        sam_checkpoint=None,
        sam_layer_ids=(0, 1)),
    decode_head=dict(
        in_channels=32,
        skip_in_channels=32,
        skip_channels=(32, 16),
        guidance_channels=(8, 4),
        decoder_channels=(16, 8),
        channels_per_group=4))
