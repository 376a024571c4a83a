"""Segmenting images with any class names, and the vocabulary per phase."""
from types import SimpleNamespace

import numpy as np
import pytest

from escnet_mmseg.apis import OpenVocabInferencer
from escnet_mmseg.engine import VocabularyHook
from tests.tiny import NAMES, TINY_CONFIG
from tests.tools.checkpoints import write_checkpoint


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    return write_checkpoint(
        tmp_path_factory.mktemp('ckpt') / 'tiny.pth', training_state=False)


def test_inferencer_uses_the_given_classes(checkpoint, tmp_path):
    inferencer = OpenVocabInferencer(
        str(TINY_CONFIG),
        weights=str(checkpoint),
        classes=['sky', 'star, stars', 'grass'],
        device='cpu')
    image = np.random.RandomState(0).randint(0, 255, (80, 96, 3), np.uint8)
    result = inferencer(image, out_dir=str(tmp_path), return_datasamples=True)
    assert result.seg_logits.data.shape == (3, 80, 96)
    assert set(result.pred_sem_seg.data.unique().tolist()) <= {0, 1, 2}
    assert list((tmp_path / 'vis').glob('*_vis.jpg'))  # painted result
    # another vocabulary on the same inferencer
    inferencer.set_vocabulary(['circle', 'square'])
    result = inferencer(image, return_datasamples=True)
    assert result.seg_logits.data.shape == (2, 80, 96)


def test_inferencer_returns_logits_only_with_data_samples(checkpoint):
    """A config without seg_logits (the evaluation configs'): the data
    samples the inferencer returns still carry them, its own run not."""
    inferencer = OpenVocabInferencer(
        str(TINY_CONFIG), weights=str(checkpoint), device='cpu')
    inferencer.model.test_cfg['return_logits'] = False
    seen = []
    predict = inferencer.model.predict
    inferencer.model.predict = lambda *a: seen.append(predict(*a)) or seen[-1]
    image = np.random.RandomState(0).randint(0, 255, (80, 96, 3), np.uint8)
    result = inferencer(image, return_datasamples=True)
    assert result.seg_logits.data.shape == (len(NAMES), 80, 96)
    labels = inferencer(image)['predictions']
    assert 'seg_logits' not in seen[-1][0]
    assert np.array_equal(labels, result.pred_sem_seg.data[0].numpy())
    assert inferencer.model.test_cfg['return_logits'] is False


def test_inferencer_defaults_to_checkpoint_classes(checkpoint):
    inferencer = OpenVocabInferencer(
        str(TINY_CONFIG), weights=str(checkpoint), device='cpu')
    assert inferencer.model.vocabulary == NAMES
    with pytest.raises(ValueError, match='duplicate'):
        inferencer.set_vocabulary(['sky', 'Sky'])
    with pytest.raises(ValueError, match='palette'):
        inferencer.set_vocabulary(['sky', 'star'], palette=[[1, 2, 3]])


def _runner(model, train, val, test):
    loader = lambda names: SimpleNamespace(  # noqa: E731
        dataset=SimpleNamespace(metainfo=dict(classes=names)))
    return SimpleNamespace(
        model=model,
        train_dataloader=loader(train),
        val_dataloader=loader(val),
        test_dataloader=loader(test),
        _train_loop=None)


def test_vocabulary_hook_switches_per_phase():
    from mmengine.runner import IterBasedTrainLoop
    model = SimpleNamespace(vocabulary=None)
    model.set_vocabulary = lambda names: setattr(model, 'vocabulary', names)
    runner = _runner(model, ('a', 'b'), ('c', 'd', 'e'), ('f', ))
    hook = VocabularyHook()
    hook.before_train(runner)
    assert model.vocabulary == ('a', 'b')
    hook.before_val(runner)
    assert model.vocabulary == ('c', 'd', 'e')
    hook.after_val(runner)  # a val-only run: nothing to go back to
    assert model.vocabulary == ('c', 'd', 'e')
    runner._train_loop = object.__new__(IterBasedTrainLoop)
    hook.after_val(runner)  # validation inside training: back to train
    assert model.vocabulary == ('a', 'b')
    hook.before_test(runner)
    assert model.vocabulary == ('f', )
    runner.model = SimpleNamespace(module=SimpleNamespace(module=model))
    runner.test_dataloader.dataset.metainfo = dict(classes=('g', 'h'))
    hook.before_test(runner)  # through DDP / SegTTAModel wrappers
    assert model.vocabulary == ('g', 'h')
    runner.test_dataloader.dataset.metainfo = {}
    with pytest.raises(ValueError, match='test dataset has no "classes"'):
        hook.before_test(runner)
