"""CLIP image and text towers (open_clip) as an MMSeg backbone."""
import copy
import os.path as osp
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from ..utils import load_into, load_state_dict_file
from .clip_attention import qkv_weights, separate_qkv

# 'attention': query and value projections of both towers (CAT-Seg's
# clip_finetune='attention'); keys, biases, out_proj and the rest frozen.
FINETUNE_MODES = ('none', 'attention', 'full')
# How the last visual block makes the dense tokens: 'dense' is CAT-Seg's
# value path (no token mixing), 'plain' the block's ordinary output.
LAST_BLOCK_MODES = ('dense', 'plain')


def _build_open_clip(model_name: Optional[str], model_cfg: Optional[dict],
                     image_size: Optional[int], quick_gelu: bool):
    """Create a randomly initialised open_clip ``CLIP``.

    Args:
        model_name (str, optional): An open_clip built-in name (exclusive with
            ``model_cfg``).
        model_cfg (dict, optional): An open_clip model config dict.
        image_size (int, optional): Overrides the config's input size.
        quick_gelu (bool): Use QuickGELU activations.
    """
    import open_clip

    if (model_name is None) == (model_cfg is None):
        raise ValueError('give exactly one of model_name (an open_clip '
                         'built-in such as "ViT-B-16") or model_cfg (a dict)')
    if model_name is not None:
        if model_name not in open_clip.list_models():
            raise ValueError(f'unknown open_clip model "{model_name}"')
        model_cfg = open_clip.get_model_config(model_name)
    cfg = copy.deepcopy(dict(model_cfg))
    if cfg.pop('custom_text', False):
        raise ValueError('CLIPBackbone supports CLIP models with the standard '
                         'text tower (no custom/HF text towers)')
    if image_size is not None:
        cfg['vision_cfg']['image_size'] = image_size
    cfg['quick_gelu'] = quick_gelu
    # Built directly (not open_clip.create_model) so it also works under a
    # meta-device context, e.g. to count ViT-L parameters without memory.
    return open_clip.model.CLIP(**cfg)


def dense_block_forward(block: nn.Module, x: Tensor) -> Tensor:
    """CAT-Seg's "dense" pass of an open_clip ``ResidualAttentionBlock``.

    The attention is replaced by its value path, so every output token
    depends on its own input token only (plus the input CLS token):
    ``v = out_proj(v_proj(ln_1(x)))``, ``v = x[CLS] + v``,
    ``v = v + mlp(ln_2(v))``. Layer-scales, when a model has them, scale the
    two branches as in the ordinary forward (CLIP's are ``Identity``).

    Args:
        block (Module): The block (``ln_1``, ``attn``, ``ls_1``, ``ln_2``,
            ``mlp``, ``ls_2``).
        x (Tensor): Block input (B, 1 + N, W), CLS token first.

    Returns:
        Tensor: (B, 1 + N, W) tokens.
    """
    attn = block.attn
    _, _, w_v = qkv_weights(attn)
    b_v = None if attn.in_proj_bias is None else attn.in_proj_bias.chunk(3)[2]
    v = F.linear(block.ln_1(x), w_v, b_v)
    v = F.linear(v, attn.out_proj.weight, attn.out_proj.bias)
    v = x[:, :1] + block.ls_1(v)
    return v + block.ls_2(block.mlp(block.ln_2(v)))


def resolve_clip_weights(model_name: Optional[str], pretrained: str) -> str:
    """Local path of ``pretrained``: a file as is, a tag such as ``'openai'``
    downloaded into open_clip's cache (needs network once)."""
    from open_clip.factory import download_pretrained, get_pretrained_cfg
    if osp.isfile(pretrained):
        return pretrained
    tag_cfg = get_pretrained_cfg(model_name, pretrained) if model_name else {}
    if not tag_cfg:
        raise FileNotFoundError(
            f'CLIP weights "{pretrained}" are neither a file nor a pretrained '
            f'tag of open_clip model "{model_name}"')
    return download_pretrained(tag_cfg)


def resize_pos_embed(state: Dict[str, Tensor], clip: nn.Module) -> None:
    """Resample the visual position grid of a state dict, as CAT-Seg does.

    The CLS position is kept; the ``S x S`` grid is resized to the model's
    grid by bicubic interpolation with ``align_corners=False`` and no
    antialiasing (CAT-Seg's ``resized_pos_embed``; open_clip's own
    ``resize_pos_embed`` antialiases, another kernel), in float32. Nothing
    changes when the sizes already match (ViT-L/14 at 336 px).

    Args:
        state (dict[str, Tensor]): open_clip state dict, modified in place.
        clip (nn.Module): The open_clip ``CLIP`` the state dict is for.
    """
    key = 'visual.positional_embedding'
    old = state.get(key)
    grid = tuple(clip.visual.grid_size)
    if old is None or old.shape[0] == grid[0] * grid[1] + 1:
        return
    side = int(round((old.shape[0] - 1)**0.5))
    if side * side != old.shape[0] - 1:
        raise ValueError(f'{key} of shape {tuple(old.shape)} is not a CLS '
                         'position plus a square grid')
    pos = old[1:].float().reshape(1, side, side, -1).permute(0, 3, 1, 2)
    pos = F.interpolate(pos, size=grid, mode='bicubic', align_corners=False)
    pos = pos[0].permute(1, 2, 0).reshape(grid[0] * grid[1], -1)
    state[key] = torch.cat([old[:1], pos.to(old.dtype)])


def load_clip_weights(clip: torch.nn.Module, path: str) -> None:
    """Load an open_clip state dict file, resampling the position grid."""
    state = load_state_dict_file(path)
    resize_pos_embed(state, clip)  # e.g. 14x14 -> 24x24 for ViT-B/16 @ 384
    # logit_bias exists only for SigLIP-style checkpoints.
    load_into(clip, state, path, ignore_unexpected=('logit_bias', ))


@MODELS.register_module()
class CLIPBackbone(BaseModule):
    """Dense CLIP features for ESC-Net, built on an ``open_clip`` CLIP model.

    The module owns both towers: the image tower runs in :meth:`forward`, the
    text tower through :meth:`encode_text` (used by the text encoder). Keeping
    them in one module lets ``paramwise_cfg`` give all of CLIP one lr
    multiplier.

    Args:
        model_name (str, optional): open_clip built-in name, e.g.
            ``'ViT-B-16'`` or ``'ViT-L-14-336'``. Exclusive with ``model_cfg``.
            Defaults to None.
        model_cfg (dict, optional): open_clip model config dict (``embed_dim``,
            ``vision_cfg``, ``text_cfg``), e.g. for tiny test models. Defaults
            to None.
        pretrained (str, optional): ``'openai'`` (downloaded by open_clip), a
            local state-dict file, or None for random weights. Loaded by
            :meth:`init_weights` (as MMSeg loads pretrained backbones), so
            testing a trained checkpoint never needs the CLIP file. Defaults to
            'openai'.
        image_size (int, optional): Input resolution; the positional embedding
            is resampled to it (384 for ViT-B/16 gives a 24x24 grid). Defaults
            to None.
        out_indices (Sequence[int]): Indices of the two transformer blocks
            whose outputs feed the decoder skip connections (shallow first).
            Defaults to (3, 7).
        finetune (str): ``'attention'`` trains only the query and value
            projection weights of both towers (CAT-Seg), ``'none'`` freezes
            CLIP, ``'full'`` trains all of it. In ``'attention'`` mode the
            packed ``in_proj_weight`` of every block is split into three
            parameters (``clip_attention``); state dicts keep the packed
            open_clip layout. Defaults to 'attention'.
        last_block (str): ``'dense'`` (CAT-Seg): the dense tokens come from the
            last block's value path (:func:`dense_block_forward`); ``'plain'``:
            from its ordinary output. The pooled output and the skips are the
            same in both modes. Defaults to 'dense'.
        quick_gelu (bool): Use QuickGELU (what OpenAI's weights were trained
            with). Defaults to True.
        init_cfg (dict, optional): Unused; the weights come from
            ``pretrained``. Defaults to None.
    """

    def __init__(self,
                 model_name: Optional[str] = None,
                 model_cfg: Optional[dict] = None,
                 pretrained: Optional[str] = 'openai',
                 image_size: Optional[int] = None,
                 out_indices: Sequence[int] = (3, 7),
                 finetune: str = 'attention',
                 last_block: str = 'dense',
                 quick_gelu: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if finetune not in FINETUNE_MODES:
            raise ValueError(f'finetune must be one of {FINETUNE_MODES}, '
                             f'got "{finetune}"')
        if last_block not in LAST_BLOCK_MODES:
            raise ValueError(f'last_block must be one of {LAST_BLOCK_MODES}, '
                             f'got "{last_block}"')
        self.clip = _build_open_clip(model_name, model_cfg, image_size,
                                     quick_gelu)
        self.model_name = model_name
        self.pretrained = pretrained
        visual = self.clip.visual
        num_layers = len(visual.transformer.resblocks)
        if len(out_indices) != 2 or not all(0 <= i < num_layers
                                            for i in out_indices):
            raise ValueError(f'out_indices must be two block indices in '
                             f'[0, {num_layers}), got {tuple(out_indices)}')
        self.out_indices = tuple(out_indices)
        self.image_size = tuple(visual.image_size)
        self.patch_size = tuple(visual.patch_size)
        self.grid_size = tuple(visual.grid_size)
        self.width = visual.transformer.width
        self.embed_dim = visual.output_dim
        self.finetune = finetune
        self.last_block = last_block
        self._check_tower(visual)
        if finetune == 'attention':
            for attn in self._attention_layers():
                separate_qkv(attn)
        self._set_trainable()

    @staticmethod
    def _check_tower(visual) -> None:
        """The forward reads open_clip's standard ViT layout: batch-first
        blocks with nn.MultiheadAttention, CLS-token pooling after
        ``ln_post``."""
        blocks = visual.transformer.resblocks
        if not (getattr(visual.transformer, 'batch_first', False) and all(
                isinstance(getattr(b, 'attn', None), nn.MultiheadAttention)
                for b in blocks) and getattr(visual, 'attn_pool', None) is None
                and not getattr(visual, 'final_ln_after_pool', False)
                and getattr(visual, 'pool_type', 'tok') == 'tok'):
            raise ValueError(
                'CLIPBackbone needs an open_clip ViT with batch-first '
                'ResidualAttentionBlocks (nn.MultiheadAttention) and CLS '
                'pooling after ln_post')

    def _attention_layers(self) -> List[nn.MultiheadAttention]:
        """Self-attention layers of both towers' transformer blocks."""
        towers = (self.clip.visual.transformer, self.clip.transformer)
        return [blk.attn for t in towers for blk in t.resblocks]

    def init_weights(self) -> None:
        """Load the ``pretrained`` CLIP weights (random init when None)."""
        if self.pretrained:
            path = resolve_clip_weights(self.model_name, self.pretrained)
            load_clip_weights(self.clip, path)
            print_log(f'CLIPBackbone: loaded {path}', logger='current')

    def _set_trainable(self) -> None:
        for name, param in self.clip.named_parameters():
            if name == 'logit_scale':  # CLIP's contrastive scale: unused
                param.requires_grad_(False)
            elif self.finetune == 'full':
                param.requires_grad_(True)
            else:
                param.requires_grad_(False)
        if self.finetune == 'attention':
            for attn in self._attention_layers():
                attn.q_proj_weight.requires_grad_(True)
                attn.v_proj_weight.requires_grad_(True)

    def text_parameters(self) -> List[torch.nn.Parameter]:
        """Parameters of the text tower (everything but ``visual``)."""
        return [
            p for n, p in self.clip.named_parameters()
            if not n.startswith('visual.') and n != 'logit_scale'
        ]

    def forward(self,
                inputs: Tensor,
                with_pooled: bool = True) -> Dict[str, object]:
        """Dense image features.

        Args:
            inputs (Tensor): Normalised images (B, 3, H, W) with H, W =
                ``image_size``.
            with_pooled (bool): Also compute ``pooled``. In dense mode it is
                the only output of the last block's ordinary forward, which
                False skips (``pooled`` is then None). Defaults to True.

        Returns:
            dict[str, object]: ``dense`` (B, E, h, w): per-token embeddings
                after ``ln_post`` and ``proj`` (of the last block's dense or
                plain output, see ``last_block``); ``skips`` (G_1, G_2), each
                (B, width, h, w): outputs of the ``out_indices`` blocks;
                ``pooled`` (B, E): the CLS embedding, equal to
                ``clip.encode_image`` (None unless ``with_pooled``).
        """
        # ESCNet resizes its inputs to image_size before calling this.
        assert tuple(inputs.shape[-2:]) == self.image_size, inputs.shape
        visual = self.clip.visual
        blocks = visual.transformer.resblocks
        x = visual._embeds(inputs)
        inters = {}
        for i, block in enumerate(blocks[:-1]):
            x = block(x)
            if i in self.out_indices:
                inters[i] = x
        last = len(blocks) - 1
        dense = self.last_block == 'dense'
        pooled = None
        # The last block's input feeds its ordinary forward (pooled CLS
        # embedding; the tokens in plain mode) and, in dense mode, the value
        # path; the ordinary forward runs only when something reads it.
        if with_pooled or not dense or last in self.out_indices:
            out = blocks[-1](x)
            inters[last] = out
            pooled, tokens = visual._pool(out)
        if dense:
            tokens = visual.ln_post(dense_block_forward(blocks[-1], x))[:, 1:]
        if visual.proj is not None:
            tokens = tokens @ visual.proj
            if pooled is not None:
                pooled = pooled @ visual.proj
        b, (h, w) = inputs.shape[0], self.grid_size
        dense = tokens.transpose(1, 2).reshape(b, -1, h, w)
        skips = tuple(inters[i][:, 1:].transpose(1, 2).reshape(b, -1, h, w)
                      for i in self.out_indices)
        return dict(dense=dense, skips=skips, pooled=pooled)

    def tokenize(self, texts: Sequence[str]) -> Tensor:
        """Token ids (N, context_length) for the text tower."""
        from open_clip.tokenizer import SimpleTokenizer
        if not hasattr(self, '_tokenizer'):
            self._tokenizer = SimpleTokenizer(
                context_length=self.clip.context_length)
        return self._tokenizer(list(texts))

    def encode_text(self, tokens: Tensor) -> Tensor:
        """Text embeddings (N, E), not normalised (= ``clip.encode_text``)."""
        return self.clip.encode_text(tokens)
