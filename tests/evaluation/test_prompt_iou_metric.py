"""PromptIoUMetric: PAS-20b scored as published (context prompts count as
background), and plain IoU when the prompts are the labels."""
import copy

import pytest
import torch
from mmseg.evaluation import IoUMetric

from escnet_mmseg.datasets import PascalVOC20bDataset
from escnet_mmseg.evaluation import PromptIoUMetric


def _sample(pred, gt):
    return dict(
        pred_sem_seg=dict(data=torch.tensor(pred)[None]),
        gt_sem_seg=dict(data=torch.tensor(gt)[None]))


def _metric(meta):
    metric = PromptIoUMetric(iou_metrics=['mIoU'], ignore_index=255)
    metric.dataset_meta = copy.deepcopy(meta)
    return metric


def _table_rows(monkeypatch, metric):
    """Run compute_metrics; return its metrics and the IoU table's rows."""
    import mmseg.evaluation.metrics.iou_metric as iou_module
    logged = []
    monkeypatch.setattr(iou_module, 'print_log',
                        lambda msg, *a, **k: logged.append(str(msg)))
    metrics = metric.compute_metrics(metric.results)
    table = [m for m in logged if 'Class' in m and 'IoU' in m][0]
    rows = [
        r for r in table.splitlines() if r.startswith('|') and 'Class' not in r
    ]
    return metrics, rows


def test_pas20b_context_prompts_count_as_background(monkeypatch):
    meta = dict(PascalVOC20bDataset.METAINFO)
    assert len(meta['prompts']) == 59 and len(meta['classes']) == 21
    # Labels: 0 background, 1 aeroplane, 15 person, 255 ignored.
    gt = [[0, 0, 1, 1], [15, 15, 255, 0]]
    # Prompts: 25 and 58 are PASCAL-Context classes (-> background), 0 is
    # aeroplane (label 1), 14 person (label 15), 30 context, 3 boat.
    pred = [[25, 58, 0, 0], [14, 30, 3, 0]]
    metric = _metric(meta)
    metric.process({}, [_sample(pred, gt)])
    inter, union, _, _ = metric.results[0]
    assert inter.shape == (21, )
    assert inter[0] == 2 and union[0] == 4  # background: IoU 1/2
    assert inter[1] == 2 and union[1] == 3  # aeroplane: 2/3
    assert inter[15] == 1 and union[15] == 2  # person: 1/2
    metrics, rows = _table_rows(monkeypatch, metric)
    assert len(rows) == 21
    assert rows[0].split('|')[1].strip() == 'background'
    assert metrics['mIoU'] == pytest.approx(
        100 * (0.5 + 2 / 3 + 0.5) / 3, abs=0.01)


def test_without_prompt_to_label_it_is_iou_metric():
    meta = dict(classes=('a', 'b', 'c'))
    gt = [[0, 1, 2, 2], [255, 1, 0, 2]]
    pred = [[0, 1, 1, 2], [2, 1, 0, 0]]
    ours, ref = _metric(meta), IoUMetric(iou_metrics=['mIoU'])
    ref.dataset_meta = meta
    ours.process({}, [_sample(pred, gt)])
    ref.process({}, [_sample(pred, gt)])
    for a, b in zip(ours.results[0], ref.results[0]):
        assert torch.equal(a, b)


def test_prediction_outside_the_prompts_is_reported():
    metric = _metric(dict(PascalVOC20bDataset.METAINFO))
    with pytest.raises(ValueError, match='outside the 59 prompts'):
        metric.process({}, [_sample([[59]], [[0]])])


def test_bad_prompt_to_label_is_reported():
    metric = _metric(dict(classes=('a', 'b'), prompt_to_label=(0, 2)))
    with pytest.raises(ValueError, match='outside the 2 classes'):
        metric.process({}, [_sample([[1]], [[0]])])
