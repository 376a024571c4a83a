"""Custom ops of ESC-Net that depend only on torch (and, optionally,
triton)."""
from .ppg_reference import pseudo_prompts_reference
from .ppg_triton import HAS_TRITON, pseudo_prompts_triton
from .pseudo_prompts import pseudo_prompts

__all__ = [
    'HAS_TRITON', 'pseudo_prompts', 'pseudo_prompts_reference',
    'pseudo_prompts_triton'
]
