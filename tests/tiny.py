"""Tiny models and checkpoints in the real formats, for tests.

Nothing here downloads: CLIP and SAM checkpoints are written from randomly
initialised ``open_clip`` / ``segment_anything`` models with the same state
dict layout as the released files.
"""
import copy
import re
import zlib
from pathlib import Path
from typing import Optional, Tuple

import torch

REPO = Path(__file__).resolve().parents[1]
TINY_CONFIG = REPO / 'configs' / 'escnet' / 'escnet_tiny_synthetic.py'
# Names whose words differ, as the synthetic dataset's.
NAMES = ('sky', 'grass', 'circle', 'square', 'triangle', 'star')


def tiny_cfg():
    """The tiny synthetic config (mmengine Config)."""
    from mmengine import Config
    return Config.fromfile(str(TINY_CONFIG))


def tiny_model_cfg(**neck_overrides) -> dict:
    """Model part of the tiny config, as a plain dict."""
    model = copy.deepcopy(tiny_cfg().model.to_dict())
    model['neck'].update(neck_overrides)
    return model


def build_tiny_model(model_cfg: Optional[dict] = None,
                     vocabulary=NAMES,
                     seed: int = 0,
                     init: bool = True):
    """Build (and initialise) an ESCNet from a tiny model config."""
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules

    import escnet_mmseg  # noqa: F401  registers the modules
    register_all_modules(init_default_scope=True)
    torch.manual_seed(seed)
    model = MODELS.build(copy.deepcopy(model_cfg or tiny_model_cfg()))
    if init:
        model.init_weights()
    if vocabulary is not None:
        model.set_vocabulary(list(vocabulary))
    return model


def tiny_sam(dims: int = 32,
             heads: int = 2,
             mlp_dim: int = 64,
             grid: int = 8,
             seed: int = 1):
    """A randomly initialised ``segment_anything`` Sam with a tiny image
    encoder whose embedding grid is ``grid`` x ``grid`` (input 16*grid)."""
    from segment_anything.modeling import (ImageEncoderViT, MaskDecoder,
                                           PromptEncoder, Sam,
                                           TwoWayTransformer)
    torch.manual_seed(seed)
    sam = Sam(
        image_encoder=ImageEncoderViT(
            img_size=16 * grid,
            patch_size=16,
            embed_dim=16,
            depth=1,
            num_heads=1,
            out_chans=dims,
            window_size=0),
        prompt_encoder=PromptEncoder(
            embed_dim=dims,
            image_embedding_size=(grid, grid),
            input_image_size=(16 * grid, 16 * grid),
            mask_in_chans=16),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=3,
            transformer=TwoWayTransformer(
                depth=2, embedding_dim=dims, mlp_dim=mlp_dim, num_heads=heads),
            transformer_dim=dims,
            iou_head_depth=1,
            iou_head_hidden_dim=16))
    # SAM's released weights are trained: perturb the zero/one inits so a
    # wrongly loaded (default-initialised) layer cannot match by accident.
    with torch.no_grad():
        for p in sam.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return sam.eval()


def write_sam_checkpoint(path: Path, sam) -> Path:
    """``torch.save`` of the state dict, as ``sam_vit_b_01ec64.pth`` is."""
    torch.save(sam.state_dict(), path)
    return path


def tiny_open_clip(model_cfg: dict, seed: int = 2):
    """An open_clip CLIP built from a tiny config dict."""
    import open_clip
    torch.manual_seed(seed)
    cfg = copy.deepcopy(model_cfg)
    return open_clip.model.CLIP(**cfg).eval()


def load_tiny_backbone(model_cfg: dict, path, **kwargs):
    """A :class:`CLIPBackbone` of ``model_cfg`` loaded from the open_clip
    state-dict file ``path`` (by ``init_weights``, as in training), in eval
    mode; skips from blocks (1, 2) unless ``out_indices`` is given."""
    from escnet_mmseg.models import CLIPBackbone
    kwargs.setdefault('out_indices', (1, 2))
    backbone = CLIPBackbone(
        model_cfg=model_cfg, pretrained=str(path), quick_gelu=False, **kwargs)
    backbone.init_weights()
    return backbone.eval()


def write_tiny_weights(folder: Path) -> Tuple[str, str]:
    """Tiny CLIP (open_clip state dict) and SAM checkpoints for the tiny
    config, written into ``folder``; returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    clip = tiny_open_clip(tiny_model_cfg()['backbone']['model_cfg'])
    clip_path = folder / 'clip_tiny.pt'
    torch.save(clip.state_dict(), clip_path)
    sam_path = write_sam_checkpoint(folder / 'sam_tiny.pth', tiny_sam())
    return str(clip_path), str(sam_path)


# Parameters loaded from the CLIP and SAM files (everything else is new).
PRETRAINED_PARAMS = re.compile(r'^(backbone\.clip\.|neck\.prompt_encoder\.|'
                               r'neck\.blocks\.\d+\.sam_block\.layer\.)')


@torch.no_grad()
def name_seeded_init_(model: torch.nn.Module, seed: int = 0) -> None:
    """Fill the parameters not loaded from CLIP/SAM from their names.

    Every value depends on the parameter's name and shape only, not on the
    order modules are built in, so a refactor that builds the same layers in
    another order keeps the same weights. Matrices get ``N(0, 1/fan_in)``,
    norm scales ``1 + N(0, 0.01)``, other vectors ``N(0, 0.01)``.
    """
    for name, p in model.named_parameters():
        if PRETRAINED_PARAMS.match(name):
            continue
        g = torch.Generator().manual_seed(
            zlib.crc32(f'{seed}:{name}'.encode()))
        noise = torch.randn(p.shape, generator=g)
        if p.dim() >= 2:
            p.copy_(noise * p[0].numel()**-0.5)
        elif name.endswith('weight'):
            p.copy_(1 + 0.1 * noise)
        else:
            p.copy_(0.1 * noise)
