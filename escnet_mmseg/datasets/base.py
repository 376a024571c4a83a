"""Shared behaviour of the dataset classes of this package.

MMSeg's :class:`~mmseg.datasets.BaseSegDataset` assumes 8-bit labels: custom
class subsets map dropped classes to 255, and missing folders surface as a
bare ``FileNotFoundError`` from deep inside ``mmengine.fileio``.
:class:`WideLabelSegDataset` keeps MMSeg's behaviour and adds

* a configurable "dropped class" value (``LABEL_MAP_IGNORE``), so 16-bit label
  sets (A-847, PC-459) can use 65535;
* checks that name the missing folder / split file / annotation files;
* ``num_classes`` and ``ignore_index`` in every data info, which
  :class:`~escnet_mmseg.datasets.transforms.LoadSegAnnotations16` uses to
  reject label values outside ``[0, num_classes) ∪ {ignore_index}``;
* optionally (``list_from='ann'``) listing samples from the annotation folder,
  for layouts whose image folder holds more images than are annotated
  (PASCAL-Context's ``JPEGImages``).
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import mmengine.fileio as fileio
import numpy as np
from mmseg.datasets import BaseSegDataset

DOCS_HINT = 'see docs/dataset_prepare.md for how to download and convert it'


def make_palette(num_classes: int, seed: int) -> List[List[int]]:
    """A deterministic random palette (used for visualisation only)."""
    rng = np.random.RandomState(seed)
    return rng.randint(0, 256, size=(num_classes, 3)).tolist()


class WideLabelSegDataset(BaseSegDataset):
    """``BaseSegDataset`` with clear input errors and wide-label support.

    Args:
        list_from (str): ``'img'`` (MMSeg's behaviour: every image under
            ``data_prefix.img_path``) or ``'ann'`` (every annotation under
            ``data_prefix.seg_map_path``, with the image of the same stem).
            Only used when ``ann_file`` is empty. Defaults to 'img'.
        check_files (bool): Check that every listed image and annotation
            file exists when the dataset is built (one ``stat`` per file).
            Defaults to True.
        **kwargs (dict): Everything :class:`BaseSegDataset` accepts.
    """
    # Value given to the classes a custom ``metainfo['classes']`` drops.
    LABEL_MAP_IGNORE = 255

    def __init__(self,
                 *args,
                 list_from: str = 'img',
                 check_files: bool = True,
                 **kwargs) -> None:
        if list_from not in ('img', 'ann'):
            raise ValueError(
                f"list_from must be 'img' or 'ann', got {list_from!r}")
        self.list_from = list_from
        self.check_files = check_files
        super().__init__(*args, **kwargs)

    @classmethod
    def get_label_map(cls,
                      new_classes: Optional[Sequence] = None
                      ) -> Union[Dict, None]:
        """Same as MMSeg's, but dropped classes go to ``LABEL_MAP_IGNORE``."""
        old_classes = cls.METAINFO.get('classes', None)
        if (new_classes is None or old_classes is None
                or list(new_classes) == list(old_classes)):
            return None
        unknown = [c for c in new_classes if c not in old_classes]
        if unknown:
            raise ValueError(
                f'{cls.__name__}: classes {unknown} are not among the '
                f'{len(old_classes)} classes of the dataset (a custom '
                '`metainfo.classes` can only select a subset of them).')
        new_classes = list(new_classes)
        return {
            i: (new_classes.index(c)
                if c in new_classes else cls.LABEL_MAP_IGNORE)
            for i, c in enumerate(old_classes)
        }

    # ------------------------------------------------------------------
    @property
    def _local_files(self) -> bool:
        # The existence checks only make sense for local paths.
        args = self.backend_args or {}
        return args.get('backend',
                        'local') == 'local' and not args.get('path_mapping')

    def _require_dir(self, path: Optional[str], what: str) -> None:
        if not path or not self._local_files:
            return
        if not osp.isdir(path):
            raise FileNotFoundError(
                f'{type(self).__name__}: {what} folder {path!r} does not '
                f'exist (data_root={self.data_root!r}); {DOCS_HINT}.')

    def _list_from_ann_dir(self, img_dir: str, ann_dir: str) -> List[dict]:
        data_list = []
        n = len(self.seg_map_suffix)
        for seg in fileio.list_dir_or_file(
                dir_path=ann_dir,
                list_dir=False,
                suffix=self.seg_map_suffix,
                recursive=True,
                backend_args=self.backend_args):
            stem = seg[:-n]
            data_list.append(
                dict(
                    img_path=osp.join(img_dir, stem + self.img_suffix),
                    seg_map_path=osp.join(ann_dir, seg),
                    label_map=self.label_map,
                    reduce_zero_label=self.reduce_zero_label,
                    seg_fields=[]))
        return sorted(data_list, key=lambda x: x['img_path'])

    def load_data_list(self) -> List[dict]:
        img_dir = self.data_prefix.get('img_path', None)
        ann_dir = self.data_prefix.get('seg_map_path', None)
        self._require_dir(img_dir, 'image')
        self._require_dir(ann_dir, 'annotation')
        if self.ann_file and not osp.isdir(self.ann_file):
            if self._local_files and not osp.isfile(self.ann_file):
                raise FileNotFoundError(
                    f'{type(self).__name__}: split file {self.ann_file!r} '
                    f'does not exist; {DOCS_HINT}.')
            data_list = super().load_data_list()
            source = f'split file {self.ann_file!r}'
        elif self.list_from == 'ann':
            if not ann_dir:
                raise ValueError(
                    f"{type(self).__name__}: list_from='ann' needs "
                    'data_prefix.seg_map_path')
            data_list = self._list_from_ann_dir(img_dir, ann_dir)
            source = (f'annotation folder {ann_dir!r} '
                      f'(suffix {self.seg_map_suffix!r})')
        else:
            data_list = super().load_data_list()
            source = f'image folder {img_dir!r} (suffix {self.img_suffix!r})'
        if not data_list:
            raise FileNotFoundError(
                f'{type(self).__name__}: no samples found in {source}; '
                f'{DOCS_HINT}.')

        num_classes = len(self._metainfo['classes'])
        missing = []
        for info in data_list:
            info['num_classes'] = num_classes
            info['ignore_index'] = self.ignore_index
            if self.check_files and self._local_files:
                for key in ('img_path', 'seg_map_path'):
                    path = info.get(key)
                    if path is not None and not osp.isfile(path):
                        missing.append(path)
        if missing:
            shown = '\n  '.join(missing[:5])
            more = f'\n  ... and {len(missing) - 5} more' \
                if len(missing) > 5 else ''
            raise FileNotFoundError(
                f'{type(self).__name__}: {len(missing)} file(s) listed by '
                f'{source} are missing:\n  {shown}{more}\n{DOCS_HINT}.')
        return data_list


class TiffLabelSegDataset(WideLabelSegDataset):
    """16-bit TIFF label sets (A-847, PC-459): ``.jpg`` images, ``.tif``
    labels, class ids from 0, ``65535`` for unlabelled pixels."""
    LABEL_MAP_IGNORE = 65535

    def __init__(self,
                 img_suffix='.jpg',
                 seg_map_suffix='.tif',
                 reduce_zero_label=False,
                 ignore_index=65535,
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=reduce_zero_label,
            ignore_index=ignore_index,
            **kwargs)
