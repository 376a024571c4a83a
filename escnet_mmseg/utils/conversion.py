"""Helpers shared by the dataset converters in ``tools/dataset_converters``."""
import argparse
import os
import os.path as osp
from typing import Callable, Iterable, List, Sequence

from mmengine.utils import track_parallel_progress, track_progress

from .errors import UserError, require_file  # noqa: F401


class ConversionError(UserError):
    """A problem with the input data, reported without a traceback."""


def add_common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        '--nproc',
        type=int,
        default=8,
        help='number of worker processes (1: no multiprocessing)')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace output files that already exist (by default the '
        'converter stops before writing anything if one exists)')


def require_dir(path: str, what: str) -> None:
    if not osp.isdir(path):
        raise ConversionError(f'{what} not found: {path}')


def check_outputs(paths: Sequence[str], overwrite: bool) -> None:
    """Refuse to replace existing outputs unless ``overwrite``."""
    if overwrite:
        return
    existing = [p for p in paths if osp.exists(p)]
    if existing:
        raise ConversionError(
            f'{len(existing)} of {len(paths)} output files already exist '
            f'(e.g. {existing[0]}); pass --overwrite to replace them')


def make_parent_dirs(paths: Iterable[str]) -> None:
    for d in sorted({osp.dirname(p) for p in paths}):
        os.makedirs(d, exist_ok=True)


def run_tasks(func: Callable, tasks: List, nproc: int) -> List:
    """``func`` over ``tasks`` with a progress bar, in ``nproc`` processes."""
    if not tasks:
        return []
    if nproc > 1 and len(tasks) > 1:
        return track_parallel_progress(
            func, tasks, nproc=min(nproc, len(tasks)))
    return track_progress(func, tasks)
