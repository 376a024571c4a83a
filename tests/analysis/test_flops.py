"""escnet_mmseg.analysis.flops on the tiny config: the figures add up."""
import pytest
import torch

from escnet_mmseg.analysis.flops import count_flops, model_flops
from tests.tiny import TINY_CONFIG

CONFIG = str(TINY_CONFIG)
SLIDE = {
    'model.test_cfg.mode': 'slide',
    'model.test_cfg.crop_size': (64, 64),
    'model.test_cfg.stride': (48, 48)
}


def test_flops_parts_add_up():
    res = model_flops(CONFIG, 6, (100, 140), SLIDE)
    whole = res['whole image 64x64']
    blocks = [whole[f'block {k}'] for k in range(2)]
    assert whole['ESC blocks (neck)'] >= sum(blocks) > 0
    for k in range(2):
        assert whole[f'block {k}'] > whole[f'block {k} SAM block'] > 0
        assert whole[f'block {k}'] > whole[f'block {k} VLF'] > 0
    parts = ('CLIP image', 'CLIP text', 'ESC blocks (neck)', 'decoder')
    # Everything outside the named parts (the final resize) has no matmul.
    assert sum(whole[p] for p in parts) == pytest.approx(
        whole['total'], rel=1e-3)
    # 100x140 with 64 px crops and stride 48: 2 x 3 windows.
    (name, slide), = [(k, v) for k, v in res.items() if k.startswith('test')]
    assert name.endswith('6 crops')
    assert slide['CLIP image'] == 6 * whole['CLIP image']
    assert slide['CLIP text'] == whole['CLIP text']


def test_flops_count_the_views_of_slide_global():
    # CAT-Seg's layout scaled down: 2 x 2 windows of 64 at stride 42 in 106,
    # plus the global view.
    res = model_flops(
        CONFIG, 3, (90, 120), {
            'model.test_cfg.mode': 'slide_global',
            'model.test_cfg.out_size': (106, 106),
            'model.test_cfg.crop_size': (64, 64),
            'model.test_cfg.stride': (42, 42)
        })
    (name, views), = [(k, v) for k, v in res.items() if k.startswith('test')]
    assert name.endswith('5 crops')
    crop = res['whole image 64x64']
    assert views['CLIP image'] == 5 * crop['CLIP image']
    assert views['total'] == 5 * crop['total without text'] + crop['CLIP text']


def test_flops_of_the_crop_only_and_whole_mode():
    crop_only = model_flops(CONFIG, 3)
    assert list(crop_only) == ['whole image 64x64']
    res = model_flops(CONFIG, 3, (64, 64), {'model.test_cfg.mode': 'whole'})
    (name, whole), = [(k, v) for k, v in res.items() if k.startswith('test')]
    assert name.endswith('1 crops')
    assert whole == res['whole image 64x64']


def test_flops_grow_with_the_vocabulary():
    s = model_flops(CONFIG, 3)['whole image 64x64']
    big = model_flops(CONFIG, 6)['whole image 64x64']
    assert big['CLIP image'] == s['CLIP image']
    assert big['block 1 VLF'] > 1.9 * s['block 1 VLF']


def test_flops_see_attention_in_every_kernel():
    # 2 images x 10 tokens, width 64: four projections + QK^T and AV.
    attn = torch.nn.MultiheadAttention(64, 4, batch_first=True).eval()
    x = torch.randn(2, 10, 64)
    expected = 2 * 2 * (4 * 10 * 64 * 64 + 2 * 10 * 10 * 64)
    with torch.no_grad():  # the fused inference fast path
        flops = count_flops(attn, lambda: attn(x, x, x), parts={})
    assert flops['total'] == expected
    q = torch.randn(2, 4, 10, 16)
    flops = count_flops(
        attn,
        lambda: torch.nn.functional.scaled_dot_product_attention(q, q, q),
        parts={})
    assert flops['total'] == 2 * 2 * (2 * 4 * 10 * 10 * 16)
    assert torch.backends.mha.get_fastpath_enabled()  # restored
