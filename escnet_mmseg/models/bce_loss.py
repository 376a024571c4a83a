"""Per-class sigmoid binary cross-entropy over every pixel (CAT-Seg's loss)."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor


def one_hot_targets(label: Tensor, num_classes: int,
                    ignore_index: int) -> Tensor:
    """One-hot targets with all-zero rows at ignored pixels.

    Args:
        label (Tensor): Class indices (B, H, W); ``ignore_index`` marks ignored
            pixels.
        num_classes (int): T, the number of logit maps.
        ignore_index (int): Label of ignored pixels.

    Returns:
        Tensor: Float targets (B, T, H, W).

    Raises:
        ValueError: a label that is neither a class index nor ``ignore_index``.
    """
    valid = label != ignore_index
    in_range = (label >= 0) & (label < num_classes)
    if label.device.type == 'cpu':
        bad = label[valid & ~in_range]
        if bad.numel():
            raise ValueError(f'label {int(bad[0])} is outside the '
                             f'{num_classes} classes and is not the ignore '
                             f'index {ignore_index}')
    else:
        # No host sync on accelerators: the training runner's
        # VocabularyHook has checked the labels on the CPU, naming the file.
        torch._assert_async((in_range | ~valid).all())
    # A comparison instead of F.one_hot, which syncs to check the range.
    classes = torch.arange(num_classes, device=label.device).view(1, -1, 1, 1)
    target = label.unsqueeze(1) == classes
    return (target & valid.unsqueeze(1)).to(torch.float32)


@MODELS.register_module()
class PerClassBCELoss(nn.Module):
    """Sigmoid BCE of every class's logit map against its one-hot target.

    Every class is an independent binary problem at every pixel; ignored
    pixels keep an all-zero target, so they count as negatives of every
    class; the loss is the mean over pixels x classes. This is CAT-Seg's
    training loss (``docs/model.md``).

    Args:
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
        loss_name (str): Name in the loss dict; must start with ``'loss_'`` to
            be summed into the total loss. Defaults to 'loss_bce'.
    """

    # ESCNetHead.use_sigmoid reads this: probabilities are per-class sigmoids.
    use_sigmoid = True

    def __init__(self,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_bce') -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self,
                cls_score: Tensor,
                label: Tensor,
                weight: Optional[Tensor] = None,
                ignore_index: int = 255,
                **kwargs) -> Tensor:
        """Loss of a batch.

        Args:
            cls_score (Tensor): Logits (B, T, H, W).
            label (Tensor): Class indices (B, H, W) at the logits' resolution.
            weight (Tensor, optional): Optional per-pixel weights (B, H, W)
                (e.g. from a pixel sampler), applied before the mean. Defaults
                to None.
            ignore_index (int): Label of ignored pixels (all-zero target).
                Defaults to 255.

        Returns:
            Tensor: Scalar loss.
        """
        if cls_score.dim() != 4 or label.shape != (cls_score.shape[0],
                                                   *cls_score.shape[2:]):
            raise ValueError(f'expected logits (B, T, H, W) and labels '
                             f'(B, H, W), got {tuple(cls_score.shape)} and '
                             f'{tuple(label.shape)}')
        target = one_hot_targets(label, cls_score.shape[1], ignore_index)
        loss = F.binary_cross_entropy_with_logits(
            cls_score.float(), target, reduction='none')
        if weight is not None:
            loss = loss * weight.unsqueeze(1)
        return self.loss_weight * loss.mean()

    @property
    def loss_name(self) -> str:
        """Key of this loss in the loss dict."""
        return self._loss_name
