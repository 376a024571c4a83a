"""One SAM block at a config's sizes: the fast forward against SAM's own
``TwoWayAttentionBlock`` (``forward_reference``), timed in alternation,
with the largest difference of their outputs."""
import os.path as osp
import statistics
import time
from typing import Optional

import torch
import torch.nn.functional as F

from .build import build_random_model, set_threads


def sam_block_speed(config: str,
                    classes: int = 32,
                    block: int = 1,
                    repeats: int = 5,
                    profile: bool = False,
                    cfg_options: Optional[dict] = None,
                    threads: Optional[int] = None) -> dict:
    """Median seconds of SAM block ``block`` both ways, on the CPU.

    Args:
        config (str): Config file.
        classes (int): Classes T of the block's input. Defaults to 32.
        block (int): Index of the ESC block. Defaults to 1.
        repeats (int): Alternating timed runs. Defaults to 5.
        profile (bool): Also print ``torch.profiler`` tables of both. Defaults
            to False.
        cfg_options (dict, optional): Keys merged into the config. Defaults to
            None.
        threads (int, optional): torch CPU threads. Defaults to None.

    Returns:
        dict: ``reference`` and ``fast`` seconds, ``speedup``,
        ``max_abs_diff`` and the block's ``prompt_types``.
    """
    from escnet_mmseg.models.sam_block import encode_prompts
    set_threads(threads)
    model = build_random_model(config, cfg_options).eval()
    neck = model.neck
    esc_block = neck.blocks[block]
    if esc_block.sam_block is None:
        raise ValueError(f'{config} has no SAM blocks')
    h, w = neck.grid_size
    torch.manual_seed(0)
    visual = torch.randn(1, model.backbone.embed_dim, h, w)
    text = torch.randn(classes, model.backbone.embed_dim)
    # Realistic prompts: the PPG on a class softmax of smooth random maps.
    logits = F.interpolate(
        torch.randn(1, classes, h // 4, w // 4), size=(h, w), mode='bicubic')
    prompts = esc_block.ppg(logits * 4)
    pe = neck.prompt_encoder
    image_pe = pe.get_dense_pe()
    sam = esc_block.sam_block

    def fast():
        sparse, dense = encode_prompts(
            pe, prompts, esc_block.prompt_types, factored=True)
        return sam(visual, text, sparse, dense, image_pe)

    def reference():
        sparse, dense = encode_prompts(pe, prompts, esc_block.prompt_types)
        return sam.forward_reference(visual, text, sparse, dense, image_pe)

    runs = (('reference', reference), ('fast', fast))
    times = {'reference': [], 'fast': []}
    with torch.no_grad():
        diff = (fast() - reference()).abs().max().item()
        for _ in range(repeats):
            for name, fn in runs:
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
        if profile:
            _print_profiles(runs)
    ref = statistics.median(times['reference'])
    fst = statistics.median(times['fast'])
    return dict(
        reference=ref,
        fast=fst,
        speedup=ref / fst,
        max_abs_diff=diff,
        prompt_types=esc_block.prompt_types)


def _print_profiles(runs) -> None:
    from torch.profiler import ProfilerActivity, profile
    for name, fn in runs:
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            fn()
        print(f'--- profile: {name}')
        print(prof.key_averages().table(
            sort_by='self_cpu_time_total', row_limit=12))


def format_sam_block_speed(config: str, block: int, classes: int, repeats: int,
                           res: dict) -> str:
    """:func:`sam_block_speed`'s result."""
    return (f'{osp.basename(config)}: SAM block {block}, {classes} classes, '
            f'prompts {res["prompt_types"]}, {repeats} alternating runs\n'
            f'  SAM TwoWayAttentionBlock {res["reference"]:.3f} s, fast '
            f'{res["fast"]:.3f} s: {res["speedup"]:.2f}x; max |diff| '
            f'{res["max_abs_diff"]:.2e}')
