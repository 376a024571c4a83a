"""Datasets and transforms for the ESC-Net benchmarks.

Importing this package registers, in MMSeg's registries:

* datasets: ``ADE20K847Dataset`` (A-847), ``PascalContext459Dataset``
  (PC-459), ``PascalVOC20Dataset`` (PAS-20), ``PascalVOC20bDataset``
  (PAS-20b), ``SyntheticShapesDataset``;
* transforms: ``LoadSegAnnotations16`` (label loading without the ``uint8``
  cast, needed by the 16-bit label sets).

COCO-Stuff 164k, ADE20K-150 and PASCAL-Context-59 use MMSeg's own
``COCOStuffDataset``, ``ADE20KDataset`` and ``PascalContextDataset59``.

The names the model is asked for on each benchmark (CAT-Seg's prompt
lists) are in :mod:`.prompts`; the ids of PC-459's validation images
(CAT-Seg's list) are given by :func:`pascal_context_val_ids`.
"""
from .ade20k_847 import (ADE20K_847_ADE_IDS, ADE20K_847_CLASSES,
                         ADE20K847Dataset)
from .base import WideLabelSegDataset
from .pascal_context_459 import (PASCAL_CONTEXT_459_CLASSES,
                                 PascalContext459Dataset,
                                 pascal_context_val_ids)
from .prompts import (PROMPT_LISTS, dataset_prompts, load_prompts,
                      resolve_vocabulary)
from .synthetic import (SYNTHETIC_CLASSES, SYNTHETIC_PALETTE,
                        SyntheticShapesDataset, generate_synthetic_dataset)
from .transforms import LoadSegAnnotations16
from .voc import VOC20_CLASSES, PascalVOC20bDataset, PascalVOC20Dataset

__all__ = [
    'ADE20K847Dataset', 'PascalContext459Dataset', 'PascalVOC20Dataset',
    'PascalVOC20bDataset', 'SyntheticShapesDataset', 'WideLabelSegDataset',
    'LoadSegAnnotations16', 'generate_synthetic_dataset', 'ADE20K_847_CLASSES',
    'ADE20K_847_ADE_IDS', 'PASCAL_CONTEXT_459_CLASSES', 'VOC20_CLASSES',
    'SYNTHETIC_CLASSES', 'SYNTHETIC_PALETTE', 'PROMPT_LISTS', 'load_prompts',
    'dataset_prompts', 'pascal_context_val_ids', 'resolve_vocabulary'
]
