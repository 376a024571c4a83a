"""Gives the model the class names of the dataset it is run on."""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.runner import BaseLoop
from mmseg.registry import HOOKS

from ..datasets.prompts import dataset_prompts


def dataset_vocabulary(dataset) -> Optional[tuple]:
    """The names the model is asked for on ``dataset``.

    Its prompts (``metainfo['prompts']``, or a benchmark's prompt list, see
    :func:`~escnet_mmseg.datasets.prompts.dataset_prompts`) when it has
    them, else its class names. None when it has neither.

    Raises:
        ValueError: prompts whose number matches neither the classes nor
            ``metainfo['prompt_to_label']``.
    """
    meta = getattr(dataset, 'metainfo', None) or {}
    classes = tuple(meta.get('classes') or ())
    prompts = dataset_prompts(dataset)
    if prompts is None:
        return classes or None
    mapping = meta.get('prompt_to_label')
    expected = len(mapping) if mapping is not None else len(classes)
    if len(prompts) != expected:
        raise ValueError(
            f'{type(dataset).__name__}: {len(prompts)} prompts but '
            f'{expected} ' + ('entries in metainfo["prompt_to_label"]'
                              if mapping is not None else 'classes') +
            '; each prompt needs a label')
    return prompts


def check_labels(data_samples, num_classes: int, ignore_index: int) -> None:
    """Refuse a label map with a label outside the vocabulary.

    Runs on the CPU batch before it reaches the model, so a wrong dataset or
    vocabulary is named without a device-to-host sync in the training step.

    Raises:
        ValueError: names the label, the file and the vocabulary size.
    """
    for sample in data_samples:
        label = sample.gt_sem_seg.data
        bad = label[(label != ignore_index)
                    & ((label < 0) | (label >= num_classes))]
        if bad.numel():
            path = sample.metainfo.get('seg_map_path', 'a sample')
            raise ValueError(
                f'label {int(bad[0])} in {path} is outside the vocabulary of '
                f'{num_classes} classes and is not the ignore index '
                f'{ignore_index}')


def _classes_of(dataloader) -> Optional[tuple]:
    return dataset_vocabulary(getattr(dataloader, 'dataset', None))


def _segmentor(runner):
    """The model inside DDP and test-time-augmentation wrappers."""
    model = runner.model
    while not hasattr(model, 'set_vocabulary') and hasattr(model, 'module'):
        model = model.module
    return model


@HOOKS.register_module()
class VocabularyHook(Hook):
    """Sets the open-vocabulary model's class names per phase.

    Training uses the train set's vocabulary; validation and testing switch
    to their dataset's (e.g. the A-847 prompts for a model trained on
    COCO-Stuff) and training switches back afterwards. A dataset's
    vocabulary is its benchmark prompt list when it has one, else its
    ``metainfo['classes']`` (see :func:`dataset_vocabulary`). Before every
    training step it checks the batch's labels against the vocabulary on
    the CPU (:func:`check_labels`).
    """

    priority = 'VERY_HIGH'

    @staticmethod
    def _set(runner, dataloader, phase: str) -> None:
        classes = _classes_of(dataloader)
        if classes is None:
            raise ValueError(f'the {phase} dataset has no "classes" in its '
                             f'metainfo: an open-vocabulary model needs them')
        _segmentor(runner).set_vocabulary(classes)

    def before_train(self, runner) -> None:
        self._set(runner, runner.train_dataloader, 'train')

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        if data_batch and data_batch.get('data_samples'):
            model = _segmentor(runner)
            check_labels(data_batch['data_samples'], len(model.vocabulary),
                         model.decode_head.ignore_index)

    def before_val(self, runner) -> None:
        self._set(runner, runner.val_dataloader, 'val')

    def after_val(self, runner) -> None:
        # Back to the training classes when validation ran inside training
        # (reading runner.train_loop would build a loop in a val-only run).
        if isinstance(getattr(runner, '_train_loop', None), BaseLoop):
            self._set(runner, runner.train_dataloader, 'train')

    def before_test(self, runner) -> None:
        self._set(runner, runner.test_dataloader, 'test')
