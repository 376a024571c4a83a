"""Benchmark of the Pseudo Prompt Generator op (``escnet::pseudo_prompts``).

Times, on realistic class-softmax maps (24x24, K=5, 10 Lloyd iterations):

* the batched PyTorch reference (the CPU kernel; also run on CUDA when
  ``--device cuda``),
* the fused Triton kernel (CUDA only),
* a naive per-map Python loop calling the reference on one map at a time,

for M = 171 maps (one COCO-Stuff image) and M = 847*4 maps (a batch of four
ADE-847 images), and prints the times with the speed-up over the naive loop
measured in the same run. Needs only torch (triton for the CUDA kernel).

Example::

    python tools/benchmark_ppg.py --device cpu --repeats 5 --json ppg.json
"""
import argparse
import importlib
import importlib.util
import json
import platform
import statistics
import sys
import time
import types
from pathlib import Path
from typing import Callable, Dict, List

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]


def import_ops() -> types.ModuleType:
    """``escnet_mmseg.ops`` on its own (needs only torch, optionally triton).

    A bare parent package is used so the package ``__init__`` (which registers
    the MMSeg components and needs the whole MMSeg stack) is not executed.
    """
    if 'escnet_mmseg' not in sys.modules:
        spec = importlib.util.find_spec('escnet_mmseg')
        if spec is None:
            sys.path.insert(0, str(ROOT))
            spec = importlib.util.find_spec('escnet_mmseg')
        pkg = types.ModuleType('escnet_mmseg')
        pkg.__path__ = list(spec.submodule_search_locations)
        sys.modules['escnet_mmseg'] = pkg
    return importlib.import_module('escnet_mmseg.ops')


def make_maps(num_images: int,
              num_classes: int,
              size: int,
              device: torch.device,
              seed: int = 0) -> torch.Tensor:
    """Class-softmax probability maps like PPG's input in block 0.

    Smooth random image-text cosine similarities (about 0.25 +- 0.04, as CLIP
    gives), times the logit scale 100, softmax over the classes.

    Returns:
        (num_images*num_classes, size, size) float32 maps.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
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
        '(realistic); '
        'dense: uniform random maps, about half the pixels foreground '
        '(worst case for the k-means)')
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch CPU threads (default: torch default)')
    parser.add_argument(
        '--json', default=None, help='write the results to this file')
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    ops = import_ops()
    device = torch.device(args.device)
    kw = dict(alpha=args.alpha, num_points=args.num_points, iters=args.iters)
    ref, tri = ops.pseudo_prompts_reference, ops.pseudo_prompts_triton
    use_triton = device.type == 'cuda' and ops.HAS_TRITON

    rows: List[Dict[str, object]] = []
    for m in args.sizes:
        images = 4 if m % 4 == 0 and m > 1000 else 1
        if args.maps == 'softmax':
            prob = make_maps(images, m // images, args.grid, device)
        else:
            gen = torch.Generator().manual_seed(0)
            prob = torch.rand(
                m, args.grid, args.grid, generator=gen).to(device)
        labels, _, _ = ref(prob, **kw)
        has_fg = (labels >= 0).any(dim=1)
        stats = dict(
            maps=m,
            maps_with_foreground=int(has_fg.sum()),
            mean_foreground_pixels=float((labels
                                          >= 0).sum(dim=1).float().mean()))
        methods: Dict[str, Callable[[], object]] = {
            'reference (batched torch)': lambda: ref(prob, **kw),
        }
        if use_triton:
            methods['triton (fused kernel)'] = lambda: tri(prob, **kw)
            got, want = tri(prob, **kw), ref(prob, **kw)
            assert all(torch.equal(a, b)
                       for a, b in zip(got, want)), 'triton != reference'
        methods['naive loop (per-map reference)'] = \
            lambda: [ref(prob[i:i + 1], **kw) for i in range(m)]
        times = {}
        for name, fn in methods.items():
            reps = args.naive_repeats if name.startswith(
                'naive') else args.repeats
            times[name] = time_fn(fn, reps, device)
        naive = times['naive loop (per-map reference)']
        for name, sec in times.items():
            rows.append(
                dict(
                    stats,
                    method=name,
                    seconds=sec,
                    ms_per_map=1e3 * sec / m,
                    speedup_vs_naive=naive / sec))

    if device.type == 'cuda':
        name = torch.cuda.get_device_name(device)
    else:
        name = platform.processor() or platform.machine()
    print(f'device: {device} ({name}), '
          f'torch {torch.__version__}, threads {torch.get_num_threads()}, '
          f'{args.maps} maps {args.grid}x{args.grid}, K={args.num_points}, '
          f'iters={args.iters}')
    header = (f'{"M":>6} {"method":<32} {"time [ms]":>11} {"ms/map":>8} '
              f'{"speed-up":>9}')
    print(header)
    print('-' * len(header))
    for r in rows:
        print(f'{r["maps"]:>6} {r["method"]:<32} {1e3 * r["seconds"]:>11.1f} '
              f'{r["ms_per_map"]:>8.3f} {r["speedup_vs_naive"]:>8.1f}x')
    for m in args.sizes:
        r = next(r for r in rows if r['maps'] == m)
        print(f'M={m}: {r["maps_with_foreground"]} maps with foreground, '
              f'{r["mean_foreground_pixels"]:.1f} foreground pixels per map '
              'on average')
    if args.json:
        meta = dict(
            device=str(device),
            torch=torch.__version__,
            threads=torch.get_num_threads(),
            grid=args.grid,
            num_points=args.num_points,
            iters=args.iters,
            alpha=args.alpha,
            maps=args.maps,
            repeats=args.repeats,
            naive_repeats=args.naive_repeats)
        with open(args.json, 'w') as f:
            json.dump(dict(meta=meta, results=rows), f, indent=2)


if __name__ == '__main__':
    main()
