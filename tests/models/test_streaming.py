"""Prediction streamed over chunks of classes equals the unstreamed one.

The references are the code that computes every class at once: MMSeg's own
``EncoderDecoder.predict`` for ``whole`` and ``slide``, and
``ESCNet.slide_global_inference`` (all classes fused) resized and argmaxed
for ``slide_global``. Each runs the network with the same ``test_cfg``, so
the network's logits are the same tensors and only the steps after the
network differ: label maps and logits must be equal, not close.
"""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.models.segmentors import EncoderDecoder
from mmseg.structures import SegDataSample

from escnet_mmseg.models import escnet as escnet_module
from escnet_mmseg.models.streaming import RunningArgmax
from tests.models.test_slide_global import _model
from tests.tiny import NAMES
from tests.tolerance import NETWORK, assert_close

T = len(NAMES)  # 6: chunks of 4 leave a chunk of 2
LAYOUTS = dict(
    whole=dict(mode='whole'),
    slide=dict(mode='slide', crop_size=(48, 48), stride=(32, 32)),
    slide_global=dict(
        mode='slide_global',
        out_size=(80, 80),
        crop_size=(48, 48),
        stride=(32, 32),
        global_view=True))


@pytest.fixture(scope='module', params=[True, False], ids=['bce', 'ce'])
def model(request):
    return _model(sigmoid=request.param)


def _configure(model, mode, **extra):
    model.test_cfg = copy.deepcopy(model.test_cfg)
    for key in ('crop_size', 'stride', 'out_size', 'global_view'):
        model.test_cfg.pop(key, None)
    model.test_cfg.update(
        LAYOUTS[mode], class_chunk_size=None, max_classes=None)
    model.test_cfg.update(extra)


def _samples(padding=(0, 0, 0, 0), flip=False):
    sample = SegDataSample()
    sample.set_metainfo(
        dict(
            img_shape=(56, 90),
            pad_shape=(56 + padding[2] + padding[3],
                       90 + padding[0] + padding[1]),
            ori_shape=(37, 61),
            padding_size=list(padding),
            flip=flip,
            flip_direction='horizontal' if flip else None))
    return [sample]


def _inputs(padding=(0, 0, 0, 0)):
    torch.manual_seed(0)
    left, right, top, bottom = padding
    return F.pad(torch.randn(1, 3, 56, 90), (left, right, top, bottom))


def _unstreamed(model, inputs, samples):
    """Every class at once: MMSeg's predict, or for slide_global the fused
    probabilities of all classes, flip undone, resized and argmaxed."""
    if model.test_cfg.mode != 'slide_global':
        return EncoderDecoder.predict(model, inputs, samples)
    meta = samples[0].metainfo
    probs = model.slide_global_inference(inputs, [meta])
    if meta['flip']:
        probs = probs.flip(dims=(3, ))
    probs = F.interpolate(
        probs, size=meta['ori_shape'], mode='bilinear', align_corners=False)
    out = SegDataSample()
    out.set_data(dict(pred_sem_seg=PixelData(data=probs.argmax(dim=1))))
    return [out]


CASES = [(mode, chunk, max_classes) for mode in LAYOUTS
         for chunk, max_classes in ((4, None), (1, None), (4, 3))]


@pytest.mark.parametrize('mode,chunk,max_classes', CASES)
def test_streamed_labels_equal_unstreamed(model, mode, chunk, max_classes):
    _configure(model, mode, class_chunk_size=chunk, max_classes=max_classes)
    padding = (0, 6, 0, 10)  # right, bottom (MMSeg pads there)
    with torch.no_grad():
        streamed = model.predict(
            _inputs(padding), _samples(padding, flip=True))[0]
        expected = _unstreamed(model, _inputs(padding),
                               _samples(padding, flip=True))[0]
    labels = streamed.pred_sem_seg.data
    assert labels.shape == (1, 37, 61) and labels.dtype == torch.int64
    assert torch.equal(labels, expected.pred_sem_seg.data.reshape(1, 37, 61))
    assert len(labels.unique()) > 1  # the comparison is not trivial
    if mode != 'slide_global':  # MMSeg's logits, element for element
        assert torch.equal(streamed.seg_logits.data, expected.seg_logits.data)


@pytest.mark.parametrize('mode', list(LAYOUTS))
def test_without_data_samples(model, mode):
    """No data samples: MMSeg keeps the input size."""
    _configure(model, mode, class_chunk_size=4)
    inputs = _inputs()
    with torch.no_grad():
        streamed = model.predict(inputs)[0]
        if mode == 'slide_global':
            meta = dict(ori_shape=(56, 90), padding_size=[0] * 4, flip=False)
            expected = _unstreamed(model, inputs,
                                   [SegDataSample(metainfo=meta)])[0]
        else:
            expected = EncoderDecoder.predict(model, inputs)[0]
    assert streamed.pred_sem_seg.shape == (56, 90)
    assert torch.equal(streamed.pred_sem_seg.data,
                       expected.pred_sem_seg.data.reshape(1, 56, 90))


@pytest.mark.parametrize('mode', list(LAYOUTS))
def test_ties_go_to_the_first_class(mode):
    """All logits equal: every class ties everywhere, as argmax resolves."""
    model = _model(sigmoid=True)
    with torch.no_grad():
        model.decode_head.conv_seg.weight.zero_()
        model.decode_head.conv_seg.bias.fill_(0.25)
    _configure(model, mode, class_chunk_size=4)
    with torch.no_grad():
        labels = model.predict(_inputs(), _samples())[0].pred_sem_seg.data
    assert labels.shape == (1, 37, 61) and (labels == 0).all()


def test_running_argmax_equals_argmax_with_ties():
    torch.manual_seed(0)
    scores = torch.randint(0, 3, (11, 7, 5)).float()  # many ties
    for chunk in (1, 2, 4, 11):
        acc = RunningArgmax(11, keep_scores=True)
        for start in range(0, 11, chunk):
            acc.update(scores[start:start + chunk])
        assert torch.equal(acc.result()[0], scores.argmax(dim=0))
        assert torch.equal(acc.scores, scores)
    acc = RunningArgmax(11, keep_scores=False)
    acc.update(scores[:4])
    with pytest.raises(RuntimeError, match='4 of 11'):
        acc.result()


@pytest.mark.parametrize('mode', list(LAYOUTS))
def test_only_chunks_reach_the_image_size(model, mode, monkeypatch):
    """Nothing after the network holds more than a chunk of classes, and
    seg_logits exist only when asked."""
    _configure(model, mode, class_chunk_size=4, return_logits=False)
    widths = []
    restore = escnet_module.restore_to_image
    monkeypatch.setattr(
        escnet_module, 'restore_to_image',
        lambda maps, *a, **k: widths.append(maps.shape[0]) or restore(
            maps, *a, **k))
    with torch.no_grad():
        out = model.predict(_inputs(), _samples())[0]
    # A softmax model's fused probabilities need every class at once.
    softmax = mode == 'slide_global' and not model.decode_head.use_sigmoid
    assert widths == ([T] if softmax else [4, 2])
    assert 'seg_logits' not in out and out.pred_sem_seg.shape == (37, 61)


def test_one_class_vocabulary_is_thresholded_as_mmseg():
    model = _model(sigmoid=True)
    model.set_vocabulary(['sky'])
    for mode in ('whole', 'slide'):
        _configure(model, mode)
        with torch.no_grad():
            out = model.predict(_inputs(), _samples())[0]
            expected = EncoderDecoder.predict(model, _inputs(), _samples())[0]
        assert torch.equal(out.pred_sem_seg.data, expected.pred_sem_seg.data)
        assert torch.equal(out.seg_logits.data, expected.seg_logits.data)


def test_view_batch_size_splits_the_views(monkeypatch):
    model = _model(sigmoid=True)
    _configure(model, 'slide_global')
    inputs = _inputs()
    with torch.no_grad():
        together = model.slide_global_inference(inputs, [dict()])
        seen = []
        forward = model.backbone.forward
        monkeypatch.setattr(
            model.backbone, 'forward',
            lambda x, **kw: seen.append(x.shape[0]) or forward(x, **kw))
        model.test_cfg.update(view_batch_size=2)
        apart = model.slide_global_inference(inputs, [dict()])
    assert seen == [2, 2, 1]  # 4 windows + 1 global view
    # Other batch shapes through the network: float32 rounding only.
    assert_close(apart, together, NETWORK, scale=1.)
    model.test_cfg.update(view_batch_size=0)
    with pytest.raises(ValueError, match='view_batch_size'):
        model.slide_global_inference(inputs, [dict()])


def test_neck_refines_in_place_without_autograd():
    """The in-place chunk update gives the torch.cat path's tensors."""
    model = _model(sigmoid=True)
    feats, text = model._clip_features(torch.randn(2, 3, 64, 64))
    with torch.enable_grad():
        expected = model.neck(feats['dense'], text, class_chunk_size=4)
    with torch.no_grad():
        refined = model.neck(feats['dense'], text, class_chunk_size=4)
    assert torch.equal(refined, expected.detach())


def test_tta_model_asks_for_logits():
    from escnet_mmseg.models import ESCTTAModel
    model = _model(sigmoid=True)
    model.test_cfg.update(return_logits=False)
    ESCTTAModel(module=model)
    assert model.test_cfg.return_logits is True
