"""CAT-Seg's per-class sigmoid BCE vs F.binary_cross_entropy_with_logits."""
import pytest
import torch
import torch.nn.functional as F

from escnet_mmseg.models import PerClassBCELoss
from tests.models.test_escnet_head import make_head, make_inputs, make_samples
from tests.tolerance import OP, assert_close


def test_hand_made_example():
    # 1 image, 3 classes, 2x3 pixels; two pixels are ignored (255).
    logits = torch.tensor([[[[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]],
                            [[-0.5, 1.5, 0.0], [1.0, -3.0, 0.25]],
                            [[0.3, 0.0, -1.0], [-0.7, 0.2, 4.0]]]])
    label = torch.tensor([[[0, 1, 255], [2, 255, 1]]])
    # One-hot by hand; the ignored pixels are negatives of every class.
    target = torch.tensor([[[[1., 0., 0.], [0., 0., 0.]],
                            [[0., 1., 0.], [0., 0., 1.]],
                            [[0., 0., 0.], [1., 0., 0.]]]])
    loss = PerClassBCELoss()(logits, label, ignore_index=255)
    expected = F.binary_cross_entropy_with_logits(logits, target)
    # A mean of positive terms: rounding relative to the loss itself.
    assert_close(loss, expected, OP)
    assert PerClassBCELoss.use_sigmoid is True
    half = PerClassBCELoss(loss_weight=0.5)(logits, label)
    assert_close(half, 0.5 * expected, OP)


def test_label_outside_the_classes_is_named():
    logits = torch.zeros(1, 2, 2, 2)
    label = torch.tensor([[[0, 1], [2, 255]]])
    with pytest.raises(ValueError, match='label 2 .* 2 classes'):
        PerClassBCELoss()(logits, label)


@pytest.mark.parametrize('ignore_index', [255, 65535])
def test_head_loss_resizes_and_ignores(ignore_index):
    """Through BaseDecodeHead.loss_by_feat: logits resized to the labels,
    the head's ignore index (65535 for 16-bit label maps) honoured."""
    head = make_head(ignore_index=ignore_index).train()
    assert head.use_sigmoid  # the default loss is the per-class BCE
    T = 3
    inputs = make_inputs(B=2, T=T)
    samples = make_samples(2, 30, 26, T)
    for s in samples:
        label = s.gt_sem_seg.data
        label[label == 255] = ignore_index
    losses = head.loss(inputs, samples, train_cfg=None)
    assert set(losses) == {'loss_bce', 'acc_seg'}
    logits = F.interpolate(
        head(inputs), size=(30, 26), mode='bilinear', align_corners=False)
    labels = torch.cat([s.gt_sem_seg.data for s in samples])
    target = torch.zeros_like(logits)
    for c in range(T):
        target[:, c] = (labels == c).float()
    expected = F.binary_cross_entropy_with_logits(logits, target)
    assert_close(losses['loss_bce'], expected, OP)
    losses['loss_bce'].backward()
    assert all(p.grad is not None for p in head.parameters())
