"""Speed of the Pseudo Prompt Generator op (``escnet::pseudo_prompts``).

Times, on realistic class-softmax maps (24x24, K=5, 10 Lloyd iterations):

* the batched PyTorch reference (the CPU kernel; also run on CUDA),
* the fused Triton kernel (CUDA only; checked equal to the reference first),
* a naive per-map Python loop calling the reference on one map at a time,

for M = 171 maps (one COCO-Stuff image) and M = 847*4 maps (a batch of four
ADE-847 images), with the speed-up over the naive loop measured in the same
run. Needs only torch (triton for the CUDA kernel).
"""
import argparse
import json
import platform
import statistics
import time
from typing import Callable, Dict, List, Sequence

import torch
import torch.nn.functional as F

from ..ops import HAS_TRITON, pseudo_prompts_reference, pseudo_prompts_triton

NAIVE = 'naive loop (per-map reference)'
# The options a run's JSON records (``meta``).
RUN_SETTINGS = ('grid', 'num_points', 'iters', 'alpha', 'maps', 'repeats',
                'naive_repeats')


def make_maps(num_images: int,
              num_classes: int,
              size: int,
              device: torch.device,
              seed: int = 0) -> torch.Tensor:
    """Class-softmax probability maps like PPG's input in block 0.

    Smooth random image-text cosine similarities (about 0.25 +- 0.04, as CLIP
    gives), times the logit scale 100, softmax over the classes.

    Returns:
        Tensor: (num_images*num_classes, size, size) float32 maps.
    """
    gen = torch.Generator().manual_seed(seed)
    coarse = torch.randn(num_images, num_classes, 6, 6, generator=gen)
    smooth = F.interpolate(
        coarse, size=(size, size), mode='bicubic', align_corners=False)
    cos = 0.25 + 0.04 * smooth
    prob = (100.0 * cos).softmax(dim=1)
    return prob.flatten(0, 1).contiguous().to(device)


def time_fn(fn: Callable[[], object], repeats: int,
            device: torch.device) -> float:
    """Median wall time of ``fn`` in seconds after one warm-up call."""

    def sync() -> None:
        if device.type == 'cuda':
            torch.cuda.synchronize(device)

    fn()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _maps(m: int, kind: str, grid: int, device: torch.device):
    if kind == 'softmax':
        images = 4 if m % 4 == 0 and m > 1000 else 1
        return make_maps(images, m // images, grid, device)
    gen = torch.Generator().manual_seed(0)
    return torch.rand(m, grid, grid, generator=gen).to(device)


def ppg_speed(device: str = 'cpu',
              sizes: Sequence[int] = (171, 847 * 4),
              repeats: int = 5,
              naive_repeats: int = 1,
              maps: str = 'softmax',
              grid: int = 24,
              **kw) -> List[Dict[str, object]]:
    """Time the op's implementations per number of maps.

    Args:
        device (str): ``cpu`` or ``cuda[:i]``. Defaults to 'cpu'.
        sizes (Sequence[int]): Numbers of maps M. Defaults to (171, 847 * 4).
        repeats (int): Timed runs of the batched implementations (median).
            Defaults to 5.
        naive_repeats (int): Timed runs of the per-map loop (median). Defaults
            to 1.
        maps (str): ``softmax`` (realistic) or ``dense`` (uniform random maps,
            about half the pixels foreground: the k-means' worst case).
            Defaults to 'softmax'.
        grid (int): Map side h = w. Defaults to 24.
        **kw (dict): The op's ``alpha``, ``num_points``, ``iters``.

    Returns:
        list[dict]: One row per size and method: ``seconds``,
        ``ms_per_map``, ``speedup_vs_naive`` and the maps' foreground.
    """
    device = torch.device(device)
    ref, tri = pseudo_prompts_reference, pseudo_prompts_triton
    rows = []
    for m in sizes:
        prob = _maps(m, maps, grid, device)
        labels, _, _ = ref(prob, **kw)
        stats = dict(
            maps=m,
            maps_with_foreground=int((labels >= 0).any(dim=1).sum()),
            mean_foreground_pixels=float((labels
                                          >= 0).sum(dim=1).float().mean()))
        methods = {'reference (batched torch)': lambda: ref(prob, **kw)}
        if device.type == 'cuda' and HAS_TRITON:
            methods['triton (fused kernel)'] = lambda: tri(prob, **kw)
            got, want = tri(prob, **kw), ref(prob, **kw)
            if not all(torch.equal(a, b) for a, b in zip(got, want)):
                raise AssertionError('triton != reference')
        methods[NAIVE] = lambda: [ref(prob[i:i + 1], **kw) for i in range(m)]
        times = {
            name: time_fn(fn, naive_repeats if name == NAIVE else repeats,
                          device)
            for name, fn in methods.items()
        }
        rows += [
            dict(
                stats,
                method=name,
                seconds=sec,
                ms_per_map=1e3 * sec / m,
                speedup_vs_naive=times[NAIVE] / sec)
            for name, sec in times.items()
        ]
    return rows


def format_ppg_speed(args: argparse.Namespace, rows: List[dict]) -> str:
    """:func:`ppg_speed`'s rows as a table, after the machine."""
    device = torch.device(args.device)
    name = (
        torch.cuda.get_device_name(device) if device.type == 'cuda' else
        platform.processor() or platform.machine())
    header = (f'{"M":>6} {"method":<32} {"time [ms]":>11} {"ms/map":>8} '
              f'{"speed-up":>9}')
    lines = [
        f'device: {device} ({name}), torch {torch.__version__}, threads '
        f'{torch.get_num_threads()}, {args.maps} maps {args.grid}x'
        f'{args.grid}, K={args.num_points}, iters={args.iters}', header,
        '-' * len(header)
    ]
    lines += [
        f'{r["maps"]:>6} {r["method"]:<32} {1e3 * r["seconds"]:>11.1f} '
        f'{r["ms_per_map"]:>8.3f} {r["speedup_vs_naive"]:>8.1f}x' for r in rows
    ]
    for m in args.sizes:
        r = next(r for r in rows if r['maps'] == m)
        lines.append(f'M={m}: {r["maps_with_foreground"]} maps with '
                     f'foreground, {r["mean_foreground_pixels"]:.1f} '
                     'foreground pixels per map on average')
    return '\n'.join(lines)


def add_ppg_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of :func:`ppg_speed` (and ``--threads``, ``--json``)."""
    parser.add_argument('--device', default='cpu', help='cpu or cuda[:i]')
    parser.add_argument(
        '--repeats',
        type=int,
        default=5,
        help='timed runs of the batched implementations (median)')
    parser.add_argument(
        '--naive-repeats',
        type=int,
        default=1,
        help='timed runs of the per-map loop (median)')
    parser.add_argument(
        '--sizes',
        type=int,
        nargs='+',
        default=[171, 847 * 4],
        help='numbers of maps M (each split as images x classes)')
    parser.add_argument('--grid', type=int, default=24, help='map side h = w')
    parser.add_argument('--num-points', type=int, default=5)
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--alpha', type=float, default=0.5)
    parser.add_argument(
        '--maps',
        choices=['softmax', 'dense'],
        default='softmax',
        help='softmax: class softmax of CLIP-like similarities '
        '(realistic); dense: uniform random maps, about half the pixels '
        'foreground (worst case for the k-means)')
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch CPU threads (default: torch default)')
    parser.add_argument(
        '--json', default=None, help='write the results to this file')


def run_ppg_speed(args: argparse.Namespace) -> dict:
    """:func:`ppg_speed` with parsed options (:func:`add_ppg_arguments`):
    prints the table and returns the rows with the run's settings
    (``meta``), also written to ``args.json`` when given."""
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = ppg_speed(
        args.device,
        args.sizes,
        args.repeats,
        args.naive_repeats,
        args.maps,
        args.grid,
        alpha=args.alpha,
        num_points=args.num_points,
        iters=args.iters)
    print(format_ppg_speed(args, rows))
    meta = dict(
        device=str(torch.device(args.device)),
        torch=torch.__version__,
        threads=torch.get_num_threads(),
        **{k: getattr(args, k)
           for k in RUN_SETTINGS})
    res = dict(meta=meta, results=rows)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(res, f, indent=2)
    return res
