"""ESC block (paper Fig. 2): score map -> PPG -> SAM block -> VLF."""
from typing import Dict, NamedTuple, Optional

import torch
import torch.utils.checkpoint as cp
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType
from torch import Tensor, nn

from .sam_block import encode_prompts


class BlockContext(NamedTuple):
    """Per-image inputs shared by every ESC block and class chunk.

    Args:
        visual (Tensor): Dense CLIP features F_v (B, E, h, w).
        vocab_text (Tensor): Text embeddings F_l of the whole vocabulary
            (T, E): a chunk's rows are the per-class queries of the SAM
            block, all rows the keys/values of the VLF class attention.
        prompt_encoder (PromptEncoder, optional): SAM's prompt encoder shared
            by all blocks (None without SAM blocks).
        image_pe (Tensor, optional): SAM's dense positional encoding
            (1, D, h, w), or None without SAM blocks.
    """
    visual: Tensor
    vocab_text: Tensor
    prompt_encoder: Optional[nn.Module]
    image_pe: Optional[Tensor]


@MODELS.register_module()
class ESCBlock(BaseModule):
    """One ESC block; :class:`ESCNeck` runs N of them.

    The block is split in two calls so the neck can chunk the vocabulary:
    :meth:`prompts` (score maps -> PPG) runs on the whole vocabulary, since
    the PPG's class softmax needs every class; then :meth:`forward` runs the
    heavy per-class part on any chunk of classes::

        prompts = block.prompts(corr)
        corr = cat([block(corr, prompts, ctx, c) for c in chunks], dim=1)

    Args:
        first (bool): Block 0 takes the cosine correlation (1 channel, scored
            as ``logit_scale * C0``); later blocks take Z_{k-1} (C channels,
            scored by a 1x1 conv).
        channels (int): C. Defaults to 128.
        clip_channels (int): E, CLIP embedding dim. Defaults to 512.
        ppg (dict): Config of the :class:`PseudoPromptGenerator`. Defaults to
            dict(type='PseudoPromptGenerator').
        sam_block (dict, optional): Config of the :class:`SAMBlock`
            (``in_channels`` and ``out_channels`` are filled in), or None for
            the "no SAM block" ablation (the VLF then gets ``Conv1x1(F_v)`` for
            every class). Defaults to dict(type='SAMBlock').
        vlf (dict): Config of the :class:`VLF` (channel numbers are filled
            in). Defaults to dict(type='VLF').
        prompt_types (Sequence[str]): Which prompts the SAM block gets.
            Defaults to ('points', 'masks').
        logit_scale (float): tau, scale of the block-0 correlation before the
            PPG. Defaults to 100.0.
        with_cp (bool): Activation checkpointing of :meth:`forward` in training
            (recomputed in the backward pass: less memory, same gradients).
            Defaults to False.
    """

    def __init__(self,
                 first: bool,
                 channels: int = 128,
                 clip_channels: int = 512,
                 ppg: ConfigType = dict(type='PseudoPromptGenerator'),
                 sam_block: OptConfigType = dict(type='SAMBlock'),
                 vlf: ConfigType = dict(type='VLF'),
                 prompt_types=('points', 'masks'),
                 logit_scale: float = 100.0,
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.first = first
        self.with_cp = with_cp
        self.logit_scale = logit_scale
        self.prompt_types = tuple(prompt_types)
        self.score = None if first else nn.Conv2d(channels, 1, 1)
        self.ppg = MODELS.build(ppg)
        if sam_block is None:
            self.sam_block = None
            self.visual_proj = nn.Conv2d(clip_channels, channels, 1)
        else:
            self.sam_block = MODELS.build(
                dict(
                    sam_block,
                    in_channels=clip_channels,
                    out_channels=channels))
        self.vlf = MODELS.build(
            dict(
                vlf,
                channels=channels,
                text_channels=clip_channels,
                corr_channels=1 if first else channels))

    def class_logits(self, corr: Tensor) -> Tensor:
        """Score maps S_k (B, T, h, w) from the incoming correlation.

        Args:
            corr (Tensor): (B, T, 1, h, w) cosine correlation C0 for block 0,
                (B, T, C, h, w) Z_{k-1} otherwise.
        """
        if self.first:
            return self.logit_scale * corr[:, :, 0]
        b, t = corr.shape[:2]
        return self.score(corr.flatten(0, 1)).view(b, t, *corr.shape[-2:])

    def prompts(self, corr: Tensor) -> Dict[str, Tensor]:
        """PPG prompts of the whole vocabulary (empty without a SAM block).

        Args:
            corr (Tensor): Incoming correlation of every class, see
                :meth:`class_logits`.

        Returns:
            dict[str, Tensor]: The :class:`PseudoPromptGenerator` outputs, each
                (B, T, ...); ``{}`` for the "no SAM block" ablation, which has
                nothing to prompt.
        """
        if self.sam_block is None:
            return {}
        return self.ppg(self.class_logits(corr))

    def forward(self,
                corr: Tensor,
                prompts: Dict[str, Tensor],
                ctx: BlockContext,
                classes: slice = slice(None)) -> Tensor:
        """Refine the correlation of a chunk of classes.

        Args:
            corr (Tensor): Incoming correlation of every class (B, T, Cin, h,
                w).
            prompts (dict[str, Tensor]): :meth:`prompts` of every class.
            ctx (BlockContext): Per-image inputs shared by all blocks.
            classes (slice): The chunk of classes to refine. Defaults to
                slice(None).

        Returns:
            Tensor: Z_k of the chunk (B, T_chunk, C, h, w).
        """
        args = (corr[:, classes], ctx.visual, ctx.vocab_text[classes],
                ctx.vocab_text, {
                    k: v[:, classes]
                    for k, v in prompts.items()
                }, ctx.prompt_encoder, ctx.image_pe)
        if self.with_cp and self.training and torch.is_grad_enabled():
            return cp.checkpoint(self._forward, *args, use_reentrant=False)
        return self._forward(*args)

    def _forward(self, corr: Tensor, visual: Tensor, text: Tensor,
                 vocab_text: Tensor, prompts: Dict[str, Tensor],
                 prompt_encoder: Optional[nn.Module],
                 image_pe: Optional[Tensor]) -> Tensor:
        """:meth:`forward` on one chunk: ``corr`` (B, T, Cin, h, w), the
        chunk's ``text`` (T, E) and ``prompts`` restricted to it; F_v
        ``visual`` and ``vocab_text`` (T_all, E) whole."""
        b, t = corr.shape[:2]
        if self.sam_block is None:
            v_k = self.visual_proj(visual).unsqueeze(1).expand(
                b, t, -1, -1, -1)
        else:
            sparse, dense = encode_prompts(
                prompt_encoder, prompts, self.prompt_types, factored=True)
            v_k = self.sam_block(visual, text, sparse, dense, image_pe)
        return self.vlf(corr, v_k, vocab_text)
