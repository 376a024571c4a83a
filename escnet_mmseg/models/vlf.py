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
from mmseg.registry import MODELS
from torch import Tensor

# Logit added to the attention of token pairs that may not attend to each
# other (CAT-Seg's / Swin's shifted-window mask value).
MASK_VALUE = -100.0


def window_layout(h: int, w: int, window_size: int,
                  shift: bool) -> Tuple[int, int]:
    """Window size and shift of a Swin block on an ``h x w`` grid.

    CAT-Seg's rule: shift by half a window; when the grid is not larger than
    the window (``min(h, w) <= window_size``) the window shrinks to
    ``min(h, w)`` and is not shifted.

    Args:
        h (int): Grid height.
        w (int): Grid width.
        window_size (int): Configured window size.
        shift (bool): Whether the block is the shifted one of the pair.

    Returns:
        tuple[int, int]: Window size and shift.
    """
    if min(h, w) <= window_size:
        return min(h, w), 0
    return window_size, window_size // 2 if shift else 0


def window_attention_mask(h: int, w: int, window: int, shift: int,
                          device: torch.device) -> Optional[Tensor]:
    """Additive attention mask of the windows of a (padded, rolled) grid.

    The grid is padded at the bottom / right to multiples of ``window`` and
    rolled by ``-shift``. Two tokens of a window may attend to each other
    when they lie in the same region of the rolled grid (Swin's / CAT-Seg's
    shifted-window regions); padded tokens are never attended to.

    Args:
        h (int): Grid height before padding.
        w (int): Grid width before padding.
        window (int): Window size.
        shift (int): Cyclic shift (0 for the unshifted block).
        device (torch.device): Device of the mask.

    Returns:
        Tensor, optional: Shape ``(num_windows, window**2, window**2)``
        holding 0 or :data:`MASK_VALUE`; None when no pair is masked.
    """
    hp, wp = -(-h // window) * window, -(-w // window) * window
    if shift == 0 and (hp, wp) == (h, w):
        return None
    region = torch.zeros(hp, wp, device=device)
    if shift > 0:
        cuts = (slice(0, -window), slice(-window, -shift), slice(-shift, None))
        for i, rows in enumerate(cuts):
            for j, cols in enumerate(cuts):
                region[rows, cols] = 3 * i + j
    padded = torch.ones(hp, wp, dtype=torch.bool, device=device)
    padded[:h, :w] = False
    padded = torch.roll(padded, (-shift, -shift), dims=(0, 1))
    region = window_partition(region[None, ..., None], window)[..., 0]
    padded = window_partition(padded[None, ..., None], window)[..., 0]
    blocked = (region[:, :, None] != region[:, None, :]) | padded[:, None, :]
    return blocked.float() * MASK_VALUE


def window_partition(x: Tensor, window: int) -> Tensor:
    """Split a grid into non-overlapping windows.

    Args:
        x (Tensor): Shape ``(N, H, W, D)`` with ``H, W`` multiples of
            ``window``.
        window (int): Window size.

    Returns:
        Tensor: Shape ``(N * num_windows, window**2, D)``, windows in
        row-major order.
    """
    N, H, W, D = x.shape
    x = x.view(N, H // window, window, W // window, window, D)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window * window, D)


def window_reverse(windows: Tensor, window: int, H: int, W: int) -> Tensor:
    """Inverse of :func:`window_partition`.

    Args:
        windows (Tensor): Shape ``(N * num_windows, window**2, D)``.
        window (int): Window size.
        H (int): Grid height (a multiple of ``window``).
        W (int): Grid width (a multiple of ``window``).

    Returns:
        Tensor: Shape ``(N, H, W, D)``.
    """
    D = windows.shape[-1]
    x = windows.view(-1, H // window, W // window, window, window, D)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, H, W, D)


class GuidedSwinBlock(BaseModule):
    """CAT-Seg's Swin block with guidance, without position bias.

    Pre-norm window attention whose queries and keys see the guidance:
    after ``norm1``, the (already normalised) guidance is concatenated to the
    tokens; queries and keys are linear maps of the concatenation, values of
    the tokens only. There is no relative-position bias. Windows are
    shifted by half a window in the second block of a pair (CAT-Seg's
    :func:`window_layout`); grids that are not multiples of the window are
    zero-padded at the bottom / right and padded tokens are masked out as
    keys. A residual, then a pre-norm FFN (GELU) with residual, follow.

    Args:
        channels (int): Token channels ``C``.
        guidance_channels (int): Guidance channels ``G``.
        num_heads (int): Attention heads; must divide ``channels``.
        window_size (int): Window size.
        shift (bool): Shifted windows (the second block of a pair).
        mlp_ratio (int): Hidden-width ratio of the FFN. Defaults to 4.
        init_cfg (dict | list[dict], optional): Initialization config.
            Defaults to None.
    """

    def __init__(self,
                 channels: int,
                 guidance_channels: int,
                 num_heads: int,
                 window_size: int,
                 shift: bool,
                 mlp_ratio: int = 4,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if channels % num_heads != 0:
            raise ValueError(f'channels ({channels}) must be divisible by '
                             f'num_heads ({num_heads})')
        self.channels = channels
        self.num_heads = num_heads
        self.window_size = window_size
        self.shift = shift
        self.norm1 = nn.LayerNorm(channels)
        self.q = nn.Linear(channels + guidance_channels, channels)
        self.k = nn.Linear(channels + guidance_channels, channels)
        self.v = nn.Linear(channels, channels)
        self.proj = nn.Linear(channels, channels)
        self.norm2 = nn.LayerNorm(channels)
        self.ffn = FFN(
            embed_dims=channels,
            feedforward_channels=int(mlp_ratio * channels),
            num_fcs=2,
            act_cfg=dict(type='GELU'),
            ffn_drop=0.,
            add_identity=True)

    def forward(self, x: Tensor, guidance: Tensor, hw: Tuple[int,
                                                             int]) -> Tensor:
        """Run the block.

        Args:
            x (Tensor): Tokens of shape ``(N, h*w, C)``.
            guidance (Tensor): Normalised guidance of shape ``(N, h*w, G)``.
            hw (tuple[int, int]): Grid size ``(h, w)``.

        Returns:
            Tensor: Tokens of shape ``(N, h*w, C)``.
        """
        h, w = hw
        N, L, C = x.shape
        window, shift = window_layout(h, w, self.window_size, self.shift)
        y = torch.cat([self.norm1(x), guidance], dim=-1).view(N, h, w, -1)
        pad_b, pad_r = (-h) % window, (-w) % window
        if pad_b or pad_r:
            y = F.pad(y, (0, 0, 0, pad_r, 0, pad_b))
        hp, wp = h + pad_b, w + pad_r
        if shift:
            y = torch.roll(y, (-shift, -shift), dims=(1, 2))
        y = window_partition(y, window)  # (N * nW, n, C + G)
        n, d = window * window, C // self.num_heads

        def heads(t: Tensor) -> Tensor:  # (N*nW, n, C) -> (N, nW, H, n, d)
            return t.view(N, -1, n, self.num_heads, d).transpose(2, 3)

        q, k, v = heads(self.q(y)), heads(self.k(y)), heads(self.v(y[..., :C]))
        mask = window_attention_mask(h, w, window, shift, x.device)
        if mask is not None:
            mask = mask.to(q.dtype).unsqueeze(1)  # (nW, 1, n, n)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        out = self.proj(out.transpose(2, 3).reshape(-1, n, C))
        out = window_reverse(out, window, hp, wp)
        if shift:
            out = torch.roll(out, (shift, shift), dims=(1, 2))
        x = x + out[:, :h, :w].reshape(N, L, C)
        return self.ffn(self.norm2(x), identity=x)


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
    2. a Swin pair (window attention, then shifted window attention) over the
       ``h x w`` grid of every (image, class) pair, classes folded into the
       batch, guided by the visual features of that class as CAT-Seg's
       aggregator is guided by CLIP's: the visual features, LayerNorm-ed
       once, enter the queries and keys of both blocks
       (:class:`GuidedSwinBlock`, no relative-position bias);
    3. class attention: pre-norm multi-head linear attention from each
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
        # The guidance V_k has C channels; one LayerNorm for the pair.
        self.guidance_norm = nn.LayerNorm(channels)
        self.swin_blocks = nn.ModuleList([
            GuidedSwinBlock(
                channels,
                channels,
                num_heads=num_heads,
                window_size=window_size,
                shift=shift,
                mlp_ratio=mlp_ratio) for shift in (False, True)
        ])
        ffn_channels = int(mlp_ratio * channels)

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

    def forward(self, corr: Tensor, v_k: Tensor, vocab_text: Tensor) -> Tensor:
        """Fuse correlation, visual and text features.

        Args:
            corr (Tensor): Incoming correlation of shape ``(B, T, Cin, h, w)``
                (``Cin = corr_channels``).
            v_k (Tensor): SAM-refined visual features V_k of shape
                ``(B, T, C, h, w)``.
            vocab_text (Tensor): Text embeddings F_l of the whole vocabulary,
                shape ``(T_all, E)``. ``T_all`` may exceed ``T`` when the
                classes are processed in chunks; keys/values always come from
                all rows.

        Returns:
            Tensor: Refined correlation embedding ``Z_k`` of shape
            ``(B, T, C, h, w)``.
        """
        if corr.dim() != 5 or v_k.dim() != 5:
            raise ValueError('corr and v_k must be 5-D (B, T, C, h, w), '
                             f'got {tuple(corr.shape)} and '
                             f'{tuple(v_k.shape)}')
        B, T, _, h, w = v_k.shape
        if corr.shape[:2] != (B, T) or corr.shape[-2:] != (h, w):
            raise ValueError(f'corr {tuple(corr.shape)} does not match '
                             f'v_k {tuple(v_k.shape)}')
        C = self.channels

        # Channels last, classes folded into the batch: (B*T, h*w, C).
        x = self.corr_embed(corr.flatten(0, 1)).flatten(2).transpose(1, 2)
        guidance = self.guidance_norm(
            v_k.flatten(0, 1).flatten(2).transpose(1, 2))
        for block in self.swin_blocks:
            x = block(x, guidance, (h, w))

        # Class attention over (B, T, h*w, C) queries against the text set.
        x = x.view(B, T, h * w, C)
        x = x + self.class_attn(self.attn_norm(x), vocab_text)
        x = self.ffn(self.ffn_norm(x), identity=x)

        return x.transpose(2, 3).reshape(B, T, C, h, w)
