"""The images to segment: files, folders and glob patterns, their output
names, and reading them."""
import glob
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import numpy as np

from ..utils import UserError

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp',
                  '.ppm', '.pgm')


def _is_image(path: str) -> bool:
    return path.lower().endswith(IMAGE_SUFFIXES)


def _images_in(folder: str, skip: str) -> List[str]:
    """Image files under ``folder`` (sorted, recursive), not under
    ``skip``."""
    found = []
    if osp.abspath(folder) == skip:
        return found
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        # Never read our own outputs back (the output folder inside an
        # input folder).
        dirs[:] = [d for d in dirs if osp.abspath(osp.join(root, d)) != skip]
        found += [osp.join(root, f) for f in sorted(files) if _is_image(f)]
    return found


def _find(inputs: Sequence[str], skip: str) -> Dict[str, Tuple[str, str]]:
    """``{absolute path: (path as given, name with suffix)}``."""
    items: Dict[str, Tuple[str, str]] = {}

    def add(path: str, rel: str) -> None:
        items.setdefault(osp.abspath(path), (path, rel))

    for pattern in inputs:
        if osp.isdir(pattern):
            for path in _images_in(pattern, skip):
                add(path, osp.relpath(path, pattern))
        elif osp.isfile(pattern):
            add(pattern, osp.basename(pattern))
        elif glob.has_magic(pattern):
            matches = sorted(glob.glob(pattern, recursive=True))
            if not matches:
                raise UserError(f'no file matches {pattern}')
            for path in matches:
                found = _images_in(path, skip) if osp.isdir(path) else (
                    [path] if _is_image(path) else [])
                for p in found:
                    add(p, osp.basename(p))
        else:
            raise UserError(f'no such file or folder: {pattern}')
    return items


def collect_images(inputs: Sequence[str],
                   out_dir: str) -> List[Tuple[str, str]]:
    """Image paths and their output names (without suffix).

    A file is named after its file name, an image found in a folder after
    its path inside that folder. When two images would get the same name,
    every image is named after its path relative to the inputs' common
    folder (``a/x.jpg`` and ``b/x.jpg`` -> ``a/x``, ``b/x``); images that
    differ only in their suffix keep it (``x_jpg``, ``x_png``). Images in
    ``out_dir`` are never inputs.

    Args:
        inputs (Sequence[str]): Image files, folders (searched recursively
            for :data:`IMAGE_SUFFIXES`) or glob patterns.
        out_dir (str): The output folder.

    Returns:
        list[tuple[str, str]]: ``(path, name)`` pairs, sorted.

    Raises:
        UserError: An input that does not exist, or no image at all.
    """
    items = _find(inputs, osp.abspath(out_dir))
    if not items:
        raise UserError(f'no images ({", ".join(IMAGE_SUFFIXES)}) found in '
                        f'{" ".join(inputs)}')
    names = {a: osp.splitext(rel)[0] for a, (_, rel) in items.items()}
    if len(set(names.values())) < len(names):
        root = osp.commonpath([osp.dirname(a) for a in items])
        names = {a: osp.splitext(osp.relpath(a, root))[0] for a in items}
    if len(set(names.values())) < len(names):
        names = {a: n + '_' + osp.splitext(a)[1][1:] for a, n in names.items()}
    return sorted((items[a][0], n) for a, n in names.items())


def read_image(path: str) -> np.ndarray:
    """An image file as BGR uint8 (H, W, 3); grayscale and RGBA are
    converted.

    Args:
        path (str): The file.

    Returns:
        np.ndarray: The image.

    Raises:
        UserError: The file cannot be read or is not an image.
    """
    import mmcv
    try:
        image = mmcv.imread(path, flag='color')
    except Exception as e:  # noqa: BLE001  any decoder error
        raise UserError(f'cannot read {path}: {e}') from None
    if image is None:
        raise UserError(f'{path} is not an image (or it is damaged)')
    return image


def to_rgb(image: np.ndarray) -> np.ndarray:
    """An uploaded array (H, W), (H, W, 3) or (H, W, 4) as RGB uint8.

    Args:
        image (np.ndarray): Grey, RGB or RGBA values.

    Returns:
        np.ndarray: (H, W, 3) uint8, C-contiguous.
    """
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    image = image[..., :3]
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(image)
