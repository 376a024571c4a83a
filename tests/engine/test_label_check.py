"""Labels outside the vocabulary are refused before the training step."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from escnet_mmseg.engine import VocabularyHook


def _batch(label_value, path='ann/a.png'):
    sample = SegDataSample(metainfo=dict(seg_map_path=path))
    label = torch.zeros(1, 4, 4, dtype=torch.long)
    label[0, 1, 2] = label_value
    sample.gt_sem_seg = PixelData(data=label)
    return dict(inputs=[torch.zeros(3, 4, 4)], data_samples=[sample])


def _runner():
    model = SimpleNamespace(
        vocabulary=('sky', 'grass'),
        decode_head=SimpleNamespace(ignore_index=255))
    model.set_vocabulary = lambda names: None
    # wrapped as DDP wraps it
    return SimpleNamespace(model=SimpleNamespace(module=model))


@pytest.mark.parametrize('value', [0, 1, 255])
def test_labels_of_the_vocabulary_pass(value):
    VocabularyHook().before_train_iter(_runner(), 0, _batch(value))


@pytest.mark.parametrize('value', [2, -1])
def test_label_outside_the_vocabulary_names_the_file(value):
    with pytest.raises(
            ValueError,
            match=f'label {value} in ann/a.png is outside the '
            'vocabulary of 2 classes and is not the ignore '
            'index 255'):
        VocabularyHook().before_train_iter(_runner(), 0, _batch(value))
