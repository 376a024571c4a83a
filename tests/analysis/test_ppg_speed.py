"""escnet_mmseg.analysis.ppg_speed: the PPG op's timing rows."""
from escnet_mmseg.analysis.ppg_speed import make_maps, ppg_speed


def test_ppg_speed_rows():
    rows = ppg_speed(sizes=(8, ), repeats=1, maps='dense')
    assert [r['method'] for r in rows] == [
        'reference (batched torch)', 'naive loop (per-map reference)'
    ]
    assert all(r['maps'] == 8 and r['seconds'] > 0 for r in rows)
    assert rows[1]['speedup_vs_naive'] == 1.0


def test_make_maps_are_class_softmax():
    maps = make_maps(2, 5, 12, 'cpu')
    assert maps.shape == (10, 12, 12)
    assert maps.view(2, 5, 12, 12).sum(1).sub(1).abs().max() < 1e-5
