"""PASCAL VOC 2012 validation set as the PAS-20 and PAS-20b benchmarks.

Both read MMSeg's VOC layout (the raw ``SegmentationClass`` PNGs: 0 is
background, 1..20 the object classes, 255 the object boundaries)::

    data/VOCdevkit/VOC2012/
        JPEGImages/2007_000033.jpg
        SegmentationClass/2007_000033.png
        ImageSets/Segmentation/val.txt

* PAS-20 (:class:`PascalVOC20Dataset`): the 20 object classes only; the
  background is not evaluated (``reduce_zero_label=True``: 0 -> 255, 1..20 ->
  0..19, boundaries stay 255).
* PAS-20b (:class:`PascalVOC20bDataset`): the 20 classes plus ``background``
  (label 0), scored as published (CAT-Seg's ``voc20b.json`` and VOC-b
  evaluator): the model is not asked for "background" but for the 20 VOC
  classes followed by the 39 other PASCAL-Context-59 classes, and a pixel
  predicted as one of those 39 counts as background
  (``metainfo['prompt_to_label']``, applied by ``PromptIoUMetric``).
"""
from mmseg.registry import DATASETS

from .base import WideLabelSegDataset
from .prompts import load_prompts

# The 20 VOC classes in label order (CAT-Seg's voc20.json).
VOC20_CLASSES = load_prompts('voc20')
VOC_PALETTE = [[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0], [0, 0, 128],
               [128, 0, 128], [0, 128, 128], [128, 128, 128], [64, 0, 0],
               [192, 0, 0], [64, 128, 0], [192, 128, 0], [64, 0, 128],
               [192, 0, 128], [64, 128, 128], [192, 128, 128], [0, 64, 0],
               [128, 64, 0], [0, 192, 0], [128, 192, 0], [0, 64, 128]]


@DATASETS.register_module()
class PascalVOC20Dataset(WideLabelSegDataset):
    """PASCAL VOC 2012 with the 20 object classes (PAS-20)."""
    METAINFO = dict(
        classes=VOC20_CLASSES,
        palette=VOC_PALETTE[1:],
        prompts=load_prompts('voc20'))

    def __init__(self,
                 ann_file='',
                 img_suffix='.jpg',
                 seg_map_suffix='.png',
                 reduce_zero_label=True,
                 **kwargs) -> None:
        super().__init__(
            ann_file=ann_file,
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=reduce_zero_label,
            **kwargs)


@DATASETS.register_module()
class PascalVOC20bDataset(WideLabelSegDataset):
    """PASCAL VOC 2012 with ``background`` + the 20 classes (PAS-20b).

    Labels: 0 background, 1..20 the VOC classes. Prompts: CAT-Seg's 59
    (VOC classes 0..19, then 39 context classes); prompt ``i < 20`` is label
    ``i + 1``, every context prompt is label 0 (background).
    """
    METAINFO = dict(
        classes=('background', ) + VOC20_CLASSES,
        palette=VOC_PALETTE,
        prompts=load_prompts('voc20b'),
        prompt_to_label=tuple(range(1, 21)) + (0, ) * 39)

    def __init__(self,
                 ann_file='',
                 img_suffix='.jpg',
                 seg_map_suffix='.png',
                 reduce_zero_label=False,
                 **kwargs) -> None:
        super().__init__(
            ann_file=ann_file,
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=reduce_zero_label,
            **kwargs)
