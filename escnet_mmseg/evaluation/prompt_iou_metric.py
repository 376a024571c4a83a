"""IoU of a model that is asked for prompts which are not the labels."""
import copy
from typing import Optional, Sequence

import torch
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS


@METRICS.register_module()
class PromptIoUMetric(IoUMetric):
    """:class:`~mmseg.evaluation.IoUMetric` over the dataset's labels when
    the model predicts prompt indices.

    An open-vocabulary model outputs one channel per prompt (the names given
    to its text encoder). When the dataset's ``metainfo`` has
    ``prompt_to_label`` (one label id per prompt), a prediction ``p``
    becomes label ``prompt_to_label[p]`` before IoU is counted, so several
    prompts can be scored as one label. PAS-20b uses it to count the 39
    PASCAL-Context prompts as background; any "merge these prompts into one
    label" benchmark can do the same. Without ``prompt_to_label`` this is
    exactly ``IoUMetric``. The IoU table has one row per
    ``metainfo['classes']`` entry.

    Args:
        **kwargs (dict): Everything :class:`IoUMetric` accepts.
    """

    def _lookup(self, device) -> Optional[torch.Tensor]:
        mapping = (self.dataset_meta or {}).get('prompt_to_label')
        if mapping is None:
            return None
        num_classes = len(self.dataset_meta['classes'])
        bad = [m for m in mapping if not 0 <= int(m) < num_classes]
        if bad:
            raise ValueError(
                f'metainfo["prompt_to_label"] maps prompts to {bad}, outside '
                f'the {num_classes} classes {self.dataset_meta["classes"]}')
        return torch.as_tensor([int(m) for m in mapping], device=device)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Map each prediction from prompt to label, then count IoU."""
        mapped = []
        for sample in data_samples:
            pred = sample['pred_sem_seg']['data']
            lookup = self._lookup(pred.device)
            if lookup is not None:
                if pred.numel() and int(pred.max()) >= len(lookup):
                    raise ValueError(
                        f'prediction {int(pred.max())} is outside the '
                        f'{len(lookup)} prompts of metainfo['
                        f'"prompt_to_label"]: the model was run with '
                        f'another vocabulary')
                sample = copy.copy(sample)
                sample['pred_sem_seg'] = dict(
                    sample['pred_sem_seg'], data=lookup[pred.long()])
            mapped.append(sample)
        super().process(data_batch, mapped)
