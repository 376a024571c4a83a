"""One forward pass of ESC-Net on an image, with what every ESC block saw."""
import contextlib
from dataclasses import dataclass
from typing import Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import ConfigDict
from torch import Tensor, nn

from ..models.sam_block import cluster_boxes
from ..utils.vocabulary import normalize_class_name
from .capture import PromptCapture


@dataclass
class BlockPrompts:
    """What the PPG of one ESC block computed, for every class of one image.

    Attributes:
        score (Tensor): Score map S_k (T, h, w) it got (``tau * C0`` in block
            0).
        prob (Tensor): Class probability P (T, h, w).
        alpha (float): Foreground threshold: the foreground is ``P > alpha``.
        labels (Tensor): k-means region of every grid cell (T, h, w), -1
            outside the regions (the ``escnet::pseudo_prompts`` op's labels).
        points (Tensor): Pseudo points (T, K, 2), grid (x, y) = (column, row).
        point_labels (Tensor): (T, K): 1 for a point, -1 for SAM's padding.
        mask_prompt (Tensor): Dense mask prompt (T, h, w), SAM's mask logits.
        boxes (Tensor, optional): Box prompts (T, K, 4), grid (x0, y0, x1,
            y1) inclusive, when the block's ``prompt_types`` use boxes.
    """
    score: Tensor
    prob: Tensor
    alpha: float
    labels: Tensor
    points: Tensor
    point_labels: Tensor
    mask_prompt: Tensor
    boxes: Optional[Tensor] = None

    @property
    def foreground(self) -> Tensor:
        """(T, h, w) bool: the pixels the PPG clusters."""
        return self.prob > self.alpha


@dataclass
class Explanation:
    """ESC-Net's intermediate maps and output for one image.

    Attributes:
        image (np.ndarray): The image, RGB uint8 (H, W, 3).
        classes (tuple[str]): The vocabulary (T names).
        palette (list): One RGB colour per class.
        corr (Tensor): Cosine correlation C0 (T, h, w).
        logit_scale (float): tau: block 0's score map is ``tau * C0``.
        blocks (list[BlockPrompts]): One per ESC block, in order.
        shown (tuple[str]): The classes whose final probability is kept.
        final_prob (Tensor): Final class probability (S, H, W) of ``shown``.
        label_map (Tensor): Predicted class index per pixel (H, W).
        grid_extent (tuple[float]): ``(left, right, bottom, top)`` of the
            h x w token grid in image pixels (matplotlib's ``extent``).
    """
    image: np.ndarray
    classes: Tuple[str, ...]
    palette: list
    corr: Tensor
    logit_scale: float
    blocks: List[BlockPrompts]
    shown: Tuple[str, ...]
    final_prob: Tensor
    label_map: Tensor
    grid_extent: Tuple[float, float, float, float]

    def index(self, name: str) -> int:
        """Index of a class name in the vocabulary (any synonym spacing).

        Raises:
            ValueError: The name is not in the vocabulary, naming it.
        """
        return class_indices(self.classes, [name])[0]

    def grid_to_image(self, xy: Tensor) -> Tensor:
        """Grid (x, y) indices (..., 2) -> image pixel coordinates (..., 2)
        of the cell centres."""
        left, right, bottom, top = self.grid_extent
        h, w = self.corr.shape[-2:]
        scale = xy.new_tensor([(right - left) / w, (bottom - top) / h])
        offset = xy.new_tensor([left, top])
        return (xy + 0.5) * scale + offset


def class_indices(vocabulary: Sequence[str],
                  names: Sequence[str]) -> List[int]:
    """Indices of ``names`` in ``vocabulary``, compared as the vocabulary
    compares names (synonym spacing and case ignored).

    Raises:
        ValueError: A name that is not in the vocabulary, naming it and the
            vocabulary.
    """
    keys = [normalize_class_name(v).lower() for v in vocabulary]
    found = []
    for name in names:
        key = normalize_class_name(name).lower()
        if key not in keys:
            listed = ', '.join(f'"{v}"' for v in vocabulary[:20])
            more = f', ... ({len(vocabulary)} in all)' if len(
                vocabulary) > 20 else ''
            raise ValueError(f'class "{name}" is not in the vocabulary '
                             f'({listed}{more})')
        found.append(keys.index(key))
    return found


@contextlib.contextmanager
def whole_image_view(model: nn.Module) -> Iterator[None]:
    """Run ``model`` in ``whole`` mode on every class (restored on exit).

    The explanation needs one pass of the network: the whole image at the
    CLIP input size (the global view of ``slide_global``), every class of
    the vocabulary (no ``max_classes`` selection), with ``seg_logits`` (the
    final probabilities); class chunking stays.
    """
    saved = model.test_cfg
    cfg = ConfigDict(saved or {})
    cfg.update(mode='whole', max_classes=None, return_logits=True)
    model.test_cfg = cfg
    try:
        yield
    finally:
        model.test_cfg = saved


def _grid_extent(
        meta: dict,
        input_shape: Tuple[int, int]) -> Tuple[float, float, float, float]:
    """Where the network's input frame (padding included) lies in the
    original image, as EncoderDecoder.postprocess_result maps it back."""
    left, right, top, bottom = meta.get(
        'img_padding_size', meta.get('padding_size', None)) or [0] * 4
    height, width = input_shape
    ori_h, ori_w = meta['ori_shape'][:2]
    sx = ori_w / (width - left - right)
    sy = ori_h / (height - top - bottom)
    return (-left * sx, (width - left) * sx, (height - top) * sy, -top * sy)


def _block_prompts(block: nn.Module, record: dict,
                   size: Tuple[int, int]) -> BlockPrompts:
    """The record of one block's PPG, first image of the batch."""
    labels = record['labels'][0]  # (T, h*w)
    boxes = None
    if 'boxes' in block.prompt_types:
        boxes = cluster_boxes(labels, record['points'][0], size[1])
    return BlockPrompts(
        score=record['score'][0].float(),
        prob=record['prob'][0],
        alpha=float(block.ppg.alpha),
        labels=labels.view(-1, *size),
        points=record['points'][0],
        point_labels=record['point_labels'][0],
        mask_prompt=record['mask_prompt'][0],
        boxes=boxes)


def explain(inferencer,
            image: np.ndarray,
            show: Optional[Sequence[str]] = None) -> Explanation:
    """Segment ``image`` once and keep what every ESC block saw.

    The network runs once, on the whole image (see
    :func:`whole_image_view`), with forward hooks recording C0 and the PPG
    of every block (:class:`PromptCapture`); the segmentation it returns is
    the model's own.

    Args:
        inferencer (OpenVocabInferencer): The model and its pipeline; its
            vocabulary is the one explained.
        image (np.ndarray): BGR uint8 (H, W, 3), as MMSeg's inferencer
            takes it.
        show (Sequence[str], optional): Classes whose final probability is
            kept (the figures to draw); None: every class. Defaults to None.

    Returns:
        Explanation: The maps of every class and block.

    Raises:
        ValueError: A class of ``show`` is not in the vocabulary, or the
            model has no PPG (the "no SAM block" ablation).
    """
    model = inferencer.model
    classes = tuple(model.vocabulary)
    shown = classes if show is None else tuple(show)
    keep = class_indices(classes, shown)
    if model.neck.prompt_encoder is None:
        raise ValueError('this model has no SAM blocks (neck.sam_block=None):'
                         ' it makes no pseudo prompts to show')
    data = inferencer.collate_fn([inferencer.pipeline(image)])
    with torch.no_grad(), whole_image_view(model), PromptCapture(
            model.neck) as capture:
        data = model.data_preprocessor(data, False)
        sample = model.predict(data['inputs'], data['data_samples'])[0]
    # whole_image_view: one neck call, so one record per block.
    assert len(capture.passes) == 1, f'{len(capture.passes)} neck passes'
    seen = capture.passes[0]
    size = tuple(seen['corr'].shape[-2:])
    # Softmax models need every class's logit for one class's probability.
    prob = model.probabilities(sample.seg_logits.data[None])[0, keep].cpu()
    return Explanation(
        image=np.ascontiguousarray(image[..., ::-1]),
        classes=classes,
        palette=list(model.dataset_meta['palette']),
        corr=seen['corr'][0],
        logit_scale=float(model.neck.blocks[0].logit_scale),
        blocks=[
            _block_prompts(block, seen['blocks'][k], size)
            for k, block in enumerate(model.neck.blocks)
        ],
        shown=tuple(classes[i] for i in keep),
        final_prob=prob.float(),
        label_map=sample.pred_sem_seg.data[0].cpu(),
        grid_extent=_grid_extent(sample.metainfo,
                                 tuple(data['inputs'].shape[-2:])))
