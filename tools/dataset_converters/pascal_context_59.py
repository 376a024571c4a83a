"""Convert PASCAL-Context (59 classes) to MMSeg's layout (PC-59).

Input: VOC2010 (``VOCtrainval_03-May-2010.tar``) and the 59-class merged
annotation ``trainval_merged.json`` (the file MMSeg's PASCAL-Context
converter reads through the Detail API)::

    VOC2010/JPEGImages/*.jpg
    trainval_merged.json

Output (MMSeg's ``PascalContextDataset59`` layout,
``configs/_base_/datasets/pascal-context-59.py``)::

    VOC2010/SegmentationClassContext/<id>.png    (0 = background, 1..59)
    VOC2010/ImageSets/SegmentationContext/{train,val}.txt

Each image's mask starts as background; its annotations (COCO-style RLE) are
painted in file order with their category id, and the 59 category ids are
renumbered 1..59 as MMSeg's converter does. The RLE masks are decoded with
``pycocotools`` when it is installed, else with the equivalent decoder
below (no extra dependency). Usage::

    python tools/dataset_converters/pascal_context_59.py \
        data/VOCdevkit/VOC2010 data/VOCdevkit/VOC2010/trainval_merged.json
"""
import argparse
import json
import os.path as osp
import sys
from collections import defaultdict
from functools import partial

import numpy as np
from PIL import Image

from escnet_mmseg.utils.cli import run_tool
from escnet_mmseg.utils.conversion import (ConversionError, add_common_args,
                                           check_outputs, make_parent_dirs,
                                           require_dir, require_file,
                                           run_tasks)

# Category ids of the background (0) and of the 59 classes in the merged
# json, in the order of PascalContextDataset59's classes once sorted.
CONTEXT59_IDS = np.sort(
    np.array([
        0, 2, 259, 260, 415, 324, 9, 258, 144, 18, 19, 22, 23, 397, 25, 284,
        158, 159, 416, 33, 162, 420, 454, 295, 296, 427, 44, 45, 46, 308, 59,
        440, 445, 31, 232, 65, 354, 424, 68, 326, 72, 458, 34, 207, 80, 355,
        85, 347, 220, 349, 360, 98, 187, 104, 105, 366, 189, 368, 113, 115
    ]))
assert len(CONTEXT59_IDS) == 60


def rle_counts_from_string(s: str) -> list:
    """Decode COCO's compressed RLE string (``rleFrString`` in maskApi.c)."""
    counts = []
    p = 0
    while p < len(s):
        x = 0
        k = 0
        more = True
        while more:
            c = ord(s[p]) - 48
            x |= (c & 0x1f) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def decode_rle(rle: dict) -> np.ndarray:
    """Binary mask (h, w) of a COCO RLE dict (compressed or not)."""
    try:
        from pycocotools import mask as mask_utils
    except ImportError:
        mask_utils = None
    h, w = rle['size']
    counts = rle['counts']
    if mask_utils is not None:
        if isinstance(counts, list):
            rle = mask_utils.frPyObjects(rle, h, w)
        elif isinstance(counts, str):
            rle = dict(rle, counts=counts.encode())
        return mask_utils.decode(rle).astype(bool)
    if isinstance(counts, bytes):
        counts = counts.decode()
    if isinstance(counts, str):
        counts = rle_counts_from_string(counts)
    if sum(counts) != h * w:
        raise ValueError(f'RLE counts sum to {sum(counts)}, not {h}x{w}')
    values = np.zeros(len(counts), dtype=bool)
    values[1::2] = True  # runs alternate, starting with zeros
    flat = np.repeat(values, counts)
    return flat.reshape((w, h)).T  # column-major, as COCO stores masks


def id_lut() -> np.ndarray:
    lut = np.full(int(CONTEXT59_IDS.max()) + 1, 255, dtype=np.uint8)
    lut[CONTEXT59_IDS] = np.arange(len(CONTEXT59_IDS), dtype=np.uint8)
    return lut


def convert_image(task, lut) -> str:
    image, annos, dst = task
    mask = np.zeros((image['height'], image['width']), dtype=np.int64)
    for anno in annos:
        try:
            m = decode_rle(anno['segmentation'])
        except Exception as e:
            raise ConversionError(
                f"image {image['file_name']}: bad segmentation ({e})")
        if m.shape != mask.shape:
            raise ConversionError(
                f"image {image['file_name']}: segmentation of size "
                f'{m.shape} for a {mask.shape} image')
        mask[m] = anno['category_id']
    bad = np.setdiff1d(np.unique(mask), CONTEXT59_IDS)
    if len(bad):
        raise ConversionError(
            f"image {image['file_name']}: category ids {bad.tolist()} are not"
            ' among the 59 PASCAL-Context classes (is this '
            'trainval_merged.json?)')
    Image.fromarray(lut[mask]).save(dst, 'PNG')
    return osp.splitext(image['file_name'])[0]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert PASCAL-Context (59 classes) to MMSeg format.')
    parser.add_argument('voc2010', help='the VOCdevkit/VOC2010 folder')
    parser.add_argument('json_path', help='trainval_merged.json')
    parser.add_argument(
        '-o',
        '--out-dir',
        help='label folder (default: '
        'VOC2010/SegmentationClassContext)')
    parser.add_argument(
        '--splits',
        nargs='+',
        default=['train', 'val'],
        choices=['train', 'val'])
    add_common_args(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    root = args.voc2010
    require_dir(osp.join(root, 'JPEGImages'), 'VOC2010 image folder')
    require_file(args.json_path, 'PASCAL-Context annotation file')
    out_dir = args.out_dir or osp.join(root, 'SegmentationClassContext')
    with open(args.json_path) as f:
        data = json.load(f)
    for key in ('images', 'annos_segmentation'):
        if key not in data:
            raise ConversionError(f'{args.json_path}: no {key!r} entry')
    annos = defaultdict(list)
    for anno in data['annos_segmentation']:
        annos[anno['image_id']].append(anno)
    split_dir = osp.join(root, 'ImageSets', 'SegmentationContext')
    tasks = {}
    for split in args.splits:
        images = sorted((im for im in data['images'] if im['phase'] == split),
                        key=lambda im: im['file_name'])
        if not images:
            raise ConversionError(
                f'{args.json_path}: no images of phase {split!r}')
        tasks[split] = [(im, annos[im['image_id']],
                         osp.join(out_dir,
                                  osp.splitext(im['file_name'])[0] + '.png'))
                        for im in images]
    outputs = [t[2] for ts in tasks.values() for t in ts]
    outputs += [osp.join(split_dir, f'{s}.txt') for s in tasks]
    check_outputs(outputs, args.overwrite)
    make_parent_dirs(outputs)
    for split, split_tasks in tasks.items():
        stems = run_tasks(
            partial(convert_image, lut=id_lut()), split_tasks, args.nproc)
        with open(osp.join(split_dir, f'{split}.txt'), 'w') as f:
            f.writelines(s + '\n' for s in sorted(stems))
        print(f'\n{split}: wrote {len(stems)} label maps to {out_dir}')


if __name__ == '__main__':
    sys.exit(run_tool(main))
