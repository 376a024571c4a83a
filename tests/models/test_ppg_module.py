"""The PPG module on hand-made maps, checked against formulas written here.

The op (clustering) has its own tests in tests/ops; these check what the
module builds around it: the probability map, the dense mask prompt, the
point labels SAM receives and the boxes of the box-prompt ablation.
"""
import torch
import torch.nn.functional as F

from escnet_mmseg.models.ppg import PseudoPromptGenerator
from escnet_mmseg.models.sam_block import cluster_boxes
from tests.tolerance import OP, assert_close

ALPHA, EPS = 0.5, 1e-4


def _logits(b=2, t=4, h=6, w=7, seed=0, scale=2.0):
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(b, t, h, w, generator=g)


def _expected_mask(prob):
    # Fig. 3e: the probability inside the clustered regions (every
    # foreground pixel P > alpha is clustered), 0 elsewhere, as SAM logits.
    inside = torch.where(prob > ALPHA, prob, torch.zeros_like(prob))
    p = inside.clamp(EPS, 1 - EPS)
    return torch.log(p / (1 - p))


def _assert_mask_close(mask, prob):
    # The logit's slope 1 / (p (1 - p)) reaches 1e4 at the clamp, so the
    # rounding of P is compared where it lives: in probabilities.
    assert_close(mask.sigmoid(), _expected_mask(prob).sigmoid(), OP, scale=1.)


def test_class_softmax_and_mask_prompt_restricted_to_regions():
    logits = _logits()
    out = PseudoPromptGenerator(
        num_points=3, alpha=ALPHA, mask_eps=EPS)(
            logits)
    e = logits.exp()
    prob = e / e.sum(dim=1, keepdim=True)
    assert_close(out['prob'], prob, OP, scale=1.)
    # The maps mix foreground and sub-threshold probabilities, so an
    # unrestricted mask prompt would differ.
    below = (prob > 0.05) & (prob <= ALPHA)
    assert below.sum() > 10 and (prob > ALPHA).sum() > 10
    _assert_mask_close(out['mask_prompt'], prob)
    # Regions are the foreground pixels.
    assert torch.equal(out['labels'] >= 0, (prob > ALPHA).flatten(2))
    assert out['points'].shape == (2, 4, 3, 2)


def test_space_softmax_is_over_the_pixels_of_each_map():
    logits = _logits(seed=1, scale=3.0)
    ppg = PseudoPromptGenerator(num_points=2, alpha=0.05, softmax_over='space')
    out = ppg(logits)
    e = logits.flatten(2).exp()
    prob = (e / e.sum(dim=-1, keepdim=True)).view_as(logits)
    assert_close(out['prob'], prob, OP, scale=1.)
    assert_close(out['prob'].sum(dim=(2, 3)), torch.ones(2, 4), OP)


def test_missing_points_get_sams_not_a_point_label():
    # A 2x2 map holds 4 pixels: the 5th point slot cannot be filled.
    out = PseudoPromptGenerator(num_points=5)(_logits(1, 3, 2, 2))
    expected = torch.tensor([1, 1, 1, 1, -1]).expand(1, 3, 5)
    assert torch.equal(out['point_labels'], expected)
    assert out['points'].shape == (1, 3, 5, 2)


def test_half_precision_logits_are_computed_in_float32():
    logits = torch.zeros(1, 3, 4, 4)
    logits[0, 0, :2] = 20.0  # P ~ 1 - 4e-9: clamped to 1 - eps
    logits[0, 1, 2:] = 1.0
    out = PseudoPromptGenerator(num_points=2, mask_eps=EPS)(logits.half())
    prob = logits.half().float().softmax(dim=1)
    assert out['prob'].dtype == torch.float32
    assert_close(out['prob'], prob, OP, scale=1.)
    # In float16, 1 - 1e-4 rounds to 1 and the logit would be inf.
    assert torch.isfinite(out['mask_prompt']).all()
    top = torch.tensor((1 - EPS) / EPS).log()
    assert_close(
        out['mask_prompt'][0, 0, :2].sigmoid(),
        top.expand(2, 4).sigmoid(),
        OP,
        scale=1.)
    _assert_mask_close(out['mask_prompt'], prob)


def test_boxes_of_hand_made_clusters():
    h, w = 5, 6
    labels = torch.full((1, h * w), -1)
    for x, y in [(1, 1), (3, 1), (2, 3)]:
        labels[0, y * w + x] = 0
    labels[0, 4 * w + 5] = 1
    points = torch.tensor([[[2., 1.], [5., 4.], [0., 2.]]])  # slot 2: empty
    boxes = cluster_boxes(labels, points, w)
    expected = torch.tensor([[[1., 1., 3., 3.], [5., 4., 5., 4.],
                              [0., 2., 0., 2.]]])
    assert torch.equal(boxes, expected)


def test_box_of_a_known_cluster_through_the_ppg():
    logits = torch.zeros(1, 2, 6, 7)  # P = 0.5: not foreground (P > alpha)
    logits[0, 0, 1:4, 2:5] = 5.0  # class 0: rows 1-3, columns 2-4
    out = PseudoPromptGenerator(num_points=1)(logits)
    boxes = cluster_boxes(out['labels'].flatten(0, 1),
                          out['points'].flatten(0, 1), 7)
    assert boxes[0].tolist() == [[2., 1., 4., 3.]]
    # Class 1 has no foreground: its box is its point.
    assert torch.equal(boxes[1, 0, :2], boxes[1, 0, 2:])
    assert F.relu(out['mask_prompt'][0, 0, 1:4, 2:5]).min() > 0
