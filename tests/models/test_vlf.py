"""Tests for the Vision-Language Fusion module."""
import pytest
import torch

from escnet_mmseg.models.vlf import VLF, GuidedSwinBlock, LinearClassAttention
from tests.tolerance import BLOCK, OP, assert_close

C = 16
E = 12


def make_vlf(corr_channels: int = 1, window_size: int = 4) -> VLF:
    torch.manual_seed(0)
    vlf = VLF(
        channels=C,
        text_channels=E,
        corr_channels=corr_channels,
        num_heads=2,
        window_size=window_size,
        class_attn_heads=4,
        mlp_ratio=2)
    vlf.init_weights()
    return vlf.eval()


def make_inputs(B=2, T=5, h=8, w=8, corr_channels=1, num_text=None, seed=1):
    g = torch.Generator().manual_seed(seed)
    corr = torch.randn(B, T, corr_channels, h, w, generator=g)
    visual = torch.randn(B, T, C, h, w, generator=g)
    text = torch.randn(num_text or T, E, generator=g)
    text = text / text.norm(dim=-1, keepdim=True)
    return corr, visual, text


@pytest.mark.parametrize('corr_channels', [1, C])
def test_output_shape(corr_channels):
    vlf = make_vlf(corr_channels)
    corr, visual, text = make_inputs(corr_channels=corr_channels)
    out = vlf(corr, visual, text)
    assert out.shape == (2, 5, C, 8, 8)
    assert torch.isfinite(out).all()
    if corr_channels == C:
        assert isinstance(vlf.corr_embed, torch.nn.Identity)
    else:
        assert isinstance(vlf.corr_embed, torch.nn.Conv2d)


@pytest.mark.parametrize('hw', [(7, 9), (3, 5), (12, 4)])
def test_grid_not_multiple_of_window(hw):
    h, w = hw
    vlf = make_vlf()
    corr, visual, text = make_inputs(h=h, w=w)
    out = vlf(corr, visual, text)
    assert out.shape == (2, 5, C, h, w)
    assert torch.isfinite(out).all()
    # Padding is per (image, class): a single pair alone gives the same.
    single = vlf(corr[1:, 3:4], visual[1:, 3:4], text)
    assert_close(single, out[1:, 3:4], BLOCK)


def test_permutation_equivariance():
    vlf = make_vlf()
    corr, visual, text = make_inputs(h=7, w=9)
    perm = torch.tensor([3, 0, 4, 1, 2])
    out = vlf(corr, visual, text)
    out_perm = vlf(corr[:, perm], visual[:, perm], text[perm])
    assert_close(out_perm, out[:, perm], BLOCK)


def test_text_order_does_not_matter():
    vlf = make_vlf()
    corr, visual, text = make_inputs(num_text=7)
    out = vlf(corr, visual, text)
    out2 = vlf(corr, visual, text.flip(0))
    assert_close(out2, out, BLOCK)


def test_chunk_invariance():
    vlf = make_vlf()
    corr, visual, text = make_inputs(T=5)
    full = vlf(corr, visual, text)
    chunks = [
        vlf(corr[:, s], visual[:, s], text) for s in (slice(0, 2), slice(2, 5))
    ]
    assert_close(torch.cat(chunks, dim=1), full, BLOCK)


def test_text_is_used():
    vlf = make_vlf()
    corr, visual, text = make_inputs(num_text=5)
    out = vlf(corr, visual, text)
    out2 = vlf(corr, visual, text[:3])
    assert not torch.allclose(out, out2, atol=1e-4)


def test_batch_independence():
    vlf = make_vlf()
    corr, visual, text = make_inputs(B=3, h=7, w=9)
    out = vlf(corr, visual, text)
    for b in range(3):
        alone = vlf(corr[b:b + 1], visual[b:b + 1], text)
        assert_close(alone, out[b:b + 1], BLOCK)


@pytest.mark.parametrize('corr_channels', [1, C])
def test_gradients_reach_all_parameters(corr_channels):
    vlf = make_vlf(corr_channels).train()
    corr, visual, text = make_inputs(
        B=1, T=3, h=6, w=6, corr_channels=corr_channels)
    corr.requires_grad_(True)
    text.requires_grad_(True)
    vlf(corr, visual, text).square().mean().backward()
    for name, p in vlf.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name
    assert corr.grad.abs().sum() > 0
    assert text.grad.abs().sum() > 0


def test_linear_attention_matches_explicit_formula():
    torch.manual_seed(0)
    attn = LinearClassAttention(C, E, num_heads=4)
    x = torch.randn(2, 3, 5, C)
    text = torch.randn(6, E)
    out = attn(x, text)

    heads, d = 4, C // 4

    def phi(t):  # the linear transformer's feature map, elu(x) + 1
        return torch.where(t > 0, t + 1, t.exp())

    q = phi(attn.q_proj(x)).view(2, 3, 5, heads, d)
    k = phi(attn.k_proj(text)).view(6, heads, d)
    v = attn.v_proj(text).view(6, heads, d)
    # Softmax-free attention written per query and per text row.
    weights = torch.einsum('btpnd,snd->btpns', q, k)
    ref = torch.einsum('btpns,sne->btpne', weights, v)
    ref = ref / (weights.sum(-1, keepdim=True) + attn.eps)
    ref = attn.out_proj(ref.reshape(2, 3, 5, C))
    assert_close(out, ref, OP)


def test_no_position_bias_and_guidance_in_both_blocks():
    """CAT-Seg's guided Swin pair: no relative-position bias tables; the
    guidance (C channels) enters queries and keys, not values."""
    vlf = make_vlf()
    names = [n for n, _ in vlf.named_parameters()]
    names += [n for n, _ in vlf.named_buffers()]
    assert not [n for n in names if 'position' in n or 'bias_table' in n]
    assert not hasattr(vlf, 'fuse')
    for block in vlf.swin_blocks:
        assert isinstance(block, GuidedSwinBlock)
        assert block.q.in_features == block.k.in_features == 2 * C
        assert block.v.in_features == C
    assert [b.shift for b in vlf.swin_blocks] == [False, True]


def _guided_block_reference(block, x, guidance, h, w, win, shift):
    """One guided Swin block written out window by window.

    ``x`` (N, h*w, C), ``guidance`` (N, h*w, G) already normalised; ``h`` and
    ``w`` multiples of ``win``. In the shifted block a token may attend to the
    tokens of its window that lie in the same region of the rolled grid
    (rows / columns ``[0, H - win)``, ``[H - win, H - shift)``,
    ``[H - shift, H)``).
    """
    N, L, Cx = x.shape
    heads = block.num_heads
    d = Cx // heads
    y = torch.cat([block.norm1(x), guidance], -1).view(N, h, w, -1)
    y = torch.roll(y, (-shift, -shift), dims=(1, 2))

    def region(i, size):
        if shift == 0:
            return 0
        return 0 if i < size - win else (1 if i < size - shift else 2)

    out = torch.zeros(N, h, w, Cx)
    for r0 in range(0, h, win):
        for c0 in range(0, w, win):
            cells = [(r, c) for r in range(r0, r0 + win)
                     for c in range(c0, c0 + win)]
            tok = torch.stack([y[:, r, c] for r, c in cells], 1)  # N, n, D
            q = block.q(tok).view(N, -1, heads, d)
            k = block.k(tok).view(N, -1, heads, d)
            v = block.v(tok[..., :Cx]).view(N, -1, heads, d)
            logits = torch.einsum('nqhd,nkhd->nhqk', q, k) / d**0.5
            allowed = torch.tensor([[
                (region(a[0], h), region(a[1],
                                         w)) == (region(b[0],
                                                        h), region(b[1], w))
                for b in cells
            ] for a in cells])
            logits = logits.masked_fill(~allowed, float('-inf'))
            att = torch.einsum('nhqk,nkhd->nqhd', logits.softmax(-1), v)
            att = block.proj(att.reshape(N, -1, Cx))
            for t, (r, c) in enumerate(cells):
                out[:, r, c] = att[:, t]
    out = torch.roll(out, (shift, shift), dims=(1, 2)).reshape(N, L, Cx)
    x = x + out
    h1 = torch.nn.functional.gelu(block.ffn.layers[0][0](block.norm2(x)))
    return x + block.ffn.layers[1](h1)


@pytest.mark.parametrize('shift', [False, True])
def test_guided_window_attention_matches_formula(shift):
    torch.manual_seed(0)
    G = 6
    block = GuidedSwinBlock(
        C, G, num_heads=2, window_size=4, shift=shift, mlp_ratio=2).eval()
    x = torch.randn(3, 64, C)
    guidance = torch.randn(3, 64, G)
    with torch.no_grad():
        out = block(x, guidance, (8, 8))
        ref = _guided_block_reference(block, x, guidance, 8, 8, 4,
                                      2 if shift else 0)
    assert_close(out, ref, BLOCK)


def test_vlf_guidance_is_layer_normed_visual():
    """The pair gets LayerNorm(V_k) as guidance, the embedded corr as x."""
    vlf = make_vlf(corr_channels=C)
    corr, visual, text = make_inputs(corr_channels=C)
    seen = []
    hook = vlf.swin_blocks[0].register_forward_hook(
        lambda m, args, out: seen.append(args))
    with torch.no_grad():
        vlf(corr, visual, text)
    hook.remove()
    x, guidance, hw = seen[0]
    ref_g = torch.nn.functional.layer_norm(
        visual.flatten(0, 1).flatten(2).transpose(1, 2), (C, ),
        vlf.guidance_norm.weight, vlf.guidance_norm.bias)
    assert hw == (8, 8)
    assert_close(guidance, ref_g, OP)
    assert torch.equal(x, corr.flatten(0, 1).flatten(2).transpose(1, 2))


def test_registered():
    from mmseg.registry import MODELS
    vlf = MODELS.build(
        dict(
            type='VLF',
            channels=C,
            text_channels=E,
            num_heads=2,
            window_size=4))
    assert isinstance(vlf, VLF)
