"""Class names typed by a user: on the command line, in a file, on a page.

Every source goes through the package's one class-name rule
(:func:`escnet_mmseg.utils.normalize_vocabulary`); a bad vocabulary is a
:class:`~escnet_mmseg.utils.UserError` naming where it came from.
"""
from typing import List, Optional, Sequence

from ..utils import UserError, normalize_vocabulary, require_file


def check_class_names(names: Sequence[str], source: str) -> List[str]:
    """Validate a vocabulary given by the user, each name spelled
    canonically (``"wall,walls"`` -> ``"wall, walls"``).

    Args:
        names (Sequence[str]): The class names.
        source (str): Where they come from (``'--classes'``, a file name),
            named in the errors.

    Returns:
        list[str]: The names.

    Raises:
        UserError: No names, an empty name or synonym, or a duplicate.
    """
    try:
        return list(normalize_vocabulary(names, source))
    except ValueError as e:
        raise UserError(str(e)) from None


def read_class_file(path: str) -> List[str]:
    """The vocabulary of a text file: one class per line, empty lines
    skipped.

    Args:
        path (str): The file.

    Returns:
        list[str]: The names, checked by :func:`check_class_names`.

    Raises:
        UserError: A missing, unreadable or empty file, or bad names.
    """
    require_file(path, 'class file')
    try:
        with open(path, encoding='utf-8') as f:
            names = [line.strip() for line in f]
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f'cannot read the class file {path}: {e}') from None
    names = [name for name in names if name]
    if not names:
        raise UserError(f'the class file {path} has no class names')
    return check_class_names(names, path)


def read_vocabulary(classes: Optional[Sequence[str]] = None,
                    classes_file: Optional[str] = None) -> Optional[List[str]]:
    """The vocabulary of ``--classes`` or ``--classes-file``.

    Args:
        classes (Sequence[str], optional): Class names. Defaults to None.
        classes_file (str, optional): A file of class names (used when
            ``classes`` is None). Defaults to None.

    Returns:
        list[str] or None: The names; None when neither is given (the
            checkpoint's classes).

    Raises:
        UserError: As :func:`check_class_names`, :func:`read_class_file`.
    """
    if classes is not None:
        return check_class_names(classes, '--classes')
    return None if classes_file is None else read_class_file(classes_file)


def parse_class_text(text: Optional[str]) -> List[str]:
    """Names typed in a text box, one per line or separated by ``;``.

    ``"cat\\nwall,walls; floor"`` -> ``['cat', 'wall, walls', 'floor']``.

    Args:
        text (str, optional): What was typed.

    Returns:
        list[str]: The names, checked by :func:`check_class_names`.

    Raises:
        UserError: No names, an empty synonym or a duplicate.
    """
    names = [
        name.strip() for line in (text or '').splitlines()
        for name in line.split(';')
    ]
    names = [name for name in names if name]
    if not names:
        raise UserError('type at least one class name')
    return check_class_names(names, 'the class names')
