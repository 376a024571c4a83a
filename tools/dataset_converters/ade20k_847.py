"""Convert the ADE20K-Full release to the A-847 evaluation format.

Input: the ADE20K 2021_17_01 release (https://ade20k.csail.mit.edu/, needs a
free registration), unpacked as::

    ADE_ROOT/images/ADE/validation/<scene>/.../ADE_val_00000001.jpg
    ADE_ROOT/images/ADE/validation/<scene>/.../ADE_val_00000001_seg.png

Output (``configs/_base_/datasets/ade20k-847.py``)::

    OUT_DIR/images_detectron2/validation/ADE_val_00000001.jpg
    OUT_DIR/annotations_detectron2/validation/ADE_val_00000001.tif

The object index of a pixel is ``R // 10 * 256 + G`` of its ``_seg.png``; the
847 indices of ``ADE20K_847_ADE_IDS`` become train ids 0..846, every other
pixel 65535 (ignored). Like the reference preparation of the open-vocabulary
literature (MaskFormer / CAT-Seg), images whose short side exceeds 512 px are
resized to a 512-px short side (bilinear for the image, nearest for the
labels) and the images are re-encoded as JPEG (Pillow's default quality).
Labels are 16-bit TIFFs. Usage::

    python tools/dataset_converters/ade20k_847.py data/ADE20K_2021_17_01 \
        --nproc 16
"""
import argparse
import os.path as osp
import sys
from functools import partial
from glob import glob

import cv2
import numpy as np
from PIL import Image

from escnet_mmseg.datasets.ade20k_847 import ADE20K_847_ADE_IDS
from escnet_mmseg.utils.cli import run_tool
from escnet_mmseg.utils.conversion import (ConversionError, add_common_args,
                                           check_outputs, make_parent_dirs,
                                           require_dir, run_tasks)

IGNORE = 65535
# Largest value of R // 10 * 256 + G for 8-bit R and G.
_MAX_INDEX = 255 // 10 * 256 + 255


def ade_index_to_train_id_lut() -> np.ndarray:
    lut = np.full(_MAX_INDEX + 1, IGNORE, dtype=np.uint16)
    lut[list(ADE20K_847_ADE_IDS)] = np.arange(
        len(ADE20K_847_ADE_IDS), dtype=np.uint16)
    return lut


def decode_object_index(seg_rgb: np.ndarray) -> np.ndarray:
    """Object-class index of every pixel of an ADE ``*_seg.png`` (RGB)."""
    r = seg_rgb[..., 0].astype(np.int32)
    g = seg_rgb[..., 1].astype(np.int32)
    return r // 10 * 256 + g


def resized_shape(h: int, w: int, short_side: int):
    if short_side <= 0 or min(h, w) <= short_side:
        return None
    if w >= h:
        return short_side, round(w / float(h) * short_side)
    return round(h / float(w) * short_side), short_side


def convert_sample(task, lut, short_side) -> None:
    img_src, seg_src, img_dst, ann_dst = task
    if not osp.isfile(seg_src):
        raise ConversionError(f'label file missing for {img_src}: {seg_src}')
    with Image.open(img_src) as im:
        img = np.asarray(im.convert('RGB'))
    with Image.open(seg_src) as im:
        seg = np.asarray(im.convert('RGB'))
    if seg.shape[:2] != img.shape[:2]:
        raise ConversionError(
            f'{seg_src}: size {seg.shape[:2]} differs from its image '
            f'{img.shape[:2]}')
    label = decode_object_index(seg)
    new = resized_shape(img.shape[0], img.shape[1], short_side)
    if new is not None:
        h, w = new
        img = cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)
        label = cv2.resize(label, (w, h), interpolation=cv2.INTER_NEAREST)
    Image.fromarray(img).save(img_dst)
    Image.fromarray(lut[label]).save(ann_dst)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert ADE20K 2021_17_01 to 847-class 16-bit labels.')
    parser.add_argument('ade_root', help='the ADE20K_2021_17_01 folder')
    parser.add_argument(
        '-o', '--out-dir', help='output folder (default: ade_root)')
    parser.add_argument(
        '--splits',
        nargs='+',
        default=['validation'],
        choices=['training', 'validation'],
        help='A-847 only evaluates on validation (the default)')
    parser.add_argument(
        '--short-side',
        type=int,
        default=512,
        help='resize images whose short side is longer to this size '
        '(0: keep the original size)')
    add_common_args(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    out_dir = args.out_dir or args.ade_root
    tasks = []
    for split in args.splits:
        src_dir = osp.join(args.ade_root, 'images', 'ADE', split)
        require_dir(src_dir, f'ADE20K {split} image folder')
        images = sorted(glob(osp.join(src_dir, '**', '*.jpg'), recursive=True))
        if not images:
            raise ConversionError(f'no *.jpg images under {src_dir}')
        for img in images:
            name = osp.basename(img)
            tasks.append((img, img[:-len('.jpg')] + '_seg.png',
                          osp.join(out_dir, 'images_detectron2', split, name),
                          osp.join(out_dir, 'annotations_detectron2', split,
                                   name[:-len('.jpg')] + '.tif')))
    names = [osp.basename(t[0]) for t in tasks]
    if len(set(names)) != len(names):
        raise ConversionError('image file names are not unique across the '
                              'scene folders')
    missing = [t[1] for t in tasks if not osp.isfile(t[1])]
    if missing:
        raise ConversionError(
            f'{len(missing)} label files (*_seg.png) are missing, e.g. '
            f'{missing[0]}')
    outputs = [p for t in tasks for p in t[2:]]
    check_outputs(outputs, args.overwrite)
    make_parent_dirs(outputs)
    run_tasks(
        partial(
            convert_sample,
            lut=ade_index_to_train_id_lut(),
            short_side=args.short_side), tasks, args.nproc)
    print(f'\nwrote {len(tasks)} images and 16-bit label maps under '
          f'{out_dir}')


if __name__ == '__main__':
    sys.exit(run_tool(main))
