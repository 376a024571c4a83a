"""SAM block (paper §3.4): SAM's two-way attention layer fed by pseudo prompts.

The attention layer and the prompt encoder are ``segment_anything``'s own
modules; this file only adapts CLIP features and class prompts to them.
"""
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from segment_anything.modeling import PromptEncoder
from segment_anything.modeling.transformer import TwoWayAttentionBlock
from torch import Tensor, nn

from .ppg import cluster_boxes

PROMPT_TYPES = ('points', 'boxes', 'masks')
# SAM's image embedding is 1/16 of its 1024 px input frame.
SAM_STRIDE = 16


def build_prompt_encoder(embed_dims: int, grid_size: Tuple[int, int]) -> PromptEncoder:
    """SAM's ``PromptEncoder`` for an ``h x w`` grid (input frame 16h x 16w)."""
    h, w = grid_size
    return PromptEncoder(
        embed_dim=embed_dims,
        image_embedding_size=(h, w),
        input_image_size=(SAM_STRIDE * h, SAM_STRIDE * w),
        mask_in_chans=16)


def grid_to_sam_coords(xy: Tensor) -> Tensor:
    """Grid indices -> SAM input-frame pixels.

    SAM adds 0.5 to a point before normalising it; ``(x + 0.5) * 16 - 0.5``
    therefore lands on the centre of grid cell ``x``.
    """
    return (xy + 0.5) * SAM_STRIDE - 0.5


def encode_prompts(prompt_encoder: PromptEncoder, prompts: Dict[str, Tensor],
                   prompt_types: Sequence[str]) -> Tuple[Tensor, Tensor]:
    """Sparse and dense SAM embeddings of a chunk of class prompts.

    Args:
        prompt_encoder: SAM's prompt encoder (grid h x w).
        prompts: Output of :class:`PseudoPromptGenerator` restricted to the
            chunk: ``points`` (B, T, K, 2), ``point_labels`` (B, T, K),
            ``labels`` (B, T, h*w), ``mask_prompt`` (B, T, h, w).
        prompt_types: Subset of ``('points', 'boxes', 'masks')``.

    Returns:
        sparse (B*T, N, D) and dense (B*T, D, h, w) embeddings, as
        ``PromptEncoder.forward`` returns them (with points only, SAM appends
        one padding point).
    """
    b, t, k, _ = prompts['points'].shape
    h, w = prompt_encoder.image_embedding_size
    points = masks = None
    if 'points' in prompt_types:
        points = (grid_to_sam_coords(prompts['points'].reshape(b * t, k, 2)),
                  prompts['point_labels'].reshape(b * t, k))
    if 'masks' in prompt_types:
        masks = F.interpolate(
            prompts['mask_prompt'].reshape(b * t, 1, h, w),
            size=prompt_encoder.mask_input_size,
            mode='bilinear',
            align_corners=False)
    if 'boxes' not in prompt_types and (points is not None
                                       or masks is not None):
        return prompt_encoder(points=points, boxes=None, masks=masks)
    # SAM's forward embeds one box per batch item while ESC-Net has K per
    # class, so the parts are assembled here with SAM's own embedding
    # functions (no padding point when boxes are present, as in SAM).
    sparse = []
    if points is not None:
        sparse.append(prompt_encoder._embed_points(*points, pad=False))
    if 'boxes' in prompt_types:
        boxes = cluster_boxes(prompts['labels'].reshape(b * t, -1),
                              prompts['points'].reshape(b * t, k, 2), w)
        corners = grid_to_sam_coords(boxes.reshape(b * t * k, 4))
        sparse.append(
            prompt_encoder._embed_boxes(corners).reshape(b * t, 2 * k, -1))
    sparse = torch.cat(sparse, dim=1) if sparse else torch.empty(
        b * t, 0, prompt_encoder.embed_dim, device=prompts['points'].device)
    dense = (prompt_encoder._embed_masks(masks)
             if masks is not None else _no_mask(prompt_encoder, b * t))
    return sparse, dense


def _no_mask(prompt_encoder: PromptEncoder, n: int) -> Tensor:
    h, w = prompt_encoder.image_embedding_size
    return prompt_encoder.no_mask_embed.weight.reshape(1, -1, 1, 1).expand(
        n, -1, h, w)


@MODELS.register_module()
class SAMBlock(BaseModule):
    """One SAM two-way attention layer applied to every (image, class) pair.

    Tokens are ``[Linear(text of class t); prompt embeddings of t]`` (the text
    token takes the place of SAM's output tokens, eq. 2); image tokens are
    ``Conv1x1(F_v) + dense mask embedding``; the refined image tokens
    (SAM's "keys") are projected to ``out_channels`` per class.

    Args:
        in_channels: CLIP embedding dim E of the dense features and text.
        out_channels: C, the correlation feature width.
        embed_dims: D, SAM's width (256 for every SAM size).
        num_heads: SAM's heads (8).
        mlp_dim: SAM's MLP width (2048).
        skip_first_layer_pe: As SAM's first decoder layer (layer 0 of SAM
            skips the query PE and residual in its self-attention).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int = 128,
                 embed_dims: int = 256,
                 num_heads: int = 8,
                 mlp_dim: int = 2048,
                 skip_first_layer_pe: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.text_proj = nn.Linear(in_channels, embed_dims)
        self.image_proj = nn.Conv2d(in_channels, embed_dims, 1)
        self.layer = TwoWayAttentionBlock(
            embedding_dim=embed_dims,
            num_heads=num_heads,
            mlp_dim=mlp_dim,
            activation=nn.ReLU,
            attention_downsample_rate=2,
            skip_first_layer_pe=skip_first_layer_pe)
        self.out_proj = nn.Conv2d(embed_dims, out_channels, 1)

    def forward(self, visual: Tensor, text: Tensor, sparse: Tensor,
                dense: Tensor, image_pe: Tensor) -> Tensor:
        """Refine the image features once per class.

        Args:
            visual: Dense CLIP features (B, E, h, w).
            text: Text embeddings of the chunk's classes (T, E).
            sparse: Prompt tokens (B*T, N, D), class-major within an image.
            dense: Dense mask embeddings (B*T, D, h, w).
            image_pe: SAM's dense positional encoding (1, D, h, w).

        Returns:
            (B, T, C, h, w) per-class refined features V_k.
        """
        b, _, h, w = visual.shape
        t = text.shape[0]
        image = self.image_proj(visual)  # once per image, then per class
        image = image.unsqueeze(1).expand(-1, t, -1, -1, -1).flatten(0, 1)
        keys = (image + dense).flatten(2).transpose(1, 2)  # (B*T, hw, D)
        key_pe = image_pe.flatten(2).transpose(1, 2)
        tokens = self.text_proj(text).unsqueeze(0).expand(b, -1, -1)
        queries = torch.cat([tokens.reshape(b * t, 1, -1), sparse], dim=1)
        _, keys = self.layer(queries, keys, query_pe=queries, key_pe=key_pe)
        out = keys.transpose(1, 2).reshape(b * t, -1, h, w)
        return self.out_proj(out).view(b, t, -1, h, w)
