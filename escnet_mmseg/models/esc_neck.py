"""The stack of N ESC blocks between CLIP and the decoder."""
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType
from torch import Tensor, nn

from ..utils import load_sam_checkpoint
from .esc_block import BlockContext, ESCBlock
from .sam_block import PROMPT_TYPES, SAM_EMBED_DIMS, build_prompt_encoder
from .utils import class_chunks


def cosine_correlation(visual: Tensor, text: Tensor) -> Tensor:
    """Eq. (1): cosine similarity (B, T, h, w) of (B, E, h, w) and (T, E).

    Computed in float32 even under autocast: block 0 scales it by tau = 100
    before the PPG's class softmax, which bf16's 3 digits would blur.
    """
    with torch.autocast(visual.device.type, enabled=False):
        return torch.einsum('behw,te->bthw',
                            F.normalize(visual.float(), dim=1),
                            F.normalize(text.float(), dim=-1))


@MODELS.register_module()
class ESCNeck(BaseModule):
    """Correlation + N ESC blocks (paper §3.2-3.5).

    The sub-modules of every block are built from configs through MMSeg's
    registry; the neck fills in the channel numbers (E, C) and which SAM
    layer each block copies.

    Args:
        clip_channels (int): E, CLIP embedding dim (512 ViT-B, 768 ViT-L).
            Defaults to 512.
        channels (int): C, correlation feature width. Defaults to 128.
        grid_size (tuple[int, int]): (h, w) of the CLIP token grid.
            Defaults to (24, 24).
        num_blocks (int): N, the number of ESC blocks. Defaults to 4.
        ppg (dict): Config of every block's :class:`PseudoPromptGenerator`
            (K points, threshold alpha, Lloyd iterations, softmax axis).
            Defaults to dict(type='PseudoPromptGenerator').
        sam_block (dict, optional): Config of every block's :class:`SAMBlock`
            (D = ``embed_dims``, heads, MLP width); None removes the SAM
            blocks and SAM's prompt encoder (Table 2a). Defaults to
            dict(type='SAMBlock').
        vlf (dict): Config of every block's :class:`VLF` (heads, window
            size, ...). Defaults to dict(type='VLF').
        sam_checkpoint (str, optional): SAM checkpoint
            (``sam_vit_b_01ec64.pth``) that initialises the prompt encoder and
            the blocks' SAM layers in :meth:`init_weights`; None keeps them
            randomly initialised (Table 2b). Defaults to None.
        sam_layer_ids (Sequence[int]): SAM mask-decoder layer (0 or 1) copied
            into each block. Defaults to (0, 1, 0, 1).
        prompt_types (Sequence[str]): Prompts given to SAM (Table 3). Defaults
            to ('points', 'masks').
        logit_scale (float): tau applied to C0 before the block-0 PPG. Defaults
            to 100.0.
        with_cp (bool): Activation checkpointing of every ESC block's per-class
            part in training (less memory, same gradients, ~1 more forward).
            Defaults to False.
    """

    def __init__(self,
                 clip_channels: int = 512,
                 channels: int = 128,
                 grid_size: Tuple[int, int] = (24, 24),
                 num_blocks: int = 4,
                 ppg: ConfigType = dict(type='PseudoPromptGenerator'),
                 sam_block: OptConfigType = dict(type='SAMBlock'),
                 vlf: ConfigType = dict(type='VLF'),
                 sam_checkpoint: Optional[str] = None,
                 sam_layer_ids: Sequence[int] = (0, 1, 0, 1),
                 prompt_types: Sequence[str] = ('points', 'masks'),
                 logit_scale: float = 100.0,
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        bad = set(prompt_types) - set(PROMPT_TYPES)
        if bad:
            raise ValueError(f'unknown prompt types {sorted(bad)}; choose '
                             f'from {PROMPT_TYPES}')
        with_sam = sam_block is not None
        if with_sam and len(sam_layer_ids) != num_blocks:
            raise ValueError(f'sam_layer_ids needs one SAM layer id per block '
                             f'({num_blocks}), got {tuple(sam_layer_ids)}')
        if with_sam and not set(sam_layer_ids) <= {0, 1}:
            raise ValueError(
                'SAM mask decoders have two layers: sam_layer_ids '
                f'must be 0 or 1, got {tuple(sam_layer_ids)}')
        self.grid_size = tuple(grid_size)
        self.sam_checkpoint = sam_checkpoint
        self.sam_layer_ids = tuple(sam_layer_ids) if with_sam else ()
        self.prompt_encoder = (
            build_prompt_encoder(
                sam_block.get('embed_dims', SAM_EMBED_DIMS), self.grid_size)
            if with_sam else None)
        self.blocks = nn.ModuleList()
        for k in range(num_blocks):
            self.blocks.append(
                ESCBlock(
                    first=k == 0,
                    channels=channels,
                    clip_channels=clip_channels,
                    ppg=ppg,
                    # SAM's layer 0 skips the query PE in its self-attention.
                    sam_block=dict(
                        sam_block, skip_first_layer_pe=sam_layer_ids[k] == 0)
                    if with_sam else None,
                    vlf=vlf,
                    prompt_types=prompt_types,
                    logit_scale=logit_scale,
                    with_cp=with_cp))

    def init_weights(self) -> None:
        """Initialise new layers, then load SAM's weights if configured."""
        super().init_weights()
        if self.sam_checkpoint and self.prompt_encoder is not None:
            layers: Dict[int, list] = {0: [], 1: []}
            for block, layer_id in zip(self.blocks, self.sam_layer_ids):
                layers[layer_id].append(block.sam_block.layer)
            load_sam_checkpoint(self.sam_checkpoint, self.prompt_encoder,
                                layers)
            print_log(
                f'ESCNeck: loaded SAM weights from {self.sam_checkpoint}',
                logger='current')

    def forward(self,
                visual: Tensor,
                vocab_text: Tensor,
                class_chunk_size: Optional[int] = None) -> Tensor:
        """Refined correlation of every class.

        Args:
            visual (Tensor): Dense CLIP features F_v (B, E, h, w).
            vocab_text (Tensor): Text embeddings F_l (T, E) of the whole
                vocabulary.
            class_chunk_size (int, optional): Run the per-class parts on chunks
                of this many classes (bounds peak memory for large
                vocabularies); the result is the same as without chunking.
                Defaults to None.

        Returns:
            Tensor: Z_{N-1} (B, T, C, h, w).
        """
        if tuple(visual.shape[-2:]) != self.grid_size:
            raise ValueError(f'ESCNeck was built for a {self.grid_size} grid '
                             f'but got features of {tuple(visual.shape[-2:])}')
        corr = cosine_correlation(visual, vocab_text).unsqueeze(2)
        image_pe = (
            self.prompt_encoder.get_dense_pe()
            if self.prompt_encoder is not None else None)
        ctx = BlockContext(visual, vocab_text, self.prompt_encoder, image_pe)
        chunks = class_chunks(vocab_text.shape[0], class_chunk_size)
        for block in self.blocks:
            # The PPG's class softmax needs every class; the rest is per class.
            prompts = block.prompts(corr)
            if torch.is_grad_enabled() or len(chunks) == 1:
                corr = torch.cat(
                    [block(corr, prompts, ctx, c) for c in chunks], dim=1)
            else:
                corr = _refine_in_place(block, corr, prompts, ctx, chunks)
        return corr


def _refine_in_place(block: ESCBlock, corr: Tensor, prompts: Dict[str, Tensor],
                     ctx: BlockContext, chunks: Sequence[slice]) -> Tensor:
    """One block on chunks of classes, holding one (B, T, C, h, w) state.

    Without autograd a chunk's refined correlation can overwrite its input
    (the prompts were computed from all classes before); ``torch.cat`` of the
    chunks would hold the state twice. Block 0 changes the width (1 -> C)
    (and, under autocast, the dtype), so its output gets a new tensor.
    """
    out = None
    for c in chunks:
        refined = block(corr, prompts, ctx, c)
        if out is None:
            same = (
                refined.shape[2:] == corr.shape[2:]
                and refined.dtype == corr.dtype)
            out = corr if same else refined.new_empty(
                (*corr.shape[:2], *refined.shape[2:]))
        out[:, c] = refined
    return out
