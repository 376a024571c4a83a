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


def _detectron2_miou(preds, gts, num_classes, ignore_label):
    """detectron2's ``SemSegEvaluator`` written out: a confusion matrix with
    one extra row / column for ignored pixels, IoU over classes with
    ground truth."""
    import numpy as np
    conf = np.zeros((num_classes + 1, num_classes + 1), dtype=np.int64)
    for pred, gt in zip(preds, gts):
        pred, gt = np.array(pred), np.array(gt).copy()
        gt[gt == ignore_label] = num_classes
        conf += np.bincount(
            (num_classes + 1) * pred.reshape(-1) + gt.reshape(-1),
            minlength=conf.size).reshape(conf.shape)
    tp = conf.diagonal()[:-1].astype(float)
    pos_gt = conf[:-1, :-1].sum(axis=0).astype(float)
    pos_pred = conf[:-1, :-1].sum(axis=1).astype(float)
    union = pos_gt + pos_pred - tp
    valid = (pos_gt > 0) & (union > 0)
    return 100 * np.sum(tp[valid] / union[valid]) / np.sum(valid)


def test_detectron2_miou_matches_its_formula(monkeypatch):
    """Class 3 is predicted but absent from the ground truth; class 2 is
    predicted on ignored pixels only in the second image."""
    meta = dict(classes=('a', 'b', 'c', 'd', 'e'))
    gts = [[[0, 0, 1, 1], [2, 2, 255, 255]], [[1, 1, 0, 255], [0, 2, 2, 2]]]
    preds = [[[0, 3, 1, 1], [2, 3, 2, 3]], [[1, 0, 0, 2], [3, 2, 2, 1]]]
    metrics = {}
    for convention in ('detectron2', 'mmseg'):
        metric = PromptIoUMetric(
            iou_metrics=['mIoU'], ignore_index=255, miou_convention=convention)
        metric.dataset_meta = meta
        for p, g in zip(preds, gts):
            metric.process({}, [_sample(p, g)])
        metrics[convention], _ = _table_rows(monkeypatch, metric)
    ref = _detectron2_miou(preds, gts, 5, 255)
    d2, mm = metrics['detectron2'], metrics['mmseg']
    assert d2['mIoU'] == pytest.approx(ref, abs=0.005)
    assert mm['mIoU_detectron2'] == d2['mIoU']
    # MMSeg's convention averages class 3 (IoU 0) too: 4 classes, not 3.
    assert mm['mIoU'] == d2['mIoU_mmseg']
    assert mm['mIoU'] == pytest.approx(ref * 3 / 4, abs=0.01)
    # Ignored pixels do not count: predictions there change nothing.
    metric = PromptIoUMetric(iou_metrics=['mIoU'], ignore_index=255)
    metric.dataset_meta = meta
    other = [[[0, 3, 1, 1], [2, 3, 4, 4]], [[1, 0, 0, 4], [3, 2, 2, 1]]]
    for p, g in zip(other, gts):
        metric.process({}, [_sample(p, g)])
    again, _ = _table_rows(monkeypatch, metric)
    assert again['mIoU'] == d2['mIoU']


def test_detectron2_miou_after_the_pas20b_prompt_merge(monkeypatch):
    """PAS-20b: prompts merged into labels first, then detectron2's mean over
    the labels with ground truth (boat is predicted, absent)."""
    meta = dict(PascalVOC20bDataset.METAINFO)
    lookup = meta['prompt_to_label']
    gt = [[0, 0, 1, 1], [15, 15, 255, 0]]
    pred = [[25, 58, 0, 0], [14, 3, 3, 0]]  # prompt 3 is boat (label 4)
    metric = _metric(meta)
    metric.process({}, [_sample(pred, gt)])
    metrics, _ = _table_rows(monkeypatch, metric)
    merged = [[int(lookup[p]) for p in row] for row in pred]
    ref = _detectron2_miou([merged], [gt], 21, 255)
    assert metrics['mIoU'] == pytest.approx(ref, abs=0.005)
    # background 2/3, aeroplane 2/3, person 1/2; boat (IoU 0) only in MMSeg's.
    assert ref == pytest.approx(100 * (2 / 3 + 2 / 3 + 0.5) / 3)
    assert metrics['mIoU_mmseg'] == pytest.approx(
        100 * (2 / 3 + 2 / 3 + 0.5) / 4, abs=0.01)


def test_unknown_convention_is_rejected():
    with pytest.raises(ValueError, match='miou_convention'):
        PromptIoUMetric(miou_convention='voc')


def test_evaluation_configs_report_detectron2_miou():
    import glob

    from mmengine.config import Config
    paths = sorted(glob.glob('configs/escnet/escnet_vit*_test-*.py'))
    assert len(paths) == 12
    for path in paths:
        cfg = Config.fromfile(path)
        for key in ('val_evaluator', 'test_evaluator'):
            ev = cfg[key]
            assert ev['type'] == 'PromptIoUMetric', (path, key)
            assert ev['miou_convention'] == 'detectron2', (path, key)
