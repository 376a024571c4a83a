"""Training-step memory, and measurements in a fresh process."""
from math import isnan

import pytest

from escnet_mmseg.analysis.chunking import chunked_inference
from escnet_mmseg.analysis.fresh_process import run_fresh
from escnet_mmseg.analysis.params import count_params
from escnet_mmseg.analysis.protocol import protocol_costs
from escnet_mmseg.analysis.train_memory import train_step_memory
from tests.tiny import TINY_CONFIG

CONFIG = str(TINY_CONFIG)


@pytest.mark.parametrize('with_cp', [False, True])
def test_train_step_memory_runs(with_cp):
    res = train_step_memory(
        CONFIG,
        3,
        cfg_options={
            'model.neck.with_cp': with_cp,
            'model.decode_head.with_cp': with_cp
        })
    assert res['classes'] == 3 and res['seconds'] > 0
    assert res['peak_mib'] >= 0


def test_run_fresh_returns_the_function_result():
    assert run_fresh(
        count_params, config=CONFIG) == pytest.approx(count_params(CONFIG))


def test_run_fresh_runs_only_this_package():
    with pytest.raises(ValueError, match='not in escnet_mmseg.analysis'):
        run_fresh(print)


def test_protocol_costs_one_fresh_process_per_vocabulary():
    rows = protocol_costs(CONFIG, [2, 4], ratio_to=4, image_size=(48, 80))
    assert [r['classes'] for r in rows] == [2, 4]
    assert rows[1]['time_ratio'] == 1
    # NaN where the tiny model's build peaked above its inference.
    ratio = rows[1]['memory_ratio']
    assert ratio == 1 or isnan(ratio)
    for r in rows:
        assert r['seconds'] > 0 and r['process_peak_mib'] >= r['peak_mib']
        assert r['test_cfg']['mode'] == 'whole'


def test_chunked_inference_ratios_to_the_first_setting():
    rows = chunked_inference(CONFIG, 4, chunks=(0, 2), repeats=1)
    assert [r['chunk'] for r in rows] == ['all', 2]
    assert rows[0]['time_ratio'] == 1
    # NaN where the tiny model's build peaked above its inference.
    ratio = rows[0]['memory_ratio']
    assert ratio == 1 or isnan(ratio)
