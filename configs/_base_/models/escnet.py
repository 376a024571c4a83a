# ESC-Net model: CLIP ViT-B/16 at 384 px (24x24 tokens) and SAM ViT-B blocks.
# Per-backbone bases: escnet_vitb16.py (these defaults) and escnet_vitl14.py.
# CLIP's pixel statistics (RGB, 0-255 scale).
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[122.7709383, 116.7460125, 104.09373615],
    std=[68.5005327, 66.6321579, 70.32316305],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=(384, 384))
model = dict(
    type='ESCNet',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='CLIPBackbone',
        model_name='ViT-B-16',
        pretrained='openai',  # or a local open_clip state-dict file
        image_size=384,  # positional embedding resampled 14x14 -> 24x24
        out_indices=(3, 7),  # skip connections G_1, G_2
        finetune='attention',  # Q and V projections of both towers
        last_block='dense',  # CAT-Seg's dense last block; 'plain' = ordinary
        quick_gelu=True),
    # CAT-Seg's template; synonyms='mean' averages 'wall, walls' per template
    text_encoder=dict(
        type='ESCTextEncoder', templates='single', synonyms='first'),
    neck=dict(
        type='ESCNeck',
        clip_channels=512,  # E
        channels=128,  # C
        grid_size=(24, 24),
        num_blocks=4,
        # Each of the N blocks: PPG -> SAM block -> VLF.
        ppg=dict(
            type='PseudoPromptGenerator',
            num_points=5,  # K points (k-means clusters) per class
            alpha=0.5,  # foreground threshold
            iters=10,  # Lloyd iterations
            softmax_over='class'),
        # SAM ViT-B's two-way layer; None: no SAM blocks (Table 2a)
        sam_block=dict(
            type='SAMBlock', embed_dims=256, num_heads=8, mlp_dim=2048),
        vlf=dict(type='VLF', num_heads=4, window_size=12),
        sam_checkpoint='checkpoints/sam_vit_b_01ec64.pth',
        sam_layer_ids=(0, 1, 0, 1),  # SAM decoder layer copied per block
        prompt_types=('points', 'masks'),
        logit_scale=100.0),
    decode_head=dict(
        type='ESCNetHead',
        in_channels=128,
        skip_in_channels=768,
        skip_channels=(256, 128),  # ConvTranspose x2 of G_1, x4 of G_2
        guidance_channels=(32, 16),  # 3x3 conv + ReLU before the concat
        decoder_channels=(64, 32),
        channels_per_group=16,  # GroupNorm: channels // 16 groups
        ignore_index=255,
        align_corners=False,
        # CAT-Seg's per-class sigmoid BCE; softmax CE instead:
        # dict(type='CrossEntropyLoss', loss_weight=1.0, avg_non_ignore=True)
        loss_decode=dict(type='PerClassBCELoss', loss_weight=1.0)),
    train_cfg=dict(),
    # class_chunk_size: classes per chunk at inference (None = all at once).
    test_cfg=dict(mode='whole', class_chunk_size=None))
# Some parameters get no gradient in a step (e.g. SAM's "no mask" embedding
# when mask prompts are used), which DistributedDataParallel must be told.
find_unused_parameters = True
