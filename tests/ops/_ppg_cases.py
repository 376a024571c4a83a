"""Test maps shared by the Triton tests and their interpreter subprocess (torch
only)."""
import torch

# name -> (kind, (M, h, w), num_points, iters, alpha, dtype)
CASES = {
    'softmax_24x24_k5': ('softmax', (8, 24, 24), 5, 10, 0.5, 'float32'),
    'uniform_24x24_k5': ('uniform', (3, 24, 24), 5, 10, 0.5, 'float32'),
    'uniform_32x32_k8': ('uniform', (3, 32, 32), 8, 10, 0.5, 'float32'),
    'uniform_7x9_k3': ('uniform', (4, 7, 9), 3, 10, 0.5, 'float32'),
    'ties_16x16_k5': ('quantised', (4, 16, 16), 5, 10, 0.5, 'float32'),
    'empty_12x12_k5': ('empty', (3, 12, 12), 5, 10, 0.5, 'float32'),
    'allfg_10x10_k4': ('ones', (2, 10, 10), 4, 10, 0.5, 'float32'),
    'sparse_20x20_k6': ('sparse', (3, 20, 20), 6, 10, 0.5, 'float32'),
    'tiny_1x2_k5': ('uniform', (3, 1, 2), 5, 10, 0.5, 'float32'),
    'pixel_1x1_k3': ('uniform', (2, 1, 1), 3, 10, 0.5, 'float32'),
    'iters0_9x9_k4': ('uniform', (3, 9, 9), 4, 0, 0.5, 'float32'),
    'k1_8x8': ('uniform', (3, 8, 8), 1, 10, 0.5, 'float32'),
    'fp16_12x12_k5': ('softmax', (4, 12, 12), 5, 10, 0.5, 'float16'),
    'alpha03_12x12_k5': ('softmax', (4, 12, 12), 5, 10, 0.3, 'float32'),
    'tall_64x1_k8': ('uniform', (2, 64, 1), 8, 10, 0.5, 'float32'),
    'max_64x64_k8': ('sparse', (1, 64, 64), 8, 10, 0.5, 'float32'),
    'empty_batch': ('uniform', (0, 5, 5), 5, 10, 0.5, 'float32'),
}


def make_maps(kind: str, shape, dtype: str, seed: int) -> torch.Tensor:
    """Deterministic test maps of a given kind, shape (M, h, w)."""
    gen = torch.Generator().manual_seed(seed)
    m, h, w = shape
    if kind == 'softmax':
        # Class softmax of smooth logits: a few maps with blobs, many nearly
        # empty.
        logits = torch.randn(
            1, max(m, 1), max(h // 4, 1), max(w // 4, 1), generator=gen)
        logits = torch.nn.functional.interpolate(
            logits, size=(h, w), mode='bilinear')
        prob = (logits * 4).softmax(dim=1)[0, :m]
    elif kind == 'uniform':
        prob = torch.rand(shape, generator=gen)
    elif kind == 'quantised':
        prob = torch.round(torch.rand(shape, generator=gen) * 4) / 4
    elif kind == 'empty':
        prob = torch.rand(shape, generator=gen) * 0.5
        prob[0] = 0.2  # every pixel tied
    elif kind == 'ones':
        prob = torch.ones(shape)
    elif kind == 'sparse':
        prob = torch.rand(shape, generator=gen)
        prob = torch.where(prob > 0.9, prob, prob * 0.3)
    else:
        raise ValueError(kind)
    return prob.to(getattr(torch, dtype))
