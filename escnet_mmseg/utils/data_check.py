"""Check that a config's dataset folders exist before a run starts.

Without this a missing dataset ends in a ``FileNotFoundError`` traceback from
deep inside MMSeg's dataset scanning, after the model was built.
"""
import os.path as osp
from typing import Iterator, Mapping

from .errors import UserError

DATASET_DOC = 'docs/dataset_prepare.md'


class DatasetNotFoundError(UserError, FileNotFoundError):
    """A dataset folder or annotation file of the config does not exist."""


def _datasets(cfg: Mapping) -> Iterator[Mapping]:
    # ConcatDataset has `datasets`, RepeatDataset/ClassBalanced `dataset`.
    if 'datasets' in cfg:
        for sub in cfg['datasets']:
            yield from _datasets(sub)
    elif isinstance(cfg.get('dataset'), Mapping):
        yield from _datasets(cfg['dataset'])
    else:
        yield cfg


def _is_remote(path: str) -> bool:
    return '://' in path  # s3://, petrel://, http(s)://: not checked


def check_dataset_folders(dataset_cfg: Mapping, split: str = 'test') -> None:
    """Raise if a folder (or annotation file) of a dataset config is missing.

    Args:
        dataset_cfg (Mapping): ``cfg.<split>_dataloader.dataset``.
        split (str): Named in the message (``'train'``, ``'val'``, ``'test'``).
            Defaults to 'test'.

    Raises:
        DatasetNotFoundError: Names the missing path and points to
            ``docs/dataset_prepare.md``.
    """
    for cfg in _datasets(dataset_cfg):
        root = cfg.get('data_root') or ''
        paths = [root] if root else []
        prefix = cfg.get('data_prefix') or {}
        paths += [osp.join(root, p) for p in prefix.values() if p]
        ann_file = cfg.get('ann_file') or ''
        for path in paths:
            if not _is_remote(path) and not osp.isdir(path):
                raise DatasetNotFoundError(_message(cfg, split, path))
        if ann_file:
            path = osp.join(root, ann_file)
            if not _is_remote(path) and not osp.isfile(path):
                raise DatasetNotFoundError(_message(cfg, split, path))


def _message(cfg: Mapping, split: str, path: str) -> str:
    return (f'{split} dataset ({cfg.get("type", "?")}): {path} does not '
            f'exist. Prepare the data as described in {DATASET_DOC}, or '
            f'point the config at it, e.g. --cfg-options '
            f'{split}_dataloader.dataset.data_root=/path/to/data')
