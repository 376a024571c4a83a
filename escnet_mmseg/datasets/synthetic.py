"""A tiny synthetic segmentation dataset ("synthetic shapes").

Every image shows a sky/grass landscape with a few coloured, textured shapes
in front of it. Each class has its own shape, colour and texture, so a small
randomly initialised model learns it within a couple of CPU minutes; the
dataset exists to exercise training, evaluation and the tools end to end
without downloading anything.

``generate_synthetic_dataset`` writes it in MMSeg's layout::

    <out>/img_dir/{train,val}/00000.png    RGB, lossless
    <out>/ann_dir/{train,val}/00000.png    uint8 class ids, every pixel
    labelled <out>/meta.json                        classes, palette, seed,
    counts

``tools/generate_synthetic_data.py`` is its command-line front end. The same
arguments produce byte-identical files (on the same numpy/Pillow build).
"""
import json
import os
import os.path as osp
import shutil
from typing import Dict, List, Tuple

import numpy as np
from mmseg.registry import DATASETS
from PIL import Image

from .base import WideLabelSegDataset

SYNTHETIC_CLASSES = ('sky', 'grass', 'circle', 'square', 'triangle', 'star')
# Mean colour of every class; also the visualisation palette.
SYNTHETIC_PALETTE = [
    [120, 180, 240],  # sky: light blue, brighter towards the top
    [50, 140, 50],  # grass: green with vertical blades
    [210, 40, 40],  # circle: red, speckled
    [235, 205, 40],  # square: yellow, checkerboard
    [140, 60, 190],  # triangle: purple, diagonal stripes
    [245, 245, 245],  # star: white, dotted
]
SKY, GRASS, CIRCLE, SQUARE, TRIANGLE, STAR = range(6)
GENERATOR_VERSION = 1
_SPLITS = ('train', 'val')


def _polygon_mask(xs: np.ndarray, ys: np.ndarray,
                  verts: np.ndarray) -> np.ndarray:
    """Even-odd point-in-polygon test for every pixel centre."""
    inside = np.zeros(xs.shape, dtype=bool)
    n = len(verts)
    for i in range(n):
        x1, y1 = verts[i]
        x2, y2 = verts[(i + 1) % n]
        crosses = (y1 > ys) != (y2 > ys)
        with np.errstate(divide='ignore', invalid='ignore'):
            x_at = (x2 - x1) * (ys - y1) / (y2 - y1) + x1
        inside ^= crosses & (xs < x_at)
    return inside


def _regular_polygon(cx, cy, radius, n, angle, inner=None) -> np.ndarray:
    """Vertices of a regular polygon, or of a star if ``inner`` is given."""
    if inner is None:
        t = angle + 2 * np.pi * np.arange(n) / n
        r = np.full(n, radius)
    else:
        t = angle + np.pi * np.arange(2 * n) / n
        r = np.where(np.arange(2 * n) % 2 == 0, radius, inner)
    return np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], axis=1)


def _shape_mask(cls: int, xs, ys, cx, cy, radius, angle) -> np.ndarray:
    if cls == CIRCLE:
        return (xs - cx)**2 + (ys - cy)**2 <= radius**2
    if cls == SQUARE:
        return _polygon_mask(xs, ys, _regular_polygon(cx, cy, radius, 4,
                                                      angle))
    if cls == TRIANGLE:
        return _polygon_mask(xs, ys,
                             _regular_polygon(cx, cy, radius * 1.15, 3, angle))
    if cls == STAR:
        return _polygon_mask(
            xs, ys,
            _regular_polygon(cx, cy, radius * 1.2, 5, angle, radius * 0.5))
    raise ValueError(cls)


def _texture(cls: int, xs, ys, size: int, rng) -> np.ndarray:
    """Per-pixel brightness offset (H, W) that characterises a class."""
    if cls == SKY:  # smooth vertical gradient
        return 30.0 * (0.5 - ys / size)
    if cls == GRASS:  # vertical blades
        phase = rng.uniform(0, 2 * np.pi)
        return 25.0 * np.sin(xs * 2.2 + phase) * (0.6 + 0.4 * np.sin(ys))
    if cls == CIRCLE:  # speckle
        return rng.normal(0, 18, xs.shape)
    if cls == SQUARE:  # checkerboard with 4 px cells
        return 30.0 * (((xs // 4 + ys // 4) % 2) * 2 - 1)
    if cls == TRIANGLE:  # diagonal stripes
        return 30.0 * np.sign(np.sin((xs + ys) * np.pi / 3))
    if cls == STAR:  # dots
        return -40.0 * (((xs % 5) < 2) & ((ys % 5) < 2))
    raise ValueError(cls)


def render_sample(rng: np.random.Generator,
                  size: int = 64) -> Tuple[np.ndarray, np.ndarray]:
    """Draw one image (H, W, 3) uint8 RGB and its label map (H, W) uint8."""
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
    # Background: sky above a wavy horizon, grass below.
    horizon = rng.uniform(0.3, 0.7) * size
    amp = rng.uniform(0, 0.06) * size
    freq = rng.uniform(0.5, 2.0) * 2 * np.pi / size
    phase = rng.uniform(0, 2 * np.pi)
    label = np.where(ys < horizon + amp * np.sin(freq * xs + phase), SKY,
                     GRASS).astype(np.uint8)
    shapes = []
    for _ in range(int(rng.integers(2, 5))):
        cls = int(rng.integers(CIRCLE, STAR + 1))
        radius = rng.uniform(0.1, 0.22) * size
        cx, cy = rng.uniform(radius * 0.5, size - radius * 0.5, size=2)
        mask = _shape_mask(cls, xs, ys, cx, cy, radius,
                           rng.uniform(0, 2 * np.pi))
        label[mask] = cls  # later shapes occlude earlier ones
        shapes.append(cls)

    img = np.zeros((size, size, 3), dtype=np.float64)
    for cls in range(len(SYNTHETIC_CLASSES)):
        region = label == cls
        if not region.any():
            continue
        colour = np.asarray(SYNTHETIC_PALETTE[cls], np.float64)
        colour = colour + rng.uniform(-15, 15, size=3)
        shade = _texture(cls, xs, ys, size, rng)
        img[region] = colour[None, :] + shade[region][:, None]
    img += rng.normal(0, 6, img.shape)  # sensor noise
    return np.clip(np.rint(img), 0, 255).astype(np.uint8), label


def _save_png(array: np.ndarray, path: str) -> None:
    Image.fromarray(array).save(path, format='PNG', optimize=False)


def generate_synthetic_dataset(out_dir: str,
                               seed: int = 0,
                               num_train: int = 240,
                               num_val: int = 60,
                               size: int = 64,
                               overwrite: bool = False) -> Dict:
    """Write the synthetic dataset under ``out_dir``; return its meta dict.

    Refuses to write into a non-empty ``out_dir`` unless ``overwrite`` is
    true, in which case only the ``img_dir``, ``ann_dir`` and ``meta.json``
    it previously wrote are replaced.
    """
    if size < 16:
        raise ValueError(f'size must be at least 16, got {size}')
    if num_train < 0 or num_val < 0:
        raise ValueError('num_train and num_val must be >= 0')
    if osp.isdir(out_dir) and os.listdir(out_dir):
        if not overwrite:
            raise FileExistsError(
                f'output folder {out_dir!r} is not empty; choose another '
                'folder or pass --overwrite')
        for name in ('img_dir', 'ann_dir'):
            if osp.isdir(osp.join(out_dir, name)):
                shutil.rmtree(osp.join(out_dir, name))
        if osp.isfile(osp.join(out_dir, 'meta.json')):
            os.remove(osp.join(out_dir, 'meta.json'))
    elif osp.exists(out_dir) and not osp.isdir(out_dir):
        raise NotADirectoryError(f'{out_dir!r} exists and is not a folder')

    counts = dict(train=num_train, val=num_val)
    pixel_counts: List[int] = [0] * len(SYNTHETIC_CLASSES)
    for split_id, split in enumerate(_SPLITS):
        img_dir = osp.join(out_dir, 'img_dir', split)
        ann_dir = osp.join(out_dir, 'ann_dir', split)
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(ann_dir, exist_ok=True)
        for i in range(counts[split]):
            # One independent stream per (seed, split, index): a split's
            # files do not depend on how many samples the other split has.
            rng = np.random.default_rng([seed, split_id, i])
            img, label = render_sample(rng, size)
            _save_png(img, osp.join(img_dir, f'{i:05d}.png'))
            _save_png(label, osp.join(ann_dir, f'{i:05d}.png'))
            for c, n in enumerate(
                    np.bincount(label.ravel(), minlength=len(pixel_counts))):
                pixel_counts[c] += int(n)

    meta = dict(
        classes=list(SYNTHETIC_CLASSES),
        palette=SYNTHETIC_PALETTE,
        seed=seed,
        size=size,
        counts=counts,
        pixel_counts=dict(zip(SYNTHETIC_CLASSES, pixel_counts)),
        generator_version=GENERATOR_VERSION)
    with open(osp.join(out_dir, 'meta.json'), 'w') as f:
        json.dump(meta, f, indent=2, sort_keys=True)
        f.write('\n')
    return meta


@DATASETS.register_module()
class SyntheticShapesDataset(WideLabelSegDataset):
    """The synthetic shapes dataset written by ``generate_synthetic_dataset``.

    Layout: ``img_dir/{train,val}/*.png`` and ``ann_dir/{train,val}/*.png``
    (uint8 class ids ``0..5``, no ignored pixels).
    """
    METAINFO = dict(classes=SYNTHETIC_CLASSES, palette=SYNTHETIC_PALETTE)

    def __init__(self,
                 img_suffix='.png',
                 seg_map_suffix='.png',
                 reduce_zero_label=False,
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=reduce_zero_label,
            **kwargs)
