"""Tests for the U-Net mask decoder head."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from escnet_mmseg.models.escnet_head import ESCNetHead
from tests.tolerance import BLOCK, OP, assert_close

C = 8
W = 12


def make_head(**kwargs) -> ESCNetHead:
    torch.manual_seed(0)
    cfg = dict(
        in_channels=C,
        skip_in_channels=W,
        skip_channels=(16, 8),
        guidance_channels=(6, 4),
        decoder_channels=(8, 4),
        channels_per_group=2)
    cfg.update(kwargs)
    head = ESCNetHead(**cfg)
    head.init_weights()
    return head.eval()


def make_inputs(B=2, T=5, h=6, w=5, seed=1, chunk=None):
    g = torch.Generator().manual_seed(seed)
    corr = torch.randn(B, T, C, h, w, generator=g)
    g1 = torch.randn(B, W, h, w, generator=g)
    g2 = torch.randn(B, W, h, w, generator=g)
    return dict(corr=corr, skips=(g1, g2), class_chunk_size=chunk)


def make_samples(B, H, W_, T, seed=2):
    g = torch.Generator().manual_seed(seed)
    samples = []
    for _ in range(B):
        label = torch.randint(0, T, (1, H, W_), generator=g)
        label[:, :2, :3] = 255  # ignored pixels
        sample = SegDataSample(
            metainfo=dict(
                img_shape=(H, W_),
                pad_shape=(H, W_),
                ori_shape=(H, W_),
                scale_factor=(1.0, 1.0)))
        sample.gt_sem_seg = PixelData(data=label)
        samples.append(sample)
    return samples


def test_output_shape():
    head = make_head()
    out = head(make_inputs())
    assert out.shape == (2, 5, 24, 20)
    assert torch.isfinite(out).all()


def test_basedecodehead_attributes():
    head = make_head()
    assert head.out_channels == 1
    assert head.dropout is None
    assert head.conv_seg.kernel_size == (3, 3)
    assert head.conv_seg.out_channels == 1


@pytest.mark.parametrize('chunk', [1, 2, 5, 7])
def test_chunked_equals_unchunked(chunk):
    head = make_head()
    inputs = make_inputs()
    full = head(inputs)
    chunked = head(dict(inputs, class_chunk_size=chunk))
    assert_close(chunked, full, BLOCK)


def test_invalid_chunk_size():
    head = make_head()
    with pytest.raises(ValueError):
        head(make_inputs(chunk=0))


def test_batch_independence():
    head = make_head()
    inputs = make_inputs(B=3)
    out = head(inputs)
    for b in range(3):
        alone = head(
            dict(
                corr=inputs['corr'][b:b + 1],
                skips=tuple(s[b:b + 1] for s in inputs['skips'])))
        assert_close(alone, out[b:b + 1], BLOCK)


def test_permutation_equivariance():
    head = make_head()
    inputs = make_inputs()
    perm = torch.tensor([2, 4, 0, 3, 1])
    out = head(inputs)
    out_perm = head(dict(inputs, corr=inputs['corr'][:, perm]))
    assert_close(out_perm, out[:, perm], BLOCK)


def test_split_conv_equals_concat_conv():
    """conv_x(up(x)) + conv_skip(skip) is the 3x3 conv of the concat."""
    head = make_head()
    block = head.up_blocks[0]
    x = torch.randn(3, C, 12, 10)
    skip = torch.randn(3, 6, 12, 10)
    weight = torch.cat([block.conv_x.weight, block.conv_skip.weight], dim=1)
    ref = F.conv2d(torch.cat([x, skip], dim=1), weight, padding=1)
    assert_close(block.conv_x(x) + block.skip_term(skip), ref, OP)


@pytest.mark.parametrize('use_sigmoid', [False, True])
def test_loss_varying_vocabulary(use_sigmoid):
    head = make_head(
        loss_decode=dict(
            type='CrossEntropyLoss',
            use_sigmoid=use_sigmoid,
            loss_weight=1.0,
            avg_non_ignore=True)).train()
    for T in (3, 5):
        head.zero_grad()
        inputs = make_inputs(B=2, T=T, seed=T)
        # Labels at a higher resolution than the logits, as in training.
        samples = make_samples(2, 30, 26, T)
        losses = head.loss(inputs, samples, train_cfg=None)
        assert set(losses) == {'loss_ce', 'acc_seg'}
        assert torch.isfinite(losses['loss_ce'])
        assert losses['loss_ce'] > 0
        losses['loss_ce'].backward()
        for name, p in head.named_parameters():
            assert p.grad is not None, name
            assert torch.isfinite(p.grad).all(), name


def test_loss_ignores_ignore_index():
    head = make_head(
        loss_decode=dict(
            type='CrossEntropyLoss', loss_weight=1.0,
            avg_non_ignore=True)).train()
    inputs = make_inputs(B=1, T=3)
    samples = make_samples(1, 24, 20, 3)
    loss = head.loss(inputs, samples, train_cfg=None)['loss_ce']
    logits = F.interpolate(
        head(inputs), size=(24, 20), mode='bilinear', align_corners=False)
    label = samples[0].gt_sem_seg.data
    ref = F.cross_entropy(logits, label, ignore_index=255)
    assert_close(loss, ref, OP)


def test_gradients_reach_every_parameter():
    head = make_head().train()
    inputs = make_inputs(B=2, T=3)
    inputs['corr'].requires_grad_(True)
    for s in inputs['skips']:
        s.requires_grad_(True)
    head(inputs).square().mean().backward()
    for name, p in head.named_parameters():
        assert p.grad is not None, name
        assert p.grad.abs().sum() > 0, name
    assert inputs['corr'].grad.abs().sum() > 0
    assert all(s.grad.abs().sum() > 0 for s in inputs['skips'])


def test_predict_by_feat_any_vocabulary():
    head = make_head()
    inputs = make_inputs(B=1, T=4)
    metas = [dict(img_shape=(48, 40), pad_shape=(48, 40), ori_shape=(48, 40))]
    out = head.predict(inputs, metas, test_cfg=None)
    assert out.shape == (1, 4, 48, 40)


def test_registered_default_config():
    from mmseg.registry import MODELS
    head = MODELS.build(dict(type='ESCNetHead'))
    assert isinstance(head, ESCNetHead)
    assert head.skip_proj[0].out_channels == 256
    assert head.skip_proj[1].out_channels == 128
    assert head.conv_seg.in_channels == 32
    # CAT-Seg: guidance projected to 32 / 16, GroupNorm with channels // 16
    # groups, ReLU.
    assert [p[0].out_channels for p in head.guidance_proj] == [32, 16]
    assert [b.norm.num_groups for b in head.up_blocks] == [4, 2]
    assert [b.conv2.norm.num_groups for b in head.up_blocks] == [4, 2]
    assert all(
        isinstance(b.act, torch.nn.ReLU) and b.conv2.with_activation
        and isinstance(b.conv2.activate, torch.nn.ReLU)
        for b in head.up_blocks)


def test_stage_wiring_written_out():
    """Stage 0 is guided by the shallow G_1 (x2), stage 1 by G_2 (x4)."""
    head = make_head()
    inputs = make_inputs(B=1, T=2)
    corr, (g1, g2) = inputs['corr'], inputs['skips']
    out = head(inputs)

    def stage(block, x, guide):
        x = F.interpolate(x, scale_factor=2, mode='bilinear')
        w = torch.cat([block.conv_x.weight, block.conv_skip.weight], dim=1)
        guide = guide.expand(x.shape[0], -1, -1, -1)
        x = F.conv2d(torch.cat([x, guide], dim=1), w, padding=1)
        x = F.relu(block.norm(x))
        return block.conv2(x)

    guides = [
        F.relu(proj[0](up(g)))
        for proj, up, g in zip(head.guidance_proj, head.skip_proj, (g1, g2))
    ]
    assert guides[0].shape[-2:] == (12, 10)  # 2h x 2w
    assert guides[1].shape[-2:] == (24, 20)  # 4h x 4w
    x = stage(head.up_blocks[0], corr[0], guides[0])
    x = stage(head.up_blocks[1], x, guides[1])
    ref = head.conv_seg(x)[:, 0]
    assert_close(out[0], ref, BLOCK)
