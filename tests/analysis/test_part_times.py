"""PartTimer: where a forward pass spends its time, by forward hooks."""
import torch

from escnet_mmseg.analysis.part_times import PartTimer, format_parts
from tests.tiny import build_tiny_model


def test_parts_are_timed_and_hooks_removed():
    model = build_tiny_model().eval()
    before = [len(m._forward_hooks) for m in model.modules()]
    timer = PartTimer(model, 'cpu')
    with torch.no_grad():
        model.view_logits(torch.randn(1, 3, 64, 64))
    parts = timer.per_run(1)
    for name in ('clip_image', 'esc_blocks', 'ppg', 'sam_block', 'vlf',
                 'decoder'):
        assert parts[name] > 0, name
    inner = parts['ppg'] + parts['sam_block'] + parts['vlf']
    assert 0 <= parts['esc_blocks_other'] < parts['esc_blocks']
    assert abs(parts['esc_blocks'] - inner - parts['esc_blocks_other']) < 1e-9
    assert 'esc_blocks_other' in format_parts((parts, parts))
    timer.reset()
    assert set(timer.totals.values()) == {0.}
    timer.remove()
    assert [len(m._forward_hooks) for m in model.modules()] == before


def test_no_sam_ablation_has_no_prompt_parts():
    model = build_tiny_model().eval()
    for block in model.neck.blocks:
        block.sam_block = None
    timer = PartTimer(model, 'cpu')
    assert 'ppg' not in timer.totals and 'sam_block' not in timer.totals
    timer.remove()
