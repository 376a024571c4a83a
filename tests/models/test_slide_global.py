"""CAT-Seg's evaluation mode ('slide_global') and the max_classes option.

The references below cut, run and fold the views by hand with plain loops
and slicing; they only share the network (``model._forward``) with the
code under test.
"""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmseg.structures import SegDataSample

from escnet_mmseg.models.escnet import DROPPED_CLASS_LOGIT
from tests.tiny import NAMES, build_tiny_model, tiny_model_cfg
from tests.tolerance import (NETWORK, assert_argmax_equal, assert_close,
                             tolerance)

# Probabilities in [0, 1] from views that ran through the whole network in
# another batch layout than the reference's: a network's budget at scale 1.
PROB_TOL = tolerance(NETWORK, 1.)
# Small stand-ins for CAT-Seg's 640 / 384 / 256 (the tiny CLIP input is 64):
# 2 x 2 overlapping windows + the global view.
OUT, CROP, STRIDE = (80, 80), (48, 48), (32, 32)


def _model(sigmoid: bool):
    cfg = tiny_model_cfg()
    cfg['decode_head']['loss_decode'] = (
        dict(type='PerClassBCELoss', loss_weight=1.0) if sigmoid else dict(
            type='CrossEntropyLoss', loss_weight=1.0, avg_non_ignore=True))
    model = build_tiny_model(cfg).eval()
    assert model.decode_head.use_sigmoid == sigmoid
    # A randomly initialised model barely separates its classes (logits
    # differ by ~0.01 between classes): scaling the last conv spreads them
    # so that most pixels have a clear best class to compare.
    with torch.no_grad():
        model.decode_head.conv_seg.weight.mul_(20)
        model.decode_head.conv_seg.bias.mul_(20)
    return model


@pytest.fixture(
    scope='module', params=[False, True], ids=['softmax', 'sigmoid'])
def model(request):
    return _model(request.param)


def _set_mode(model, **extra):
    model.test_cfg = copy.deepcopy(model.test_cfg)
    model.test_cfg.update(
        mode='slide_global',
        out_size=OUT,
        crop_size=CROP,
        stride=STRIDE,
        global_view=True,
        class_chunk_size=None,
        max_classes=None)
    model.test_cfg.update(extra)


def _probs(model, logits):
    if model.decode_head.use_sigmoid:
        return logits.sigmoid()
    return logits.softmax(dim=1)


def _run_view(model, view):
    """One view alone, whole-image path, logits upsampled to the window."""
    with torch.no_grad():
        logits = model._forward(view[None])
    logits = F.interpolate(
        logits, size=CROP, mode='bilinear', align_corners=False)
    return _probs(model, logits)[0]


def reference(model, image, ori_shape):
    """CAT-Seg's inference_sliding_window, written with loops."""
    big = F.interpolate(
        image[None], size=OUT, mode='bilinear', align_corners=False)[0]
    total = torch.zeros(len(model.vocabulary), *OUT)
    count = torch.zeros(OUT)
    for y in range(0, OUT[0] - CROP[0] + 1, STRIDE[0]):
        for x in range(0, OUT[1] - CROP[1] + 1, STRIDE[1]):
            window = big[:, y:y + CROP[0], x:x + CROP[1]]
            total[:, y:y + CROP[0], x:x + CROP[1]] += _run_view(model, window)
            count[y:y + CROP[0], x:x + CROP[1]] += 1
    whole = F.interpolate(
        image[None], size=CROP, mode='bilinear', align_corners=False)[0]
    global_probs = F.interpolate(
        _run_view(model, whole)[None],
        size=OUT,
        mode='bilinear',
        align_corners=False)[0]
    fused = (total / count + global_probs) / 2
    return F.interpolate(
        fused[None], size=ori_shape, mode='bilinear', align_corners=False)[0]


def _sample(img_shape, ori_shape, flip=False):
    sample = SegDataSample()
    sample.set_metainfo(
        dict(
            img_shape=img_shape,
            ori_shape=ori_shape,
            pad_shape=img_shape,
            padding_size=[0, 0, 0, 0],
            flip=flip,
            flip_direction='horizontal' if flip else None))
    return sample


@pytest.mark.parametrize('chunk', [None, 2])
def test_slide_global_equals_hand_written_reference(model, chunk):
    torch.manual_seed(0)
    image = torch.randn(3, 56, 90)  # non-square, not the window size
    ori_shape = (37, 61)
    _set_mode(model, class_chunk_size=chunk)
    with torch.no_grad():
        out = model.predict(image[None], [_sample((56, 90), ori_shape)])[0]
    expected = reference(model, image, ori_shape)
    probs = _probs(model, out.seg_logits.data[None])[0]
    assert out.seg_logits.shape == ori_shape
    assert out.pred_sem_seg.shape == ori_shape
    assert_close(probs, expected, NETWORK, scale=1.)
    assert_argmax_equal(out.pred_sem_seg.data[0], expected, PROB_TOL)


def test_inference_returns_fused_probabilities_at_out_size(model):
    torch.manual_seed(1)
    image = torch.randn(3, 40, 72)
    _set_mode(model)
    meta = dict(
        img_shape=(40, 72), ori_shape=(40, 72), padding_size=[0, 0, 0, 0])
    with torch.no_grad():
        probs = model.inference(image[None], [meta])
    assert probs.shape == (1, len(NAMES), *OUT)
    expected = reference(model, image, OUT)
    assert_close(probs[0], expected, NETWORK, scale=1.)


def test_padding_is_removed_and_flip_undone():
    model = _model(sigmoid=False)
    torch.manual_seed(2)
    image = torch.randn(3, 40, 52)
    _set_mode(model)
    padded = F.pad(image, (0, 12, 0, 8))  # right 12, bottom 8
    sample = _sample((40, 52), (40, 52), flip=True)
    sample.set_metainfo(dict(padding_size=[0, 12, 0, 8]))
    with torch.no_grad():
        out = model.predict(padded[None], [sample])[0]
    expected = reference(model, image, (40, 52)).flip(dims=(2, ))
    probs = out.seg_logits.data.softmax(dim=0)
    assert_close(probs, expected, NETWORK, scale=1.)


def test_without_data_samples_output_has_input_size():
    model = _model(sigmoid=False)
    _set_mode(model)
    with torch.no_grad():
        out = model.predict(torch.randn(2, 3, 30, 44))
    assert len(out) == 2 and out[0].pred_sem_seg.shape == (30, 44)


def test_view_count_and_one_batch(monkeypatch):
    model = _model(sigmoid=False)
    _set_mode(model)
    seen = []
    forward = model.backbone.forward
    monkeypatch.setattr(
        model.backbone, 'forward',
        lambda x, **kw: seen.append(x.shape[0]) or forward(x, **kw))
    with torch.no_grad():
        model.inference(
            torch.randn(2, 3, 30, 44), [dict(padding_size=[0] * 4)] * 2)
    assert seen == [2 * 5]  # two images x (4 windows + 1 global), one batch


@pytest.mark.parametrize('layout', [
    dict(out_size=(80, 80), crop_size=(48, 48), stride=(24, 24)),
    dict(out_size=(40, 40), crop_size=(48, 48), stride=(32, 32)),
])
def test_bad_layout_is_rejected(layout):
    model = _model(sigmoid=False)
    _set_mode(model, **layout)
    with pytest.raises(ValueError, match='tile the output'):
        model.inference(torch.randn(1, 3, 30, 44), [dict()])


def test_whole_and_slide_modes_still_work():
    model = _model(sigmoid=False)
    image = torch.randn(1, 3, 64, 80)
    meta = dict(
        img_shape=(64, 80),
        ori_shape=(64, 80),
        pad_shape=(64, 80),
        padding_size=[0, 0, 0, 0])
    for mode in ('whole', 'slide'):
        model.test_cfg = copy.deepcopy(model.test_cfg)
        model.test_cfg.update(mode=mode, crop_size=(64, 64), stride=(32, 32))
        with torch.no_grad():
            out = model.inference(image, [meta])
        assert out.shape == (1, len(NAMES), 64, 80)


# ---------------------------------------------------------------------------
# max_classes (CAT-Seg's pad_len)
def _hand_top_classes(model, views, k):
    with torch.no_grad():
        dense = model.backbone(views)['dense']
        text = model.text_encoder(model.vocabulary, model.backbone)
    v = dense / dense.norm(dim=1, keepdim=True)
    t = text / text.norm(dim=1, keepdim=True)
    best = torch.stack([
        torch.stack([(v[i] * t[c][:, None, None]).sum(0).max()
                     for c in range(len(t))]) for i in range(len(v))
    ])
    return [sorted(row.argsort(descending=True)[:k].tolist()) for row in best]


@pytest.mark.parametrize('chunk', [None, 2])
def test_max_classes_keeps_top_classes_and_drops_the_rest(model, chunk):
    torch.manual_seed(4)
    views = torch.randn(3, 3, 64, 64)
    model.set_vocabulary(list(NAMES))
    _set_mode(model, max_classes=3, class_chunk_size=chunk)
    with torch.no_grad():
        out = model.view_logits(views)
    assert out.shape == (3, len(NAMES), 32, 32)
    expected_keep = _hand_top_classes(model, views, 3)
    for i in range(3):
        kept = [
            c for c in range(len(NAMES))
            if not (out[i, c] == DROPPED_CLASS_LOGIT).all()
        ]
        assert kept == expected_keep[i]
        dropped = [c for c in range(len(NAMES)) if c not in kept]
        assert (out[i, dropped] == DROPPED_CLASS_LOGIT).all()
        # The kept classes' logits are those of a run on exactly them.
        model.set_vocabulary([NAMES[c] for c in kept])
        model.test_cfg.update(max_classes=None)
        with torch.no_grad():
            alone = model._forward(views[i:i + 1])[0]
        model.set_vocabulary(list(NAMES))
        model.test_cfg.update(max_classes=3)
        assert_close(out[i, kept], alone, NETWORK)


def test_max_classes_not_reached_is_the_exact_path():
    model = _model(sigmoid=False)
    views = torch.randn(2, 3, 64, 64)
    _set_mode(model, max_classes=len(NAMES))
    with torch.no_grad():
        capped = model.view_logits(views)
        exact = model._forward(views)
    assert torch.equal(capped, exact)


def test_max_classes_in_slide_global_mode():
    model = _model(sigmoid=True)
    _set_mode(model, max_classes=2)
    meta = dict(ori_shape=(30, 44), padding_size=[0] * 4)
    sample = SegDataSample()
    sample.set_metainfo(meta)
    with torch.no_grad():
        out = model.predict(torch.randn(1, 3, 30, 44), [sample])[0]
    assert out.pred_sem_seg.shape == (30, 44)
    assert torch.isfinite(out.seg_logits.data).all()


def test_bad_max_classes_is_rejected():
    model = _model(sigmoid=False)
    _set_mode(model, max_classes=0)
    with pytest.raises(ValueError, match='max_classes'):
        model.view_logits(torch.randn(1, 3, 64, 64))
