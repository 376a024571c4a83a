"""Fused Triton kernel of the Pseudo Prompt Generator.

One program handles one map: thresholding, farthest-point initialisation, all
Lloyd iterations, the per-cluster argmax points and the slot filling run in a
single launch with the whole map held in registers. The steps, tie-breaks and
the exact int64 distance test are those of
:mod:`escnet_mmseg.ops.ppg_reference`, so the outputs are bit-identical.

Triton is optional: without it this module still imports, ``HAS_TRITON`` is
False and :func:`pseudo_prompts_triton` raises. With ``TRITON_INTERPRET=1`` set
before triton is first imported, the kernel also runs on CPU tensors (used by
the tests).
"""
import contextlib
from typing import Tuple

import torch
from torch import Tensor

from .ppg_reference import check_inputs, float32_threshold

try:
    import triton
    import triton.language as tl
    HAS_TRITON = True
except ImportError:  # CPU-only installs keep working through the reference
    triton = None
    tl = None
    HAS_TRITON = False

__all__ = ['HAS_TRITON', 'MAX_MAP_SIZE', 'MAX_POINTS', 'pseudo_prompts_triton']

#: Largest ``h*w`` one program holds in registers.
MAX_MAP_SIZE = 4096
#: Largest ``num_points`` (the per-cluster state is unrolled over K).
MAX_POINTS = 8

if HAS_TRITON:

    @triton.jit
    def _pick(vec, kidx, j: tl.constexpr):
        """Scalar ``vec[j]`` of a small per-cluster vector."""
        return tl.sum(tl.where(kidx == j, vec, 0), axis=0)

    @triton.jit
    def _assign(x, y, fg, sx, sy, cnt, kidx, K: tl.constexpr,
                NB: tl.constexpr):
        """Nearest non-empty cluster per foreground pixel (exact int64
        comparison)."""
        best = tl.full([NB], -1, tl.int64)
        best_a = tl.zeros([NB], dtype=tl.int64)
        best_n2 = tl.zeros([NB], dtype=tl.int64)
        for j in tl.static_range(K):
            nj = _pick(cnt, kidx, j)
            dx = nj * x - _pick(sx, kidx, j)
            dy = nj * y - _pick(sy, kidx, j)
            a = dx * dx + dy * dy
            n2 = nj * nj
            # Strict '<' keeps the lower cluster index on exact ties.
            better = (nj > 0) & ((best < 0) | (a * best_n2 < best_a * n2))
            best = tl.where(better, j, best)
            best_a = tl.where(better, a, best_a)
            best_n2 = tl.where(better, n2, best_n2)
        return tl.where(fg, best, -1)

    @triton.jit
    def _ppg_kernel(prob_ptr, labels_ptr, points_ptr, valid_ptr, n, w, alpha,
                    K: tl.constexpr, ITERS: tl.constexpr, NB: tl.constexpr,
                    KB: tl.constexpr):
        """One map per program; see the reference module for the algorithm."""
        m = tl.program_id(0).to(tl.int64)
        offs = tl.arange(0, NB)
        inb = offs < n
        p = tl.load(prob_ptr + m * n + offs, mask=inb, other=0.0)
        fg = inb & (p > alpha)
        x = (offs % w).to(tl.int64)
        y = (offs // w).to(tl.int64)
        kidx = tl.arange(0, KB)

        # Initial centre 0: the foreground peak, ties to the lowest flat index.
        peak = tl.max(tl.where(fg, p, -float('inf')), axis=0)
        i0 = tl.min(tl.where(fg & (p == peak), offs, NB), axis=0)
        ok = i0 < NB
        cx = (i0 % w).to(tl.int64)
        cy = (i0 // w).to(tl.int64)
        first = (kidx == 0) & ok
        sx = tl.where(first, cx, 0).to(tl.int64)
        sy = tl.where(first, cy, 0).to(tl.int64)
        cnt = tl.where(first, 1, 0).to(tl.int64)
        dmin = tl.where(fg, (x - cx) * (x - cx) + (y - cy) * (y - cy), -1)
        # Farthest-point centres; none is added once every foreground pixel is
        # a centre.
        for j in tl.static_range(1, K):
            far = tl.max(dmin, axis=0)
            ij = tl.min(tl.where((dmin > 0) & (dmin == far), offs, NB), axis=0)
            ok = far > 0
            cx = (ij % w).to(tl.int64)
            cy = (ij // w).to(tl.int64)
            sel = (kidx == j) & ok
            sx = tl.where(sel, cx, sx)
            sy = tl.where(sel, cy, sy)
            cnt = tl.where(sel, 1, cnt)
            d = (x - cx) * (x - cx) + (y - cy) * (y - cy)
            dmin = tl.where(ok, tl.minimum(dmin, d), dmin)

        # Lloyd iterations on exact integer sums and counts.
        for _ in range(ITERS):
            lab = _assign(x, y, fg, sx, sy, cnt, kidx, K, NB)
            for j in tl.static_range(K):
                mj = lab == j
                cnt = tl.where(kidx == j, tl.sum(mj.to(tl.int64), axis=0), cnt)
                sx = tl.where(kidx == j, tl.sum(tl.where(mj, x, 0), axis=0),
                              sx)
                sy = tl.where(kidx == j, tl.sum(tl.where(mj, y, 0), axis=0),
                              sy)
        lab = _assign(x, y, fg, sx, sy, cnt, kidx, K, NB)
        tl.store(labels_ptr + m * n + offs, lab, mask=inb)

        # One point per non-empty cluster (its highest-probability pixel) in
        # slot j ...
        pt = tl.full([KB], -1, tl.int64)
        chosen = offs < 0
        for j in tl.static_range(K):
            mj = lab == j
            best = tl.max(tl.where(mj, p, -float('inf')), axis=0)
            ij = tl.min(tl.where(mj & (p == best), offs, NB), axis=0)
            pt = tl.where((kidx == j) & (ij < NB), ij.to(tl.int64), pt)
            chosen = chosen | (offs == ij)
        # ... then empty slots, in order, take the best pixels not chosen yet.
        for j in tl.static_range(K):
            need = _pick(pt, kidx, j) < 0
            free = inb & (chosen == 0)
            best = tl.max(tl.where(free, p, -float('inf')), axis=0)
            ij = tl.min(tl.where(free & (p == best), offs, NB), axis=0)
            take = need & (ij < NB)
            pt = tl.where((kidx == j) & take, ij.to(tl.int64), pt)
            chosen = chosen | ((offs == ij) & take)

        ok = pt >= 0
        pt = tl.where(ok, pt, 0)
        kmask = kidx < K
        base = (m * K + kidx) * 2
        tl.store(points_ptr + base, (pt % w).to(tl.float32), mask=kmask)
        tl.store(points_ptr + base + 1, (pt // w).to(tl.float32), mask=kmask)
        tl.store(valid_ptr + m * K + kidx, ok.to(tl.int8), mask=kmask)


def pseudo_prompts_triton(prob: Tensor,
                          alpha: float = 0.5,
                          num_points: int = 5,
                          iters: int = 10) -> Tuple[Tensor, Tensor, Tensor]:
    """Pseudo prompts with the fused Triton kernel (one program per map).

    Args:
        prob (Tensor): (M, h, w) probability maps, any float dtype (computed in
            float32), on a CUDA device (or on CPU under
            ``TRITON_INTERPRET=1``). ``h*w <= 4096``.
        alpha (float): Foreground threshold, ``0 <= alpha < 1``. Defaults to
            0.5.
        num_points (int): Number of points ``K`` per map, ``1 <= K <= 8``.
            Defaults to 5.
        iters (int): Number of Lloyd iterations (a compile-time constant of the
            kernel). Defaults to 10.

    Returns:
        tuple[Tensor, Tensor, Tensor]: ``labels`` (M, h*w) int64, ``points``
            (M, K, 2) float32, ``valid`` (M, K) bool, identical to
            :func:`~escnet_mmseg.ops.ppg_reference.pseudo_prompts_reference`.

    Raises:
        RuntimeError: If triton is not installed.
        ValueError: On invalid arguments, ``h*w > 4096`` or ``num_points > 8``.
    """
    if not HAS_TRITON:
        raise RuntimeError('pseudo_prompts_triton needs the triton package')
    check_inputs(prob, alpha, num_points, iters)
    m, h, w = prob.shape
    n = h * w
    if n > MAX_MAP_SIZE:
        raise ValueError(
            f'the Triton PPG kernel supports h*w <= {MAX_MAP_SIZE}, '
            f'got {h}x{w}={n}')
    if num_points > MAX_POINTS:
        raise ValueError(
            f'the Triton PPG kernel supports num_points <= {MAX_POINTS}, '
            f'got {num_points}')
    p = prob.detach().to(torch.float32).contiguous()
    labels = torch.empty(m, n, dtype=torch.int64, device=p.device)
    points = torch.empty(
        m, num_points, 2, dtype=torch.float32, device=p.device)
    valid = torch.empty(m, num_points, dtype=torch.int8, device=p.device)
    if m > 0:
        nb = triton.next_power_of_2(n)
        kb = max(2, triton.next_power_of_2(num_points))
        # Launch on the tensors' GPU, not on whichever device is current.
        with torch.cuda.device(
                p.device) if p.is_cuda else contextlib.nullcontext():
            _ppg_kernel[(m, )](
                p,
                labels,
                points,
                valid,
                n,
                w,
                float32_threshold(alpha),
                K=num_points,
                ITERS=int(iters),
                NB=nb,
                KB=kb,
                num_warps=4 if nb <= 1024 else 8)
    return labels, points, valid.bool()
