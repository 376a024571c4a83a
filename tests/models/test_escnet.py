"""Exactness properties of the whole ESC-Net on a tiny model
(docs/model.md "Exactness properties")."""
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from tests.tiny import NAMES, build_tiny_model, tiny_cfg
from tests.tolerance import NETWORK, assert_close


@pytest.fixture(scope='module')
def model():
    return build_tiny_model().eval()


def _logits(model, images, names=NAMES, chunk=None):
    model.set_vocabulary(list(names))
    model.test_cfg['class_chunk_size'] = chunk
    with torch.no_grad():
        return model._forward(images)


def test_output_shape(model):
    out = _logits(model, torch.randn(2, 3, 64, 64))
    assert out.shape == (2, len(NAMES), 32, 32)


def test_permutation_equivariance(model):
    images = torch.randn(2, 3, 64, 64)
    base = _logits(model, images)
    perm = [3, 0, 5, 1, 4, 2]
    permuted = _logits(model, images, [NAMES[i] for i in perm])
    # The class attention sums over the vocabulary, whose order changes the
    # float32 rounding; a real coupling bug moves logits by > 1e-2.
    assert_close(permuted, base[:, perm], NETWORK)


def test_batch_independence(model):
    torch.manual_seed(3)
    images = torch.randn(3, 3, 64, 64)
    batch = _logits(model, images)
    for i in range(3):
        alone = _logits(model, images[i:i + 1])
        assert_close(alone[0], batch[i], NETWORK)


@pytest.mark.parametrize('chunk', [1, 3, len(NAMES)])
def test_class_chunking_equals_full(model, chunk):
    images = torch.randn(2, 3, 64, 64)
    full = _logits(model, images)
    assert_close(_logits(model, images, chunk=chunk), full, NETWORK)


def test_slide_inference_uses_vocabulary_size(model):
    model.set_vocabulary(['sky', 'star'])
    model.test_cfg.update(mode='slide', crop_size=(64, 64), stride=(48, 48))
    try:
        metas = [
            dict(
                ori_shape=(96, 80),
                img_shape=(96, 80),
                pad_shape=(96, 80),
                padding_size=[0, 0, 0, 0])
        ]
        with torch.no_grad():
            seg = model.inference(torch.randn(1, 3, 96, 80), metas)
    finally:
        model.test_cfg.update(mode='whole')
    assert seg.shape == (1, 2, 96, 80)


def _samples(labels):
    samples = []
    for label in labels:
        s = SegDataSample(gt_sem_seg=PixelData(data=label[None]))
        s.set_metainfo(
            dict(
                img_shape=label.shape,
                pad_shape=label.shape,
                ori_shape=label.shape))
        samples.append(s)
    return samples


def test_gradients_reach_trainable_parts_only():
    cfg = tiny_cfg().model.to_dict()
    cfg['backbone']['finetune'] = 'attention'
    model = build_tiny_model(cfg).train()
    labels = torch.randint(0, len(NAMES), (2, 64, 64))
    labels[:, :4] = 255
    losses = model.loss(torch.randn(2, 3, 64, 64), _samples(labels))
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    grads = {n: p.grad for n, p in model.named_parameters()}
    got = {n for n, g in grads.items() if g is not None and g.abs().sum() > 0}

    def some(prefix):
        return any(n.startswith(prefix) for n in got)

    assert some('backbone.clip.visual.transformer.resblocks.0.attn.')
    assert some('backbone.clip.transformer.resblocks.0.attn.')  # text tower
    for k in range(2):
        assert some(f'neck.blocks.{k}.sam_block.layer.')
        assert some(f'neck.blocks.{k}.sam_block.text_proj')
        assert some(f'neck.blocks.{k}.vlf.')
    assert some('neck.prompt_encoder.')
    assert some('decode_head.')
    frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
    assert any('.mlp.' in n for n in frozen)
    assert all(grads[n] is None for n in frozen)


@pytest.mark.parametrize('bad, match', [([], 'empty'),
                                        (['cat', 'dog', 'cat'], 'duplicate'),
                                        (['cat', ''], 'non-empty'),
                                        ('cat', 'single string')])
def test_bad_vocabulary_is_rejected(model, bad, match):
    with pytest.raises(ValueError, match=match):
        model.set_vocabulary(bad)


def test_missing_vocabulary_is_explained():
    model = build_tiny_model(vocabulary=None)
    with pytest.raises(RuntimeError, match='no vocabulary'):
        model._forward(torch.randn(1, 3, 64, 64))
    model.dataset_meta = dict(classes=['a', 'b'])  # as init_model restores it
    assert model.vocabulary == ('a', 'b')


def test_label_outside_vocabulary_is_named():
    model = build_tiny_model(vocabulary=['sky', 'grass']).train()
    labels = torch.zeros(1, 64, 64, dtype=torch.long)
    labels[0, 0, 0] = 5
    with pytest.raises(ValueError, match='label 5 .* 2 classes'):
        model.loss(torch.randn(1, 3, 64, 64), _samples(labels))


def test_config_forward_backward_through_registry():
    """MODELS.build from the tiny config, then MMSeg's train/predict calls."""
    model = build_tiny_model().train()
    data = dict(
        inputs=[torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8)] * 2,
        data_samples=_samples(torch.randint(0, 6, (2, 64, 64))))
    batch = model.data_preprocessor(data, training=True)
    losses = model(**batch, mode='loss')
    loss = losses['decode.loss_bce']
    assert torch.isfinite(loss)
    loss.backward()
    model.eval()
    with torch.no_grad():
        preds = model(**model.data_preprocessor(data, False), mode='predict')
    assert preds[0].pred_sem_seg.data.shape == (1, 64, 64)
    assert preds[0].seg_logits.data.shape == (6, 64, 64)


def test_bad_class_chunk_size_is_rejected(model):
    with pytest.raises(ValueError, match='class_chunk_size must be >= 1'):
        _logits(model, torch.randn(1, 3, 64, 64), chunk=0)
    model.test_cfg['class_chunk_size'] = None
