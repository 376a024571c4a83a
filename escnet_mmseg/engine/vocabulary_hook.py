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


def _classes_of(dataloader) -> Optional[tuple]:
    return dataset_vocabulary(getattr(dataloader, 'dataset', None))


@HOOKS.register_module()
class VocabularyHook(Hook):
    """Sets the open-vocabulary model's class names per phase.

    Training uses the train set's vocabulary; validation and testing switch
    to their dataset's (e.g. the A-847 prompts for a model trained on
    COCO-Stuff) and training switches back afterwards. A dataset's
    vocabulary is its benchmark prompt list when it has one, else its
    ``metainfo['classes']`` (see :func:`dataset_vocabulary`).
    """

    priority = 'VERY_HIGH'

    @staticmethod
    def _set(runner, dataloader, phase: str) -> None:
        classes = _classes_of(dataloader)
        if classes is None:
            raise ValueError(f'the {phase} dataset has no "classes" in its '
                             f'metainfo: an open-vocabulary model needs them')
        model = runner.model
        # Unwrap DDP and test-time-augmentation wrappers (SegTTAModel).
        while not hasattr(model, 'set_vocabulary') and hasattr(model, 'module'):
            model = model.module
        model.set_vocabulary(classes)

    def before_train(self, runner) -> None:
        self._set(runner, runner.train_dataloader, 'train')

    def before_val(self, runner) -> None:
        self._set(runner, runner.val_dataloader, 'val')

    def after_val(self, runner) -> None:
        # Back to the training classes when validation ran inside training
        # (reading runner.train_loop would build a loop in a val-only run).
        if isinstance(getattr(runner, '_train_loop', None), BaseLoop):
            self._set(runner, runner.train_dataloader, 'train')

    def before_test(self, runner) -> None:
        self._set(runner, runner.test_dataloader, 'test')
