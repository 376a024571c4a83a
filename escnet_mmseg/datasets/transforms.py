"""Data transforms that MMSeg lacks."""
import mmcv
import mmengine.fileio as fileio
import numpy as np
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadSegAnnotations16(LoadAnnotations):
    """Load a semantic label map without narrowing its integer type.

    MMSeg's ``LoadAnnotations`` casts every label map to ``uint8``, which
    silently wraps the 16-bit labels of A-847 (0..846) and PC-459 (0..458)
    and their ignore value 65535. This transform keeps ``uint8`` maps as
    ``uint8`` and ``uint16`` maps (e.g. 16-bit TIFF/PNG) as ``uint16``;
    ``PackSegInputs`` later turns either into ``int64``.

    Differences from ``LoadAnnotations``:

    * ``reduce_zero_label`` maps 0 to the largest value of the map's type
      (255 for ``uint8``, 65535 for ``uint16``) before subtracting one, so
      the "unlabelled" value of each type is kept.
    * If the data info carries ``num_classes`` and ``ignore_index`` (the
      datasets of this package add them) and ``check_range`` is true, a label
      map with a value that is neither a class id nor the ignore index raises
      a ``ValueError`` naming the file, instead of corrupting the metric.

    Args:
        reduce_zero_label (bool, optional): As in ``LoadAnnotations``;
            normally left to the dataset. Defaults to None.
        backend_args (dict, optional): File backend arguments. Defaults to
            None.
        imdecode_backend (str): ``mmcv.imfrombytes`` backend; ``'pillow'``
            (default) and ``'cv2'`` both decode 16-bit TIFF and PNG. Defaults
            to 'pillow'.
        check_range (bool): Validate label values (see above). Defaults to
            True.
    """

    def __init__(self,
                 reduce_zero_label=None,
                 backend_args=None,
                 imdecode_backend='pillow',
                 check_range=True) -> None:
        super().__init__(
            reduce_zero_label=reduce_zero_label,
            backend_args=backend_args,
            imdecode_backend=imdecode_backend)
        self.check_range = check_range

    @staticmethod
    def _as_label_array(gt: np.ndarray, path: str) -> np.ndarray:
        gt = np.squeeze(gt)
        if gt.ndim != 2:
            raise ValueError(
                f'{path}: expected a single-channel label map, got an array '
                f'of shape {gt.shape}')
        if gt.dtype.kind not in 'ui':
            raise ValueError(
                f'{path}: expected integer labels, got dtype {gt.dtype}')
        if gt.dtype.byteorder == '>':  # e.g. PIL mode "I;16B"
            gt = gt.astype(gt.dtype.newbyteorder('='))
        if gt.dtype in (np.uint8, np.uint16):
            return gt
        # Wider types (e.g. a 32-bit TIFF): keep them if they fit in 16 bits.
        lo, hi = int(gt.min()), int(gt.max())
        if lo < 0 or hi > 65535:
            raise ValueError(
                f'{path}: label values span [{lo}, {hi}], outside the '
                '16-bit range [0, 65535]')
        return gt.astype(np.uint8 if hi <= 255 else np.uint16)

    def _load_seg_map(self, results: dict) -> None:
        path = results['seg_map_path']
        img_bytes = fileio.get(path, backend_args=self.backend_args)
        gt = mmcv.imfrombytes(
            img_bytes, flag='unchanged', backend=self.imdecode_backend)
        if gt is None:
            raise ValueError(f'{path}: could not decode the label map')
        gt = self._as_label_array(gt, path)

        if self.reduce_zero_label is None:
            self.reduce_zero_label = results['reduce_zero_label']
        assert self.reduce_zero_label == results['reduce_zero_label'], \
            'Initialize dataset with `reduce_zero_label` as ' \
            f'{results["reduce_zero_label"]} but when load annotation ' \
            f'the `reduce_zero_label` is {self.reduce_zero_label}'
        if self.reduce_zero_label:
            empty = np.iinfo(gt.dtype).max
            gt = gt.copy()
            gt[gt == 0] = empty
            gt = gt - 1
            gt[gt == empty - 1] = empty

        label_map = results.get('label_map', None)
        if label_map:
            if max(label_map.values()) > np.iinfo(gt.dtype).max:
                gt = gt.astype(np.uint16)
            src = gt.copy()
            for old_id, new_id in label_map.items():
                gt[src == old_id] = new_id

        num_classes = results.get('num_classes', None)
        ignore_index = results.get('ignore_index', None)
        if self.check_range and num_classes is not None:
            bad = gt >= num_classes
            if ignore_index is not None:
                bad &= gt != ignore_index
            if bad.any():
                values = np.unique(gt[bad])
                raise ValueError(
                    f'{path}: label value(s) {values[:10].tolist()} are '
                    f'neither a class id in [0, {num_classes}) nor the '
                    f'ignore index {ignore_index}. The annotation does not '
                    'belong to this dataset or was converted wrongly (see '
                    'docs/dataset_prepare.md).')

        results['gt_seg_map'] = gt
        results['seg_fields'].append('gt_seg_map')

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'reduce_zero_label={self.reduce_zero_label}, '
                f"imdecode_backend='{self.imdecode_backend}', "
                f'backend_args={self.backend_args}, '
                f'check_range={self.check_range})')
