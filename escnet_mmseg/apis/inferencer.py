"""MMSeg's inferencer with a free vocabulary and strict, safe loading."""
from typing import Optional, Sequence, Union

from mmengine.config import Config
from mmseg.apis import MMSegInferencer
from mmseg.utils import get_classes
from torch import nn

from ..utils import CheckpointError, load_checkpoint_strict, read_checkpoint
from .inference import set_vocabulary
from .protocol import DEFAULT_TEST_MODE, apply_test_mode


class OpenVocabInferencer(MMSegInferencer):
    """:class:`mmseg.apis.MMSegInferencer` that segments with your class names.

    Example:
        >>> inferencer = OpenVocabInferencer(
        ...     'configs/escnet/escnet_vitl14_coco-stuff.py',
        ...     weights='work_dirs/escnet_vitl14_coco-stuff/iter_80000.pth',
        ...     classes=['cat', 'sofa', 'wall, walls', 'floor'])
        >>> result = inferencer('demo.jpg', out_dir='outputs')

    Args:
        model (str or Config): Config path / Config of an ESC-Net model.
        weights (str, optional): Trained checkpoint. Defaults to None.
        classes (str or Sequence[str], optional): Class names (a name with
            synonyms is ``"wall, walls"``) or the name of a dataset known to
            MMSeg (e.g. ``'ade'``). None keeps the classes stored in the
            checkpoint. Defaults to None.
        palette (Sequence[Sequence[int]], optional): One RGB colour per class;
            generated when None. Defaults to None.
        device (str, optional): Device, e.g. ``'cuda:0'`` or ``'cpu'``.
            Defaults to None.
        trust_checkpoint (bool): Unpickle ``weights`` fully (runs code from the
            file). By default only weights, metadata and MMEngine's training
            log are read, and a file needing anything else is refused. Defaults
            to False.
        test_mode (str, optional): ``'slide_global'``: the published 5-view
            protocol (see :func:`~escnet_mmseg.apis.apply_test_mode`), also
            with a training config; ``'whole'``: one view at the CLIP input
            size (faster); ``'config'`` or None: the config's
            ``model.test_cfg``. The label maps have the input's size in every
            mode. Defaults to ``'slide_global'``.
        cfg_options (dict, optional): Config overrides, applied after
            ``test_mode`` (as ``--cfg-options``). Defaults to None.

    Raises:
        CheckpointError: ``weights`` is unreadable, does not fit the model of
            the config, or (unless trusted) needs a type that could run code.
    """

    def __init__(self,
                 model,
                 weights: Optional[str] = None,
                 classes: Optional[Union[str, Sequence[str]]] = None,
                 palette: Optional[Sequence[Sequence[int]]] = None,
                 device: Optional[str] = None,
                 scope: Optional[str] = 'mmseg',
                 trust_checkpoint: bool = False,
                 test_mode: Optional[str] = DEFAULT_TEST_MODE,
                 cfg_options: Optional[dict] = None) -> None:
        self.trust_checkpoint = trust_checkpoint
        self.test_mode = test_mode
        self.cfg_options = cfg_options
        super().__init__(
            model=model, weights=weights, device=device, scope=scope)
        if classes is None:
            meta = getattr(self.model, 'dataset_meta', None) or {}
            if not meta.get('classes'):
                raise ValueError(
                    f'{weights} stores no class names (meta.dataset_meta); '
                    f'give classes=[...]')
            classes = meta['classes']
            palette = palette or meta.get('palette')
        self.set_vocabulary(classes, palette)

    def _init_model(self,
                    cfg: Config,
                    weights: Optional[str],
                    device: str = 'cpu') -> nn.Module:
        # MMEngine's version unpickles `weights` fully and loads it
        # non-strictly; this one reads it safely and refuses a mismatch.
        # `cfg` is changed in place: the pipeline is built from it next.
        if weights is None:  # MMSeg's behaviour: random weights, a warning
            apply_test_mode(cfg, self.test_mode, self.cfg_options)
            return super()._init_model(cfg, weights, device)
        from mmseg.registry import MODELS
        checkpoint = read_checkpoint(weights, self.trust_checkpoint)
        if not cfg:  # no config given: the one stored in the checkpoint
            cfg.update(
                Config.fromstring(
                    _stored_config(checkpoint, weights),
                    file_format='.py')._cfg_dict)
        apply_test_mode(cfg, self.test_mode, self.cfg_options)
        if cfg.model.get('pretrained') is not None:
            del cfg.model.pretrained
        model = MODELS.build(cfg.model)
        model.cfg = cfg
        load_checkpoint_strict(model, weights, checkpoint=checkpoint)
        model.to(device)
        model.eval()
        return model

    def __call__(self, inputs, return_datasamples: bool = False, **kwargs):
        """MMSeg's inferencer call. Data samples returned to the caller
        carry ``seg_logits`` (T, H, W) even where the config's
        ``test_cfg.return_logits`` leaves them out (the evaluation configs
        do); the label maps and pictures never need them."""
        test_cfg = self.model.test_cfg
        asked = test_cfg.get('return_logits', True)
        test_cfg['return_logits'] = asked or return_datasamples
        try:
            return super().__call__(
                inputs, return_datasamples=return_datasamples, **kwargs)
        finally:
            test_cfg['return_logits'] = asked

    def set_vocabulary(
            self,
            classes: Union[str, Sequence[str]],
            palette: Optional[Sequence[Sequence[int]]] = None) -> None:
        """Switch to another list of class names."""
        if isinstance(classes, str):
            classes = get_classes(classes)
        classes, palette = set_vocabulary(self.model, classes, palette)
        self.visualizer.set_dataset_meta(classes, palette)

    def _init_pipeline(self, cfg):
        # Drop every annotation loader (ours too), not only MMSeg's.
        pipeline_cfg = cfg.test_dataloader.dataset.pipeline
        cfg.test_dataloader.dataset.pipeline = [
            t for t in pipeline_cfg if 'Annotation' not in t['type']
        ]
        return super()._init_pipeline(cfg)


def _stored_config(checkpoint: dict, weights: str) -> str:
    """The config text MMEngine saves in a checkpoint."""
    try:
        return checkpoint['message_hub']['runtime_info']['cfg']
    except (KeyError, TypeError):
        pass
    cfg = (checkpoint.get('meta') or {}).get('cfg')
    if not cfg:
        raise CheckpointError(
            f'{weights} stores no config: give the config file as well')
    return cfg
