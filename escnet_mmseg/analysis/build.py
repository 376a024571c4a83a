"""The measured model: a config's model with random weights, its
vocabulary and inputs.

Nothing is downloaded or read: ``pretrained`` and ``sam_checkpoint`` are
cleared. Parameter counts, FLOPs and memory do not depend on the weights,
and times only through the foreground pixels the PPG clusters.
"""
import logging
import warnings
from contextlib import contextmanager
from typing import Iterator, List, Optional

import torch
from torch import nn


@contextmanager
def quiet_mmengine() -> Iterator[None]:
    """Import the MMSeg stack and hide MMEngine's INFO lines (one per
    parameter from ``init_weights``) and the deprecation warnings of the
    stack's imports: the measurement is the output."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        warnings.simplefilter('ignore', UserWarning)
        # escnet_mmseg first: with mmcv-lite its stand-in for mmcv's
        # compiled ops must be in place before MMSeg imports mmcv.ops.
        import escnet_mmseg  # noqa: F401, I001  isort:skip
        from mmengine.logging import MMLogger
        logger = MMLogger.get_instance('mmengine')
        level = logger.level
        logger.setLevel(logging.WARNING)
        try:
            yield
        finally:
            logger.setLevel(level)


def build_random_model(config: str,
                       cfg_options: Optional[dict] = None,
                       device: Optional[str] = None) -> nn.Module:
    """Build a config's model with random weights.

    Args:
        config (str): Config file.
        cfg_options (dict, optional): Keys merged into the config, e.g.
            ``{'model.test_cfg.class_chunk_size': 32}``. Defaults to None.
        device (str, optional): ``'meta'`` builds without memory (parameter
            counts); otherwise the model is built and initialised on the CPU.
            Defaults to None.

    Returns:
        nn.Module: The model.
    """
    with quiet_mmengine():
        from mmengine import Config
        from mmseg.registry import MODELS
        from mmseg.utils import register_all_modules
        register_all_modules()
        cfg = Config.fromfile(config)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        cfg.model.backbone.pretrained = None
        cfg.model.neck.sam_checkpoint = None
        if device == 'meta':
            with torch.device('meta'):
                return MODELS.build(cfg.model)
        model = MODELS.build(cfg.model)
        model.init_weights()
    return model


def class_names(num_classes: int) -> List[str]:
    """A vocabulary of ``num_classes`` distinct names."""
    return [f'class {i}' for i in range(num_classes)]


def image_meta(height: int, width: int) -> dict:
    """Meta info of one unpadded ``height`` x ``width`` image."""
    size = (height, width)
    return dict(
        img_shape=size, ori_shape=size, pad_shape=size, padding_size=[0] * 4)


def set_threads(threads: Optional[int]) -> None:
    """torch's CPU threads (None: torch's default)."""
    if threads:
        torch.set_num_threads(threads)
