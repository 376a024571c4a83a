"""How photographs are segmented: the published 5-view protocol by default.

A training config tests in ``mode='whole'``: every image, whatever its size
and aspect, is squashed to the CLIP input (384 x 384 for ViT-B/16, 336 x 336
for ViT-L/14). The published numbers use CAT-Seg's ``slide_global`` protocol
instead (the image resized to 640 x 640, 2 x 2 windows of 384 at stride 256
plus a global view: 5 views). :func:`apply_test_mode` makes the inferencers
and tools segment photos the way the model was evaluated, whatever the
config they are given.
"""
from typing import Optional

from mmengine.config import Config

# CAT-Seg's evaluation layout, as in
# configs/_base_/models/escnet_{vitb16,vitl14}_catseg-eval.py.
PROTOCOL_TEST_CFG = dict(
    mode='slide_global',
    out_size=(640, 640),
    crop_size=(384, 384),
    stride=(256, 256),
    global_view=True)
# 'config': the config's own ``model.test_cfg``, unchanged.
TEST_MODES = ('slide_global', 'whole', 'config')
DEFAULT_TEST_MODE = 'slide_global'


def apply_test_mode(cfg: Config,
                    test_mode: Optional[str] = DEFAULT_TEST_MODE,
                    cfg_options: Optional[dict] = None) -> Config:
    """Set the inference mode of ``cfg.model.test_cfg`` in place.

    The other keys of ``test_cfg`` (``class_chunk_size``, ``max_classes``)
    are kept; so is the window layout of a config that already uses
    ``slide_global`` (the benchmark configs). ``cfg_options`` are merged
    last, so an explicit override (``model.test_cfg.out_size=...``) wins.

    Args:
        cfg (Config): A model config (with ``model.test_cfg`` or not).
        test_mode (str, optional): ``'slide_global'`` (the published 5-view
            protocol), ``'whole'`` (one view, 5x less image-side work) or
            ``'config'`` / None (the config's own test mode). Defaults to
            ``'slide_global'``.
        cfg_options (dict, optional): Overrides, as MMSeg's
            ``--cfg-options``. Defaults to None.

    Returns:
        Config: ``cfg`` itself.

    Raises:
        ValueError: An unknown ``test_mode``.
    """
    test_mode = test_mode or 'config'
    if test_mode not in TEST_MODES:
        raise ValueError(f'unknown test mode {test_mode!r}; one of '
                         f'{", ".join(TEST_MODES)}')
    if test_mode != 'config':
        test_cfg = dict(cfg.model.get('test_cfg') or {})
        if test_mode == 'whole':
            test_cfg['mode'] = 'whole'
        elif test_cfg.get('mode') != 'slide_global':
            test_cfg.update(PROTOCOL_TEST_CFG)
        cfg.model['test_cfg'] = test_cfg
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg
