"""ESCTTAModel averages sigmoids for BCE-trained models, softmax for CE."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from escnet_mmseg.models import ESCTTAModel
from tests.tiny import tiny_model_cfg


def _views(logits):
    views = []
    for view_logits in logits:
        sample = SegDataSample(metainfo=dict(img_path='a.png'))
        sample.seg_logits = PixelData(data=view_logits)
        sample.gt_sem_seg = PixelData(data=torch.zeros(1, 2, 2).long())
        views.append(sample)
    return views


def _tta(use_sigmoid):
    tta = ESCTTAModel.__new__(ESCTTAModel)
    torch.nn.Module.__init__(tta)
    loss = dict(type='PerClassBCELoss' if use_sigmoid else 'CrossEntropyLoss')
    # The tiny model's head: its probability rule is the one under test.
    head = MODELS.build(
        dict(tiny_model_cfg()['decode_head'], loss_decode=loss))
    assert head.use_sigmoid == use_sigmoid
    tta.module = SimpleNamespace(decode_head=head)
    return tta


# Two views of a 2-class, 1x2 image where the two rules disagree: class 1
# wins the softmax average at pixel 0, class 0 the sigmoid average.
LOGITS = torch.tensor([[[[2.0, 1.0]], [[0.0, 0.0]]],
                       [[[-5.0, 1.0]], [[-2.5, 0.0]]]])


@pytest.mark.parametrize('use_sigmoid', [True, False])
def test_merge_follows_the_training_loss(use_sigmoid):
    merged = _tta(use_sigmoid).merge_preds([_views(LOGITS)])[0]
    prob = LOGITS.sigmoid() if use_sigmoid else LOGITS.softmax(dim=1)
    expected = prob.mean(dim=0).argmax(dim=0, keepdim=True)
    assert torch.equal(merged.pred_sem_seg.data.long(), expected)
    assert merged.gt_sem_seg.data.shape == (1, 2, 2)
    assert merged.img_path == 'a.png'


def test_the_two_rules_differ_on_the_example():
    sig = LOGITS.sigmoid().mean(dim=0).argmax(dim=0)
    soft = LOGITS.softmax(dim=1).mean(dim=0).argmax(dim=0)
    assert not torch.equal(sig, soft)


def test_one_name_vocabulary_is_thresholded():
    logits = torch.tensor([[[[2.0, -2.0]]], [[[1.0, -3.0]]]])
    merged = _tta(True).merge_preds([_views(logits)])[0]
    assert merged.pred_sem_seg.data.tolist() == [[[1.0, 0.0]]]


def _aug(scale, flip):
    sample = SegDataSample(
        metainfo=dict(scale_factor=scale, flip=flip, img_path='a.png'))
    sample.seg_logits = PixelData(data=LOGITS[0])
    return [sample]


def test_scales_are_refused_where_the_mode_resizes_every_input():
    """whole / slide_global resize every input to one size: a multi-scale
    tta_pipeline would only repeat the same views; slide takes scales."""
    tta = _tta(use_sigmoid=True)
    tta.module.test_step = lambda data: data['data_samples']
    scales = dict(
        inputs=[[torch.zeros(3, 1, 2)]] * 2,
        data_samples=[_aug((0.5, 0.5), False),
                      _aug((1.0, 1.0), False)])
    flips = dict(
        inputs=[[torch.zeros(3, 1, 2)]] * 2,
        data_samples=[_aug((1.0, 1.0), False),
                      _aug((1.0, 1.0), True)])
    for mode in ('whole', 'slide_global'):
        tta.module.test_cfg = dict(mode=mode)
        with pytest.raises(ValueError, match=f"2 scale factors.*'{mode}'"):
            tta.test_step(scales)
        assert len(tta.test_step(flips)) == 1
    tta.module.test_cfg = dict(mode='slide')
    assert len(tta.test_step(scales)) == 1


@pytest.mark.parametrize('use_sigmoid', [True, False])
def test_the_heads_rule_round_trips(use_sigmoid):
    """Probabilities and their logits, per-class sigmoid or softmax; one
    class: sigmoid and threshold whatever the loss (MMSeg's binary rule)."""
    head = _tta(use_sigmoid).module.decode_head
    logits = LOGITS[0]  # (2, 1, 2)
    probs = head.probabilities(logits, dim=0)
    expected = logits.sigmoid() if use_sigmoid else logits.softmax(dim=0)
    assert torch.allclose(probs, expected)
    back = head.probabilities(head.probability_logits(probs, dim=0), dim=0)
    assert torch.allclose(back, probs, atol=1e-6)
    assert torch.equal(
        head.predict_labels(probs), probs.argmax(dim=0, keepdim=True))
    one = logits[:1]
    assert torch.equal(head.probabilities(one, dim=0), one.sigmoid())
    assert head.predict_labels(one.sigmoid()).tolist() == [[[1.0, 1.0]]]
