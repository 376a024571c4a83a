"""Tiny copies of every dataset layout the configs expect.

``write_tiny_dataset(name, root)`` writes a few small images and labels in
the layout of ``configs/_base_/datasets/<name>.py`` under ``root``, the
directory to use as that config's ``data_root``. The label maps contain the
values listed in ``LABEL_VALUES`` (16-bit ones for A-847 and PC-459), so tests
can check that they survive loading.

Usable from any test: ``from tests.datasets.tiny_data import ...``.
"""
import os
import os.path as osp
from typing import Dict, Iterable

import numpy as np
from PIL import Image

DATASET_NAMES = ('coco-stuff164k', 'ade20k-150', 'ade20k-847',
                 'pascal-context-59', 'pascal-context-459', 'voc-20',
                 'voc-20b', 'synthetic')

# Label values written into the (validation) label maps of each dataset, in
# the files' own encoding (before any reduce_zero_label).
LABEL_VALUES = {
    'coco-stuff164k': (0, 7, 170, 255),
    'ade20k-150': (0, 1, 42, 150),
    'ade20k-847': (0, 11, 300, 846, 65535),
    'pascal-context-59': (0, 1, 30, 59),
    'pascal-context-459': (0, 300, 458, 65535),
    'voc-20': (0, 1, 15, 20, 255),
    'voc-20b': (0, 1, 15, 20, 255),
}
IMAGE_SHAPE = (24, 32)  # H, W of every image and label map
NUM_SAMPLES = 2  # validation samples per dataset (synthetic: see below)
SYNTHETIC_COUNTS = dict(num_train=4, num_val=2, size=32)


def _rng(name: str, i: int) -> np.random.Generator:
    return np.random.default_rng([sum(map(ord, name)), i])


def _image(path: str, rng) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    arr = rng.integers(0, 256, size=IMAGE_SHAPE + (3, ), dtype=np.uint8)
    Image.fromarray(arr).save(path)


def label_map(values: Iterable[int], rng, dtype=np.uint8) -> np.ndarray:
    """An IMAGE_SHAPE map containing every value of ``values``."""
    values = np.asarray(list(values))
    flat = rng.choice(values, size=IMAGE_SHAPE[0] * IMAGE_SHAPE[1])
    flat[:len(values)] = values  # make sure every value occurs
    return flat.reshape(IMAGE_SHAPE).astype(dtype)


def _label(path: str, arr: np.ndarray, palette: bool = False) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    img = Image.fromarray(arr)
    if palette:  # like VOC's SegmentationClass PNGs
        img = img.convert('P')
        img.putpalette([v for i in range(256) for v in (i, 255 - i, i)])
    img.save(path)


def _split_file(path: str, stems) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.writelines(s + '\n' for s in stems)


def write_tiny_dataset(name: str, root: str) -> None:
    """Write the tiny copy of dataset ``name`` with data_root ``root``."""
    root = str(root)
    if name == 'synthetic':
        from escnet_mmseg.datasets.synthetic import generate_synthetic_dataset
        generate_synthetic_dataset(root, seed=0, **SYNTHETIC_COUNTS)
        return
    if name not in LABEL_VALUES:
        raise KeyError(f'unknown dataset {name!r}; one of {DATASET_NAMES}')
    values = LABEL_VALUES[name]
    for i in range(NUM_SAMPLES):
        rng = _rng(name, i)
        if name == 'coco-stuff164k':
            for split in ('train2017', 'val2017'):
                stem = f'{i + 1:012d}'
                _image(osp.join(root, 'images', split, stem + '.jpg'), rng)
                _label(
                    osp.join(root, 'annotations', split,
                             stem + '_labelTrainIds.png'),
                    label_map(values, rng))
        elif name == 'ade20k-150':
            stem = f'ADE_val_{i + 1:08d}'
            _image(osp.join(root, 'images', 'validation', stem + '.jpg'), rng)
            _label(
                osp.join(root, 'annotations', 'validation', stem + '.png'),
                label_map(values, rng))
        elif name == 'ade20k-847':
            stem = f'ADE_val_{i + 1:08d}'
            _image(
                osp.join(root, 'images_detectron2', 'validation',
                         stem + '.jpg'), rng)
            _label(
                osp.join(root, 'annotations_detectron2', 'validation',
                         stem + '.tif'), label_map(values, rng, np.uint16))
        elif name == 'pascal-context-59':
            stem = f'2008_{i + 1:06d}'
            _image(osp.join(root, 'JPEGImages', stem + '.jpg'), rng)
            _label(
                osp.join(root, 'SegmentationClassContext', stem + '.png'),
                label_map(values, rng))
        elif name == 'pascal-context-459':
            stem = f'2008_{i + 1:06d}'
            _image(osp.join(root, 'JPEGImages', stem + '.jpg'), rng)
            _label(
                osp.join(root, 'annotations_detectron2', 'pc459_val',
                         stem + '.tif'), label_map(values, rng, np.uint16))
        elif name in ('voc-20', 'voc-20b'):
            stem = f'2007_{i + 1:06d}'
            _image(osp.join(root, 'JPEGImages', stem + '.jpg'), rng)
            _label(
                osp.join(root, 'SegmentationClass', stem + '.png'),
                label_map(values, rng),
                palette=True)
    # Layout details beyond the annotated samples.
    if name == 'pascal-context-59':
        _split_file(
            osp.join(root, 'ImageSets', 'SegmentationContext', 'val.txt'),
            [f'2008_{i + 1:06d}' for i in range(NUM_SAMPLES)])
    if name in ('pascal-context-59', 'pascal-context-459'):
        # An image without PC annotation, as in the real JPEGImages folder.
        _image(osp.join(root, 'JPEGImages', '2010_999999.jpg'), _rng(name, 99))
    if name in ('voc-20', 'voc-20b'):
        _split_file(
            osp.join(root, 'ImageSets', 'Segmentation', 'val.txt'),
            [f'2007_{i + 1:06d}' for i in range(NUM_SAMPLES)])
        _image(osp.join(root, 'JPEGImages', '2012_999999.jpg'), _rng(name, 99))


def write_tiny_datasets(base_dir: str,
                        names: Iterable[str] = DATASET_NAMES
                        ) -> Dict[str, str]:
    """Write several tiny datasets under ``base_dir``; return name -> root."""
    roots = {}
    for name in names:
        roots[name] = osp.join(str(base_dir), name)
        write_tiny_dataset(name, roots[name])
    return roots


def num_val_samples(name: str) -> int:
    if name == 'synthetic':
        return SYNTHETIC_COUNTS['num_val']
    return NUM_SAMPLES
