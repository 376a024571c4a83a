"""``init_model`` that loads strictly and safely, and vocabulary switching.

MMSeg's ``mmseg.apis.init_model`` also builds ESC-Net models (its
``inference_model`` and ``show_result_pyplot`` then work on them), but it
unpickles the checkpoint with full pickle and loads it non-strictly. This
``init_model`` takes the same arguments and refuses a checkpoint that does not
fit or needs code to be unpickled (see
:func:`escnet_mmseg.utils.load_checkpoint_strict`).
"""
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from torch import nn

from ..datasets.base import make_palette
from ..utils import load_checkpoint_strict
from ..utils.vocabulary import normalize_vocabulary

Palette = Sequence[Sequence[int]]


def init_model(config: Union[str, Path, Config],
               checkpoint: str,
               device: Optional[str] = None,
               cfg_options: Optional[dict] = None,
               trust_checkpoint: bool = False) -> nn.Module:
    """Build a segmentor from a config and load a trained checkpoint.

    Same as ``mmseg.apis.init_model`` (the result works with MMSeg's
    ``inference_model`` / ``show_result_pyplot``) except for the loading.

    Args:
        config (str or Path or Config): Config file or object.
        checkpoint (str): Trained checkpoint; its ``meta.dataset_meta`` classes
            are the vocabulary until :func:`set_vocabulary` changes it.
        device (str, optional): ``'cuda:0'``, ``'cpu'``, ...; None: CUDA when
            available. Defaults to None.
        cfg_options (dict, optional): Config overrides. Defaults to None.
        trust_checkpoint (bool): Unpickle the file fully (runs code from it).
            Defaults to False.

    Raises:
        CheckpointError: The checkpoint is unreadable, does not fit the
            model, or (unless trusted) holds a type that could run code.
    """
    from mmseg.registry import MODELS
    if isinstance(config, (str, Path)):
        config = Config.fromfile(str(config))
    elif not isinstance(config, Config):
        raise TypeError(f'config must be a filename or Config object, but '
                        f'got {type(config)}')
    if cfg_options is not None:
        config.merge_from_dict(cfg_options)
    config.model.pretrained = None
    config.model.train_cfg = None
    init_default_scope(config.get('default_scope', 'mmseg'))
    model = MODELS.build(config.model)
    load_checkpoint_strict(model, checkpoint, trust=trust_checkpoint)
    model.cfg = config
    if device is None:
        device = 'cuda:0' if torch.cuda.is_available() else 'cpu'
    return model.to(device).eval()


def set_vocabulary(
        model: nn.Module,
        classes: Sequence[str],
        palette: Optional[Palette] = None
) -> Tuple[List[str], List[List[int]]]:
    """Make ``model`` segment ``classes`` and paint them with ``palette``.

    Sets the model's vocabulary and its ``dataset_meta`` (which MMSeg's
    ``show_result_pyplot`` and visualizers read), so both stay in step.

    Args:
        model (Module): An ESC-Net model (e.g. from ``init_model``).
        classes (Sequence[str]): Class names; ``"wall, walls"`` (or
            ``"wall,walls"``) gives synonyms. Each name is kept as
            :func:`~escnet_mmseg.utils.normalize_class_name` spells it.
        palette (Palette, optional): One RGB colour per class; generated when
            None. Defaults to None.

    Returns:
        tuple[list[str], list[list[int]]]: The classes and the palette, as
            lists.

    Raises:
        ValueError: Invalid or duplicate names, an empty synonym, or a
            palette of another length.
    """
    classes = list(normalize_vocabulary(classes))
    palette = [list(c) for c in palette] if palette else make_palette(
        len(classes), seed=len(classes))
    if len(palette) != len(classes):
        raise ValueError(f'{len(classes)} classes but {len(palette)} '
                         f'palette colours')
    model.set_vocabulary(classes)
    model.dataset_meta = dict(classes=classes, palette=palette)
    return classes, palette
