"""Validation of a vocabulary (the class names a user or a dataset gives)."""
from typing import Sequence, Tuple


def validate_vocabulary(names: Sequence[str]) -> Tuple[str, ...]:
    """Check a vocabulary and return it as a tuple.

    Raises:
        ValueError: empty vocabulary, a name that is not a non-empty string,
            or the same name twice (two logit maps for one class would make
            the argmax arbitrary).
    """
    if isinstance(names, str):
        raise ValueError(f'the vocabulary must be a list of class names, '
                         f'got the single string "{names}"')
    names = tuple(names)
    if not names:
        raise ValueError('the vocabulary (class names) is empty')
    bad = [n for n in names if not isinstance(n, str) or not n.strip()]
    if bad:
        raise ValueError(f'class names must be non-empty strings, got {bad}')
    seen, dups = set(), []
    for n in names:
        key = n.strip().lower()
        if key in seen:
            dups.append(n)
        seen.add(key)
    if dups:
        raise ValueError(f'duplicate class names in the vocabulary: {dups}')
    return names
