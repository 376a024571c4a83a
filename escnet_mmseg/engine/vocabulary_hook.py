"""Gives the model the class names of the dataset it is run on."""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.runner import BaseLoop
from mmseg.registry import HOOKS


def _classes_of(dataloader) -> Optional[tuple]:
    dataset = getattr(dataloader, 'dataset', None)
    meta = getattr(dataset, 'metainfo', None) or {}
    classes = meta.get('classes')
    return tuple(classes) if classes else None


@HOOKS.register_module()
class VocabularyHook(Hook):
    """Sets the open-vocabulary model's class names per phase.

    Training uses the train set's ``metainfo['classes']``; validation and
    testing switch to their dataset's classes (e.g. ADE-847 names for a model
    trained on COCO-Stuff) and training switches back afterwards.
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
