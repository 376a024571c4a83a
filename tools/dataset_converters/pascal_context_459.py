"""Convert PASCAL-Context's full (459-class) labels to 16-bit TIFFs (PC-459).

Input: VOC2010 (``VOCtrainval_03-May-2010.tar``) and the full PASCAL-Context
annotation ``trainval.tar.gz``
(https://cs.stanford.edu/~roozbeh/pascal-context/), whose
``trainval/<id>.mat`` files hold a ``LabelMap`` with the ids 1..459 of
``labels.txt``::

    VOC2010/JPEGImages/*.jpg
    VOC2010/trainval/*.mat
    VOC2010/labels.txt             (optional; compared with our names)

The images converted are the 5,104 validation ids shipped with the package
(CAT-Seg's list, ``escnet_mmseg.datasets.pascal_context_val_ids()``): the
images of the published PC-459 numbers. If
``VOC2010/ImageSets/SegmentationContext/val.txt`` (written by
pascal_context_59.py), VOC2010's own ``ImageSets/Main/val.txt`` (5,105 ids:
the packaged ones and ``2010_001606``) or a copy of CAT-Seg's list at
``VOC2010/pascalcontext_val.txt`` is there, the ids that differ from the
packaged list are named; none changes what is converted. ``--split-file``
converts other ids (not the benchmark's).

Output (``configs/_base_/datasets/pascal-context-459.py``)::

    VOC2010/annotations_detectron2/pc459_val/<id>.tif   (0..458, 65535)

Label ``k`` becomes ``k - 1``; 0 (unlabelled, if present) becomes 65535.
Usage::

    python tools/dataset_converters/pascal_context_459.py \
        data/VOCdevkit/VOC2010 --nproc 16
"""
import argparse
import os.path as osp
import sys
from functools import partial
from typing import List, Sequence, Tuple

import numpy as np
from PIL import Image

from escnet_mmseg.datasets.pascal_context_459 import (
    PASCAL_CONTEXT_459_CLASSES, PASCAL_CONTEXT_VAL_FILE,
    VOC2010_VAL_NOT_IN_BENCHMARK, pascal_context_val_ids)
from escnet_mmseg.utils.cli import run_tool
from escnet_mmseg.utils.conversion import (ConversionError, add_common_args,
                                           check_outputs, make_parent_dirs,
                                           require_dir, require_file,
                                           run_tasks)

IGNORE = 65535
NUM_CLASSES = len(PASCAL_CONTEXT_459_CLASSES)
SHOWN = 5  # ids named in a message


def read_ids(path: str) -> List[str]:
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def some(ids: Sequence[str]) -> str:
    """The first :data:`SHOWN` ids, comma-separated (``...`` if more)."""
    more = ', ...' if len(ids) > SHOWN else ''
    return ', '.join(ids[:SHOWN]) + more


def compare_split(path: str, ids: Sequence[str]) -> Tuple[list, list]:
    """Print the ids in which the split file ``path`` and ``ids`` differ.

    ``ids`` is the packaged list; the comparison only informs.

    Returns:
        tuple[list, list]: The sorted ids only in ``path`` and only in
        ``ids``.
    """
    theirs = set(read_ids(path))
    extra = sorted(theirs - set(ids))
    absent = sorted(set(ids) - theirs)
    if extra and not absent and set(extra) <= set(
            VOC2010_VAL_NOT_IN_BENCHMARK):
        print(f'note: {path} holds the {len(ids)} ids of the packaged PC-459 '
              f'list and {some(extra)}, VOC2010\'s validation image that the '
              'PC-459 benchmark leaves out (expected)')
    elif extra or absent:
        print(f'note: {path} ({len(theirs)} ids) differs from the packaged '
              f'PC-459 list ({len(ids)} ids): only in {osp.basename(path)}: '
              f'{some(extra) or "none"}; only in the packaged list: '
              f'{some(absent) or "none"}')
    else:
        print(f'note: {path} lists the same {len(ids)} ids as the packaged '
              'PC-459 list')
    return extra, absent


def require_all(ids: Sequence[str], folder: str, suffix: str,
                what: str) -> None:
    """Raise if ``folder/<id><suffix>`` is missing for any of ``ids``."""
    missing = [i for i in ids if not osp.isfile(osp.join(folder, i + suffix))]
    if missing:
        raise ConversionError(
            f'{len(missing)} of the {len(ids)} {what} are missing in '
            f'{folder}: {some(missing)}')


def read_label_map(path: str) -> np.ndarray:
    from scipy.io import loadmat
    try:
        mat = loadmat(path)
    except Exception as e:  # scipy raises several types for bad files
        raise ConversionError(f'{path}: cannot read the .mat file ({e})')
    if 'LabelMap' not in mat:
        keys = sorted(k for k in mat if not k.startswith('__'))
        raise ConversionError(f'{path}: no LabelMap variable (has {keys})')
    return np.asarray(mat['LabelMap'])


def to_train_ids(label: np.ndarray, path: str) -> np.ndarray:
    label = label.astype(np.int64)
    if label.ndim != 2:
        raise ConversionError(f'{path}: LabelMap has shape {label.shape}')
    lo, hi = int(label.min()), int(label.max())
    if lo < 0 or hi > NUM_CLASSES:
        raise ConversionError(
            f'{path}: label ids span [{lo}, {hi}], expected 0..{NUM_CLASSES}')
    out = (label - 1).astype(np.int64)
    out[label == 0] = IGNORE
    return out.astype(np.uint16)


def convert_sample(task) -> None:
    src, dst = task
    Image.fromarray(to_train_ids(read_label_map(src), src)).save(dst)


def check_labels_txt(path: str) -> int:
    """Compare ``labels.txt`` ("k: name" lines) with our class list.

    Only warns: the class names are not stored in the output. Returns the
    number of differences.
    """
    names = {}
    with open(path) as f:
        for line in f:
            if ':' in line:
                k, name = line.split(':', 1)
                names[int(k.strip())] = name.strip()
    expected = {i + 1: n for i, n in enumerate(PASCAL_CONTEXT_459_CLASSES)}
    wrong = [(k, names.get(k), n) for k, n in expected.items()
             if names.get(k) != n]
    if wrong:
        k, got, want = wrong[0]
        print(f'warning: {path} differs from the class list of '
              f'PascalContext459Dataset in {len(wrong)} places, e.g. id {k}: '
              f'{got!r} instead of {want!r}; check that the .mat files use '
              'the standard 459-class ids')
    return len(wrong)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert PASCAL-Context 459-class .mat labels to 16-bit '
        'TIFFs.')
    parser.add_argument('voc2010', help='the VOCdevkit/VOC2010 folder')
    parser.add_argument(
        '--mat-dir',
        help='folder of <id>.mat files (default: '
        'VOC2010/trainval)')
    parser.add_argument(
        '--split-file',
        help='ids to convert, one per line (default: the 5,104 validation '
        'ids of the PC-459 benchmark shipped with the package)')
    parser.add_argument(
        '-o',
        '--out-dir',
        help='output folder (default: '
        'VOC2010/annotations_detectron2/pc459_val)')
    add_common_args(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    root = args.voc2010
    require_dir(root, 'VOC2010 folder')
    mat_dir = args.mat_dir or osp.join(root, 'trainval')
    require_dir(mat_dir, 'PASCAL-Context .mat folder (from trainval.tar.gz)')
    image_dir = osp.join(root, 'JPEGImages')
    require_dir(image_dir, 'VOC2010 image folder')
    packaged = list(pascal_context_val_ids())
    ids, source = packaged, PASCAL_CONTEXT_VAL_FILE
    if args.split_file:
        require_file(args.split_file, 'split file')
        ids, source = read_ids(args.split_file), args.split_file
    # Lists the user may have are compared, never used by default: a copy of
    # CAT-Seg's list adds nothing, one that differs would silently change
    # the benchmark's images.
    others = [
        args.split_file,
        osp.join(root, 'ImageSets', 'SegmentationContext', 'val.txt'),
        osp.join(root, 'ImageSets', 'Main', 'val.txt'),
        osp.join(root, 'pascalcontext_val.txt')
    ]
    for other in others:
        if other and osp.isfile(other):
            compare_split(other, packaged)
    labels_txt = osp.join(root, 'labels.txt')
    if osp.isfile(labels_txt):
        check_labels_txt(labels_txt)
    require_all(ids, mat_dir, '.mat', f'label maps listed in {source}')
    require_all(ids, image_dir, '.jpg', f'images listed in {source}')
    out_dir = args.out_dir or osp.join(root, 'annotations_detectron2',
                                       'pc459_val')
    tasks = [(osp.join(mat_dir, i + '.mat'), osp.join(out_dir, i + '.tif'))
             for i in ids]
    check_outputs([t[1] for t in tasks], args.overwrite)
    make_parent_dirs([t[1] for t in tasks])
    run_tasks(partial(convert_sample), tasks, args.nproc)
    print(f'\nwrote {len(tasks)} 16-bit label maps (the ids of {source}) '
          f'to {out_dir}')


if __name__ == '__main__':
    sys.exit(run_tool(main))
