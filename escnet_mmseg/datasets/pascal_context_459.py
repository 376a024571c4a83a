"""PASCAL-Context full label set (459 classes), "PC-459".

Class names and order are those of the dataset's ``labels.txt`` (ids 1..459,
0-based here), as used by the open-vocabulary literature: read from the
packaged ``class_lists/pc459.json`` (CAT-Seg's ``datasets/pc459.json``).
Multi-word names are written the way the dataset writes them
(``airconditioner``, ``pottedplant``); they are kept verbatim so that results
are comparable with published numbers.

Labels are 16-bit ``.tif`` files with values ``0..458`` and ``65535`` for
unlabelled pixels, written by
``tools/dataset_converters/pascal_context_459.py`` from the official
``trainval/*.mat`` label maps, for the 5,104 validation images of
:func:`pascal_context_val_ids`.
"""
import os.path as osp
import re
from functools import lru_cache
from typing import Tuple

from mmseg.registry import DATASETS

from .base import TiffLabelSegDataset, make_palette
from .prompts import load_prompts

# CAT-Seg's pc459.json: labels.txt's names, in its order.
PASCAL_CONTEXT_459_CLASSES = load_prompts('pc459')

assert len(PASCAL_CONTEXT_459_CLASSES) == 459, len(PASCAL_CONTEXT_459_CLASSES)

# CAT-Seg's list of PC-459 validation ids, byte for byte (no final newline):
# the images of the published numbers.
PASCAL_CONTEXT_VAL_FILE = osp.join(
    osp.dirname(osp.abspath(__file__)), 'splits', 'pascal_context_val.txt')

# VOC2010's ``ImageSets/Main/val.txt`` (5,105 ids: the validation images
# PASCAL-Context annotates, the often-quoted count) is the list above plus
# this one image, which the PC-459 benchmark leaves out.
VOC2010_VAL_NOT_IN_BENCHMARK = ('2010_001606', )


@lru_cache(maxsize=None)
def pascal_context_val_ids() -> Tuple[str, ...]:
    """The 5,104 PASCAL-Context validation ids of the PC-459 benchmark.

    Read from :data:`PASCAL_CONTEXT_VAL_FILE` (shipped with the package), in
    file order (sorted), e.g. ``'2008_000002'``.

    Returns:
        tuple[str]: The image ids, without extension.

    Raises:
        ValueError: If a line is not a VOC id (``yyyy_nnnnnn``), which means
            the packaged file was altered.
    """
    with open(PASCAL_CONTEXT_VAL_FILE, encoding='ascii') as f:
        ids = tuple(line.strip() for line in f if line.strip())
    bad = [i for i in ids if not re.fullmatch(r'\d{4}_\d{6}', i)]
    if bad:
        raise ValueError(f'{PASCAL_CONTEXT_VAL_FILE}: {len(bad)} lines are '
                         f'not VOC image ids, e.g. {bad[0]!r}')
    return ids


@DATASETS.register_module()
class PascalContext459Dataset(TiffLabelSegDataset):
    """PASCAL-Context validation set with its full 459 classes (PC-459).

    Layout::

        data/VOCdevkit/VOC2010/
            JPEGImages/2008_000002.jpg          (all VOC2010 images)
            annotations_detectron2/pc459_val/2008_000002.tif

    ``JPEGImages`` also holds unannotated images, so by default the samples
    are listed from the annotation folder (``list_from='ann'``); pass
    ``ann_file`` to use a split file instead. Label files are 16-bit TIFFs:
    ``0..458`` are classes, ``65535`` marks unlabelled pixels.
    """
    METAINFO = dict(
        classes=PASCAL_CONTEXT_459_CLASSES,
        palette=make_palette(len(PASCAL_CONTEXT_459_CLASSES), seed=459),
        prompts=load_prompts('pc459'))

    def __init__(self, list_from='ann', **kwargs) -> None:
        super().__init__(list_from=list_from, **kwargs)
