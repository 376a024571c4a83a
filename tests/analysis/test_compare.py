"""escnet_mmseg.analysis.compare: two models timed in alternation."""
from escnet_mmseg.analysis.build import build_random_model
from escnet_mmseg.analysis.compare import (ReferenceSAMBlock, compare_models,
                                           use_reference_sam)
from tests.tiny import TINY_CONFIG
from tests.tolerance import NETWORK, record, tolerance

CONFIG = str(TINY_CONFIG)


def test_compare_reference_sam_block_gives_same_logits():
    res = compare_models(
        CONFIG, CONFIG, classes=4, repeats=2, reference_sam='b')
    tol = tolerance(NETWORK, res['max_abs_logit'])
    record('compare', res['max_abs_diff'], tol)
    assert res['max_abs_diff'] <= tol
    assert len(res['ratios']) == 2 and res['ratio'] > 0


def test_reference_sam_wraps_the_blocks_without_patching_methods():
    model = build_random_model(CONFIG)
    blocks = [b.sam_block for b in model.neck.blocks]
    use_reference_sam(model)
    for block, sam in zip(model.neck.blocks, blocks):
        assert isinstance(block.sam_block, ReferenceSAMBlock)
        assert block.sam_block.sam_block is sam
        assert 'forward' not in vars(sam)  # the class's method, untouched
