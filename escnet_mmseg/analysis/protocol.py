"""Time and peak memory of one image in the config's test mode (e.g.
CAT-Seg's 5 views) per vocabulary size, each in a fresh process, after the
vocabulary's text embeddings are cached."""
import os.path as osp
import statistics
import time
from typing import List, Optional, Sequence

import torch

from .build import build_random_model, class_names, image_meta, set_threads
from .fresh_process import run_fresh
from .memory import (cuda_peak_mib, memory_ratio, reset_cuda_peak,
                     reset_peak_rss, rss_kib)
from .timing import sync


def protocol_cost(config: str,
                  classes: int,
                  image_size: Sequence[int] = (640, 853),
                  repeats: int = 1,
                  device: str = 'cpu',
                  cfg_options: Optional[dict] = None,
                  threads: Optional[int] = None) -> dict:
    """Peak memory and median time of ``model.predict`` on one image.

    The text embeddings are computed first (once per vocabulary). The peak
    is CUDA's max allocated over what was allocated before the image, or on
    a CPU the peak RSS over the RSS before the image (run it in a fresh
    process); ``process_peak_mib`` is the peak itself.

    Args:
        config (str): Config file.
        classes (int): Vocabulary size.
        image_size (Sequence[int]): The image (and its original size). Defaults
            to (640, 853).
        repeats (int): Timed runs (median). Defaults to 1.
        device (str): Device. Defaults to 'cpu'.
        cfg_options (dict, optional): Keys merged into the config. Defaults to
            None.
        threads (int, optional): torch CPU threads. Defaults to None.

    Returns:
        dict: ``classes``, ``seconds``, ``peak_mib``, ``process_peak_mib``,
        ``seg_logits`` (whether the test mode returned them) and the
        ``test_cfg``.
    """
    from mmseg.structures import SegDataSample
    set_threads(threads)
    model = build_random_model(config, cfg_options).eval().to(device)
    model.set_vocabulary(class_names(classes))
    h, w = image_size
    torch.manual_seed(0)
    inputs = torch.randn(1, 3, h, w, device=device)
    cuda = device.startswith('cuda')
    with torch.no_grad():
        model.text_encoder(model.vocabulary, model.backbone)  # cached
    if cuda:
        base = reset_cuda_peak()
    else:
        base = rss_kib()['VmRSS'] / 1024
        reset_peak_rss()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        with torch.no_grad():
            out = model.predict(inputs,
                                [SegDataSample(metainfo=image_meta(h, w))])
        sync(device)
        times.append(time.perf_counter() - start)
    peak = cuda_peak_mib() if cuda else rss_kib()['VmHWM'] / 1024
    return dict(
        classes=classes,
        seconds=statistics.median(times),
        peak_mib=peak - base,
        process_peak_mib=peak,
        seg_logits='seg_logits' in out[0],
        test_cfg={
            k: v
            for k, v in model.test_cfg.items() if not k.startswith('_')
        })


def protocol_costs(config: str,
                   classes: Sequence[int],
                   ratio_to: int = 150,
                   **kwargs) -> List[dict]:
    """:func:`protocol_cost` per vocabulary size, each in a fresh
    process, with memory and time ratios to the ``ratio_to`` row (else the
    first).

    Args:
        config (str): Config file.
        classes (Sequence[int]): Vocabulary sizes.
        ratio_to (int): Vocabulary size the ratios are relative to. Defaults to
            150.
        **kwargs (dict): ``image_size``, ``repeats``, ``device``,
            ``cfg_options``, ``threads``.

    Returns:
        list[dict]: One row per vocabulary size.
    """
    rows = [
        run_fresh(protocol_cost, config=config, classes=n, **kwargs)
        for n in classes
    ]
    ref = next((r for r in rows if r['classes'] == ratio_to), rows[0])
    for row in rows:
        row['memory_ratio'] = memory_ratio(row['peak_mib'], ref['peak_mib'])
        row['time_ratio'] = row['seconds'] / ref['seconds']
    return rows


def format_protocol_costs(config: str, image_size: Sequence[int], device: str,
                          repeats: int, rows: List[dict]) -> str:
    """:func:`protocol_costs`' rows as a table."""
    lines = [
        f'{osp.basename(config)}: one {image_size[0]}x{image_size[1]} '
        f'image, test_cfg {rows[0]["test_cfg"]}, device {device}, median '
        f'of {repeats}', f'{"classes":>7} {"s/img":>8} {"peak MiB":>9} '
        f'{"process":>8} {"mem x":>6} {"time x":>7} seg_logits'
    ]
    lines += [
        f'{r["classes"]:>7} {r["seconds"]:8.2f} {r["peak_mib"]:9.0f} '
        f'{r["process_peak_mib"]:8.0f} {r["memory_ratio"]:6.2f} '
        f'{r["time_ratio"]:7.2f} {r["seg_logits"]}' for r in rows
    ]
    return '\n'.join(lines)
