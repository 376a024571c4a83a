"""MMSeg's inferencer with a free vocabulary."""
from typing import Optional, Sequence, Union

from mmseg.apis import MMSegInferencer
from mmseg.utils import get_classes

from ..datasets.base import make_palette
from ..models.text_encoder import validate_vocabulary


class OpenVocabInferencer(MMSegInferencer):
    """:class:`mmseg.apis.MMSegInferencer` that segments with your class names.

    Example:
        >>> inferencer = OpenVocabInferencer(
        ...     'configs/escnet/escnet_vitl14_coco-stuff.py',
        ...     weights='work_dirs/escnet_vitl14_coco-stuff/iter_80000.pth',
        ...     classes=['cat', 'sofa', 'wall, walls', 'floor'])
        >>> result = inferencer('demo.jpg', out_dir='outputs')

    Args:
        model: Config path / Config of an ESC-Net model.
        weights: Trained checkpoint.
        classes: Class names (a name with synonyms is ``"wall, walls"``) or
            the name of a dataset known to MMSeg (e.g. ``'ade'``). None keeps
            the classes stored in the checkpoint.
        palette: One RGB colour per class; generated when None.
        device: Device, e.g. ``'cuda:0'`` or ``'cpu'``.
    """

    def __init__(self,
                 model,
                 weights: Optional[str] = None,
                 classes: Optional[Union[str, Sequence[str]]] = None,
                 palette: Optional[Sequence[Sequence[int]]] = None,
                 device: Optional[str] = None,
                 scope: Optional[str] = 'mmseg') -> None:
        super().__init__(model=model, weights=weights, device=device,
                         scope=scope)
        if classes is None:
            classes = self.model.dataset_meta['classes']
            palette = palette or self.model.dataset_meta.get('palette')
        self.set_vocabulary(classes, palette)

    def set_vocabulary(self,
                       classes: Union[str, Sequence[str]],
                       palette: Optional[Sequence[Sequence[int]]] = None) -> None:
        """Switch to another list of class names."""
        if isinstance(classes, str):
            classes = get_classes(classes)
        classes = list(validate_vocabulary(classes))
        palette = [list(c) for c in palette] if palette else make_palette(
            len(classes), seed=len(classes))
        if len(palette) != len(classes):
            raise ValueError(f'{len(classes)} classes but {len(palette)} '
                             f'palette colours')
        self.model.set_vocabulary(classes)
        self.model.dataset_meta = dict(classes=classes, palette=palette)
        self.visualizer.set_dataset_meta(classes, palette)

    def _init_pipeline(self, cfg):
        # Drop every annotation loader (ours too), not only MMSeg's.
        pipeline_cfg = cfg.test_dataloader.dataset.pipeline
        cfg.test_dataloader.dataset.pipeline = [
            t for t in pipeline_cfg if 'Annotation' not in t['type']
        ]
        return super()._init_pipeline(cfg)
