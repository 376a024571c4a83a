"""The one error type of a user's mistake, reported as one line.

A tool stops with ``error: <message>`` and exit status 1 (see
:func:`escnet_mmseg.utils.cli.run_tool`) when what the user gave cannot be
used: a missing file, a bad class name, an output that would be replaced.
The more specific errors of the package (:class:`CheckpointError`,
:class:`DatasetNotFoundError`, :class:`ConversionError`) are kinds of it.
"""
import os.path as osp


class UserError(Exception):
    """A problem with the user's input; the message names it (and the file,
    option or name concerned) and is shown as it is, without a traceback."""


def require_file(path: str, what: str) -> None:
    """Refuse a path that is not a file.

    Args:
        path (str): The path the user gave.
        what (str): What it should be (``'config file'``).

    Raises:
        UserError: ``<what> not found: <path>``.
    """
    if not osp.isfile(path):
        raise UserError(f'{what} not found: {path}')
