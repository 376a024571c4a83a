# ESC-Net, CLIP ViT-B/16 @ 384, trained on COCO-Stuff 164k (171 classes):
# AdamW 2e-4 (CLIP and SAM x0.01), 80k iterations, 4 GPUs x 1 image, fp32
# as CAT-Seg (`tools/train.py --amp` for fp16).
_base_ = [
    '../_base_/models/escnet_vitb16.py',
    '../_base_/datasets/coco-stuff164k.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_80k.py',
]
crop_size = (384, 384)
# vocabulary: the default vocabulary (the VocabularyHook sets the dataset's),
# what MMSeg's benchmark.py and init_model without a checkpoint use.
model = dict(data_preprocessor=dict(size=crop_size), vocabulary='coco')
