"""Benchmark prompt lists and class tables, checked in full against copies
stored in tests/data/ (not rebuilt from the package's own constants)."""
import hashlib
import json
import os.path as osp

import pytest
from mmseg.datasets import (ADE20KDataset, COCOStuffDataset,
                            PascalContextDataset59)

from escnet_mmseg.datasets import (ADE20K_847_ADE_IDS, ADE20K_847_CLASSES,
                                   PASCAL_CONTEXT_459_CLASSES, VOC20_CLASSES,
                                   ADE20K847Dataset, PascalContext459Dataset,
                                   PascalVOC20bDataset, PascalVOC20Dataset)
from escnet_mmseg.datasets.prompts import (CLASS_LIST_DIR, PROMPT_LISTS,
                                           dataset_prompts, load_prompts)
from escnet_mmseg.engine import dataset_vocabulary

DATA = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'data')
LENGTHS = dict(
    coco=171, ade150=150, ade847=847, pc59=59, pc459=459, voc20=20, voc20b=59)


def _stored_checksums():
    sums = {}
    with open(osp.join(DATA, 'catseg_class_lists.sha256')) as f:
        for line in f:
            if line.strip() and not line.startswith('#'):
                digest, name = line.split()
                sums[name[:-len('.json')]] = digest
    return sums


def test_every_list_has_a_stored_checksum():
    assert sorted(_stored_checksums()) == sorted(PROMPT_LISTS)


@pytest.mark.parametrize('name', PROMPT_LISTS)
def test_prompt_list_file_equals_published_json(name):
    path = osp.join(CLASS_LIST_DIR, f'{name}.json')
    with open(path, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    assert digest == _stored_checksums()[name], (
        f'{path} differs from CAT-Seg\'s datasets/{name}.json')
    prompts = load_prompts(name)
    assert len(prompts) == LENGTHS[name]
    with open(path, encoding='utf-8') as f:
        assert list(prompts) == json.load(f)


def test_synonyms_and_spelling_are_kept():
    assert load_prompts('ade847')[11] == (
        'person, individual, someone, somebody, mortal, soul')
    assert load_prompts('ade150')[7] == 'bed '  # sic, as published
    assert load_prompts('pc59')[49] == 'diningtable'
    assert load_prompts('coco')[-1] == 'wood'


def test_unknown_list_is_named():
    with pytest.raises(KeyError, match='ade9000'):
        load_prompts('ade9000')


def test_a847_id_table_equals_maskformer_table():
    with open(osp.join(DATA, 'ade20k_847_ade_ids.txt')) as f:
        stored = [
            int(v) for line in f if not line.startswith('#')
            for v in line.split()
        ]
    assert len(stored) == 847
    assert list(ADE20K_847_ADE_IDS) == stored


@pytest.mark.parametrize('classes, name', [
    (ADE20K_847_CLASSES, 'ade847'),
    (PASCAL_CONTEXT_459_CLASSES, 'pc459'),
    (VOC20_CLASSES, 'voc20'),
    (ADE20KDataset.METAINFO['classes'], 'ade150'),
    (COCOStuffDataset.METAINFO['classes'], 'coco'),
])
def test_dataset_classes_equal_published_names(classes, name):
    assert tuple(classes) == load_prompts(name)


def test_pc59_labels_keep_mmseg_names_prompts_are_catseg():
    classes = PascalContextDataset59.METAINFO['classes']
    prompts = load_prompts('pc59')
    differ = [(c, p) for c, p in zip(classes, prompts) if c != p]
    assert len(classes) == len(prompts) == 59
    assert differ == [('table', 'diningtable')]


class _Fake:
    """A dataset stand-in with the given metainfo."""

    def __init__(self, **meta):
        self.metainfo = meta


@pytest.mark.parametrize('cls, name', [
    (ADE20K847Dataset, 'ade847'),
    (PascalContext459Dataset, 'pc459'),
    (PascalVOC20Dataset, 'voc20'),
    (PascalVOC20bDataset, 'voc20b'),
])
def test_package_datasets_carry_their_prompts(cls, name):
    assert cls.METAINFO['prompts'] == load_prompts(name)


def test_vocabulary_of_mmseg_datasets_is_the_prompt_list():
    ds = PascalContextDataset59.__new__(PascalContextDataset59)
    ds._metainfo = dict(PascalContextDataset59.METAINFO)
    assert dataset_prompts(ds) == load_prompts('pc59')
    assert dataset_vocabulary(ds)[49] == 'diningtable'
    # A custom class subset keeps its own names.
    ds._metainfo = dict(classes=('sky', 'tree'))
    assert dataset_prompts(ds) is None
    assert dataset_vocabulary(ds) == ('sky', 'tree')


def test_vocabulary_checks_prompt_count():
    assert dataset_vocabulary(_Fake(classes=('a', 'b'))) == ('a', 'b')
    assert dataset_vocabulary(
        _Fake(classes=('a', ), prompts=('x', 'y'),
              prompt_to_label=(0, 0))) == ('x', 'y')
    with pytest.raises(ValueError, match='3 prompts but 2 classes'):
        dataset_vocabulary(_Fake(classes=('a', 'b'), prompts=('x', 'y', 'z')))
    with pytest.raises(ValueError, match='prompt_to_label'):
        dataset_vocabulary(
            _Fake(classes=('a', ), prompts=('x', 'y'), prompt_to_label=(0, )))
