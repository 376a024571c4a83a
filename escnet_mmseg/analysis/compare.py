"""Two models timed in alternation on the same input.

Median seconds per image of each, the ratio of the medians and the spread
of the per-pair ratios. Alternation cancels most of the noise of a shared
machine; ratios, not absolute times, are the figures to quote.
"""
import os.path as osp
import statistics
from typing import Optional

import torch
from torch import Tensor, nn

from .build import build_random_model, class_names, set_threads
from .part_times import PartTimer, format_parts
from .timing import alternating_times


class ReferenceSAMBlock(nn.Module):
    """A SAM block run through SAM's own ``TwoWayAttentionBlock``
    (``SAMBlock.forward_reference``, the implementation before the fast
    forward), to time the difference."""

    def __init__(self, sam_block: nn.Module) -> None:
        super().__init__()
        self.sam_block = sam_block

    def forward(self, *args) -> Tensor:
        return self.sam_block.forward_reference(*args)


def use_reference_sam(model: nn.Module) -> None:
    """Wrap every SAM block of ``model`` in :class:`ReferenceSAMBlock`."""
    for block in model.neck.blocks:
        if block.sam_block is not None:
            block.sam_block = ReferenceSAMBlock(block.sam_block)


def compare_models(config_a: str,
                   config_b: str,
                   classes: int = 150,
                   repeats: int = 5,
                   device: str = 'cpu',
                   reference_sam: str = '',
                   cfg_options: Optional[dict] = None,
                   threads: Optional[int] = None) -> dict:
    """Time two configs' models in alternation on one CLIP-size crop.

    Args:
        config_a (str): First config.
        config_b (str): Second config.
        classes (int): Vocabulary size. Defaults to 150.
        repeats (int): Timed runs of each model. Defaults to 5.
        device (str): Device. Defaults to 'cpu'.
        reference_sam (str): ``'a'``, ``'b'`` or ``'ab'``: run SAM's
            ``TwoWayAttentionBlock`` in those models' SAM blocks. Defaults to
            '' (neither).
        cfg_options (dict, optional): Keys merged into both configs. Defaults
            to None.
        threads (int, optional): torch CPU threads. Defaults to None.

    Returns:
        dict: Medians, their ratio (b / a), per-pair ratios and times, the
        seconds per run of each part of each model (``parts``,
        :class:`PartTimer`) and the largest logit difference when the
        outputs have one shape.
    """
    set_threads(threads)
    models, images = [], None
    for which, config in zip('ab', (config_a, config_b)):
        torch.manual_seed(0)  # same random weights for shared parts
        model = build_random_model(config, cfg_options).eval().to(device)
        model.set_vocabulary(class_names(classes))
        if which in (reference_sam or ''):
            use_reference_sam(model)
        models.append(model)
        if images is None:
            h, w = model.backbone.image_size
            images = torch.randn(1, 3, h, w, device=device)
    timers = [PartTimer(m, device) for m in models]
    outs, times = alternating_times(models, lambda m: m.view_logits(images),
                                    repeats, device,
                                    lambda: [t.reset() for t in timers])
    for timer in timers:
        timer.remove()
    res = dict(
        a=osp.basename(config_a),
        b=osp.basename(config_b),
        median_a=statistics.median(times[0]),
        median_b=statistics.median(times[1]),
        ratios=[b / a for a, b in zip(*times)],
        times_a=times[0],
        times_b=times[1],
        parts=[t.per_run(repeats) for t in timers])
    res['ratio'] = res['median_b'] / res['median_a']
    if outs[0].shape == outs[1].shape:
        res['max_abs_diff'] = (outs[0] - outs[1]).abs().max().item()
        res['max_abs_logit'] = outs[0].abs().max().item()
    return res


def format_compare(res: dict, classes: int, repeats: int, device: str,
                   reference_sam: Optional[str]) -> str:
    """:func:`compare_models`' result."""
    r = sorted(res['ratios'])
    lines = [
        f'{classes} classes, {repeats} alternating runs, device {device}, '
        f'{torch.get_num_threads()} threads' +
        (f', reference SAM block in {reference_sam}' if reference_sam else ''),
        f'  a: {res["a"]:<45} median {res["median_a"]:8.3f} s/img',
        f'  b: {res["b"]:<45} median {res["median_b"]:8.3f} s/img',
        f'  b / a = {res["ratio"]:.3f} (per-pair ratios: min {r[0]:.3f}, '
        f'median {statistics.median(r):.3f}, max {r[-1]:.3f})'
    ]
    if 'max_abs_diff' in res:
        lines.append(
            f'  max |logits a - logits b| = {res["max_abs_diff"]:.2e}')
    if 'parts' in res:
        lines.append('  time per part (mean of the timed runs):')
        lines.append(format_parts(res['parts']))
    return '\n'.join(lines)
