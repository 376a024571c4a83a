"""Sliding windows plus a global view: CAT-Seg's evaluation protocol.

One test image becomes ``L + 1`` views: the image resized (aspect not kept)
to ``out_size``, cut into ``L`` windows of ``crop_size`` at ``stride``, plus
the whole image resized to ``crop_size`` (the global view). The class
probabilities of the views are put back together with :func:`fuse_views`:
windows folded with overlaps averaged, then averaged with the global view
resized to ``out_size``. With CAT-Seg's values (640, 384, 256) an image
gives 2 x 2 windows + 1 global view = 5 views.
"""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

Size = Tuple[int, int]


def _pair(value, name: str) -> Size:
    if isinstance(value, int):
        value = (value, value)
    value = tuple(int(v) for v in value)
    if len(value) != 2 or min(value) < 1:
        raise ValueError(f'test_cfg.{name} must be a positive int or an '
                         f'(h, w) pair, got {value}')
    return value


def check_layout(out_size: Sequence[int], crop_size: Sequence[int],
                 stride: Sequence[int]) -> Tuple[Size, Size, Size]:
    """Validate the window layout; windows must tile ``out_size`` exactly.

    Returns:
        tuple[Size, Size, Size]: ``(out_size, crop_size, stride)``, each an
            ``(h, w)`` tuple.

    Raises:
        ValueError: a window larger than the output, or windows that leave
            a border uncovered (``(out - crop) % stride != 0``).
    """
    out_size = _pair(out_size, 'out_size')
    crop_size = _pair(crop_size, 'crop_size')
    stride = _pair(stride, 'stride')
    for o, c, s in zip(out_size, crop_size, stride):
        if c > o or (o - c) % s:
            raise ValueError(
                f"mode='slide_global' needs windows that tile the output "
                f'exactly: out_size={out_size}, crop_size={crop_size}, '
                f'stride={stride} (need crop <= out and (out - crop) % '
                f'stride == 0)')
    return out_size, crop_size, stride


def num_windows(out_size: Size, crop_size: Size, stride: Size) -> int:
    """Number of sliding windows ``L`` of one image."""
    rows = (out_size[0] - crop_size[0]) // stride[0] + 1
    cols = (out_size[1] - crop_size[1]) // stride[1] + 1
    return rows * cols


def make_views(image: Tensor, out_size: Size, crop_size: Size, stride: Size,
               global_view: bool) -> Tensor:
    """Cut one image into its views.

    Args:
        image (Tensor): One image (3, H, W), any size.
        out_size (tuple[int, int]): Layout (see :func:`check_layout`).
        crop_size (tuple[int, int]): Layout (see :func:`check_layout`).
        stride (tuple[int, int]): Layout (see :func:`check_layout`).
        global_view (bool): Append the whole image resized to ``crop_size``.

    Returns:
        Tensor: Views (L [+ 1], 3, *crop_size): windows in row-major order,
            then the global view. As in CAT-Seg, the global view is resized
            from the given image, not from its ``out_size`` version.
    """
    image = image.unsqueeze(0)
    big = F.interpolate(
        image, size=out_size, mode='bilinear', align_corners=False)
    cols = F.unfold(big, kernel_size=crop_size, stride=stride)  # (1, 3kk, L)
    views = cols[0].T.reshape(-1, image.shape[1], *crop_size)
    if global_view:
        whole = F.interpolate(
            image, size=crop_size, mode='bilinear', align_corners=False)
        views = torch.cat([views, whole], dim=0)
    return views


def fuse_views(probs: Tensor, out_size: Size, crop_size: Size, stride: Size,
               global_view: bool) -> Tensor:
    """Put the class probabilities of one image's views back together.

    Args:
        probs (Tensor): Probabilities (L [+ 1], T, *crop_size) of the views of
            :func:`make_views`, in the same order.

    Returns:
        Tensor: (T, *out_size): the windows folded back with overlapping pixels
            averaged, then (with a global view) averaged half and half with the
            global view resized to ``out_size``.
    """
    num = num_windows(out_size, crop_size, stride)
    windows = probs[:num]
    cols = windows.flatten(1).T.unsqueeze(0)  # (1, T*kh*kw, L)
    summed = F.fold(cols, out_size, kernel_size=crop_size, stride=stride)
    ones = torch.ones((1, 1, *out_size),
                      dtype=probs.dtype,
                      device=probs.device)
    count = F.fold(
        F.unfold(ones, kernel_size=crop_size, stride=stride),
        out_size,
        kernel_size=crop_size,
        stride=stride)
    fused = summed / count
    if global_view:
        whole = F.interpolate(
            probs[num:num + 1],
            size=out_size,
            mode='bilinear',
            align_corners=False)
        fused = (fused + whole) / 2.
    return fused[0]
