"""Separate query/key/value projection weights for CLIP's attention layers.

``nn.MultiheadAttention`` (what open_clip's CLIP blocks use) packs the three
projections into one ``in_proj_weight``, so ``requires_grad`` cannot train Q
and V while K stays fixed, and the optimizer's weight decay would move every
row. :func:`separate_qkv` switches a layer to PyTorch's own
separate-weight mode (``q_proj_weight``, ``k_proj_weight``,
``v_proj_weight``; ``F.multi_head_attention_forward`` with
``use_separate_proj_weight``), as CAT-Seg's CLIP does for its ``'attention'``
fine-tuning. State dict hooks keep the file layout of open_clip: state
dicts hold the packed ``in_proj_weight``, so open_clip weight files and
checkpoints of either layout load into either model.
"""
from typing import Tuple

import torch
import torch.nn as nn
from torch import Tensor

QKV_NAMES = ('q_proj_weight', 'k_proj_weight', 'v_proj_weight')


def qkv_weights(attn: nn.MultiheadAttention) -> Tuple[Tensor, Tensor, Tensor]:
    """The (E, E) query, key and value projection weights, in either mode."""
    if attn._qkv_same_embed_dim:
        return tuple(attn.in_proj_weight.chunk(3))
    return attn.q_proj_weight, attn.k_proj_weight, attn.v_proj_weight


def separate_qkv(attn: nn.MultiheadAttention) -> None:
    """Replace ``attn.in_proj_weight`` by three parameters (same values).

    The biases stay packed in ``in_proj_bias``. Idempotent.
    """
    if not isinstance(attn, nn.MultiheadAttention):
        raise TypeError(f'expected nn.MultiheadAttention, got '
                        f'{type(attn).__name__}')
    if not attn._qkv_same_embed_dim:
        return
    packed = attn.in_proj_weight
    parts = [p.detach().clone() for p in packed.chunk(3)]
    attn.in_proj_weight = None  # unregisters the packed parameter
    for name, part in zip(QKV_NAMES, parts):
        setattr(attn, name,
                nn.Parameter(part, requires_grad=packed.requires_grad))
    attn._qkv_same_embed_dim = False  # forward uses the separate weights
    attn._register_state_dict_hook(_pack_qkv_state)
    attn._register_load_state_dict_pre_hook(_split_qkv_state)


def _pack_qkv_state(module, state_dict, prefix, local_metadata) -> None:
    """state_dict hook: save the three weights as open_clip's packed one."""
    keys = [prefix + name for name in QKV_NAMES]
    if all(k in state_dict for k in keys):
        parts = [state_dict.pop(k).detach() for k in keys]
        state_dict[prefix + 'in_proj_weight'] = torch.cat(parts)


def _split_qkv_state(state_dict, prefix, local_metadata, strict, missing_keys,
                     unexpected_keys, error_msgs) -> None:
    """load pre-hook: a packed ``in_proj_weight`` fills the three weights
    (a wrong size surfaces as a shape mismatch of ``q_proj_weight``...)."""
    key = prefix + 'in_proj_weight'
    if key in state_dict:
        packed = state_dict.pop(key)
        for name, part in zip(QKV_NAMES, packed.chunk(3)):
            state_dict[prefix + name] = part
