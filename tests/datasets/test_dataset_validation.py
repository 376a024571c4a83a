"""The input checks of WideLabelSegDataset, each path with its message."""
import os
import os.path as osp
import shutil

import pytest

from tests.datasets.test_datasets import build


def test_list_from_must_be_img_or_ann(tiny_datasets):
    with pytest.raises(ValueError, match="list_from must be 'img' or 'ann'"):
        build('synthetic', tiny_datasets['synthetic'], list_from='images')


def test_list_from_ann_needs_an_annotation_folder(tiny_datasets):
    with pytest.raises(ValueError, match='needs data_prefix.seg_map_path'):
        build(
            'pascal-context-459',
            tiny_datasets['pascal-context-459'],
            data_prefix=dict(img_path='JPEGImages'))


def test_missing_annotation_folder_is_named(tiny_datasets):
    root = tiny_datasets['ade20k-847']
    shutil.rmtree(osp.join(root, 'annotations_detectron2'))
    with pytest.raises(
            FileNotFoundError,
            match=r'annotation folder .*annotations_detectron2'):
        build('ade20k-847', root)


def test_missing_image_folder_is_named(tiny_datasets):
    root = tiny_datasets['voc-20']
    shutil.rmtree(osp.join(root, 'JPEGImages'))
    with pytest.raises(FileNotFoundError, match=r'image folder .*JPEGImages'):
        build('voc-20', root)


def test_image_missing_for_a_listed_annotation_is_named(tiny_datasets):
    root = tiny_datasets['pascal-context-459']
    os.remove(osp.join(root, 'JPEGImages', '2008_000002.jpg'))
    with pytest.raises(
            FileNotFoundError,
            match=r'1 file\(s\) listed by annotation folder'
            r'[\s\S]*2008_000002\.jpg'):
        build('pascal-context-459', root)


def test_many_missing_files_are_counted(tiny_datasets):
    root = tiny_datasets['voc-20']
    split = osp.join(root, 'ImageSets', 'Segmentation', 'val.txt')
    with open(split, 'a') as f:
        f.writelines(f'2099_{i:06d}\n' for i in range(4))
    # 4 listed ids without files: 8 missing files, 5 shown
    with pytest.raises(
            FileNotFoundError,
            match=r'8 file\(s\) listed by split file[\s\S]*'
            r'\.\.\. and 3 more'):
        build('voc-20', root)
    # check_files=False defers the error to loading
    assert len(build('voc-20', root, check_files=False)) == 6


def test_no_annotations_in_ann_listing_is_reported(tiny_datasets):
    root = tiny_datasets['pascal-context-459']
    folder = osp.join(root, 'annotations_detectron2', 'pc459_val')
    for name in os.listdir(folder):
        os.remove(osp.join(folder, name))
    with pytest.raises(
            FileNotFoundError,
            match=r"no samples found in annotation folder .*'\.tif'"):
        build('pascal-context-459', root)
