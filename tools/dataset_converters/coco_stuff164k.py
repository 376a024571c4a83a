"""Convert COCO-Stuff 164k labels to the train ids of ``COCOStuffDataset``.

Input (https://github.com/nightrome/cocostuff): the 2017 images and the
official ``stuffthingmaps_trainval2017.zip`` label maps, unpacked as::

    COCO_ROOT/images/{train2017,val2017}/*.jpg
    COCO_ROOT/annotations/{train2017,val2017}/*.png   (ids 0..181, 255)

Output (MMSeg's layout, ``configs/_base_/datasets/coco-stuff164k.py``)::

    OUT_DIR/annotations/{train2017,val2017}/*_labelTrainIds.png  (0..170, 255)
    OUT_DIR/images/...   (copied only when OUT_DIR differs from COCO_ROOT)

The 182 stuffthingmaps ids contain 11 COCO "thing" ids that were never
annotated; the other 171 are renumbered 0..170 in order, everything else
becomes 255 (ignored). Usage::

    python tools/dataset_converters/coco_stuff164k.py data/coco_stuff164k \
        --nproc 16
"""
import argparse
import os.path as osp
import shutil
import sys
from functools import partial
from glob import glob

import numpy as np
from PIL import Image

from escnet_mmseg.utils.cli import run_tool
from escnet_mmseg.utils.conversion import (ConversionError, add_common_args,
                                           check_outputs, make_parent_dirs,
                                           require_dir, run_tasks)

SPLITS = ('train2017', 'val2017')
EXPECTED = dict(train2017=118287, val2017=5000)
# stuffthingmaps ids of COCO thing classes without annotations.
UNUSED_IDS = (11, 25, 28, 29, 44, 65, 67, 68, 70, 82, 90)
VALID_IDS = tuple(i for i in range(182) if i not in UNUSED_IDS)
assert len(VALID_IDS) == 171


def id_to_train_id_lut() -> np.ndarray:
    lut = np.full(256, 255, dtype=np.uint8)
    lut[list(VALID_IDS)] = np.arange(len(VALID_IDS), dtype=np.uint8)
    return lut


def convert_label(task, lut) -> None:
    src, dst = task
    with Image.open(src) as img:
        label = np.array(img)
    if label.ndim != 2 or label.dtype != np.uint8:
        raise ConversionError(
            f'{src}: expected a single-channel 8-bit label map, got '
            f'{label.dtype} array of shape {label.shape}')
    Image.fromarray(lut[label]).save(dst, 'PNG')


def copy_file(task) -> None:
    shutil.copyfile(*task)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert COCO-Stuff 164k labels to train ids (0..170, '
        '255).')
    parser.add_argument(
        'coco_root',
        help='folder with images/ and '
        'annotations/ (the stuffthingmaps)')
    parser.add_argument(
        '-o', '--out-dir', help='output folder (default: coco_root)')
    parser.add_argument(
        '--splits', nargs='+', default=list(SPLITS), choices=SPLITS)
    add_common_args(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    out_dir = args.out_dir or args.coco_root
    label_tasks, image_tasks = [], []
    for split in args.splits:
        ann_dir = osp.join(args.coco_root, 'annotations', split)
        require_dir(ann_dir, f'COCO-Stuff {split} label folder')
        srcs = sorted(
            p for p in glob(osp.join(ann_dir, '*.png'))
            if not p.endswith('_labelTrainIds.png'))
        if not srcs:
            raise ConversionError(
                f'no stuffthingmaps label files (*.png) in {ann_dir}')
        if len(srcs) != EXPECTED[split]:
            print(f'note: {len(srcs)} label files in {ann_dir}, the full '
                  f'{split} split has {EXPECTED[split]}')
        for src in srcs:
            stem = osp.splitext(osp.basename(src))[0]
            label_tasks.append((src,
                                osp.join(out_dir, 'annotations', split,
                                         stem + '_labelTrainIds.png')))
        if osp.abspath(out_dir) != osp.abspath(args.coco_root):
            img_dir = osp.join(args.coco_root, 'images', split)
            require_dir(img_dir, f'COCO {split} image folder')
            for src in sorted(glob(osp.join(img_dir, '*.jpg'))):
                image_tasks.append(
                    (src, osp.join(out_dir, 'images', split,
                                   osp.basename(src))))
    outputs = [t[1] for t in label_tasks + image_tasks]
    check_outputs(outputs, args.overwrite)
    make_parent_dirs(outputs)
    run_tasks(
        partial(convert_label, lut=id_to_train_id_lut()), label_tasks,
        args.nproc)
    run_tasks(copy_file, image_tasks, args.nproc)
    print(f'\nwrote {len(label_tasks)} label maps to '
          f"{osp.join(out_dir, 'annotations')}")


if __name__ == '__main__':
    sys.exit(run_tool(main))
