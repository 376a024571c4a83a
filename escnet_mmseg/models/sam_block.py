"""SAM block (paper §3.4): SAM's two-way attention layer fed by pseudo prompts.

The attention layer and the prompt encoder are ``segment_anything``'s own
modules (their weights and state-dict keys); this file adapts CLIP features
and class prompts to them and evaluates the layer for many classes at once
without repeating the per-image work (see :meth:`SAMBlock.forward`).
"""
from typing import Dict, NamedTuple, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from segment_anything.modeling import PromptEncoder
from segment_anything.modeling.transformer import (Attention,
                                                   TwoWayAttentionBlock)
from torch import Tensor, nn

PROMPT_TYPES = ('points', 'boxes', 'masks')
# SAM's image embedding is 1/16 of its 1024 px input frame.
SAM_STRIDE = 16
# D, SAM's width (256 for every SAM size).
SAM_EMBED_DIMS = 256


def build_prompt_encoder(embed_dims: int,
                         grid_size: Tuple[int, int]) -> PromptEncoder:
    """SAM's ``PromptEncoder`` for an ``h x w`` grid (input frame 16h x
    16w)."""
    h, w = grid_size
    return PromptEncoder(
        embed_dim=embed_dims,
        image_embedding_size=(h, w),
        input_image_size=(SAM_STRIDE * h, SAM_STRIDE * w),
        mask_in_chans=16)


def cluster_boxes(labels: Tensor, points: Tensor, width: int) -> Tensor:
    """Bounding box of every cluster, for the box-prompt ablation.

    Args:
        labels (Tensor): (M, h*w) cluster ids (-1 outside clusters).
        points (Tensor): (M, K, 2) the points; an empty cluster's box is its
            point.
        width (int): Grid width w.

    Returns:
        Tensor: (M, K, 4) boxes (x0, y0, x1, y1) in grid indices, inclusive.
    """
    k = points.shape[1]
    idx = torch.arange(labels.shape[1], device=labels.device)
    xy = torch.stack([idx % width, idx // width], dim=-1).to(points)  # (hw, 2)
    member = labels.unsqueeze(1) == torch.arange(
        k, device=labels.device)[None, :, None]  # (M, K, hw)
    big = torch.finfo(points.dtype).max
    lo = torch.where(member[..., None], xy, big).amin(dim=2)
    hi = torch.where(member[..., None], xy, -big).amax(dim=2)
    empty = ~member.any(dim=2, keepdim=True)
    lo = torch.where(empty, points, lo)
    hi = torch.where(empty, points, hi)
    return torch.cat([lo, hi], dim=-1)


def grid_to_sam_coords(xy: Tensor) -> Tensor:
    """Grid indices -> SAM input-frame pixels.

    SAM adds 0.5 to a point before normalising it; ``(x + 0.5) * 16 - 0.5``
    therefore lands on the centre of grid cell ``x``.
    """
    return (xy + 0.5) * SAM_STRIDE - 0.5


class DenseEmbedding(NamedTuple):
    """SAM's dense prompt embedding, kept as ``conv1x1(maps)``.

    SAM's mask embedding ends in a 1x1 conv from ``mask_in_chans`` (16)
    channels, and without a mask it is a constant vector. Keeping the
    embedding in this factored form lets every linear layer that reads
    ``image + dense`` project the image once per image and only the
    16-channel maps once per class.

    The embedding is ``maps @ weight.T + bias`` at every pixel.

    Attributes:
        maps: (M, c, h, w) per-class maps, or None for a constant embedding.
        weight: (D, c) the 1x1 conv, or None for the identity (``maps`` is
            then the dense embedding itself, c = D).
        bias: (D,) added at every pixel.
    """
    maps: Optional[Tensor]
    weight: Optional[Tensor]
    bias: Tensor

    @classmethod
    def of(cls, dense: Tensor) -> 'DenseEmbedding':
        """Wrap an explicit (M, D, h, w) dense embedding."""
        return cls(dense, None, dense.new_zeros(dense.shape[1]))

    def materialize(self, n: int, size: Tuple[int, int]) -> Tensor:
        """The (n, D, h, w) tensor ``PromptEncoder.forward`` returns."""
        if self.maps is None:
            return self.bias.reshape(1, -1, 1, 1).expand(n, -1, *size)
        if self.weight is None:
            return self.maps + self.bias.reshape(1, -1, 1, 1)
        return F.conv2d(self.maps, self.weight[..., None, None], self.bias)


def encode_prompts(
        prompt_encoder: PromptEncoder,
        prompts: Dict[str, Tensor],
        prompt_types: Sequence[str],
        factored: bool = False
) -> Tuple[Tensor, Union[Tensor, DenseEmbedding]]:
    """Sparse and dense SAM embeddings of a chunk of class prompts.

    Args:
        prompt_encoder (PromptEncoder): SAM's prompt encoder (grid h x w).
        prompts (dict[str, Tensor]): Output of :class:`PseudoPromptGenerator`
            restricted to the chunk: ``points`` (B, T, K, 2), ``point_labels``
            (B, T, K), ``labels`` (B, T, h*w), ``mask_prompt`` (B, T, h, w).
        prompt_types (Sequence[str]): Subset of ``('points', 'boxes',
            'masks')``.
        factored (bool): Return the dense embedding as a
            :class:`DenseEmbedding` (what :meth:`SAMBlock.forward` reads
            cheaply) instead of a tensor. Defaults to False.

    Returns:
        tuple[Tensor, Tensor or DenseEmbedding]: sparse (B*T, N, D) and dense
            (B*T, D, h, w) embeddings, as ``PromptEncoder.forward`` returns
            them (with points only, SAM appends one padding point).
    """
    sparse, dense = _encode(prompt_encoder, prompts, prompt_types)
    if factored:
        return sparse, dense
    b, t = prompts['points'].shape[:2]
    return sparse, dense.materialize(b * t,
                                     prompt_encoder.image_embedding_size)


def _encode(prompt_encoder: PromptEncoder, prompts: Dict[str, Tensor],
            prompt_types: Sequence[str]) -> Tuple[Tensor, DenseEmbedding]:
    """:func:`encode_prompts` with a factored dense embedding."""
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
    # SAM's forward embeds one box per batch item while ESC-Net has K per
    # class, so the parts are assembled here with SAM's own embedding
    # functions (as SAM: a padding point only without boxes).
    sparse = []
    if points is not None:
        sparse.append(
            prompt_encoder._embed_points(
                *points, pad='boxes' not in prompt_types))
    if 'boxes' in prompt_types:
        boxes = cluster_boxes(prompts['labels'].reshape(b * t, -1),
                              prompts['points'].reshape(b * t, k, 2), w)
        corners = grid_to_sam_coords(boxes.reshape(b * t * k, 4))
        sparse.append(
            prompt_encoder._embed_boxes(corners).reshape(b * t, 2 * k, -1))
    sparse = torch.cat(
        sparse, dim=1) if sparse else torch.empty(
            b * t,
            0,
            prompt_encoder.embed_dim,
            device=prompts['points'].device)
    if masks is None:
        return sparse, DenseEmbedding(None, None,
                                      prompt_encoder.no_mask_embed.weight[0])
    # SAM's _embed_masks is mask_downscaling(masks), whose last layer is
    # the 1x1 conv kept apart here.
    *layers, conv = prompt_encoder.mask_downscaling
    maps = masks
    for layer in layers:
        maps = layer(maps)
    return sparse, DenseEmbedding(maps, conv.weight[:, :, 0, 0], conv.bias)


def _heads(x: Tensor, num_heads: int) -> Tensor:
    """(M, L, H*d) -> (M, H, L, d), as SAM's ``Attention._separate_heads``."""
    return x.unflatten(-1, (num_heads, -1)).transpose(1, 2)


def _attend(attn: Attention, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    """SAM's ``Attention.forward`` on projected q, k, v (M, L, internal).

    Uses the fused ``scaled_dot_product_attention`` (same scale
    ``1/sqrt(d)`` and softmax as SAM's matmul + softmax); returns the
    output before ``out_proj``, (M, Lq, internal).
    """
    n = attn.num_heads
    out = F.scaled_dot_product_attention(
        _heads(q, n), _heads(k, n), _heads(v, n))
    return out.transpose(1, 2).flatten(2)


def _map_weight(layer: nn.Linear, weight: Optional[Tensor]) -> Tensor:
    """Weight (out, c) of ``layer`` applied to ``maps @ weight.T``."""
    return layer.weight if weight is None else layer.weight @ weight


def _token_to_image(attn: Attention, q_in: Tensor, image: Tensor, pe: Tensor,
                    maps: Optional[Tensor], weight: Optional[Tensor],
                    t: int) -> Tensor:
    """SAM's ``cross_attn_token_to_image(q_in, keys + pe, keys)``.

    ``keys = image + maps @ weight.T`` per class is never formed: the key
    and value projections are linear, so the scores and the output split
    into a per-image part (projections of ``image``) and a per-class part
    through the c-channel maps.

    Args:
        attn (Attention): SAM's ``Attention`` (H heads, internal width I =
            H*d).
        q_in (Tensor): Token queries (B*T, n, D), class-major.
        image (Tensor): Image tokens (B, L, D), dense bias included.
        pe (Tensor): Positional encoding (1, L, D).
        maps (Tensor, optional): Per-class maps (B*T, c, L), or None.
        weight (Tensor, optional): (D, c) the maps' projection; None is the
            identity.
        t (int): T, classes per image.

    Returns:
        Tensor: Attention output after ``out_proj``, (B*T, n, D).
    """
    bt, n, _ = q_in.shape
    b, length, _ = image.shape
    h = attn.num_heads
    q = attn.q_proj(q_in).view(b, t, n, h, -1)
    d = q.shape[-1]
    q = q * d**-0.5
    k_img = attn.k_proj(image + pe).view(b, length, h, d).permute(0, 2, 3, 1)
    v_img = attn.v_proj(image).view(b, length, h, d).transpose(1, 2)
    # Per-image part of the scores, (B, H, T, n, L).
    scores = (q.permute(0, 3, 1, 2, 4).reshape(b, h, t * n, d) @ k_img).view(
        b, h, t, n, length)
    if maps is None:
        scores = scores.softmax(dim=-1).view(b, h, t * n, length)
        out = (scores @ v_img).view(b, h, t, n, d).transpose(1, 2)
    else:
        maps = maps.view(b, t, -1, length)  # (B, T, c, L)
        c = maps.shape[2]
        w_k = _map_weight(attn.k_proj, weight).view(h, d, c)
        w_v = _map_weight(attn.v_proj, weight).view(h, d, c)
        # Per-class part, heads folded into the rows: (B, T, H, n, L).
        qk = torch.einsum('btnhd,hdc->bthnc', q, w_k).reshape(b, t, h * n, c)
        per_class = (qk @ maps).view(b, t, h, n, length)
        scores = per_class.add_(scores.transpose(1, 2)).softmax(dim=-1)
        out = torch.einsum(
            'bthnc,hdc->bthnd',
            (scores.view(b, t, h * n, length) @ maps.transpose(-1, -2)).view(
                b, t, h, n, c), w_v)
        scores = scores.transpose(1, 2).reshape(b, h, t * n, length)
        out = out + (scores @ v_img).view(b, h, t, n, d).transpose(1, 2)
    # (B, T, H, n, d) -> (B*T, n, H*d)
    return attn.out_proj(out.permute(0, 1, 3, 2, 4).reshape(bt, n, h * d))


def _image_to_token(attn: Attention, k_in: Tensor, v_in: Tensor, image: Tensor,
                    pe: Tensor, maps: Optional[Tensor],
                    weight: Optional[Tensor]) -> Tensor:
    """``keys + cross_attn_image_to_token(keys + pe, k_in, v_in)``, SAM's
    residual before ``norm4``, with ``keys = image + maps @ weight.T``.

    The queries are split as in :func:`_token_to_image`; the output
    projection is folded into the values (``v_h @ W_out,h``, one small
    matrix per class and head), so the residual sum is
    ``maps @ weight.T + attention @ values + image``.

    Args:
        attn (Attention): SAM's ``Attention``.
        k_in (Tensor): Token keys (B*T, n, D) (tokens + their PE).
        v_in (Tensor): Token values (B*T, n, D).
        image (Tensor): As :func:`_token_to_image`.
        pe (Tensor): As :func:`_token_to_image`.
        maps (Tensor, optional): As :func:`_token_to_image`.
        weight (Tensor, optional): As :func:`_token_to_image`.

    Returns:
        Tensor: (B*T, L, D) refined image tokens before ``norm4``.
    """
    bt, n, _ = k_in.shape
    b, length, dims = image.shape
    t = bt // b
    h = attn.num_heads
    k = attn.k_proj(k_in).view(b, t, n, h, -1)
    d = k.shape[-1]
    v = attn.v_proj(v_in).view(bt, n, h, d)
    q_img = attn.q_proj(image + pe).view(b, length, h, d).permute(0, 2, 3, 1)
    # Scores as (B, T, H, n, L): the softmax over the n tokens then runs
    # along strided rows of contiguous pixels (fast), not on rows of n.
    scores = (k.permute(0, 3, 1, 2, 4).reshape(b, h, t * n, d) @ q_img).view(
        b, h, t, n, length).transpose(1, 2)
    if maps is None:
        scores = scores.contiguous()
    else:
        maps = maps.view(b, t, -1, length)  # (B, T, c, L)
        c = maps.shape[2]
        w_q = _map_weight(attn.q_proj, weight).view(h, d, c)
        kq = torch.einsum('btnhd,hdc->bthnc', k, w_q).reshape(b, t, h * n, c)
        scores = (kq @ maps).view(b, t, h, n, length).add_(scores)
    scores = (scores * d**-0.5).softmax(dim=-2).view(bt, h * n, length)
    # Values through the output projection: (B*T, H*n, D).
    w_out = attn.out_proj.weight.view(dims, h, d)
    values = torch.einsum('mnhd,Dhd->mhnD', v, w_out).reshape(bt, h * n, dims)
    # keys + out_proj(attention) = image + bias + dense + scores.T @ values
    if maps is None:
        keys = scores.transpose(1, 2) @ values
    else:
        dense = maps.reshape(bt, -1, length).transpose(1, 2)  # (B*T, L, c)
        if weight is None:  # an explicit dense embedding: keep it intact
            keys = torch.baddbmm(dense, scores.transpose(1, 2), values)
        else:  # a fresh product, updated in place
            keys = (dense @ weight.t()).baddbmm_(
                scores.transpose(1, 2), values)
    keys.view(b, t, length, dims).add_(
        (image + attn.out_proj.bias).unsqueeze(1))
    return keys


@MODELS.register_module()
class SAMBlock(BaseModule):
    """One SAM two-way attention layer applied to every (image, class) pair.

    Tokens are ``[Linear(text of class t); prompt embeddings of t]`` (the text
    token takes the place of SAM's output tokens, eq. 2); image tokens are
    ``Conv1x1(F_v) + dense mask embedding``; the refined image tokens
    (SAM's "keys") are projected to ``out_channels`` per class.

    Args:
        in_channels (int): CLIP embedding dim E of the dense features and text.
        out_channels (int): C, the correlation feature width. Defaults to 128.
        embed_dims (int): D, SAM's width (256 for every SAM size). Defaults to
            256.
        num_heads (int): SAM's heads. Defaults to 8.
        mlp_dim (int): SAM's MLP width. Defaults to 2048.
        skip_first_layer_pe (bool): As SAM's first decoder layer (layer 0 of
            SAM skips the query PE and residual in its self-attention).
            Defaults to False.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int = 128,
                 embed_dims: int = SAM_EMBED_DIMS,
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

    def _queries(self, text: Tensor, sparse: Tensor, b: int) -> Tensor:
        """[text token; prompt tokens] (B*T, 1 + N, D), class-major."""
        t = text.shape[0]
        tokens = self.text_proj(text).unsqueeze(0).expand(b, -1, -1)
        return torch.cat([tokens.reshape(b * t, 1, -1), sparse], dim=1)

    def forward(self, visual: Tensor, text: Tensor, sparse: Tensor,
                dense: Union[Tensor,
                             DenseEmbedding], image_pe: Tensor) -> Tensor:
        """Refine the image features once per class.

        Computes exactly SAM's ``TwoWayAttentionBlock`` (see
        :meth:`forward_reference`, equal within float rounding) but reads
        the image tokens ``image + dense`` without repeating per class what
        is per image: every projection of them is a projection of the image
        (once per image) plus one of the 16-channel mask maps (per class),
        and the attentions use ``F.scaled_dot_product_attention``.

        Args:
            visual (Tensor): Dense CLIP features F_v (B, E, h, w).
            text (Tensor): Text embeddings F_l of the chunk's classes (T, E).
            sparse (Tensor): Prompt tokens (B*T, N, D), class-major within an
                image.
            dense (Tensor or DenseEmbedding): Dense mask embeddings (B*T, D, h,
                w), or the factored :class:`DenseEmbedding`
                (``encode_prompts(factored=True)``).
            image_pe (Tensor): SAM's dense positional encoding (1, D, h, w).

        Returns:
            Tensor: (B, T, C, h, w) per-class refined features V_k.
        """
        b, _, h, w = visual.shape
        t = text.shape[0]
        if isinstance(dense, Tensor):
            dense = DenseEmbedding.of(dense)
        layer = self.layer
        # Image tokens (B, L, D) with the dense bias; per class they get
        # ``maps @ dense.weight.T`` on top (the factored dense embedding).
        image = self.image_proj(visual).flatten(2).transpose(1, 2)
        image = image + dense.bias
        # (B*T, c, L) or None
        maps = None if dense.maps is None else dense.maps.flatten(2)
        pe = image_pe.flatten(2).transpose(1, 2)  # (1, L, D)

        # Tokens: self attention, as SAM (query_pe is the initial tokens).
        query_pe = queries = self._queries(text, sparse, b)
        sa = layer.self_attn
        q = queries if layer.skip_first_layer_pe else queries + query_pe
        out = sa.out_proj(
            _attend(sa, sa.q_proj(q), sa.k_proj(q), sa.v_proj(queries)))
        queries = layer.norm1(out if layer.skip_first_layer_pe else queries +
                              out)

        # Tokens attend to the image tokens, then the MLP.
        out = _token_to_image(layer.cross_attn_token_to_image,
                              queries + query_pe, image, pe, maps,
                              dense.weight, t)
        queries = layer.norm2(queries + out)
        queries = layer.norm3(queries + layer.mlp(queries))

        # The image tokens attend to the tokens (SAM's "keys" update).
        keys = _image_to_token(layer.cross_attn_image_to_token,
                               queries + query_pe, queries, image, pe, maps,
                               dense.weight)
        keys = layer.norm4(keys)  # (B*T, L, D)
        out = F.linear(keys, self.out_proj.weight.flatten(1),
                       self.out_proj.bias)  # the 1x1 conv, channels last
        # (B*T, L, C) -> (B, T, C, h, w) as a view; the VLF copies it anyway.
        return out.view(b, t, h, w, -1).permute(0, 1, 4, 2, 3)

    def forward_reference(self, visual: Tensor, text: Tensor, sparse: Tensor,
                          dense: Union[Tensor, DenseEmbedding],
                          image_pe: Tensor) -> Tensor:
        """:meth:`forward` by running SAM's ``TwoWayAttentionBlock`` on
        explicitly expanded per-class image tokens (slow; for tests)."""
        b, _, h, w = visual.shape
        t = text.shape[0]
        if isinstance(dense, DenseEmbedding):
            dense = dense.materialize(b * t, (h, w))
        image = self.image_proj(visual)  # once per image, then per class
        image = image.unsqueeze(1).expand(-1, t, -1, -1, -1).flatten(0, 1)
        keys = (image + dense).flatten(2).transpose(1, 2)  # (B*T, hw, D)
        key_pe = image_pe.flatten(2).transpose(1, 2)
        queries = self._queries(text, sparse, b)
        _, keys = self.layer(queries, keys, query_pe=queries, key_pe=key_pe)
        out = keys.transpose(1, 2).reshape(b * t, -1, h, w)
        return self.out_proj(out).view(b, t, -1, h, w)
