"""The class-name rule: how a vocabulary is checked and its synonyms split.

A class name may list synonyms separated by commas, with or without spaces:
``"wall, walls"`` (CAT-Seg's lists) and ``"wall,walls"`` name the same class.
The text encoder, the inference API, the tools and the datasets all use the
functions here, so a name means the same everywhere.
"""
from typing import List, Optional, Sequence, Tuple

SYNONYM_SEPARATOR = ','
_SYNONYM_HELP = 'synonyms are separated by commas, e.g. "wall, walls"'


def split_synonyms(name: str) -> List[str]:
    """The synonyms of a class name, stripped of surrounding whitespace.

    ``'wall, walls'`` and ``'wall,walls'`` -> ``['wall', 'walls']``;
    ``'traffic light'`` -> ``['traffic light']``.

    Args:
        name (str): A class name.

    Returns:
        list[str]: Its synonyms, in order (at least one).

    Raises:
        ValueError: A synonym is empty (e.g. ``'wall,'``), naming the class.
    """
    words = [w.strip() for w in name.split(SYNONYM_SEPARATOR)]
    if not all(words):
        raise ValueError(f'class "{name}" has an empty synonym '
                         f'({_SYNONYM_HELP})')
    return words


def primary_name(name: str) -> str:
    """``'person, people'`` -> ``'person'``: the first synonym.

    Args:
        name (str): A class name.

    Returns:
        str: Its first synonym.
    """
    return split_synonyms(name)[0]


def normalize_class_name(name: str) -> str:
    """The canonical spelling of a class name: synonyms joined by ``', '``.

    ``'wall,walls'`` and ``' wall ,  walls'`` -> ``'wall, walls'``.

    Args:
        name (str): A class name.

    Returns:
        str: The same class, spelled as CAT-Seg's lists spell it.
    """
    return ', '.join(split_synonyms(name))


def validate_vocabulary(names: Sequence[str],
                        source: Optional[str] = None) -> Tuple[str, ...]:
    """Check a vocabulary and return it as a tuple (names unchanged).

    Args:
        names (Sequence[str]): The class names.
        source (str, optional): Where the names come from (e.g.
            ``'--classes'`` or a file), named in the errors. Defaults to None.

    Returns:
        tuple[str, ...]: ``names``.

    Raises:
        ValueError: empty vocabulary, a name that is not a non-empty string,
            an empty synonym, or the same class twice (compared without
            case and spacing; two logit maps for one class would make the
            argmax arbitrary).
    """
    where = f' in {source}' if source else ''
    if isinstance(names, str):
        raise ValueError(f'the vocabulary must be a list of class names, '
                         f'got the single string "{names}"')
    names = tuple(names)
    if not names:
        raise ValueError(f'the vocabulary (class names){where} is empty')
    keys = []
    for i, name in enumerate(names):
        if not isinstance(name, str) or not name.strip():
            what = ('an empty name'
                    if isinstance(name, str) else f'not a string ({name!r})')
            raise ValueError(f'class {i + 1}{where} is {what}; class names '
                             f'must be non-empty strings')
        try:
            keys.append(normalize_class_name(name).lower())
        except ValueError:
            raise ValueError(f'class {i + 1} "{name}"{where} has an empty '
                             f'synonym ({_SYNONYM_HELP})') from None
    seen, dups = set(), []
    for name, key in zip(names, keys):
        if key in seen:
            dups.append(name)
        seen.add(key)
    if dups:
        raise ValueError(f'duplicate class names in the vocabulary: {dups}' +
                         (f' (in {source})' if source else ''))
    return names


def normalize_vocabulary(names: Sequence[str],
                         source: Optional[str] = None) -> Tuple[str, ...]:
    """Check a vocabulary given by a user and spell every name canonically.

    ``['sky', 'wall,walls']`` -> ``('sky', 'wall, walls')``.

    Args:
        names (Sequence[str]): The class names.
        source (str, optional): Where the names come from, named in the
            errors. Defaults to None.

    Returns:
        tuple[str, ...]: The names, each as :func:`normalize_class_name`
            spells it.

    Raises:
        ValueError: as :func:`validate_vocabulary`.
    """
    return tuple(
        normalize_class_name(n) for n in validate_vocabulary(names, source))
