"""The class names given to the text encoder for each benchmark.

Results are comparable with the published ones only if the model reads the
same class names. The lists are those of CAT-Seg's ``datasets/*.json``
(shipped unchanged in ``class_lists/``, synonyms and all, e.g. A-847's
``'person, individual, someone, somebody, mortal, soul'``):

============  ==========  =====================================  ========
list          prompts     benchmark (dataset class)              labels
============  ==========  =====================================  ========
``coco``      171         COCO-Stuff (``COCOStuffDataset``)      171
``ade150``    150         A-150 (``ADE20KDataset``)              150
``ade847``    847         A-847 (``ADE20K847Dataset``)           847
``pc59``      59          PC-59 (``PascalContextDataset59``)     59
``pc459``     459         PC-459 (``PascalContext459Dataset``)   459
``voc20``     20          PAS-20 (``PascalVOC20Dataset``)        20
``voc20b``    59          PAS-20b (``PascalVOC20bDataset``)      21
============  ==========  =====================================  ========

A dataset's labels keep their own names (``metainfo['classes']``, e.g.
MMSeg's PC-59 ``'table'``); the prompts (``metainfo['prompts']``) are what
the model is asked for (CAT-Seg's ``'diningtable'``). Prompt ``i`` is scored
as label ``metainfo['prompt_to_label'][i]`` when the two differ in number
(PAS-20b: 20 VOC classes plus 39 PASCAL-Context classes that all count as
background), see :class:`~escnet_mmseg.evaluation.PromptIoUMetric`.
"""
import json
import os.path as osp
from functools import lru_cache
from typing import Optional, Sequence, Tuple, Union

from ..utils.vocabulary import validate_vocabulary

CLASS_LIST_DIR = osp.join(osp.dirname(osp.abspath(__file__)), 'class_lists')
PROMPT_LISTS = ('coco', 'ade150', 'ade847', 'pc59', 'pc459', 'voc20', 'voc20b')

# MMSeg's own dataset classes (which this package does not define) and the
# prompt list of the benchmark they stand for.
MMSEG_DATASET_PROMPTS = {
    'COCOStuffDataset': 'coco',
    'ADE20KDataset': 'ade150',
    'PascalContextDataset59': 'pc59',
}


@lru_cache(maxsize=None)
def load_prompts(name: str) -> Tuple[str, ...]:
    """The prompt list ``name`` (one of ``PROMPT_LISTS``) as a tuple.

    Raises:
        KeyError: unknown list name.
        ValueError: the file is not a JSON list of strings, or breaks the
            class-name rule (:func:`~escnet_mmseg.utils.validate_vocabulary`).
    """
    if name not in PROMPT_LISTS:
        raise KeyError(f'unknown prompt list {name!r}; choose from '
                       f'{PROMPT_LISTS}')
    path = osp.join(CLASS_LIST_DIR, f'{name}.json')
    with open(path, encoding='utf-8') as f:
        names = json.load(f)
    if not isinstance(names, list) or not all(
            isinstance(n, str) for n in names):
        raise ValueError(f'{path} must hold a JSON list of class names')
    return validate_vocabulary(names, path)


def resolve_vocabulary(
        vocabulary: Union[str, Sequence[str]]) -> Tuple[str, ...]:
    """Class names from a list of names or the name of a packaged list.

    ``'ade150'`` (one of ``PROMPT_LISTS``) -> the 150 names of
    ``class_lists/ade150.json``; a sequence of names is checked by
    :func:`~escnet_mmseg.utils.validate_vocabulary` and returned as a tuple.

    Raises:
        ValueError: a string that names no packaged list, or names that
            break the class-name rule.
    """
    if isinstance(vocabulary, str):
        if vocabulary not in PROMPT_LISTS:
            raise ValueError(
                f'the vocabulary {vocabulary!r} is a single string but no '
                f'packaged prompt list {PROMPT_LISTS}; give a list of class '
                f'names')
        return load_prompts(vocabulary)
    return validate_vocabulary(vocabulary)


def dataset_prompts(dataset) -> Optional[Tuple[str, ...]]:
    """The prompts of a dataset, or None when it has none of its own.

    ``metainfo['prompts']`` when set; else, for MMSeg's COCO-Stuff, ADE20K
    and PASCAL-Context-59 datasets used with all their classes, the
    benchmark's prompt list. A custom class subset keeps its class names.
    """
    meta = getattr(dataset, 'metainfo', None) or {}
    if meta.get('prompts'):
        return tuple(meta['prompts'])
    name = MMSEG_DATASET_PROMPTS.get(type(dataset).__name__)
    if name is None:
        return None
    full = tuple(getattr(type(dataset), 'METAINFO', {}).get('classes', ()))
    if tuple(meta.get('classes', ())) != full:
        return None
    return load_prompts(name)
