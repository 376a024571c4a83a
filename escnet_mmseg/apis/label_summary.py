"""What a label map holds: the classes present, largest first."""
from typing import Sequence

import numpy as np


def summarize(labels: np.ndarray, classes: Sequence[str]) -> dict:
    """The classes present in ``labels`` with their pixel count and share.

    Args:
        labels (np.ndarray): (H, W) class indices into ``classes``.
        classes (Sequence[str]): The vocabulary.

    Returns:
        dict: ``height``, ``width``, ``classes`` (the vocabulary) and
            ``present``: ``id``, ``name``, ``pixels``, ``share`` per class
            present, largest first (ties in vocabulary order).
    """
    counts = np.bincount(labels.ravel(), minlength=len(classes))
    total = int(labels.size)
    present = [
        dict(
            id=int(i),
            name=classes[i],
            pixels=int(counts[i]),
            share=round(float(counts[i]) / total, 6))
        for i in np.argsort(-counts, kind='stable') if counts[i] > 0
    ]
    return dict(
        height=int(labels.shape[0]),
        width=int(labels.shape[1]),
        classes=list(classes),
        present=present)
