"""IoU of a model that is asked for prompts which are not the labels, with
the mIoU convention of the published numbers (detectron2's)."""
import copy
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from mmengine.logging import print_log
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS

MIOU_CONVENTIONS = ('detectron2', 'mmseg')


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
    exactly ``IoUMetric``'s counting. The IoU table has one row per
    ``metainfo['classes']`` entry.

    Two mIoU conventions differ in which classes are averaged (pixels whose
    ground truth is ``ignore_index`` count in neither):

    - ``'detectron2'`` (detectron2's ``SemSegEvaluator``, with which
      CAT-Seg and ESC-Net report their numbers): the mean over the classes
      that have ground-truth pixels in the dataset; a class that is only
      predicted does not enter the mean;
    - ``'mmseg'`` (MMSeg's ``IoUMetric``): the mean over every class whose
      union is not empty, so a class that is predicted but absent counts
      with IoU 0.

    ``mIoU`` is the configured convention; the other one is reported too,
    under ``mIoU_mmseg`` or ``mIoU_detectron2``. With the ``'mmseg'``
    convention and no ``prompt_to_label`` the metric equals ``IoUMetric``.
    The per-class table is MMSeg's (IoU 0 for a predicted-only class).

    Args:
        miou_convention (str): ``'detectron2'`` or ``'mmseg'``. Defaults to
            'detectron2'.
        **kwargs (dict): Everything :class:`IoUMetric` accepts.
    """

    def __init__(self, miou_convention: str = 'detectron2', **kwargs) -> None:
        super().__init__(**kwargs)
        if miou_convention not in MIOU_CONVENTIONS:
            raise ValueError(f'miou_convention must be one of '
                             f'{MIOU_CONVENTIONS}, got {miou_convention!r}')
        self.miou_convention = miou_convention

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

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """MMSeg's metrics plus the mIoU of both conventions.

        Args:
            results (list): ``(intersect, union, pred, label)`` areas per
                image, as :meth:`IoUMetric.intersect_and_union` returns.

        Returns:
            dict[str, float]: MMSeg's metrics with ``mIoU`` in the configured
            convention and the other convention's under its own name.
        """
        metrics = super().compute_metrics(results)
        if self.format_only or 'mIoU' not in metrics:
            return metrics
        intersect, union, _, label = (sum(r) for r in zip(*results))
        d2_miou = self.detectron2_miou(intersect, union, label)
        mmseg_miou = metrics['mIoU']
        if self.miou_convention == 'detectron2':
            metrics['mIoU'] = d2_miou
            metrics['mIoU_mmseg'] = mmseg_miou
        else:
            metrics['mIoU_detectron2'] = d2_miou
        num_gt = int((torch.as_tensor(label) > 0).sum())
        print_log(
            f'mIoU convention: {self.miou_convention} (detectron2: mean over '
            f'the {num_gt} classes with ground truth = {d2_miou}; mmseg: '
            f'mean over classes predicted or present = {mmseg_miou})',
            logger='current')
        return metrics

    @staticmethod
    def detectron2_miou(intersect: torch.Tensor, union: torch.Tensor,
                        label: torch.Tensor) -> float:
        """detectron2's mIoU (%) from dataset-wide areas.

        Args:
            intersect (Tensor): Intersection area per class, shape ``(K,)``.
            union (Tensor): Union area per class, shape ``(K,)``.
            label (Tensor): Ground-truth area per class, shape ``(K,)``.

        Returns:
            float: Mean IoU over the classes with ``label > 0`` (and
            ``union > 0``), in percent, rounded to 2 decimals; NaN when no
            class has ground truth.
        """
        intersect, union, label = (
            torch.as_tensor(t, dtype=torch.float64)
            for t in (intersect, union, label))
        valid = (label > 0) & (union > 0)
        if not valid.any():
            return float('nan')
        iou = intersect[valid] / union[valid]
        return float(np.round(iou.mean().item() * 100, 2))
