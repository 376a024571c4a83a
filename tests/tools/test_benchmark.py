"""tools/benchmark.py on the tiny config: the figures it prints add up."""
import pytest

from tests.tiny import TINY_CONFIG
from tests.tolerance import NETWORK, record, tolerance
from tests.tools.tool_loader import load_tool

bench = load_tool('tools/benchmark.py')
CONFIG = str(TINY_CONFIG)
SLIDE = {
    'model.test_cfg.mode': 'slide',
    'model.test_cfg.crop_size': (64, 64),
    'model.test_cfg.stride': (48, 48)
}


def _args(argv):
    return bench.build_parser().parse_args(argv)


def test_flops_parts_add_up():
    args = _args(
        ['flops', CONFIG, '--classes', '6', '--image-size', '100', '140'])
    args.cfg_options = SLIDE
    res = bench.bench_flops(args)
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
    args = _args(
        ['flops', CONFIG, '--classes', '3', '--image-size', '90', '120'])
    args.cfg_options = {
        'model.test_cfg.mode': 'slide_global',
        'model.test_cfg.out_size': (106, 106),
        'model.test_cfg.crop_size': (64, 64),
        'model.test_cfg.stride': (42, 42)
    }
    res = bench.bench_flops(args)
    (name, views), = [(k, v) for k, v in res.items() if k.startswith('test')]
    assert name.endswith('5 crops')
    crop = res['whole image 64x64']
    assert views['CLIP image'] == 5 * crop['CLIP image']
    assert views['total'] == 5 * crop['total without text'] + crop['CLIP text']


def test_flops_grow_with_the_vocabulary():
    small = bench.bench_flops(_args(['flops', CONFIG, '--classes', '3']))
    large = bench.bench_flops(_args(['flops', CONFIG, '--classes', '6']))
    s, big = small['whole image 64x64'], large['whole image 64x64']
    assert big['CLIP image'] == s['CLIP image']
    assert big['block 1 VLF'] > 1.9 * s['block 1 VLF']


def test_compare_reference_sam_block_gives_same_logits():
    args = _args([
        'compare', CONFIG, CONFIG, '--classes', '4', '--repeats', '2',
        '--reference-sam', 'b'
    ])
    res = bench.bench_compare(args)
    tol = tolerance(NETWORK, res['max_abs_logit'])
    record('compare', res['max_abs_diff'], tol)
    assert res['max_abs_diff'] <= tol
    assert len(res['ratios']) == 2 and res['ratio'] > 0


@pytest.mark.parametrize('with_cp', [False, True])
def test_train_step_memory_runs(with_cp):
    args = _args(['_train_one', CONFIG, '--classes', '3'])
    args.cfg_options = {
        'model.neck.with_cp': with_cp,
        'model.decode_head.with_cp': with_cp
    }
    res = bench._train_step_memory(args, 3)
    assert res['classes'] == 3 and res['seconds'] > 0
    assert res['peak_mib'] >= 0


def test_flops_see_attention_in_every_kernel():
    # 2 images x 10 tokens, width 64: four projections + QK^T and AV.
    import torch
    attn = torch.nn.MultiheadAttention(64, 4, batch_first=True).eval()
    x = torch.randn(2, 10, 64)
    expected = 2 * 2 * (4 * 10 * 64 * 64 + 2 * 10 * 10 * 64)
    with torch.no_grad():  # the fused inference fast path
        flops = bench.count_flops(attn, lambda: attn(x, x, x), parts={})
    assert flops['total'] == expected
    q = torch.randn(2, 4, 10, 16)
    flops = bench.count_flops(
        attn,
        lambda: torch.nn.functional.scaled_dot_product_attention(q, q, q),
        parts={})
    assert flops['total'] == 2 * 2 * (2 * 4 * 10 * 10 * 16)
    assert torch.backends.mha.get_fastpath_enabled()  # restored


@pytest.mark.slow
def test_gpu_report_small_writes_the_tables(tmp_path):
    """gpu-report on the tiny config (tools/gpu_check.sh --small): every
    measurement gives a row, the no-SAM model is the same config with
    sam_block=None, and the markdown has the three tables."""
    args = _args([
        'gpu-report', '--small', '--repeats', '1', '--report-classes', '3',
        '--dtypes', 'fp32', 'bf16'
    ])
    res = bench.bench_gpu_report(args)
    rows = res['inference']
    assert [(r['mode'], r['dtype'], r['views'])
            for r in rows] == [('whole', 'fp32', 1), ('whole', 'bf16', 1),
                               ('slide_global', 'fp32', 5),
                               ('slide_global', 'bf16', 5)]
    assert all(r['no_sam_s'] > 0 and r['escnet_s'] > 0 for r in rows)
    assert [(r['with_cp'], r['amp']) for r in res['train']] == [(False, False),
                                                                (False, True),
                                                                (True, False),
                                                                (True, True)]
    assert all('error' not in r for r in rows + res['train'])
    text = bench.report_markdown(res)
    assert text.count('| tiny | 3 |') == 4
    assert '| ESC-Net / no SAM |' in text and '| with_cp | AMP |' in text
