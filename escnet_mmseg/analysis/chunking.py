"""Class chunking: inference time and peak memory per chunk size, one
fresh process per setting (a CPU peak RSS only grows)."""
import os.path as osp
import time
from typing import List, Optional, Sequence

import torch

from .build import build_random_model, class_names, set_threads
from .fresh_process import run_fresh
from .memory import cpu_peak_mib, cuda_peak_mib, memory_ratio, reset_cuda_peak


def chunk_time_memory(config: str,
                      classes: int,
                      chunk: int,
                      repeats: int = 3,
                      device: str = 'cpu',
                      cfg_options: Optional[dict] = None,
                      threads: Optional[int] = None) -> dict:
    """Seconds per image and peak MiB of whole-image inference with
    ``test_cfg.class_chunk_size = chunk`` (0: the whole vocabulary).

    The peak is CUDA's max allocated, or on a CPU the growth of the peak
    RSS over the built model (run it in a fresh process).
    """
    set_threads(threads)
    model = build_random_model(config, cfg_options).eval().to(device)
    model.set_vocabulary(class_names(classes))
    model.test_cfg['class_chunk_size'] = chunk or None
    h, w = model.backbone.image_size
    images = torch.randn(1, 3, h, w, device=device)
    cuda = device.startswith('cuda')
    base = cpu_peak_mib()  # the built model and inputs, before inference
    with torch.no_grad():
        model._forward(images)  # warm-up (text cache, kernels)
        if cuda:
            reset_cuda_peak()
        start = time.perf_counter()
        for _ in range(repeats):
            model._forward(images)
        if cuda:
            torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / repeats
    peak = cuda_peak_mib() if cuda else cpu_peak_mib() - base
    return dict(chunk=chunk or 'all', seconds=seconds, peak_mib=peak)


def chunked_inference(config: str,
                      classes: int,
                      chunks: Sequence[int] = (0, 32),
                      **kwargs) -> List[dict]:
    """:func:`chunk_time_memory` per chunk size, each in a fresh process,
    with time and memory ratios to the first.

    Args:
        config (str): Config file.
        classes (int): Vocabulary size.
        chunks (Sequence[int]): Class chunk sizes; 0 = whole vocabulary.
            Defaults to (0, 32).
        **kwargs (dict): ``repeats``, ``device``, ``cfg_options``, ``threads``.

    Returns:
        list[dict]: One row per chunk size.
    """
    rows = [
        run_fresh(
            chunk_time_memory,
            config=config,
            classes=classes,
            chunk=chunk,
            **kwargs) for chunk in chunks
    ]
    for row in rows:
        row['time_ratio'] = row['seconds'] / rows[0]['seconds']
        row['memory_ratio'] = memory_ratio(row['peak_mib'],
                                           rows[0]['peak_mib'])
    return rows


def format_chunked(config: str, classes: int, device: str, repeats: int,
                   rows: List[dict]) -> str:
    """:func:`chunked_inference`'s rows as a table."""
    lines = [
        f'{osp.basename(config)}: {classes} classes, device {device}, '
        f'{repeats} repeats', f'{"chunk":>6} {"s/img":>8} {"peak MiB":>9} '
        f'{"time x":>7} {"mem x":>6}'
    ]
    lines += [
        f'{r["chunk"]:>6} {r["seconds"]:8.3f} {r["peak_mib"]:9.0f} '
        f'{r["time_ratio"]:7.2f} {r["memory_ratio"]:6.2f}' for r in rows
    ]
    return '\n'.join(lines)
