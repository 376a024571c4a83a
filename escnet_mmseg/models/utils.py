"""Small helpers shared by the model parts."""
from typing import List, Optional


def class_chunks(num_classes: int, chunk_size: Optional[int]) -> List[slice]:
    """Slices that split ``num_classes`` classes into chunks.

    Args:
        num_classes (int): T.
        chunk_size (int, optional): Classes per chunk; None means all at once.

    Raises:
        ValueError: ``chunk_size`` is smaller than 1.
    """
    if chunk_size is None:
        return [slice(0, num_classes)]
    if int(chunk_size) < 1:
        raise ValueError(f'class_chunk_size must be >= 1, got {chunk_size}')
    return [
        slice(i, min(i + chunk_size, num_classes))
        for i in range(0, num_classes, chunk_size)
    ]
