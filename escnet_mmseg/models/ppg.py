"""Pseudo Prompt Generator (paper §3.3): class score maps -> SAM prompts."""
from typing import Dict, Optional

import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from ..ops import pseudo_prompts

SOFTMAX_AXES = ('class', 'space')


@MODELS.register_module()
class PseudoPromptGenerator(BaseModule):
    """Turns per-class score maps into point, box and mask prompts.

    The probability map is differentiable; the clustering (the
    ``escnet::pseudo_prompts`` op) runs on a detached copy and only decides
    which pixels become points and regions.

    Args:
        num_points (int): K, pseudo points (and k-means clusters) per class.
            Defaults to 5.
        alpha (float): Foreground threshold on the probability map. Defaults to
            0.5.
        iters (int): Lloyd iterations. Defaults to 10.
        softmax_over (str): ``'class'`` (softmax over the vocabulary at every
            pixel, docs/model.md) or ``'space'`` (over the pixels of each class
            map). Defaults to 'class'.
        mask_eps (float): Probabilities are clamped to ``[eps, 1 - eps]``
            before the logit that maps the mask prompt to SAM's mask-logit
            range. Defaults to 1e-4.
    """

    def __init__(self,
                 num_points: int = 5,
                 alpha: float = 0.5,
                 iters: int = 10,
                 softmax_over: str = 'class',
                 mask_eps: float = 1e-4,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if softmax_over not in SOFTMAX_AXES:
            raise ValueError(f'softmax_over must be one of {SOFTMAX_AXES}, '
                             f'got "{softmax_over}"')
        self.num_points = num_points
        self.alpha = alpha
        self.iters = iters
        self.softmax_over = softmax_over
        self.mask_eps = mask_eps

    def probabilities(self, logits: Tensor) -> Tensor:
        """(B, T, h, w) logits -> (B, T, h, w) probabilities."""
        if self.softmax_over == 'class':
            return logits.softmax(dim=1)
        return logits.flatten(2).softmax(dim=-1).view_as(logits)

    def forward(self, logits: Tensor) -> Dict[str, Tensor]:
        """Prompts for every (image, class) map.

        Args:
            logits (Tensor): Class score maps (B, T, h, w) of the WHOLE
                vocabulary (the class softmax needs every class).

        Returns:
            dict[str, Tensor]: ``prob`` (B, T, h, w); ``points``
                (B, T, K, 2) float (x, y) grid indices; ``point_labels``
                (B, T, K): 1 for a point, -1 for padding (SAM's "not a
                point"); ``labels`` (B, T, h*w) cluster id per pixel or -1;
                ``mask_prompt`` (B, T, h, w) in SAM's mask-logit range: logit
                of the probability inside the clusters.
        """
        b, t, h, w = logits.shape
        # Half-precision logits (AMP) are upcast: the softmax and the logit of
        # the mask prompt need the range.
        prob = self.probabilities(logits if logits.dtype ==
                                  torch.float64 else logits.float())
        labels, points, valid = pseudo_prompts(prob.detach().flatten(0, 1),
                                               self.alpha, self.num_points,
                                               self.iters)
        region = (labels >= 0).view(b, t, h, w)
        mask = torch.logit((prob * region).clamp(self.mask_eps,
                                                 1 - self.mask_eps))
        point_labels = torch.where(valid, 1, -1).view(b, t, -1)
        return dict(
            prob=prob,
            points=points.view(b, t, -1, 2),
            point_labels=point_labels,
            labels=labels.view(b, t, -1),
            mask_prompt=mask)
