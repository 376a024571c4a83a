"""The whole-model figures of ``tools/gpu_check.sh`` in one process, as
markdown tables for docs/efficiency.md.

ESC-Net ViT-B/16 and ViT-L/14 against their no-SAM ablations (``compare``'s
alternation; one CLIP-size crop and CAT-Seg's 5-view ``slide_global`` on a
640x853 image; 150 and 847 classes; fp32 and bf16 autocast), then the peak
memory of one ViT-L/14 training step at 171 classes (with and without
``with_cp``, fp32 and AMP). ``small`` runs the same code on the tiny
synthetic config (a CPU check of the tool); ``budget_s`` skips what would
not fit the time left.
"""
import json
import os.path as osp
import platform
import statistics
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

import torch

from .build import build_random_model, class_names, image_meta, set_threads
from .fresh_process import run_fresh
from .timing import alternating_times
from .train_memory import train_step_memory

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# (label, ESC-Net config, its no-SAM ablation config or None (same config
# with model.neck.sam_block=None), CAT-Seg's test mode of that size).
REPORT_MODELS = (
    ('ViT-B/16', 'configs/escnet/escnet_vitb16_coco-stuff.py',
     'configs/escnet/ablations/escnet_vitb16_coco-stuff_no-sam.py',
     'configs/_base_/models/escnet_vitb16_catseg-eval.py'),
    ('ViT-L/14', 'configs/escnet/escnet_vitl14_coco-stuff.py',
     'configs/escnet/ablations/escnet_vitl14_coco-stuff_no-sam.py',
     'configs/_base_/models/escnet_vitl14_catseg-eval.py'),
)
REPORT_TRAIN_CONFIG = 'configs/escnet/escnet_vitl14_coco-stuff.py'
SMALL_MODELS = (('tiny', 'configs/escnet/escnet_tiny_synthetic.py', None,
                 None), )
SLIDE_IMAGE = (640, 853)  # an ADE20K image at the A-150 test scale
SMALL_SLIDE_IMAGE = (128, 192)


@dataclass
class ReportSettings:
    """What :func:`gpu_report` measures (the ``gpu-report`` options)."""
    device: str = 'cpu'
    small: bool = False
    report_classes: Optional[Sequence[int]] = None
    dtypes: Sequence[str] = ('fp32', 'bf16')
    train_classes: int = 171
    repeats: int = 3
    budget_s: float = 1e9
    cfg_options: dict = field(default_factory=dict)
    threads: Optional[int] = None

    def __post_init__(self) -> None:
        self.cfg_options = dict(self.cfg_options or {})
        if not self.report_classes:
            self.report_classes = [4, 12] if self.small else [150, 847]
        self.slide_image = list(
            SMALL_SLIDE_IMAGE if self.small else SLIDE_IMAGE)

    @property
    def cuda(self) -> bool:
        return self.device.startswith('cuda')


def _test_mode_cfg(config: Optional[str], crop: int) -> dict:
    """The ``slide_global`` test_cfg of ``config`` (CAT-Seg's protocol), or
    the same protocol scaled to a ``crop``-pixel model (``small``)."""
    if config:
        from mmengine import Config
        return dict(Config.fromfile(osp.join(REPO, config)).model.test_cfg)
    return dict(
        mode='slide_global',
        out_size=(crop * 5 // 3, crop * 5 // 3),
        crop_size=(crop, crop),
        stride=(crop * 2 // 3, crop * 2 // 3),
        global_view=True)


def _error(exc: Exception) -> str:
    return f'{type(exc).__name__}: {exc}'[:200]


def _build_pair(s: ReportSettings, config: str, no_sam: Optional[str]):
    """The no-SAM model and ESC-Net, from the same seed."""
    pair = []
    for which in (no_sam, config):
        torch.manual_seed(0)
        options = dict(s.cfg_options)
        if which is None:
            which, options['model.neck.sam_block'] = config, None
        pair.append(
            build_random_model(osp.join(REPO, which),
                               options).eval().to(s.device))
    return pair


def _time_pair(s: ReportSettings, pair: list, images: torch.Tensor,
               meta: Optional[list], dtype: str) -> dict:
    """Median seconds per image of each model (alternating), their ratio
    and, on CUDA, the peak memory."""
    autocast = torch.autocast(
        'cuda' if s.cuda else 'cpu',
        dtype=torch.bfloat16) if dtype == 'bf16' else nullcontext()

    def run(model):
        with autocast:
            if meta is None:
                return model._forward(images)
            return model.inference(images, meta)

    if s.cuda:
        torch.cuda.reset_peak_memory_stats()
    _, times = alternating_times(pair, run, s.repeats, s.device)
    a, b = statistics.median(times[0]), statistics.median(times[1])
    row = dict(no_sam_s=a, escnet_s=b, ratio=b / a)
    if s.cuda:
        row['peak_gib'] = torch.cuda.max_memory_allocated() / 2**30
    return row


def _set_mode(pair: list, mode: str, slide_cfg: dict) -> None:
    for m in pair:
        m.test_cfg = dict(m.test_cfg, **slide_cfg) \
            if mode == 'slide_global' else dict(m.test_cfg, mode='whole')


def report_inference(s: ReportSettings, rows: List[dict],
                     deadline: float) -> None:
    """Append the inference rows (one per model, classes, test mode and
    dtype) to ``rows``, printing each as JSON when measured."""
    for label, config, no_sam, eval_cfg in (SMALL_MODELS
                                            if s.small else REPORT_MODELS):
        if time.time() > deadline:
            rows.append(dict(model=label, skipped='time budget'))
            continue
        pair = _build_pair(s, config, no_sam)
        crop = pair[0].backbone.image_size
        slide_cfg = _test_mode_cfg(eval_cfg, crop[0])
        for classes in s.report_classes:
            for m in pair:
                m.set_vocabulary(class_names(classes))
            for mode in ('whole', 'slide_global'):
                size = tuple(crop if mode == 'whole' else s.slide_image)
                images = torch.randn(1, 3, *size, device=s.device)
                meta = None if mode == 'whole' else [image_meta(*size)]
                _set_mode(pair, mode, slide_cfg)
                for dtype in s.dtypes:
                    row = dict(
                        model=label,
                        classes=classes,
                        mode=mode,
                        dtype=dtype,
                        views=pair[1].num_views(size))
                    if time.time() > deadline:
                        rows.append(dict(row, skipped='time budget'))
                        continue
                    try:
                        row.update(_time_pair(s, pair, images, meta, dtype))
                    except Exception as exc:  # noqa: BLE001 - in the table
                        row['error'] = _error(exc)
                    rows.append(row)
                    print(json.dumps(row), flush=True)
        del pair
        if s.cuda:
            torch.cuda.empty_cache()


def report_train(s: ReportSettings, rows: List[dict], deadline: float) -> None:
    """Append one training-step row per ``with_cp`` and AMP setting to
    ``rows``, peak memory as ``train-memory`` measures it (CUDA: in this
    process, the peak reset; CPU: a fresh process each)."""
    config = osp.join(REPO,
                      SMALL_MODELS[0][1] if s.small else REPORT_TRAIN_CONFIG)
    for with_cp in (False, True):
        for amp in (False, True):
            row = dict(
                model=osp.basename(config),
                classes=s.train_classes,
                with_cp=with_cp,
                amp=amp)
            if time.time() > deadline:
                rows.append(dict(row, skipped='time budget'))
                continue
            kwargs = dict(
                config=config,
                classes=s.train_classes,
                amp=amp,
                device=s.device,
                threads=s.threads,
                cfg_options=dict(s.cfg_options,
                                 **{'model.neck.with_cp': with_cp}))
            try:
                row.update(
                    train_step_memory(**kwargs) if s.
                    cuda else run_fresh(train_step_memory, **kwargs))
            except Exception as exc:  # noqa: BLE001 - in the table
                row['error'] = _error(exc)
            rows.append(row)
            print(json.dumps(row), flush=True)
            if s.cuda:
                torch.cuda.empty_cache()


def _environment(s: ReportSettings) -> dict:
    try:
        import triton
        triton_version = triton.__version__
    except ImportError:
        triton_version = 'not installed'
    return dict(
        device_name=torch.cuda.get_device_name(s.device)
        if s.cuda else f'CPU ({platform.machine()}, '
        f'{torch.get_num_threads()} threads)',
        torch=torch.__version__,
        cuda=torch.version.cuda,
        triton=triton_version,
        python=platform.python_version())


def gpu_report(s: ReportSettings, ppg_json: Optional[str] = None) -> dict:
    """Measure everything :class:`ReportSettings` asks for.

    Args:
        s (ReportSettings): What to measure.
        ppg_json (str, optional): A ``benchmark_ppg.py --json`` file whose
            table goes into the report. Defaults to None.

    Returns:
        dict: ``environment``, ``inference`` and ``train`` rows (and ``ppg``)
        for :func:`report_markdown`.
    """
    set_threads(s.threads)
    res = dict(
        small=s.small,
        repeats=s.repeats,
        slide_image=s.slide_image,
        environment=_environment(s),
        train_memory_what='max allocated over the built model'
        if s.cuda else 'peak RSS growth over the built model',
        inference=[],
        train=[])
    if ppg_json and osp.isfile(ppg_json):
        with open(ppg_json) as f:
            res['ppg'] = json.load(f)
    # Inference gets 70% of the budget; the training steps the rest.
    start = time.time()
    report_inference(s, res['inference'], start + 0.7 * s.budget_s)
    report_train(s, res['train'], start + s.budget_s)
    return res
