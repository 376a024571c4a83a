"""Label maps from classes that arrive in chunks: no (T, H, W) tensor.

Every test mode ends in the same per-class steps: logits at the decoder's
resolution are upsampled (``whole`` / ``slide``: to the input;
``slide_global``: to the window, turned into probabilities and fused over the
views), the padding is cut, a flip undone, the map resized to the original
image, and the argmax over the classes is the label. Every step but the
argmax treats the classes independently, so :class:`ESCNet` runs them on a
chunk of classes at a time and :class:`RunningArgmax` keeps the best class so
far: memory O(chunk x H x W) instead of O(T x H x W), and the same label map.
"""
from typing import Optional, Sequence

import torch
from mmseg.models.utils import resize
from torch import Tensor


class RunningArgmax:
    """Argmax over classes that arrive in chunks, in increasing order.

    Equal to ``scores.argmax(dim=0)`` of all chunks concatenated, ties
    included: within a chunk ``argmax`` takes the first maximum, and a later
    chunk replaces the best class only where it is strictly greater.

    Args:
        num_classes (int): T, the classes of all chunks together.
        keep_scores (bool): Also assemble the (T, H, W) scores of all chunks
            (what ``seg_logits`` holds); False keeps O(H x W) memory.
    """

    def __init__(self, num_classes: int, keep_scores: bool) -> None:
        self.num_classes = num_classes
        self.keep_scores = keep_scores
        self.best: Optional[Tensor] = None
        self.labels: Optional[Tensor] = None
        self.scores: Optional[Tensor] = None
        self.seen = 0

    def update(self, scores: Tensor, kept: Optional[Tensor] = None) -> None:
        """Take the next chunk of classes.

        Args:
            scores (Tensor): (t, H, W) values the argmax is taken over, for
                classes ``seen .. seen + t - 1``.
            kept (Tensor, optional): (t, H, W) values stored as the scores of
                these classes instead of ``scores`` (e.g. their logits).
                Defaults to None.
        """
        idx = scores.argmax(dim=0)
        best = scores.gather(0, idx[None])[0]
        idx += self.seen
        if self.best is None:
            self.best, self.labels = best, idx
        else:
            better = best > self.best
            self.best = torch.where(better, best, self.best)
            self.labels = torch.where(better, idx, self.labels)
        if self.keep_scores:
            if self.scores is None:
                self.scores = scores.new_empty(
                    (self.num_classes, *scores.shape[1:]))
            self.scores[self.seen:self.seen + len(scores)] = (
                scores if kept is None else kept)
        self.seen += len(scores)

    def result(self) -> Tensor:
        """The label map (1, H, W), int64, once every class was seen."""
        if self.seen != self.num_classes:
            raise RuntimeError(f'RunningArgmax saw {self.seen} of '
                               f'{self.num_classes} classes')
        return self.labels[None]


def restore_to_image(maps: Tensor, meta: dict, align_corners: bool) -> Tensor:
    """MMSeg's ``postprocess_result`` steps for one image's maps.

    Args:
        maps (Tensor): (t, H, W) maps of the (padded) network input.
        meta (dict): The image's meta info: ``img_padding_size`` or
            ``padding_size`` (left, right, top, bottom) to cut, ``flip`` and
            ``flip_direction`` to undo, ``ori_shape`` to resize to.
        align_corners (bool): Of the bilinear resize.

    Returns:
        Tensor: (t, *ori_shape).
    """
    height, width = maps.shape[-2:]
    left, right, top, bottom = meta.get('img_padding_size',
                                        meta.get('padding_size', [0] * 4))
    maps = maps[None, :, top:height - bottom, left:width - right]
    if meta.get('flip', False):
        dims = (3, ) if meta.get('flip_direction') == 'horizontal' else (2, )
        maps = maps.flip(dims=dims)
    return resize(
        maps,
        size=meta['ori_shape'],
        mode='bilinear',
        align_corners=align_corners,
        warning=False)[0]


def slide_windows(height: int, width: int, crop_size: Sequence[int],
                  stride: Sequence[int]) -> list:
    """MMSeg's ``slide_inference`` windows (y1, y2, x1, x2), row-major; the
    last row and column are shifted back inside the image."""
    (h_crop, w_crop), (h_stride, w_stride) = crop_size, stride
    h_grids = max(height - h_crop + h_stride - 1, 0) // h_stride + 1
    w_grids = max(width - w_crop + w_stride - 1, 0) // w_stride + 1
    windows = []
    for h_idx in range(h_grids):
        for w_idx in range(w_grids):
            y2 = min(h_idx * h_stride + h_crop, height)
            x2 = min(w_idx * w_stride + w_crop, width)
            windows.append((max(y2 - h_crop, 0), y2, max(x2 - w_crop, 0), x2))
    return windows
