"""Parameters per part of a config's model (built on the meta device, so
even ViT-L needs no memory)."""
import os.path as osp
from typing import Dict, Optional

from .build import build_random_model


def count_params(config: str,
                 cfg_options: Optional[dict] = None) -> Dict[str, float]:
    """Parameters per part, millions.

    Args:
        config (str): Config file.
        cfg_options (dict, optional): Keys merged into the config. Defaults to
            None.

    Returns:
        dict: ``clip_image``, ``clip_text``, ``esc_blocks``, ``decoder``,
        ``total`` and ``trainable``.
    """
    model = build_random_model(config, cfg_options, device='meta')
    parts = dict(
        clip_image=list(model.backbone.clip.visual.parameters()),
        clip_text=list(model.backbone.text_parameters()),
        esc_blocks=list(model.neck.parameters()),
        decoder=list(model.decode_head.parameters()))
    out = {
        name: sum(p.numel() for p in params) / 1e6
        for name, params in parts.items()
    }
    out['total'] = sum(p.numel() for p in model.parameters()) / 1e6
    out['trainable'] = sum(
        p.numel() for p in model.parameters() if p.requires_grad) / 1e6
    return out


def format_params(config: str, counts: Dict[str, float]) -> str:
    """:func:`count_params`' result, one part a line."""
    return '\n'.join([osp.basename(config)] +
                     [f'  {k:<12}{v:10.1f} M' for k, v in counts.items()])
