# Your own labelled dataset (docs/own_dataset.md), MMSeg's BaseSegDataset:
#   data/my_dataset/img_dir/{train,val}/xxx.jpg
#   data/my_dataset/ann_dir/{train,val}/xxx.png   (class ids 0..N-1, 255)
# COCO-Stuff's pipelines (training augmentation, short side 640 for
# testing), loaders and metric (detectron2's mIoU), with another dataset.
# The model is asked for the class names below (the VocabularyHook copies
# them into it); a name with synonyms is "wall, walls" (the first one
# prompts the text encoder). Replace the names, keep their order = ids.
_base_ = ['./coco-stuff164k.py']
dataset_type = 'BaseSegDataset'
data_root = 'data/my_dataset'
metainfo = dict(
    classes=('sky', 'grass', 'circle', 'square', 'triangle', 'star, stars'),
    # One RGB colour per class, for painting only (optional).
    palette=[[128, 160, 255], [40, 160, 40], [220, 40, 40], [240, 200, 40],
             [40, 40, 200], [200, 80, 200]])
# Optional: ask the model for other words than the class names, one prompt
# per class (the labels and the metric keep the names above), e.g.
# metainfo['prompts'] = ('sky', 'lawn, grass', ...)
train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        img_suffix='.jpg',
        seg_map_suffix='.png',
        data_prefix=dict(
            img_path='img_dir/train', seg_map_path='ann_dir/train')))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        img_suffix='.jpg',
        seg_map_suffix='.png',
        data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val')))
test_dataloader = val_dataloader
