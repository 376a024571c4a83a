"""The files written per image, and the rule that none is overwritten.

For an image named ``<name>``: ``<name>_labels.png`` (the class indices;
8-bit, 16-bit above 255 classes), ``<name>_overlay.png`` (the classes
painted over the image, with a legend) and ``<name>.json`` (the summary of
:func:`~escnet_mmseg.apis.summarize`).
"""
import json
import os
import os.path as osp
from typing import Dict, Iterable

import numpy as np

from ..utils import UserError
from .inference import Palette
from .visualizer import draw_overlay

OUTPUT_SUFFIXES = dict(
    labels='_labels.png', overlay='_overlay.png', summary='.json')


def output_paths(out_dir: str, name: str, overlay: bool) -> Dict[str, str]:
    """The output files of one image.

    Args:
        out_dir (str): The output folder.
        name (str): The image's output name (see
            :func:`~escnet_mmseg.apis.collect_images`).
        overlay (bool): Whether an overlay is written.

    Returns:
        dict[str, str]: ``{'labels': ..., 'overlay': ..., 'summary': ...}``
            (no ``'overlay'`` without ``overlay``).
    """
    kinds = [k for k in OUTPUT_SUFFIXES if overlay or k != 'overlay']
    return {k: osp.join(out_dir, name + OUTPUT_SUFFIXES[k]) for k in kinds}


def refuse_existing(paths: Iterable[str]) -> None:
    """The no-overwrite rule: stop before any work when an output exists.

    Args:
        paths (Iterable[str]): Every file that would be written.

    Raises:
        UserError: Naming the first existing file and how many more exist.
    """
    existing = [p for p in paths if osp.exists(p)]
    if existing:
        more = f' (and {len(existing) - 1} more)' if len(existing) > 1 else ''
        raise UserError(f'{existing[0]} already exists{more}; pass '
                        f'--overwrite to replace the outputs')


def write_label_map(labels: np.ndarray, num_classes: int, path: str) -> None:
    """A PNG of the class indices: uint8, or uint16 above 255 classes.

    Args:
        labels (np.ndarray): (H, W) class indices.
        num_classes (int): Size of the vocabulary.
        path (str): The file.

    Raises:
        UserError: The file cannot be written.
    """
    import mmcv
    dtype = np.uint8 if num_classes <= 255 else np.uint16
    if not mmcv.imwrite(labels.astype(dtype), path):
        raise UserError(f'cannot write {path}')


def write_outputs(image_bgr: np.ndarray, labels: np.ndarray, summary: dict,
                  palette: Palette, paths: Dict[str,
                                                str], opacity: float) -> None:
    """Write the outputs of one image.

    Args:
        image_bgr (np.ndarray): (H, W, 3) uint8, as read.
        labels (np.ndarray): (H, W) class indices.
        summary (dict): From :func:`~escnet_mmseg.apis.summarize`.
        palette (Palette): One RGB colour per class.
        paths (dict[str, str]): From :func:`output_paths`.
        opacity (float): Weight of the colours in the overlay.

    Raises:
        UserError: A file cannot be written.
    """
    import mmcv
    os.makedirs(osp.dirname(paths['labels']) or '.', exist_ok=True)
    write_label_map(labels, len(summary['classes']), paths['labels'])
    if 'overlay' in paths:
        overlay = draw_overlay(
            mmcv.bgr2rgb(image_bgr), labels, summary, palette, opacity)
        mmcv.imwrite(mmcv.rgb2bgr(overlay), paths['overlay'])
    with open(paths['summary'], 'w') as f:
        json.dump(summary, f, indent=2)
