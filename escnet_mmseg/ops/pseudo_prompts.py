"""The ``escnet::pseudo_prompts`` custom op (Pseudo Prompt Generator,
docs/model.md "The PPG op").

CUDA tensors run the fused Triton kernel when triton is available; every other
device runs the batched PyTorch reference. Both give identical outputs (see
:mod:`escnet_mmseg.ops.ppg_reference` for the algorithm). The op has a fake
(meta) implementation, so it traces under ``torch.compile``, and its outputs
are marked non-differentiable.
"""
from typing import Any, Tuple

import torch
from torch import Tensor

from .ppg_reference import check_inputs, pseudo_prompts_reference
from .ppg_triton import (HAS_TRITON, MAX_MAP_SIZE, MAX_POINTS,
                         pseudo_prompts_triton)

__all__ = ['pseudo_prompts']


@torch.library.custom_op('escnet::pseudo_prompts', mutates_args=())
def pseudo_prompts(prob: Tensor,
                   alpha: float = 0.5,
                   num_points: int = 5,
                   iters: int = 10) -> Tuple[Tensor, Tensor, Tensor]:
    """Pseudo point prompts and cluster regions from probability maps.

    Per map: foreground ``prob > alpha``, farthest-point initialised Lloyd
    k-means with ``num_points`` clusters on the foreground pixel coordinates,
    one point per non-empty cluster at its highest-probability pixel, and empty
    slots filled with the highest-probability pixels not chosen yet. Ties
    always go to the lowest flat index ``row*w + col`` (lowest cluster index
    for distances).

    Args:
        prob (Tensor): (M, h, w) probability maps in [0, 1], any float dtype
            (computed in float32).
        alpha (float): Foreground threshold, ``0 <= alpha < 1``. Defaults to
            0.5.
        num_points (int): Number of points ``K`` per map, ``>= 1``. Defaults to
            5.
        iters (int): Number of Lloyd iterations, ``>= 0``. Defaults to 10.

    Returns:
        tuple[Tensor, Tensor, Tensor]: ``(labels, points, valid)``:

        - ``labels`` (M, h*w) int64, cluster id in [0, K) of a foreground
          pixel, -1 elsewhere;
        - ``points`` (M, K, 2) float32 ``(x, y) = (column, row)`` pixel
          indices (no +0.5 shift);
        - ``valid`` (M, K) bool, False only for slots that cannot be filled
          (``h*w < K``); their points are ``(0, 0)``.
    """
    use_triton = (
        HAS_TRITON and prob.device.type == 'cuda' and prob.dim() == 3
        and prob.shape[1] * prob.shape[2] <= MAX_MAP_SIZE
        and num_points <= MAX_POINTS)
    if use_triton:
        return pseudo_prompts_triton(prob, alpha, num_points, iters)
    # Beyond the kernel's limits CUDA falls back to the (identical) batched
    # reference.
    return pseudo_prompts_reference(prob, alpha, num_points, iters)


@pseudo_prompts.register_fake
def _pseudo_prompts_fake(prob: Tensor,
                         alpha: float = 0.5,
                         num_points: int = 5,
                         iters: int = 10) -> Tuple[Tensor, Tensor, Tensor]:
    check_inputs(prob, alpha, num_points, iters, check_size=False)
    m, h, w = prob.shape
    labels = prob.new_empty((m, h * w), dtype=torch.int64)
    points = prob.new_empty((m, num_points, 2), dtype=torch.float32)
    valid = prob.new_empty((m, num_points), dtype=torch.bool)
    return labels, points, valid


def _setup_context(ctx: Any, inputs: Tuple[Any, ...],
                   output: Tuple[Tensor, ...]) -> None:
    ctx.mark_non_differentiable(*output)


def _backward(ctx: Any, *grads: Tensor) -> Tuple[None, None, None, None]:
    # Prompts are discrete selections; gradients reach prob through the
    # caller's own use of it (e.g. the dense mask prompt), never through this
    # op.
    return None, None, None, None


pseudo_prompts.register_autograd(_backward, setup_context=_setup_context)
