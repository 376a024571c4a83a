"""Check a PASCAL VOC 2012 copy for the PAS-20 / PAS-20b benchmarks.

Both benchmarks read the official files as they are (MMSeg's layout), so
there is nothing to convert; this script only verifies them::

    VOC2012/JPEGImages/<id>.jpg
    VOC2012/SegmentationClass/<id>.png     (0 = background, 1..20, 255)
    VOC2012/ImageSets/Segmentation/val.txt

Download ``VOCtrainval_11-May-2012.tar`` from
http://host.robots.ox.ac.uk/pascal/VOC/voc2012/ and unpack it under
``data/VOCdevkit``. Usage::

    python tools/dataset_converters/voc20.py data/VOCdevkit/VOC2012

Exits with status 1 and names the offending files if something is missing
or a label map holds a value outside 0..20 and 255.
"""
import argparse
import os.path as osp
import sys
from functools import partial

import numpy as np
from PIL import Image

from escnet_mmseg.utils.cli import run_tool
from escnet_mmseg.utils.conversion import (ConversionError, require_dir,
                                           require_file, run_tasks)

VALID = np.array(list(range(21)) + [255])
EXPECTED = dict(val=1449, train=1464)


def check_label(path) -> str:
    """'' if fine, else a description of the problem."""
    if not osp.isfile(path):
        return f'{path}: missing'
    try:
        with Image.open(path) as img:
            label = np.array(img)
    except Exception as e:
        return f'{path}: unreadable ({e})'
    if label.ndim != 2:
        return f'{path}: not a single-channel (palette) PNG'
    bad = np.setdiff1d(np.unique(label), VALID)
    if len(bad):
        return f'{path}: values {bad.tolist()} outside 0..20 and 255'
    return ''


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Check PASCAL VOC 2012 for PAS-20 / PAS-20b.')
    parser.add_argument('voc2012', help='the VOCdevkit/VOC2012 folder')
    parser.add_argument('--split', default='val', choices=['train', 'val'])
    parser.add_argument(
        '--nproc', type=int, default=8, help='number of worker processes')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    root = args.voc2012
    for sub in ('JPEGImages', 'SegmentationClass'):
        require_dir(osp.join(root, sub), f'VOC2012 {sub} folder')
    split_file = osp.join(root, 'ImageSets', 'Segmentation',
                          f'{args.split}.txt')
    require_file(split_file, 'VOC2012 split file')
    with open(split_file) as f:
        ids = [line.strip() for line in f if line.strip()]
    problems = [
        f'{p}: missing' for p in (osp.join(root, 'JPEGImages', i + '.jpg')
                                  for i in ids) if not osp.isfile(p)
    ]
    labels = [osp.join(root, 'SegmentationClass', i + '.png') for i in ids]
    problems += [
        p for p in run_tasks(partial(check_label), labels, args.nproc) if p
    ]
    if problems:
        listing = '\n  '.join(problems[:10])
        more = f'\n  ... and {len(problems) - 10} more' \
            if len(problems) > 10 else ''
        raise ConversionError(
            f'{len(problems)} problem(s) in {root}:\n  {listing}{more}')
    note = '' if len(ids) == EXPECTED[args.split] else (
        f' (the official {args.split} split has {EXPECTED[args.split]})')
    print(f'\n{root}: {len(ids)} {args.split} images with valid labels'
          f'{note}; ready for PAS-20 and PAS-20b')


if __name__ == '__main__':
    sys.exit(run_tool(main))
