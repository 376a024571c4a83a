"""Peak memory of one training step (forward + backward of the loss) per
vocabulary size, each in a fresh process, and the fitted memory per
class."""
import os.path as osp
import statistics
import time
from contextlib import nullcontext
from typing import Optional, Sequence

import torch

from .build import build_random_model, class_names, set_threads
from .fresh_process import run_fresh
from .memory import cpu_peak_mib, cuda_peak_mib, reset_cuda_peak
from .timing import sync


def train_step_memory(config: str,
                      classes: int,
                      batch_size: int = 1,
                      amp: bool = False,
                      device: str = 'cpu',
                      cfg_options: Optional[dict] = None,
                      threads: Optional[int] = None) -> dict:
    """Peak memory and seconds of one forward + backward of the loss on
    random images and labels at the CLIP input size.

    The peak is CUDA's max allocated over the built model, or on a CPU the
    growth of the peak RSS over the built model (run it in a fresh
    process). ``amp``: autocast, fp16 on CUDA and bf16 on a CPU.
    """
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    set_threads(threads)
    cuda = device.startswith('cuda')
    model = build_random_model(config, cfg_options).train().to(device)
    model.set_vocabulary(class_names(classes))
    h, w = model.backbone.image_size
    torch.manual_seed(0)
    images = torch.randn(batch_size, 3, h, w, device=device)
    samples = []
    for _ in range(batch_size):
        sample = SegDataSample(
            metainfo=dict(img_shape=(h, w), pad_shape=(h, w)))
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, classes, (1, h, w), device=device))
        samples.append(sample)
    base = reset_cuda_peak() if cuda else cpu_peak_mib()
    autocast = torch.autocast(
        device.split(':')[0],
        dtype=torch.float16 if cuda else torch.bfloat16) \
        if amp else nullcontext()
    start = time.perf_counter()
    with autocast:
        loss, _ = model.parse_losses(model.loss(images, samples))
    loss.backward()
    sync(device)
    seconds = time.perf_counter() - start
    peak = (cuda_peak_mib() if cuda else cpu_peak_mib()) - base
    return dict(classes=classes, peak_mib=peak, seconds=seconds)


def train_memory(config: str, classes: Sequence[int], **kwargs) -> dict:
    """:func:`train_step_memory` per vocabulary size, each in a fresh
    process, and the least-squares line ``fixed + slope x classes``.

    Args:
        config (str): Config file.
        classes (Sequence[int]): Vocabulary sizes.
        **kwargs (dict): ``batch_size``, ``amp``, ``device``, ``cfg_options``,
            ``threads``.

    Returns:
        dict: ``rows``, and with two sizes or more ``mib_per_class`` and
        ``fixed_mib``.
    """
    rows = [
        run_fresh(train_step_memory, config=config, classes=n, **kwargs)
        for n in classes
    ]
    res = dict(rows=rows)
    if len(rows) >= 2:
        xs = [r['classes'] for r in rows]
        ys = [r['peak_mib'] for r in rows]
        mx, my = statistics.mean(xs), statistics.mean(ys)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum(
            (x - mx)**2 for x in xs)
        res['mib_per_class'] = slope
        res['fixed_mib'] = my - slope * mx
    return res


def format_train_memory(config: str, res: dict, batch_size: int, amp: bool,
                        device: str, cfg_options: Optional[dict]) -> str:
    """:func:`train_memory`'s result as a table and the fit."""
    what = ('max allocated' if device.startswith('cuda') else
            'peak RSS growth over the built model')
    lines = [
        f'{osp.basename(config)}: one training step (forward + backward), '
        f'batch {batch_size}, device {device}' +
        (', autocast' if amp else '') +
        (f', {cfg_options}' if cfg_options else ''),
        f'{"classes":>8} {"peak MiB":>10} {"s/step":>8}   ({what})'
    ]
    lines += [
        f'{r["classes"]:>8} {r["peak_mib"]:10.0f} {r["seconds"]:8.1f}'
        for r in res['rows']
    ]
    if 'mib_per_class' in res:
        lines.append(f'fit: {res["fixed_mib"]:.0f} MiB + '
                     f'{res["mib_per_class"]:.1f} MiB per class')
    return '\n'.join(lines)
