# Copyright (c) 2025 escnet_mmseg contributors. All rights reserved.
"""U-Net mask prediction decoder of ESC-Net (paper §3.6).

Notation used in the shapes below: ``B`` images, ``T`` classes, ``C`` hidden
channels of the correlation embedding, ``W`` width of the intermediate CLIP
layers used as skip connections, ``h x w`` feature grid.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import ConvModule, build_activation_layer, build_norm_layer
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from torch import Tensor

from .utils import class_chunks


class UpBlock(nn.Module):
    """One decoder stage: bilinear x2, fuse a guidance feature, double conv.

    CAT-Seg's stage is ``DoubleConv([up(x); guidance])``: a 3x3 conv (no
    bias) of the concatenation, GroupNorm, ReLU, a second 3x3 conv (no bias),
    GroupNorm, ReLU, with ``channels // 16`` GroupNorm groups. The first conv
    is linear in its input channels, so it is computed as
    ``conv_x(up(x)) + conv_skip(guidance)`` (the same weights split along the
    input channels; zero padding commutes with the split). The guidance term
    is the same for every class of an image: it is computed once per image
    by :meth:`skip_term` and broadcast over the classes, so no per-class
    copy of the guidance is ever made. ``x`` is upsampled bilinearly (paper
    §3.6) where CAT-Seg uses a transposed convolution.

    Args:
        in_channels (int): Channels of the per-class input ``x``.
        skip_channels (int): Channels of the (projected) guidance feature.
        out_channels (int): Output channels.
        num_groups (int): GroupNorm groups.
        align_corners (bool): ``align_corners`` of the bilinear upsampling.
    """

    def __init__(self, in_channels: int, skip_channels: int, out_channels: int,
                 num_groups: int, align_corners: bool) -> None:
        super().__init__()
        self.align_corners = align_corners
        norm_cfg = dict(type='GN', num_groups=num_groups, requires_grad=True)
        act_cfg = dict(type='ReLU')
        # Bias-free like CAT-Seg's DoubleConv (a norm layer follows).
        self.conv_x = nn.Conv2d(
            in_channels, out_channels, 3, padding=1, bias=False)
        self.conv_skip = nn.Conv2d(
            skip_channels, out_channels, 3, padding=1, bias=False)
        self.norm = build_norm_layer(norm_cfg, out_channels)[1]
        self.act = build_activation_layer(act_cfg)
        self.conv2 = ConvModule(
            out_channels,
            out_channels,
            3,
            padding=1,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)

    def skip_term(self, skip: Tensor) -> Tensor:
        """Per-image contribution of the guidance feature to the first conv.

        Args:
            skip (Tensor): Projected guidance of shape ``(B, S, H, W)``.

        Returns:
            Tensor: Shape ``(B, out_channels, H, W)``.
        """
        return self.conv_skip(skip)

    def forward(self, x: Tensor, skip_term: Tensor) -> Tensor:
        """Run the stage for a group of classes.

        Args:
            x (Tensor): Per-class features of shape ``(B, t, Cin, H/2, W/2)``.
            skip_term (Tensor): Output of :meth:`skip_term`, shape
                ``(B, out_channels, H, W)``.

        Returns:
            Tensor: Per-class features of shape ``(B, t, out_channels, H, W)``.
        """
        B, t = x.shape[:2]
        x = resize(
            x.flatten(0, 1),
            scale_factor=2,
            mode='bilinear',
            align_corners=self.align_corners)
        x = self.conv_x(x)
        x = x.unflatten(0, (B, t)) + skip_term.unsqueeze(1)
        x = self.act(self.norm(x.flatten(0, 1)))
        x = self.conv2(x)
        return x.unflatten(0, (B, t))


@MODELS.register_module()
class ESCNetHead(BaseDecodeHead):
    """U-Net mask decoder of ESC-Net, CAT-Seg's upsampling decoder.

    Two up-sampling stages turn the final correlation embedding ``Z`` of every
    class into one logit map at 4x the grid resolution. Each stage is guided
    by an intermediate CLIP feature (CAT-Seg's wiring: the shallower block
    guides the first, coarser stage):

    * stage 0: bilinear x2, guided by ``G_1`` (the shallower CLIP block, 3 for
      ViT-B/16, 7 for ViT-L/14) upsampled by ``ConvTranspose2d(k=2, s=2)`` to
      ``skip_channels[0]`` channels at ``2h x 2w`` and projected by a 3x3
      conv + ReLU to ``guidance_channels[0]``; double conv (3x3 conv,
      GroupNorm, ReLU, twice) to ``decoder_channels[0]``;
    * stage 1: bilinear x2, guided by ``G_2`` (the deeper block, 7 / 15)
      upsampled by ``ConvTranspose2d(k=4, s=4)`` to ``skip_channels[1]`` at
      ``4h x 4w``, projected to ``guidance_channels[1]``; double conv to
      ``decoder_channels[1]``;
    * a 3x3 conv ``decoder_channels[1] -> 1`` shared by all classes.

    The guidance and its contribution to the first conv of each stage are
    computed once per image and broadcast to the classes. Every operation
    after them is per class, so the head is equivariant to permutations of
    the classes and can process the classes in chunks (``class_chunk_size``)
    with identical results and a peak memory that does not grow with the
    vocabulary size.

    Args:
        in_channels (int): Channels ``C`` of the correlation embedding.
            Defaults to 128.
        skip_in_channels (int): Width ``W`` of the CLIP skip features.
            Defaults to 768.
        skip_channels (Sequence[int]): Channels of the upsampled ``G_1`` and
            ``G_2`` (CAT-Seg's ``upsample1``/``upsample2``). Defaults to
            (256, 128).
        guidance_channels (Sequence[int]): Channels of the 3x3 conv + ReLU
            projections of the two guidances (CAT-Seg's
            ``decoder_guidance_proj_dims``). Defaults to (32, 16).
        decoder_channels (Sequence[int]): Output channels of the two stages.
            Defaults to (64, 32).
        channels_per_group (int): Channels per GroupNorm group of the double
            convs (CAT-Seg: ``channels // 16`` groups); must divide every
            entry of ``decoder_channels``. Defaults to 16.
        loss_decode (dict | Sequence[dict]): Loss config(s). The default,
            ``PerClassBCELoss``, is CAT-Seg's per-class sigmoid binary
            cross-entropy over every pixel (ignored pixels are negatives of
            every class); ``dict(type='CrossEntropyLoss')`` gives a softmax
            cross-entropy over the ``T`` class logits. :attr:`use_sigmoid`
            follows the loss. Defaults to dict(type='PerClassBCELoss',
            loss_weight=1.0).
        ignore_index (int): Label ignored by the loss. Defaults to 255.
        align_corners (bool): ``align_corners`` of every bilinear resize.
            Defaults to False.
        with_cp (bool): Activation checkpointing of the two up-sampling
            stages in training (recomputed in the backward pass: less
            memory, same gradients). Defaults to False.
        init_cfg (dict | list[dict], optional): Initialization config.
            Defaults to None.
        **kwargs (dict): Other arguments of :class:`BaseDecodeHead` (e.g.
            ``sampler``).
    """

    def __init__(self,
                 in_channels: int = 128,
                 skip_in_channels: int = 768,
                 skip_channels: Sequence[int] = (256, 128),
                 guidance_channels: Sequence[int] = (32, 16),
                 decoder_channels: Sequence[int] = (64, 32),
                 channels_per_group: int = 16,
                 loss_decode: Union[dict, Sequence[dict]] = dict(
                     type='PerClassBCELoss', loss_weight=1.0),
                 ignore_index: int = 255,
                 align_corners: bool = False,
                 with_cp: bool = False,
                 init_cfg: Optional[Union[dict, List[dict]]] = None,
                 **kwargs) -> None:
        for name, value in (('skip_channels', skip_channels),
                            ('guidance_channels', guidance_channels),
                            ('decoder_channels', decoder_channels)):
            if len(value) != 2:
                raise ValueError(f'{name} must have two entries (one per '
                                 f'up-sampling stage), got {value}')
        for ch in decoder_channels:
            if ch % channels_per_group != 0:
                raise ValueError(
                    f'channels_per_group ({channels_per_group}) must divide '
                    f'every decoder channel, got {ch}')
        # The number of classes is the size of the vocabulary, which changes
        # from call to call (training set, test sets, user vocabularies), so
        # no layer depends on it: every class gets one logit map from the
        # shared final conv (`out_channels=1`) and the output has one channel
        # per class of the call. `num_classes=1`/`out_channels=1` only satisfy
        # BaseDecodeHead's checks; the segmentor argmaxes over the T logit
        # maps and uses `threshold` only for a single-name vocabulary.
        super().__init__(
            in_channels=in_channels,
            channels=decoder_channels[-1],
            num_classes=1,
            out_channels=1,
            threshold=0.5,
            dropout_ratio=0.,
            loss_decode=loss_decode,
            ignore_index=ignore_index,
            align_corners=align_corners,
            init_cfg=init_cfg,
            **kwargs)
        self.with_cp = with_cp
        self.skip_in_channels = skip_in_channels
        self.skip_channels = tuple(skip_channels)
        self.guidance_channels = tuple(guidance_channels)
        self.decoder_channels = tuple(decoder_channels)

        # Skip upsampling: G_1 -> 2h (stage 0), G_2 -> 4h (stage 1).
        self.skip_proj = nn.ModuleList([
            nn.ConvTranspose2d(
                skip_in_channels, skip_channels[0], kernel_size=2, stride=2),
            nn.ConvTranspose2d(
                skip_in_channels, skip_channels[1], kernel_size=4, stride=4),
        ])
        # CAT-Seg's decoder guidance projections: 3x3 conv (with bias) + ReLU.
        self.guidance_proj = nn.ModuleList([
            nn.Sequential(
                nn.Conv2d(skip, guide, kernel_size=3, padding=1), nn.ReLU())
            for skip, guide in zip(skip_channels, guidance_channels)
        ])
        ins = (in_channels, decoder_channels[0])
        self.up_blocks = nn.ModuleList([
            UpBlock(ins[i], guidance_channels[i], decoder_channels[i],
                    decoder_channels[i] // channels_per_group, align_corners)
            for i in range(2)
        ])
        # Replaces BaseDecodeHead's 1x1 `conv_seg` (and its dropout) so that
        # `cls_seg` keeps a meaning: one logit per class from the shared
        # 3x3 conv.
        self.conv_seg = nn.Conv2d(self.channels, 1, kernel_size=3, padding=1)
        self.dropout = None

    @property
    def use_sigmoid(self) -> bool:
        """Whether the model is trained with per-class sigmoid losses.

        Test-time probabilities are then ``sigmoid(logits)`` per class,
        otherwise ``softmax`` over the classes.
        """
        losses = (
            self.loss_decode if isinstance(self.loss_decode, nn.ModuleList)
            else [self.loss_decode])
        return any(getattr(loss, 'use_sigmoid', False) for loss in losses)

    # The probability rule of ESC-Net's predictions (test modes, TTA, the
    # inferencer): one place, so that every path scores the classes alike.
    def sigmoid_scores(self, num_classes: int) -> bool:
        """Whether class probabilities are per-class sigmoids: for a model
        trained with sigmoid losses, and for a one-class vocabulary (MMSeg's
        binary rule, thresholded at :attr:`threshold`); else a softmax over
        the classes."""
        return self.use_sigmoid or num_classes == 1

    def probabilities(self,
                      logits: Tensor,
                      num_classes: Optional[int] = None,
                      dim: int = 1) -> Tensor:
        """Class probabilities of logits, e.g. (B, T, H, W) or (T, H, W).

        Args:
            logits (Tensor): Logits with the classes along ``dim``.
            num_classes (int, optional): Size of the whole vocabulary when
                ``logits`` hold a chunk of it. Defaults to None (all along
                ``dim``).
            dim (int): The class axis. Defaults to 1.

        Returns:
            Tensor: Probabilities of the shape of ``logits``.
        """
        if num_classes is None:
            num_classes = logits.shape[dim]
        if self.sigmoid_scores(num_classes):
            return logits.sigmoid()
        return logits.softmax(dim=dim)

    def probability_logits(self,
                           probs: Tensor,
                           num_classes: Optional[int] = None,
                           dim: int = 1) -> Tensor:
        """Logits whose :meth:`probabilities` are ``probs`` (same shape and
        arguments); clamped so that none is infinite."""
        if num_classes is None:
            num_classes = probs.shape[dim]
        if self.sigmoid_scores(num_classes):
            return torch.logit(probs, eps=1e-6)
        return probs.clamp_min(torch.finfo(probs.dtype).tiny).log()

    def predict_labels(self, probs: Tensor) -> Tensor:
        """Label map (1, H, W) of one image's (T, H, W) probabilities: the
        argmax over the classes, or for one class its map thresholded at
        :attr:`threshold` (MMSeg's rule); in the dtype of an argmax (int64)
        or, thresholded, of ``probs`` (as MMSeg)."""
        if probs.shape[0] == 1:
            return (probs > self.threshold).to(probs)
        return probs.argmax(dim=0, keepdim=True)

    def _skip_terms(self, skips: Sequence[Tensor]) -> Tuple[Tensor, Tensor]:
        """Per-image guidance contributions of the two stages.

        Stage 0 takes the shallower ``G_1``, stage 1 the deeper ``G_2``.

        Args:
            skips (Sequence[Tensor]): ``(G_1, G_2)``, each ``(B, W, h, w)``.

        Returns:
            tuple[Tensor, Tensor]: Shapes ``(B, decoder_channels[0], 2h, 2w)``
            and ``(B, decoder_channels[1], 4h, 4w)``.
        """
        if len(skips) != 2:
            raise ValueError('skips must be (G_1, G_2), got '
                             f'{len(skips)} tensors')
        return tuple(
            block.skip_term(proj(up(g))) for block, proj, up, g in zip(
                self.up_blocks, self.guidance_proj, self.skip_proj, skips))

    def _decode(self, corr: Tensor, skip_terms: Sequence[Tensor]) -> Tensor:
        """Decode a group of classes.

        Args:
            corr (Tensor): Shape ``(B, t, C, h, w)``.
            skip_terms (Sequence[Tensor]): Output of :meth:`_skip_terms`.

        Returns:
            Tensor: Logits of shape ``(B, t, 4h, 4w)``.
        """
        x = corr
        use_cp = self.with_cp and self.training and torch.is_grad_enabled()
        for block, term in zip(self.up_blocks, skip_terms):
            x = (
                cp.checkpoint(block, x, term, use_reentrant=False)
                if use_cp else block(x, term))
        B, t = x.shape[:2]
        logits = self.cls_seg(x.flatten(0, 1))
        return logits.view(B, t, *logits.shape[-2:])

    def forward(self, inputs: Dict) -> Tensor:
        """Predict one logit map per class.

        Args:
            inputs (dict): With keys

                - ``corr`` (Tensor): final correlation embedding ``Z`` of
                  shape ``(B, T, C, h, w)``;
                - ``skips`` (Sequence[Tensor]): ``(G_1, G_2)``, the shallower
                  and the deeper intermediate CLIP features, each of shape
                  ``(B, W, h, w)``;
                - ``class_chunk_size`` (int, optional): when set, the classes
                  are decoded in chunks of this size (same result, peak memory
                  bounded in ``T``).

        Returns:
            Tensor: Segmentation logits of shape ``(B, T, 4h, 4w)``.
        """
        corr = inputs['corr']
        if corr.dim() != 5:
            raise ValueError('corr must be (B, T, C, h, w), got '
                             f'{tuple(corr.shape)}')
        skip_terms = self._skip_terms(inputs['skips'])
        chunks = class_chunks(corr.shape[1], inputs.get('class_chunk_size'))
        if len(chunks) == 1:
            return self._decode(corr, skip_terms)
        return torch.cat(
            [self._decode(corr[:, c], skip_terms) for c in chunks], dim=1)
