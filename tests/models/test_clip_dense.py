"""CAT-Seg's dense last CLIP block vs the formula from the block's weights."""
import pytest
import torch

from escnet_mmseg.models import CLIPBackbone
from tests.tiny import load_tiny_backbone, tiny_model_cfg, tiny_open_clip
from tests.tolerance import NETWORK, assert_close


@pytest.fixture(scope='module')
def clip_file(tmp_path_factory):
    cfg = tiny_model_cfg()['backbone']['model_cfg']
    ref = tiny_open_clip(cfg)
    # Non-zero biases, so a wrong bias slice cannot match by accident.
    with torch.no_grad():
        for name, p in ref.named_parameters():
            if name.endswith('bias'):
                p.add_(0.1 * torch.randn_like(p))
    path = tmp_path_factory.mktemp('clip') / 'open_clip_tiny.pt'
    torch.save(ref.state_dict(), path)
    return cfg, ref, path


def _dense_formula(ref, images):
    """Step by step, from the open_clip model's own weights:
    y = ln_1(x); v = out_proj(v_proj(y)); v = v + x[CLS];
    v = v + mlp(ln_2(v)); ln_post and proj on every token."""
    visual = ref.visual
    x = visual._embeds(images)
    for block in visual.transformer.resblocks[:-1]:
        x = block(x)
    last = visual.transformer.resblocks[-1]
    width = x.shape[-1]
    w_v = last.attn.in_proj_weight[2 * width:]
    b_v = last.attn.in_proj_bias[2 * width:]
    y = last.ln_1(x)
    v = y @ w_v.T + b_v
    v = v @ last.attn.out_proj.weight.T + last.attn.out_proj.bias
    v = v + x[:, :1]
    v = v + last.mlp(last.ln_2(v))
    tokens = visual.ln_post(v)[:, 1:] @ visual.proj
    return tokens.transpose(1, 2).reshape(images.shape[0], -1, 8, 8)


@pytest.mark.parametrize('finetune', ['attention', 'none'])
def test_dense_equals_formula(clip_file, finetune):
    cfg, ref, path = clip_file
    backbone = load_tiny_backbone(cfg, path, finetune=finetune)
    assert backbone.last_block == 'dense'  # the default
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        out = backbone(images)
        expected = _dense_formula(ref, images)
        pooled = ref.encode_image(images)
    assert_close(out['dense'], expected, NETWORK)
    # The pooled CLS embedding is the ordinary last block's.
    assert_close(out['pooled'], pooled, NETWORK)


def test_plain_mode_and_skips_equal_open_clip(clip_file):
    cfg, ref, path = clip_file
    plain = load_tiny_backbone(cfg, path, last_block='plain')
    dense = load_tiny_backbone(cfg, path)
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        x, inters = ref.visual.transformer.forward_intermediates(
            ref.visual._embeds(images), indices=[1, 2])
        _, tokens = ref.visual._pool(x)
        expected = (tokens @ ref.visual.proj).transpose(1, 2).reshape(
            2, -1, 8, 8)
        out, out_dense = plain(images), dense(images)
    assert_close(out['dense'], expected, NETWORK)
    assert_close(out['pooled'], ref.encode_image(images), NETWORK)
    assert not torch.allclose(out_dense['dense'], out['dense'], atol=1e-3)
    for skips in (out['skips'], out_dense['skips']):
        for got, ref_tokens in zip(skips, inters):
            want = ref_tokens[:, 1:].transpose(1, 2).reshape(2, -1, 8, 8)
            assert_close(got, want, NETWORK)


def test_one_pass_through_the_tower(clip_file):
    """Every block runs once (the dense path reuses the last block's input)."""
    cfg, _, path = clip_file
    backbone = load_tiny_backbone(cfg, path)
    calls = []
    for block in backbone.clip.visual.transformer.resblocks:
        block.register_forward_hook(lambda m, i, o: calls.append(m))
    with torch.no_grad():
        backbone(torch.randn(1, 3, 64, 64))
    assert len(calls) == len(set(map(id, calls))) == 4


@pytest.mark.parametrize(
    'last_block,out_indices,runs_last',
    [
        ('dense', (1, 2), False),
        ('dense', (1, 3), True),  # a skip from the last block needs its output
        ('plain', (1, 2), True),  # the plain tokens are its output
    ])
def test_without_pooled_the_unused_forward_is_skipped(clip_file, last_block,
                                                      out_indices, runs_last):
    cfg, _, path = clip_file
    backbone = load_tiny_backbone(
        cfg, path, last_block=last_block, out_indices=out_indices)
    calls = []
    backbone.clip.visual.transformer.resblocks[-1].register_forward_hook(
        lambda m, i, o: calls.append(1))
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        full = backbone(images)
        calls.clear()
        out = backbone(images, with_pooled=False)
    assert len(calls) == int(runs_last)
    assert (out['pooled'] is None) != runs_last
    assert torch.equal(out['dense'], full['dense'])
    for got, want in zip(out['skips'], full['skips']):
        assert torch.equal(got, want)


def test_layer_scale_is_applied(clip_file):
    """A tower with layer-scale (ls_1/ls_2) scales both dense branches."""
    cfg, _, path = clip_file
    backbone = load_tiny_backbone(cfg, path)
    last = backbone.clip.visual.transformer.resblocks[-1]
    from escnet_mmseg.models.clip_backbone import dense_block_forward
    x = torch.randn(2, 65, 32)
    base = dense_block_forward(last, x)

    class Scale(torch.nn.Module):

        def forward(self, t):
            return 0.0 * t

    last.ls_1, last.ls_2 = Scale(), Scale()
    # Both branches switched off: every token is the input CLS token.
    scaled = dense_block_forward(last, x)
    assert torch.equal(scaled, x[:, :1].expand_as(scaled))
    assert not torch.equal(base, scaled)


def test_bad_mode_is_named():
    cfg = tiny_model_cfg()['backbone']['model_cfg']
    with pytest.raises(ValueError, match='last_block'):
        CLIPBackbone(
            model_cfg=cfg,
            pretrained=None,
            out_indices=(1, 2),
            last_block='cls')
