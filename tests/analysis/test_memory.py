"""Training-step memory, and measurements in a fresh process."""
import pytest

from escnet_mmseg.analysis.fresh_process import run_fresh
from escnet_mmseg.analysis.params import count_params
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
