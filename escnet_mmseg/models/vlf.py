# Copyright (c) 2025 escnet_mmseg contributors. All rights reserved.
"""Vision-Language Fusion (VLF) module of ESC-Net (paper §3.5).

Notation used in the shapes below: ``B`` images, ``T`` query classes, ``C``
hidden channels, ``E`` text embedding dimension, ``h x w`` feature grid.
"""
from typing import Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn.bricks.transformer import FFN
from mmengine.model import BaseModule
from mmseg.models.backbones.swin import SwinBlock
from mmseg.registry import MODELS
from torch import Tensor


class LinearClassAttention(BaseModule):
    """Multi-head linear attention from class features to the text set.

    Every pixel of every class feature map is a query; keys and values are
    the (projected) text embeddings of the whole vocabulary. The attention
    is the linear transformer of Katharopoulos et al. (ICML 2020) with the
    feature map ``phi(x) = elu(x) + 1`` and no positional embedding, so the
    result does not depend on the order of the text rows:

    .. math::

        out(q) = \\frac{\\phi(q)^T \\sum_s \\phi(k_s) v_s^T}
                      {\\phi(q)^T \\sum_s \\phi(k_s) + \\epsilon}

    The key/value summary ``sum_s phi(k_s) v_s^T`` (shape ``(heads, d, d)``)
    and the normaliser ``sum_s phi(k_s)`` (shape ``(heads, d)``) depend on the
    text only: they are computed once per call and applied to all queries with
    an einsum. Each query's output therefore depends only on that query and
    the text set, which makes the module exactly invariant to splitting the
    query classes into chunks.

    Args:
        channels (int): Query / output channels ``C``.
        text_channels (int): Text embedding dimension ``E``.
        num_heads (int): Number of attention heads; must divide ``channels``.
            Defaults to 4.
        eps (float): Added to the denominator. Defaults to 1e-6.
        init_cfg (dict | list[dict], optional): Initialization config.
            Defaults to None.
    """

    def __init__(self,
                 channels: int,
                 text_channels: int,
                 num_heads: int = 4,
                 eps: float = 1e-6,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if channels % num_heads != 0:
            raise ValueError(f'channels ({channels}) must be divisible by '
                             f'num_heads ({num_heads})')
        self.channels = channels
        self.text_channels = text_channels
        self.num_heads = num_heads
        self.head_channels = channels // num_heads
        self.eps = eps

        self.q_proj = nn.Linear(channels, channels)
        self.k_proj = nn.Linear(text_channels, channels)
        self.v_proj = nn.Linear(text_channels, channels)
        self.out_proj = nn.Linear(channels, channels)

    @staticmethod
    def feature_map(x: Tensor) -> Tensor:
        """Positive feature map ``elu(x) + 1`` of the linear transformer."""
        return F.elu(x) + 1.0

    def text_summary(self, text: Tensor) -> Tuple[Tensor, Tensor]:
        """Key/value summary of the text set.

        Args:
            text (Tensor): Text embeddings of shape ``(S, E)``.

        Returns:
            tuple[Tensor, Tensor]: ``kv`` of shape ``(heads, d, d)`` holding
            ``sum_s phi(k_s) v_s^T`` and ``k_sum`` of shape ``(heads, d)``
            holding ``sum_s phi(k_s)``, with ``d = C / heads``.
        """
        num_text = text.shape[0]
        k = self.k_proj(text).view(num_text, self.num_heads,
                                   self.head_channels)
        v = self.v_proj(text).view(num_text, self.num_heads,
                                   self.head_channels)
        with torch.autocast(device_type=text.device.type, enabled=False):
            k = self.feature_map(k.float())
            kv = torch.einsum('snd,sne->nde', k, v.float())
            k_sum = k.sum(dim=0)
        return kv, k_sum

    def forward(self, x: Tensor, text: Tensor) -> Tensor:
        """Attend from every query vector to the text set.

        Args:
            x (Tensor): Query features of shape ``(..., C)`` (any number of
                leading dimensions, e.g. ``(B, T, h*w, C)``).
            text (Tensor): Text embeddings of shape ``(S, E)``; ``S`` may
                differ from the number of query classes.

        Returns:
            Tensor: Attention output of shape ``(..., C)`` (after the output
            projection, before any residual).
        """
        lead_shape = x.shape[:-1]
        q = self.q_proj(x).view(*lead_shape, self.num_heads,
                                self.head_channels)
        kv, k_sum = self.text_summary(text.to(self.k_proj.weight.dtype))
        # The summary is a sum over the whole vocabulary (hundreds of rows),
        # so the products and the normalisation run in float32 even under
        # mixed precision.
        with torch.autocast(device_type=q.device.type, enabled=False):
            q = self.feature_map(q.float())
            num = torch.einsum('...nd,nde->...ne', q, kv.float())
            den = torch.einsum('...nd,nd->...n', q, k_sum.float())
            out = num / (den.unsqueeze(-1) + self.eps)
        out = out.to(x.dtype).reshape(*lead_shape, self.channels)
        return self.out_proj(out)


@MODELS.register_module()
class VLF(BaseModule):
    """Vision-Language Fusion module (one per ESC block).

    Fuses the incoming per-class correlation (``C0`` for the first block,
    ``Z_{k-1}`` afterwards) with the SAM-refined visual features ``V_k`` and
    the text embeddings ``F_l``:

    1. embed the correlation with a 1x1 conv ``Cin -> C`` (identity when
       ``corr_channels == channels``);
    2. concatenate with the visual features and project ``2C -> C``;
    3. a Swin pair (window attention, then shifted window attention) over the
       ``h x w`` grid of every (image, class) pair, classes folded into the
       batch; MMSeg's :class:`SwinBlock` pads grids that are not multiples
       of the window;
    4. class attention: pre-norm multi-head linear attention from each
       pixel's class feature to the text set (no positional embedding),
       residual, then pre-norm FFN with residual.

    Every step is either per class or reads the whole text set through an
    order-free sum, so the module is equivariant to permutations of the
    classes and running a chunk of classes (with the full text) gives the
    same outputs as running all classes at once.

    Args:
        channels (int): Hidden channels ``C``. Defaults to 128.
        text_channels (int): Text embedding dimension ``E``. Defaults to 512.
        corr_channels (int): Channels ``Cin`` of the incoming correlation:
            1 for the cosine map of the first block, ``C`` for ``Z_{k-1}``.
            Defaults to 1.
        num_heads (int): Heads of the Swin window attention. Defaults to 4.
        window_size (int): Swin window size. Defaults to 12.
        class_attn_heads (int): Heads of the linear class attention.
            Defaults to 4.
        mlp_ratio (int): Hidden-width ratio of the FFNs (Swin and class
            attention). Defaults to 4.
        attn_eps (float): Denominator epsilon of the linear attention.
            Defaults to 1e-6.
        init_cfg (dict | list[dict], optional): Initialization config.
            Defaults to None.
    """

    def __init__(self,
                 channels: int = 128,
                 text_channels: int = 512,
                 corr_channels: int = 1,
                 num_heads: int = 4,
                 window_size: int = 12,
                 class_attn_heads: int = 4,
                 mlp_ratio: int = 4,
                 attn_eps: float = 1e-6,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.channels = channels
        self.text_channels = text_channels
        self.corr_channels = corr_channels
        self.window_size = window_size

        if corr_channels == channels:
            self.corr_embed = nn.Identity()
        else:
            self.corr_embed = nn.Conv2d(corr_channels, channels, 1)
        self.fuse = nn.Linear(2 * channels, channels)

        ffn_channels = int(mlp_ratio * channels)
        self.swin_blocks = nn.ModuleList([
            SwinBlock(
                embed_dims=channels,
                num_heads=num_heads,
                feedforward_channels=ffn_channels,
                window_size=window_size,
                shift=shift) for shift in (False, True)
        ])

        self.attn_norm = nn.LayerNorm(channels)
        self.class_attn = LinearClassAttention(
            channels, text_channels, num_heads=class_attn_heads, eps=attn_eps)
        self.ffn_norm = nn.LayerNorm(channels)
        self.ffn = FFN(
            embed_dims=channels,
            feedforward_channels=ffn_channels,
            num_fcs=2,
            act_cfg=dict(type='GELU'),
            ffn_drop=0.,
            add_identity=True)

    def forward(self, corr: Tensor, visual: Tensor, text: Tensor) -> Tensor:
        """Fuse correlation, visual and text features.

        Args:
            corr (Tensor): Incoming correlation of shape ``(B, T, Cin, h, w)``
                (``Cin = corr_channels``).
            visual (Tensor): SAM-refined visual features of shape
                ``(B, T, C, h, w)``.
            text (Tensor): Text embeddings of the whole vocabulary, shape
                ``(T_all, E)``. ``T_all`` may exceed ``T`` when the classes are
                processed in chunks; keys/values always come from all rows.

        Returns:
            Tensor: Refined correlation embedding ``Z_k`` of shape
            ``(B, T, C, h, w)``.
        """
        if corr.dim() != 5 or visual.dim() != 5:
            raise ValueError('corr and visual must be 5-D (B, T, C, h, w), '
                             f'got {tuple(corr.shape)} and '
                             f'{tuple(visual.shape)}')
        B, T, _, h, w = visual.shape
        if corr.shape[:2] != (B, T) or corr.shape[-2:] != (h, w):
            raise ValueError(f'corr {tuple(corr.shape)} does not match '
                             f'visual {tuple(visual.shape)}')
        C = self.channels

        # (B*T, C, h, w): classes folded into the batch.
        emb = self.corr_embed(corr.flatten(0, 1))
        x = torch.cat([emb, visual.flatten(0, 1)], dim=1)
        # Channels last: (B*T, h*w, 2C) -> (B*T, h*w, C).
        x = self.fuse(x.flatten(2).transpose(1, 2))

        for block in self.swin_blocks:
            x = block(x, (h, w))

        # Class attention over (B, T, h*w, C) queries against the text set.
        x = x.view(B, T, h * w, C)
        x = x + self.class_attn(self.attn_norm(x), text)
        x = self.ffn(self.ffn_norm(x), identity=x)

        return x.transpose(2, 3).reshape(B, T, C, h, w)
