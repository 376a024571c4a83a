"""Tests of the batched PyTorch PPG reference against hand-made maps and an
exact oracle."""
from fractions import Fraction
from typing import List, Optional, Tuple

import pytest
import torch

from escnet_mmseg.ops import pseudo_prompts_reference
from escnet_mmseg.ops.ppg_reference import float32_threshold


def naive_ppg(
        prob: torch.Tensor, alpha: float, k: int,
        iters: int) -> Tuple[List[int], List[Tuple[int, int]], List[bool]]:
    """Per-map pure-Python statement of the algorithm with exact rational
    centres."""
    h, w = prob.shape
    p = prob.to(
        torch.float32).flatten().tolist()  # exact float32 values as doubles
    n = h * w
    thr = float32_threshold(alpha)
    fg = [i for i in range(n) if p[i] > thr]
    xy = [(i % w, i // w) for i in range(n)]

    def sq(i: int, c: Tuple[Fraction, Fraction]) -> Fraction:
        return (xy[i][0] - c[0])**2 + (xy[i][1] - c[1])**2

    centres: List[Optional[Tuple[Fraction, Fraction]]] = [None] * k
    if fg:
        first = min(fg, key=lambda i: (-p[i], i))
        centres[0] = (Fraction(xy[first][0]), Fraction(xy[first][1]))
        for j in range(1, k):
            dmin = {
                i: min(sq(i, c) for c in centres[:j] if c is not None)
                for i in fg
            }
            far = [i for i in fg if dmin[i] > 0]
            if not far:
                break
            pick = max(far, key=lambda i: (dmin[i], -i))
            centres[j] = (Fraction(xy[pick][0]), Fraction(xy[pick][1]))

    def assign() -> List[int]:
        lab = [-1] * n
        for i in fg:
            lab[i] = min((sq(i, c), j) for j, c in enumerate(centres)
                         if c is not None)[1]
        return lab

    for _ in range(iters):
        lab = assign()
        for j in range(k):
            members = [i for i in fg if lab[i] == j]
            count = len(members)
            centres[j] = (Fraction(sum(xy[i][0] for i in members), count),
                          Fraction(sum(xy[i][1] for i in members), count)) \
                if members else None
    lab = assign()

    slots: List[Optional[int]] = [None] * k
    for j in range(k):
        members = [i for i in fg if lab[i] == j]
        if members:
            slots[j] = min(members, key=lambda i: (-p[i], i))
    rest = sorted((i for i in range(n) if i not in slots),
                  key=lambda i: (-p[i], i))
    for j in range(k):
        if slots[j] is None and rest:
            slots[j] = rest.pop(0)
    points = [xy[s] if s is not None else (0, 0) for s in slots]
    return lab, points, [s is not None for s in slots]


def assert_matches_naive(prob: torch.Tensor, alpha: float, k: int,
                         iters: int) -> None:
    labels, points, valid = pseudo_prompts_reference(prob, alpha, k, iters)
    for m in range(prob.shape[0]):
        lab, pts, ok = naive_ppg(prob[m], alpha, k, iters)
        assert labels[m].tolist() == lab, f'labels of map {m}'
        assert points[m].tolist() == [[float(x), float(y)]
                                      for x, y in pts], f'map {m}'
        assert valid[m].tolist() == ok, f'valid of map {m}'


def gaussian(h: int, w: int, cx: float, cy: float, sigma: float,
             peak: float) -> torch.Tensor:
    ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing='ij')
    return peak * torch.exp(-((xs - cx)**2 + (ys - cy)**2) / (2 * sigma**2))


def test_two_blobs_give_two_clusters_at_their_peaks():
    prob = torch.maximum(
        gaussian(16, 20, 4, 5, 1.5, 0.9), gaussian(16, 20, 15, 11, 1.5, 0.97))
    labels, points, valid = pseudo_prompts_reference(prob[None], 0.5, 2, 10)
    # Centre 0 starts at the global peak, so the brighter blob is cluster 0.
    assert points[0].tolist() == [[15.0, 11.0], [4.0, 5.0]]
    assert valid.all()
    lab = labels[0].view(16, 20)
    fg = prob > 0.5
    assert torch.equal(lab >= 0, fg)
    assert (lab[fg & (torch.arange(20) > 10)] == 0).all()
    assert (lab[fg & (torch.arange(20) < 10)] == 1).all()


def test_empty_map_gives_top_probability_points():
    torch.manual_seed(0)
    prob = torch.rand(2, 6, 7) * 0.5  # nothing above alpha
    labels, points, valid = pseudo_prompts_reference(prob, 0.5, 5, 10)
    assert (labels == -1).all()
    assert valid.all()
    for m in range(2):
        flat = prob[m].flatten().tolist()
        top = sorted(range(42), key=lambda i: (-flat[i], i))[:5]
        assert points[m].tolist() == [[float(i % 7),
                                       float(i // 7)] for i in top]


def test_fewer_pixels_than_points_pads_with_invalid_slots():
    prob = torch.tensor([[[0.9, 0.2]], [[0.1, 0.3]]])
    labels, points, valid = pseudo_prompts_reference(prob, 0.5, 5, 10)
    assert labels.tolist() == [[0, -1], [-1, -1]]
    assert valid.tolist() == [[True, True, False, False, False]] * 2
    assert points[0].tolist() == [[0, 0], [1, 0], [0, 0], [0, 0], [0, 0]]
    assert points[1].tolist() == [[1, 0], [0, 0], [0, 0], [0, 0], [0, 0]]


def test_fewer_foreground_pixels_than_clusters_fill_free_slots():
    prob = torch.full((1, 4, 5), 0.1)
    prob[0, 0, 1] = 0.7
    prob[0, 3, 4] = 0.8
    prob[0, 2, 2] = 0.4
    prob[0, 1, 3] = 0.4
    labels, points, valid = pseudo_prompts_reference(prob, 0.5, 5, 10)
    lab = labels[0].view(4, 5)
    assert lab[3, 4] == 0 and lab[0, 1] == 1 and (lab >= 0).sum() == 2
    # Free slots take the best remaining pixels: the two 0.4 ties in flat
    # order, then 0.1s.
    assert points[0].tolist() == [[4, 3], [1, 0], [3, 1], [2, 2], [0, 0]]
    assert valid.all()


def test_ties_go_to_the_lowest_flat_index():
    prob = torch.zeros(1, 3, 4)
    prob[0, 2, 0] = 0.8
    prob[0, 0, 3] = 0.8  # same probability, lower flat index (3 < 8)
    labels, points, _ = pseudo_prompts_reference(prob, 0.5, 1, 10)
    assert points[0].tolist() == [[3.0, 0.0]]
    assert labels[0].tolist().count(0) == 2
    # A uniform 3x3 map: initial centres (0,0), then (2,2), then the farthest
    # tie between (2,0) and (0,2) goes to (2,0). Equidistant pixels go to the
    # lower cluster index, and each point is its cluster's lowest flat index
    # since all probabilities are equal.
    labels, points, _ = pseudo_prompts_reference(
        torch.ones(1, 3, 3), 0.5, 3, 0)
    assert labels[0].tolist() == [0, 0, 2, 0, 0, 1, 0, 1, 1]
    assert points[0].tolist() == [[0, 0], [2, 1], [2, 0]]


def test_threshold_is_strict_and_float32():
    prob = torch.tensor([[[0.5, 0.3, 0.30000001]]])
    labels, _, _ = pseudo_prompts_reference(prob, 0.5, 2, 10)
    assert labels.tolist() == [[-1, -1, -1]]
    labels, _, _ = pseudo_prompts_reference(prob, 0.3, 2, 10)
    # 0.3 and 0.30000001 are the same float32, so neither is above the
    # threshold.
    assert labels.tolist() == [[0, -1, -1]]


def test_batch_independence():
    torch.manual_seed(1)
    maps = torch.rand(6, 9, 11)
    maps[2] = 0.2
    maps[4] = 1.0
    batched = pseudo_prompts_reference(maps, 0.5, 4, 10)
    for m in range(6):
        alone = pseudo_prompts_reference(maps[m:m + 1], 0.5, 4, 10)
        for got, want in zip(batched, alone):
            assert torch.equal(got[m:m + 1], want)


@pytest.mark.parametrize(
    'shape,k,iters,levels',
    [
        ((5, 8, 8), 3, 10, 0),
        ((4, 6, 10), 4, 2, 0),
        ((4, 7, 7), 5, 10, 4),  # quantised probabilities: many ties everywhere
        ((3, 5, 9), 8, 10, 3),
        ((3, 6, 6), 2, 0, 0),
    ])
def test_matches_exact_python_oracle(shape, k, iters, levels):
    gen = torch.Generator().manual_seed(sum(shape) * 31 + k)
    prob = torch.rand(shape, generator=gen)
    if levels:
        prob = torch.round(prob * levels) / levels
    prob[0] = torch.where(prob[0] > 0.85, prob[0], 0.1)  # a sparse map
    assert_matches_naive(prob, 0.5, k, iters)


def test_smooth_softmax_maps_match_oracle():
    gen = torch.Generator().manual_seed(7)
    logits = torch.nn.functional.interpolate(
        torch.randn(1, 12, 3, 3, generator=gen),
        size=(10, 10),
        mode='bilinear')
    prob = (logits * 5).softmax(dim=1)[0]
    assert_matches_naive(prob, 0.5, 5, 10)


@pytest.mark.parametrize('dtype',
                         [torch.float16, torch.bfloat16, torch.float64])
def test_any_float_dtype_is_computed_in_float32(dtype):
    prob = torch.rand(3, 8, 8).to(dtype)
    got = pseudo_prompts_reference(prob, 0.5, 5, 10)
    want = pseudo_prompts_reference(prob.float(), 0.5, 5, 10)
    for a, b in zip(got, want):
        assert torch.equal(a, b)
    assert got[0].dtype == torch.int64 and got[1].dtype == torch.float32
    assert got[2].dtype == torch.bool


def test_empty_batch():
    labels, points, valid = pseudo_prompts_reference(
        torch.rand(0, 4, 4), 0.5, 3, 10)
    assert labels.shape == (0, 16) and points.shape == (
        0, 3, 2) and valid.shape == (0, 3)


@pytest.mark.parametrize('kwargs,match', [
    (dict(prob=torch.rand(4, 4)), '3-D'),
    (dict(prob=torch.ones(1, 4, 4, dtype=torch.int64)), 'floating'),
    (dict(num_points=0), 'num_points'),
    (dict(iters=-1), 'iters'),
    (dict(alpha=1.0), 'alpha'),
    (dict(alpha=-0.1), 'alpha'),
    (dict(prob=torch.rand(1, 0, 4)), 'non-empty'),
    (dict(prob=torch.rand(1, 200, 200)), 'too large'),
])
def test_invalid_arguments(kwargs, match):
    args = dict(prob=torch.rand(1, 4, 4), alpha=0.5, num_points=5, iters=10)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        pseudo_prompts_reference(**args)
