"""Batched pure-PyTorch Pseudo Prompt Generator (PPG), the CPU kernel and test
oracle.

The algorithm below is the definition of ``escnet::pseudo_prompts``; the Triton
kernel in :mod:`escnet_mmseg.ops.ppg_triton` implements the same steps and must
agree bit for bit.

Notation for one map: ``P`` (h, w) in float32 (inputs of other float dtypes are
cast first), ``N = h*w``, the pixel at (row, col) has flat index ``row*w +
col`` and coordinates ``(x, y) = (col, row)``. ``K = num_points``. "Argmax with
ties to the lowest flat index" is written ``argmax*``.

1. **Foreground.** ``F = P > alpha`` where ``alpha`` is first rounded to
   float32, so the test is the same float32 comparison everywhere.
2. **Initial centres** (farthest point from the peak). Centre 0 is ``argmax*``
   of ``P`` over ``F``. Keep ``dmin(r)``, the integer squared distance from
   each foreground pixel to its nearest chosen centre. For ``k = 1..K-1``: if
   some foreground pixel has ``dmin > 0``, centre ``k`` is ``argmax*`` of
   ``dmin`` over those pixels; otherwise no centre is added (this happens
   exactly when all ``|F|`` pixels are centres, so a map gets ``min(K, |F|)``
   initial centres and the remaining clusters start empty).
3. **Lloyd k-means** on the coordinates of ``F``. A cluster ``j`` is stored
   exactly as the integer sums ``sx_j, sy_j`` of its pixels' coordinates and
   its count ``n_j`` (an initial centre is ``n=1, sx=x, sy=y``); its centre is
   ``(sx_j/n_j, sy_j/n_j)`` and it is empty when ``n_j = 0``. *Assignment*:
   each foreground pixel goes to the non-empty cluster with the smallest
   squared distance to its centre, ties to the lowest cluster index. Distances
   are compared exactly in int64 by cross-multiplying counts::

       A_j = (n_j*x - sx_j)**2 + (n_j*y - sy_j)**2    # = n_j**2 * dist_j**2
       dist_i < dist_j  <=>  A_i * n_j**2 < A_j * n_i**2

   (no overflow while ``((h-1)**2 + (w-1)**2) * floor(N**2/4)**2 < 2**63``,
   i.e. square maps up to 97x97; :func:`check_inputs` enforces it). *Update*:
   ``n_j, sx_j, sy_j`` are recomputed from the assignment; a cluster that
   received no pixel becomes empty and stays empty. One iteration = assignment
   + update; ``iters`` iterations are run, then one final assignment to the
   final centres gives ``labels`` (so ``iters=0`` labels the pixels by their
   nearest initial centre). Background pixels get label -1.
4. **Points.** Cluster ``j`` is non-empty when some pixel has final label
   ``j``; its point is ``argmax*`` of ``P`` over those pixels and goes in slot
   ``j``. Then every slot whose cluster is empty, in increasing slot order,
   takes ``argmax*`` of ``P`` over the pixels not yet chosen as a point
   (cluster points and earlier filled slots); such points carry no region. When
   no pixel is left (``N < K``) the slot is invalid and its point is ``(0,
   0)``. A map without foreground thus gets its ``K`` highest-probability
   pixels.

Outputs: ``labels`` (M, N) int64 in [-1, K), ``points`` (M, K, 2) float32
holding the integer ``(x, y)`` of the chosen pixels (no +0.5 shift), ``valid``
(M, K) bool. ``prob`` must be finite (NaN is not a probability).
"""
from typing import Tuple

import torch
from torch import Tensor

__all__ = ['check_inputs', 'float32_threshold', 'pseudo_prompts_reference']

_INT64_MAX = 2**63 - 1


def float32_threshold(alpha: float) -> float:
    """Round ``alpha`` to the nearest float32 so every backend thresholds
    identically.

    Args:
        alpha (float): Foreground threshold.

    Returns:
        float: The float32 value of ``alpha`` as a Python float.
    """
    return float(torch.tensor(alpha, dtype=torch.float32).item())


def check_inputs(prob: Tensor,
                 alpha: float,
                 num_points: int,
                 iters: int,
                 check_size: bool = True) -> None:
    """Validate the arguments of the PPG op.

    Args:
        prob (Tensor): Probability maps, shape (M, h, w), floating point.
        alpha (float): Foreground threshold, ``0 <= alpha < 1``.
        num_points (int): Number of points ``K`` per map, ``>= 1``.
        iters (int): Number of Lloyd iterations, ``>= 0``.
        check_size (bool): Also check ``h`` and ``w`` (off for the fake
            implementation, where reading symbolic sizes would specialise
            them). Defaults to True.

    Raises:
        ValueError: If any argument is out of range, or the map is so large
            that the exact int64 distance comparison could overflow.
    """
    if prob.dim() != 3:
        raise ValueError('prob must be a 3-D tensor (M, h, w), got shape '
                         f'{tuple(prob.shape)}')
    if not prob.is_floating_point():
        raise ValueError(
            f'prob must be a floating point tensor, got {prob.dtype}')
    if num_points < 1:
        raise ValueError(f'num_points must be >= 1, got {num_points}')
    if iters < 0:
        raise ValueError(f'iters must be >= 0, got {iters}')
    if not 0.0 <= alpha < 1.0:
        raise ValueError(f'alpha must satisfy 0 <= alpha < 1, got {alpha}')
    if not check_size:
        return
    h, w = int(prob.shape[1]), int(prob.shape[2])
    if h < 1 or w < 1:
        raise ValueError(f'maps must be non-empty, got h={h}, w={w}')
    n = h * w
    # Largest cross-multiplied distance: dist**2 <= (h-1)**2+(w-1)**2 and the
    # two counts belong to disjoint clusters, so n_i*n_j <= floor(N**2/4).
    if ((h - 1)**2 + (w - 1)**2) * (n * n // 4)**2 > _INT64_MAX:
        raise ValueError(
            f'maps of {h}x{w} are too large for the exact int64 k-means '
            'distance test')


def _masked_argmax(values: Tensor, mask: Tensor, key: Tensor,
                   none: int) -> Tensor:
    """Row-wise argmax over masked entries, ties to the lowest ``key``.

    Args:
        values (Tensor): (R, L) float or integer tensor.
        mask (Tensor): (R, L) bool, entries that may be chosen.
        key (Tensor): (L,) or (R, L) int64 tie-break key of each entry (its
            flat pixel index), also the value returned.
        none (int): Value returned for rows without a masked entry (larger than
            every key).

    Returns:
        Tensor: (R,) int64 key of the chosen entry, ``none`` where the row has
            no masked entry.
    """
    if values.is_floating_point():
        low = torch.tensor(
            float('-inf'), dtype=values.dtype, device=values.device)
    else:
        low = torch.tensor(
            torch.iinfo(values.dtype).min,
            dtype=values.dtype,
            device=values.device)
    peak = torch.where(mask, values, low).amax(dim=1, keepdim=True)
    # Explicit lowest-key tie-break instead of relying on argmax's backend
    # behaviour.
    return torch.where(mask & (values == peak), key, none).amin(dim=1)


def _assign(xs: Tensor, ys: Tensor, live: Tensor, sx: Tensor, sy: Tensor,
            cnt: Tensor) -> Tensor:
    """Nearest non-empty cluster of every foreground pixel, compared exactly in
    int64.

    Args:
        xs (Tensor): (R, L) int64 pixel x coordinates.
        ys (Tensor): (R, L) int64 pixel y coordinates.
        live (Tensor): (R, L) bool, entries that are foreground pixels.
        sx (Tensor): (R, K) int64 sums of the clusters' x coordinates.
        sy (Tensor): (R, K) int64 sums of the clusters' y coordinates.
        cnt (Tensor): (R, K) int64 pixel counts of the clusters.

    Returns:
        Tensor: (R, L) int64 labels in [-1, K), -1 where not ``live``.
    """
    k = cnt.shape[1]
    best = torch.full(live.shape, -1, dtype=torch.int64, device=live.device)
    best_a = torch.zeros_like(best)
    best_n2 = torch.zeros_like(best)
    for j in range(k):
        nj = cnt[:, j:j + 1]
        dx = nj * xs - sx[:, j:j + 1]
        dy = nj * ys - sy[:, j:j + 1]
        a = dx * dx + dy * dy
        n2 = nj * nj
        # Strict '<' keeps the lower cluster index on exact ties.
        better = (nj > 0) & ((best < 0) | (a * best_n2 < best_a * n2))
        best = torch.where(better, j, best)
        best_a = torch.where(better, a, best_a)
        best_n2 = torch.where(better, n2, best_n2)
    return torch.where(live, best, -1)


def _cluster(fl: Tensor, pp: Tensor, w: int, n: int, k: int,
             iters: int) -> Tuple[Tensor, Tensor]:
    """Steps 2-3 and the cluster points of step 4 on compacted foreground
    pixels.

    Args:
        fl (Tensor): (R, L) int64 flat indices of each map's foreground pixels
            in increasing order, padded with ``n``.
        pp (Tensor): (R, L) float32 probabilities of those pixels (padding
            ignored).
        w (int): Map width.
        n (int): ``h*w``.
        k (int): Number of clusters.
        iters (int): Lloyd iterations.

    Returns:
        tuple[Tensor, Tensor]: ``labels`` (R, L) int64 in [-1, K) and ``point``
            (R, K) int64 flat index of each cluster's point, ``n`` for an empty
            cluster.
    """
    r = fl.shape[0]
    live = fl < n
    xs, ys = fl % w, fl // w

    # Step 2: farthest-point initialisation from the probability peak.
    sx = torch.zeros(r, k, dtype=torch.int64, device=fl.device)
    sy = torch.zeros_like(sx)
    cnt = torch.zeros_like(sx)
    idx = _masked_argmax(pp, live, fl, n)
    dmin = torch.full_like(fl, -1)
    for j in range(k):
        found = idx < n
        cx, cy = idx % w, idx // w
        sx[:, j] = torch.where(found, cx, 0)
        sy[:, j] = torch.where(found, cy, 0)
        cnt[:, j] = found.long()
        d = torch.where(live, (xs - cx[:, None])**2 + (ys - cy[:, None])**2,
                        -1)
        dmin = torch.where(found[:, None],
                           d if j == 0 else torch.minimum(dmin, d), dmin)
        if j + 1 < k:
            idx = _masked_argmax(dmin, dmin > 0, fl, n)

    # Step 3: Lloyd iterations with exact integer centres.
    for _ in range(iters):
        labels = _assign(xs, ys, live, sx, sy, cnt)
        bucket = labels + 1  # bucket 0 collects the padding
        sums = torch.zeros(3, r, k + 1, dtype=torch.int64, device=fl.device)
        sums[0].scatter_add_(1, bucket, torch.ones_like(bucket))
        sums[1].scatter_add_(1, bucket, xs)
        sums[2].scatter_add_(1, bucket, ys)
        cnt, sx, sy = sums[0, :, 1:], sums[1, :, 1:], sums[2, :, 1:]
    labels = _assign(xs, ys, live, sx, sy, cnt)

    point = torch.stack(
        [_masked_argmax(pp, labels == j, fl, n) for j in range(k)], dim=1)
    return labels, point


@torch.no_grad()
def pseudo_prompts_reference(prob: Tensor,
                             alpha: float = 0.5,
                             num_points: int = 5,
                             iters: int = 10) -> Tuple[Tensor, Tensor, Tensor]:
    """Pseudo prompts of all maps at once (see the module docstring for the
    algorithm).

    Vectorised over the M maps; Python loops only run over iterations and
    clusters. The k-means runs on the foreground pixels only: maps with
    foreground are gathered and their foreground pixels packed (in flat order)
    to the width of the fullest map, which changes no result since every
    tie-break uses the original flat index.

    Args:
        prob (Tensor): (M, h, w) probability maps, any float dtype (computed in
            float32).
        alpha (float): Foreground threshold, ``0 <= alpha < 1``. Defaults to
            0.5.
        num_points (int): Number of points ``K`` per map. Defaults to 5.
        iters (int): Number of Lloyd iterations. Defaults to 10.

    Returns:
        tuple[Tensor, Tensor, Tensor]: ``labels`` (M, h*w) int64 in [-1, K),
            ``points`` (M, K, 2) float32 ``(x, y)`` pixel indices, ``valid``
            (M, K) bool.
    """
    check_inputs(prob, alpha, num_points, iters)
    m, h, w = prob.shape
    n, k, device = h * w, num_points, prob.device
    p = prob.detach().reshape(m, n).to(torch.float32)
    fg = p > float32_threshold(alpha)
    flat = torch.arange(n, dtype=torch.int64, device=device)

    labels = torch.full((m, n), -1, dtype=torch.int64, device=device)
    point = torch.full((m, k), n, dtype=torch.int64, device=device)
    rows = fg.any(dim=1).nonzero().squeeze(1)
    if rows.numel() > 0:
        fgr = fg[rows]
        size = int(fgr.sum(dim=1).max())
        # Pack each map's foreground pixels to the front; column `size` is a
        # dump slot.
        slot = torch.where(fgr, fgr.cumsum(dim=1) - 1, size)
        fl = torch.full((rows.numel(), size + 1),
                        n,
                        dtype=torch.int64,
                        device=device)
        fl = fl.scatter_(1, slot, flat.expand_as(slot).where(fgr, n))[:, :size]
        pp = p[rows].gather(1, fl.clamp(max=n - 1))
        lab, point[rows] = _cluster(fl, pp, w, n, k, iters)
        # Unpack: padding entries go to the dump column n.
        full = torch.full((rows.numel(), n + 1),
                          -1,
                          dtype=torch.int64,
                          device=device)
        labels[rows] = full.scatter_(1, fl, lab)[:, :n]

    # Step 4: empty slots take the best pixels not chosen yet, in slot order.
    chosen = torch.zeros(m, n + 1, dtype=torch.bool, device=device)
    chosen = chosen.scatter_(1, point, True)[:, :n]
    for j in range(k):
        idx = _masked_argmax(p, ~chosen, flat, n)
        take = (point[:, j] == n) & (idx < n)
        point[:, j] = torch.where(take, idx, point[:, j])
        chosen |= (flat == idx[:, None]) & take[:, None]
    valid = point < n
    point = torch.where(valid, point, 0)
    points = torch.stack([point % w, point // w], dim=-1).to(torch.float32)
    return labels, points, valid
