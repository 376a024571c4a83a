"""Benchmarks of escnet_mmseg: parameters, FLOPs, speed and memory.

    python tools/benchmark.py params CONFIG
    python tools/benchmark.py flops CONFIG --classes 150
    python tools/benchmark.py compare CONFIG_A CONFIG_B --classes 150 \
        [--cfg-options model.test_cfg.class_chunk_size=32] [--reference-sam a]
    python tools/benchmark.py model CONFIG --classes 171 --chunks 0 32
    python tools/benchmark.py protocol CONFIG --classes 20 150 847 2000
    python tools/benchmark.py train-memory CONFIG --classes 2 4 8 [--amp]
    python tools/benchmark.py sam-block CONFIG --classes 32 [--profile]
    python tools/benchmark.py ppg [benchmark_ppg.py options]
    python tools/benchmark.py gpu-report --device cuda --out report.md \
        [--ppg-json ppg.json] [--small]

Models are built with random weights (no CLIP or SAM file is read:
``pretrained`` and ``sam_checkpoint`` are cleared). ``params`` builds on the
meta device, so even ViT-L needs no memory.

* ``flops``: FLOPs of one inference per part, counted by
  ``torch.utils.flop_counter`` (matrix products and convolutions; element-wise
  ops, softmax and norms are not counted). Both conventions are printed:
  ``2 x multiply-add`` (torch's FlopCounter, most papers) and
  ``1 x multiply-add`` (fvcore, which CAT-Seg's and ESC-Net's Table 4 GFLOPs
  come from in the literature). Whole-image inference of one CLIP-size crop,
  and the config's own test mode on an image of ``--image-size``.
* ``compare``: two models in one process, timed in alternation on the same
  input; median seconds per image of each, the ratio of the medians and the
  spread of the per-pair ratios. Alternation cancels most of the noise of a
  shared machine; ratios, not absolute times, are the figures to quote.
* ``model``: chunked vs unchunked inference, time and peak memory (CUDA: max
  allocated; CPU: growth of the peak RSS over the built model, in a fresh
  process per setting).
* ``protocol``: time and peak memory of one image in the config's test mode
  (e.g. CAT-Seg's 5 views) per vocabulary size, each in a fresh process,
  after the vocabulary's text embeddings are cached (CUDA: max allocated;
  CPU: the peak RSS over the RSS before the image, and the process's peak).
* ``train-memory``: peak memory of one training step (forward + backward of
  the loss) per vocabulary size, each in a fresh process, and the fitted
  memory per class.
* ``sam-block``: one SAM block at the config's sizes, the fast forward vs SAM's
  own ``TwoWayAttentionBlock`` (alternating), with the largest difference.
* ``gpu-report``: the whole-model figures of ``tools/gpu_check.sh`` in one
  process, written as markdown tables for docs/efficiency.md: ESC-Net ViT-B/16
  and ViT-L/14 against their no-SAM ablations (``compare``'s alternation;
  one CLIP-size crop and CAT-Seg's 5-view ``slide_global`` on a 640x853
  image; 150 and 847 classes; fp32 and bf16 autocast), then the peak memory
  of one ViT-L/14 training step at 171 classes (with and without
  ``with_cp``, fp32 and AMP). ``--small`` runs the same code on the tiny
  synthetic config (a CPU check of the tool); ``--budget-s`` skips what
  would not fit the time left.
"""
import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager, nullcontext
from typing import Optional

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

# Model parts whose FLOPs `flops` reports (attribute paths in ESCNet).
FLOP_PARTS = ('backbone', 'text_encoder', 'neck', 'decode_head')


def _build(config: str, cfg_options=None, device=None):
    # escnet_mmseg first: with mmcv-lite its stand-in for mmcv's compiled
    # ops must be in place before MMSeg imports mmcv.ops (where no start-up
    # hook ran, e.g. wheels installed with pip --target).
    import escnet_mmseg  # noqa: F401, I001  isort:skip
    import torch
    from mmengine import Config
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.model.backbone.pretrained = None  # random weights, no download
    cfg.model.neck.sam_checkpoint = None
    if device == 'meta':
        with torch.device('meta'):
            return MODELS.build(cfg.model)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def _vocabulary(n: int) -> list:
    return [f'class {i}' for i in range(n)]


def _sync(device: str) -> None:
    import torch
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def _set_threads(threads) -> None:
    import torch
    if threads:
        torch.set_num_threads(threads)


# ----------------------------------------------------------------- params
def count_params(config: str, cfg_options=None) -> dict:
    """Parameters per part (millions) of a config's model."""
    model = _build(config, cfg_options, device='meta')
    parts = dict(
        clip_image=model.backbone.clip.visual,
        clip_text=model.backbone.clip,
        esc_blocks=model.neck,
        decoder=model.decode_head)
    out = {}
    for name, module in parts.items():
        params = list(module.parameters())
        if name == 'clip_text':
            params = model.backbone.text_parameters()
        out[name] = sum(p.numel() for p in params) / 1e6
    out['total'] = sum(p.numel() for p in model.parameters()) / 1e6
    out['trainable'] = sum(
        p.numel() for p in model.parameters() if p.requires_grad) / 1e6
    return out


# ------------------------------------------------------------------ flops
def _flop_parts(model) -> dict:
    """name -> modules whose forward FLOPs are reported under that name."""
    parts = {'CLIP image': [model.backbone], 'CLIP text': [model.text_encoder]}
    for k, block in enumerate(model.neck.blocks):
        parts[f'block {k}'] = [block]
        if block.sam_block is not None:
            parts[f'block {k} SAM block'] = [block.sam_block]
        parts[f'block {k} VLF'] = [block.vlf]
    parts['ESC blocks (neck)'] = [model.neck]
    # The head's forward (and UpBlock.skip_term) are called as methods, so
    # the hooks go on the layers.
    head = model.decode_head
    parts['decoder'] = [
        *head.skip_proj, *head.guidance_proj, *head.up_blocks, head.conv_seg,
        *(b.conv_skip for b in head.up_blocks)
    ]
    return parts


@contextmanager
def countable_attention():
    """Run attention as plain matrix products, which the FLOP counter sees.

    The counter has no formula for two fused kernels that would otherwise
    hide attention: ``nn.MultiheadAttention``'s inference fast path
    (``_native_multi_head_attention``, used without gradients) and the CPU
    kernel of ``F.scaled_dot_product_attention``. Both are switched to their
    math versions (same results) while counting.
    """
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with sdpa_kernel(SDPBackend.MATH):
            yield
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)


def count_flops(model, run, parts: Optional[dict] = None) -> dict:
    """FLOPs (2 x multiply-add) of ``run()`` per part of ``model``.

    A forward pre-hook and a forward hook on every part read the running
    total of one ``FlopCounterMode``, so nested parts and repeated calls
    (class chunks) are summed correctly.
    """
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False)
    totals, starts, handles = {}, {}, []
    parts = _flop_parts(model) if parts is None else parts
    for name, modules in parts.items():
        totals[name] = 0
        for module in modules:

            def pre(mod, args, key=(name, id(module))):
                starts[key] = counter.get_total_flops()

            def post(mod, args, out, name=name, key=(name, id(module))):
                totals[name] += counter.get_total_flops() - starts[key]

            handles.append(module.register_forward_pre_hook(pre))
            handles.append(module.register_forward_hook(post))
    # Parameters as constants while counting: newer torch's counter tracks
    # modules with gradient hooks on inputs that require grad, which fails
    # for a parameter passed to a submodule under no_grad (no grad_fn).
    frozen = [p for p in model.parameters() if p.requires_grad]
    for p in frozen:
        p.requires_grad_(False)
    try:
        with counter, countable_attention():
            run()
    finally:
        for h in handles:
            h.remove()
        for p in frozen:
            p.requires_grad_(True)
    totals['total'] = counter.get_total_flops()
    totals['total without text'] = totals['total'] - totals.get('CLIP text', 0)
    return totals


def _count_windows(model, image, meta) -> int:
    """How many crops the config's test mode runs on ``image``.

    The two methods that run the network on CLIP-size crops,
    ``encode_decode`` (``whole``, ``slide``: one call per crop) and
    ``view_logits`` (``slide_global``: all views as one batch), are replaced
    by stubs that count the crops they get, so the real test-mode code
    decides the windows in no time.
    """
    import torch
    crops = []

    def stub(inputs, *metas):
        crops.append(inputs.shape[0])
        return torch.zeros(inputs.shape[0], model.num_classes,
                           *inputs.shape[-2:])

    model.encode_decode = stub
    model.view_logits = stub
    try:
        model.inference(image, meta)
    finally:
        del model.encode_decode, model.view_logits
    return sum(crops)


def bench_flops(args) -> dict:
    """Whole-image FLOPs of one crop, and the test mode's as
    ``windows x crop + text once`` (a crop's FLOPs do not depend on the
    pixels, and the text embeddings are computed once per vocabulary)."""
    import torch
    model = _build(args.config, args.cfg_options).eval()
    model.set_vocabulary(_vocabulary(args.classes))
    h, w = model.backbone.image_size
    results = {}
    with torch.no_grad():
        crop = count_flops(model,
                           lambda: model._forward(torch.randn(1, 3, h, w)))
        results[f'whole image {h}x{w}'] = crop
        if args.image_size:
            ih, iw = args.image_size
            meta = [
                dict(
                    img_shape=(ih, iw),
                    ori_shape=(ih, iw),
                    pad_shape=(ih, iw),
                    padding_size=[0, 0, 0, 0])
            ]
            n = _count_windows(model, torch.zeros(1, 3, ih, iw), meta)
            mode = model.test_cfg.get('mode', 'whole')
            results[f'test mode "{mode}" {ih}x{iw}: {n} crops'] = {
                k:
                v if k == 'CLIP text' else
                (n * v if k != 'total' else n * crop['total without text'] +
                 crop['CLIP text'])
                for k, v in crop.items()
            }
    return results


def _print_flops(args, results: dict) -> None:
    print(f'{osp.basename(args.config)}: {args.classes} classes, GFLOPs by '
          'torch.utils.flop_counter (matmul/conv only)')
    print('  2x = 2 FLOPs per multiply-add (torch, most papers); '
          '1x = 1 per multiply-add (fvcore)')
    for setting, parts in results.items():
        print(f'\n{setting}')
        print(f'  {"part":<22}{"GFLOPs 2x":>12}{"GFLOPs 1x":>12}{"share":>8}')
        total = parts['total'] or 1
        for name, flops in parts.items():
            print(f'  {name:<22}{flops / 1e9:12.1f}{flops / 2e9:12.1f}'
                  f'{100 * flops / total:7.1f}%')


# ---------------------------------------------------------------- compare
def _use_reference_sam(model) -> None:
    """Run SAM's own TwoWayAttentionBlock in every SAM block (the
    implementation before the fast forward), to time the difference."""
    for block in model.neck.blocks:
        if block.sam_block is not None:
            block.sam_block.forward = block.sam_block.forward_reference


def _alternating_times(models, run, repeats: int, device: str):
    """Time ``run(model)`` for two models, in the order AB, BA, AB, ... so
    that drifts of the machine (clock, other load) fall on both.

    Args:
        models (Sequence[nn.Module]): The two models.
        run (Callable): ``run(model)`` runs one forward pass.
        repeats (int): Timed runs of each model.
        device (str): Synchronised around each run.

    Returns:
        tuple: The outputs of the untimed warm-up run of each model (text
        cache, kernels, autotuning) and two lists of seconds per run.
    """
    import torch
    times = ([], [])
    with torch.no_grad():
        outs = [run(m) for m in models]
        for r in range(repeats):
            for i in ((0, 1) if r % 2 == 0 else (1, 0)):
                _sync(device)
                start = time.perf_counter()
                run(models[i])
                _sync(device)
                times[i].append(time.perf_counter() - start)
    return outs, times


def bench_compare(args) -> dict:
    import torch
    _set_threads(args.threads)
    models, images = [], None
    for which, config in zip('ab', (args.config_a, args.config_b)):
        torch.manual_seed(0)  # same random weights for shared parts
        model = _build(config, args.cfg_options).eval().to(args.device)
        model.set_vocabulary(_vocabulary(args.classes))
        if which in (args.reference_sam or ''):
            _use_reference_sam(model)
        models.append(model)
        if images is None:
            h, w = model.backbone.image_size
            images = torch.randn(1, 3, h, w, device=args.device)
    outs, times = _alternating_times(models, lambda m: m._forward(images),
                                     args.repeats, args.device)
    ratios = [b / a for a, b in zip(*times)]
    res = dict(
        a=osp.basename(args.config_a),
        b=osp.basename(args.config_b),
        median_a=statistics.median(times[0]),
        median_b=statistics.median(times[1]),
        ratios=ratios,
        times_a=times[0],
        times_b=times[1])
    res['ratio'] = res['median_b'] / res['median_a']
    if outs[0].shape == outs[1].shape:
        res['max_abs_diff'] = (outs[0] - outs[1]).abs().max().item()
        res['max_abs_logit'] = outs[0].abs().max().item()
    return res


def _print_compare(args, res: dict) -> None:
    import torch
    print(f'{args.classes} classes, {args.repeats} alternating runs, device '
          f'{args.device}, {torch.get_num_threads()} threads' +
          (f', reference SAM block in {args.reference_sam}' if args.
           reference_sam else ''))
    print(f'  a: {res["a"]:<45} median {res["median_a"]:8.3f} s/img')
    print(f'  b: {res["b"]:<45} median {res["median_b"]:8.3f} s/img')
    r = sorted(res['ratios'])
    print(f'  b / a = {res["ratio"]:.3f} (per-pair ratios: min {r[0]:.3f}, '
          f'median {statistics.median(r):.3f}, max {r[-1]:.3f})')
    if 'max_abs_diff' in res:
        print(f'  max |logits a - logits b| = {res["max_abs_diff"]:.2e}')


# ------------------------------------------------------------------ model
def _time_model(args, chunk: int) -> dict:
    import torch
    model = _build(args.config, args.cfg_options).eval().to(args.device)
    model.set_vocabulary(_vocabulary(args.classes))
    model.test_cfg['class_chunk_size'] = chunk or None
    h, w = model.backbone.image_size
    images = torch.randn(1, 3, h, w, device=args.device)
    cuda = args.device.startswith('cuda')
    base = _cpu_peak_mib()  # the built model and inputs, before inference
    with torch.no_grad():
        model._forward(images)  # warm-up (text cache, kernels)
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        for _ in range(args.repeats):
            model._forward(images)
        if cuda:
            torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / args.repeats
    if cuda:
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = _cpu_peak_mib() - base  # what inference added at its peak
    return dict(chunk=chunk or 'all', seconds=seconds, peak_mib=peak)


def _cpu_peak_mib() -> float:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _options_argv(args) -> list:
    """``--cfg-options`` of ``args`` as command-line words again."""
    if not args.cfg_options:
        return []
    return ['--cfg-options'] + [
        f'{k}={json.dumps(v) if not isinstance(v, str) else v}'
        for k, v in args.cfg_options.items()
    ]


def _run_child(cmd: list) -> dict:
    # glibc's dynamic mmap threshold keeps freed tensors in the heap, so the
    # peak RSS would count memory that was free again; a fixed threshold
    # returns every large tensor to the system when it is freed.
    env = dict(os.environ)
    env.setdefault('MALLOC_MMAP_THRESHOLD_', str(64 * 1024))
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise RuntimeError(f'{" ".join(cmd)} failed:\n{res.stderr[-3000:]}')
    return json.loads(res.stdout.strip().splitlines()[-1])


def bench_model(args) -> list:
    """One fresh process per chunk size, so CPU peak RSS is per setting."""
    rows = []
    for chunk in args.chunks:
        cmd = [
            sys.executable, __file__, '_model_one', args.config, '--classes',
            str(args.classes), '--repeats',
            str(args.repeats), '--device', args.device, '--chunks',
            str(chunk)
        ]
        rows.append(_run_child(cmd + _options_argv(args)))
    base = rows[0]
    for row in rows:
        row['time_ratio'] = row['seconds'] / base['seconds']
        row['memory_ratio'] = row['peak_mib'] / base['peak_mib']
    return rows


# --------------------------------------------------------------- protocol
def _rss_kib() -> dict:
    """``VmRSS`` (now) and ``VmHWM`` (peak) of this process, KiB (Linux)."""
    with open('/proc/self/status') as f:
        fields = dict(line.split(':', 1) for line in f if ':' in line)
    return {k: int(fields[k].split()[0]) for k in ('VmRSS', 'VmHWM')}


def _reset_peak_rss() -> None:
    """Start a new peak-RSS window (Linux >= 4.0), so that the peak of the
    text encoding before it does not count."""
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')


def _protocol_one(args, classes: int) -> dict:
    """Peak memory and time of one image in the config's test mode, the
    vocabulary's text embeddings already computed (once per vocabulary)."""
    import torch
    from mmseg.structures import SegDataSample
    model = _build(args.config, args.cfg_options).eval().to(args.device)
    model.set_vocabulary(_vocabulary(classes))
    h, w = args.image_size
    torch.manual_seed(0)
    inputs = torch.randn(1, 3, h, w, device=args.device)
    meta = dict(
        ori_shape=(h, w),
        img_shape=(h, w),
        pad_shape=(h, w),
        padding_size=[0] * 4)
    cuda = args.device.startswith('cuda')
    with torch.no_grad():
        model.text_encoder(model.vocabulary, model.backbone)  # cached
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated() / 2**20
    else:
        base = _rss_kib()['VmRSS'] / 1024
        _reset_peak_rss()
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        with torch.no_grad():
            out = model.predict(inputs, [SegDataSample(metainfo=meta)])
        _sync(args.device)
        times.append(time.perf_counter() - start)
    if cuda:
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = _rss_kib()['VmHWM'] / 1024
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


def bench_protocol(args) -> list:
    """One fresh process per vocabulary size (peak RSS per setting)."""
    rows = []
    for classes in args.classes:
        cmd = [
            sys.executable, __file__, '_protocol_one', args.config,
            '--classes',
            str(classes), '--repeats',
            str(args.repeats), '--device', args.device, '--image-size'
        ] + [str(s) for s in args.image_size]
        if args.threads:
            cmd += ['--threads', str(args.threads)]
        rows.append(_run_child(cmd + _options_argv(args)))
    ref = next((r for r in rows if r['classes'] == args.ratio_to), rows[0])
    for row in rows:
        row['memory_ratio'] = row['peak_mib'] / ref['peak_mib']
        row['time_ratio'] = row['seconds'] / ref['seconds']
    return rows


def _print_protocol(args, rows: list) -> None:
    print(f'{osp.basename(args.config)}: one {args.image_size[0]}x'
          f'{args.image_size[1]} image, test_cfg {rows[0]["test_cfg"]}, '
          f'device {args.device}, median of {args.repeats}')
    print(f'{"classes":>7} {"s/img":>8} {"peak MiB":>9} {"process":>8} '
          f'{"mem x":>6} {"time x":>7} seg_logits')
    for r in rows:
        print(f'{r["classes"]:>7} {r["seconds"]:8.2f} {r["peak_mib"]:9.0f} '
              f'{r["process_peak_mib"]:8.0f} {r["memory_ratio"]:6.2f} '
              f'{r["time_ratio"]:7.2f} {r["seg_logits"]}')


# ----------------------------------------------------------- train-memory
def _train_step_memory(args, classes: int) -> dict:
    """Peak memory of one forward + backward of the training loss."""
    import torch
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    _set_threads(args.threads)
    cuda = args.device.startswith('cuda')
    model = _build(args.config, args.cfg_options).train().to(args.device)
    model.set_vocabulary(_vocabulary(classes))
    h, w = model.backbone.image_size
    torch.manual_seed(0)
    images = torch.randn(args.batch_size, 3, h, w, device=args.device)
    samples = []
    for _ in range(args.batch_size):
        sample = SegDataSample(
            metainfo=dict(img_shape=(h, w), pad_shape=(h, w)))
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, classes, (1, h, w), device=args.device))
        samples.append(sample)
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated() / 2**20
    else:
        base = _cpu_peak_mib()
    amp = (
        torch.autocast(
            args.device.split(':')[0],
            dtype=torch.float16 if cuda else torch.bfloat16)
        if args.amp else nullcontext())
    start = time.perf_counter()
    with amp:
        losses = model.loss(images, samples)
        loss, _ = model.parse_losses(losses)
    loss.backward()
    _sync(args.device)
    seconds = time.perf_counter() - start
    if cuda:
        peak = torch.cuda.max_memory_allocated() / 2**20 - base
    else:
        peak = _cpu_peak_mib() - base
    return dict(classes=classes, peak_mib=peak, seconds=seconds)


def bench_train_memory(args) -> dict:
    rows = []
    for classes in args.classes:
        cmd = [
            sys.executable, __file__, '_train_one', args.config, '--classes',
            str(classes), '--device', args.device, '--batch-size',
            str(args.batch_size)
        ]
        if args.amp:
            cmd.append('--amp')
        if args.threads:
            cmd += ['--threads', str(args.threads)]
        rows.append(_run_child(cmd + _options_argv(args)))
    res = dict(rows=rows)
    if len(rows) >= 2:  # least-squares line peak = fixed + slope * classes
        xs = [r['classes'] for r in rows]
        ys = [r['peak_mib'] for r in rows]
        mx, my = statistics.mean(xs), statistics.mean(ys)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum(
            (x - mx)**2 for x in xs)
        res['mib_per_class'] = slope
        res['fixed_mib'] = my - slope * mx
    return res


def _print_train_memory(args, res: dict) -> None:
    print(f'{osp.basename(args.config)}: one training step (forward + '
          f'backward), batch {args.batch_size}, device {args.device}' +
          (', autocast' if args.amp else '') +
          (f', {args.cfg_options}' if args.cfg_options else ''))
    what = ('max allocated' if args.device.startswith('cuda') else
            'peak RSS growth over the built model')
    print(f'{"classes":>8} {"peak MiB":>10} {"s/step":>8}   ({what})')
    for r in res['rows']:
        print(f'{r["classes"]:>8} {r["peak_mib"]:10.0f} {r["seconds"]:8.1f}')
    if 'mib_per_class' in res:
        print(f'fit: {res["fixed_mib"]:.0f} MiB + {res["mib_per_class"]:.1f} '
              'MiB per class')


# -------------------------------------------------------------- sam-block
def bench_sam_block(args) -> dict:
    """Fast SAM block vs SAM's TwoWayAttentionBlock at the config's sizes."""
    import torch

    from escnet_mmseg.models.sam_block import encode_prompts
    _set_threads(args.threads)
    model = _build(args.config, args.cfg_options).eval()
    neck = model.neck
    block = neck.blocks[args.block]
    if block.sam_block is None:
        raise SystemExit(f'{args.config} has no SAM blocks')
    b, t = 1, args.classes
    h, w = neck.grid_size
    e = model.backbone.embed_dim
    torch.manual_seed(0)
    visual = torch.randn(b, e, h, w)
    text = torch.randn(t, e)
    # Realistic prompts: the PPG on a class softmax of smooth random maps.
    logits = torch.nn.functional.interpolate(
        torch.randn(b, t, h // 4, w // 4), size=(h, w), mode='bicubic')
    prompts = block.ppg(logits * 4)
    pe = neck.prompt_encoder
    image_pe = pe.get_dense_pe()
    sam = block.sam_block

    def fast():
        sparse, dense = encode_prompts(
            pe, prompts, block.prompt_types, factored=True)
        return sam(visual, text, sparse, dense, image_pe)

    def reference():
        sparse, dense = encode_prompts(pe, prompts, block.prompt_types)
        return sam.forward_reference(visual, text, sparse, dense, image_pe)

    times = {'reference': [], 'fast': []}
    with torch.no_grad():
        diff = (fast() - reference()).abs().max().item()
        for r in range(args.repeats):
            for name, fn in (('reference', reference), ('fast', fast)):
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
        if args.profile:
            from torch.profiler import ProfilerActivity, profile
            for name, fn in (('reference', reference), ('fast', fast)):
                with profile(activities=[ProfilerActivity.CPU]) as prof:
                    fn()
                print(f'--- profile: {name}')
                print(prof.key_averages().table(
                    sort_by='self_cpu_time_total', row_limit=12))
    ref = statistics.median(times['reference'])
    fst = statistics.median(times['fast'])
    return dict(
        reference=ref,
        fast=fst,
        speedup=ref / fst,
        max_abs_diff=diff,
        prompt_types=block.prompt_types)


# ------------------------------------------------------------- gpu-report
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


def _test_mode_cfg(config: Optional[str], crop: int) -> dict:
    """The ``slide_global`` test_cfg of ``config`` (CAT-Seg's protocol), or
    the same protocol scaled to a ``crop``-pixel model (``--small``)."""
    if config:
        from mmengine import Config
        return dict(Config.fromfile(osp.join(REPO, config)).model.test_cfg)
    return dict(
        mode='slide_global',
        out_size=(crop * 5 // 3, crop * 5 // 3),
        crop_size=(crop, crop),
        stride=(crop * 2 // 3, crop * 2 // 3),
        global_view=True)


def _time_pair(models, run, repeats: int, device: str) -> dict:
    """``compare``'s alternation for any ``run(model)``: median seconds of
    each model and the ratio of the medians (b / a)."""
    _, times = _alternating_times(models, run, repeats, device)
    a, b = statistics.median(times[0]), statistics.median(times[1])
    return dict(no_sam_s=a, escnet_s=b, ratio=b / a)


def _report_inference(args, rows: list, deadline: float) -> None:
    import torch
    cuda = args.device.startswith('cuda')
    models_list = SMALL_MODELS if args.small else REPORT_MODELS
    for label, config, no_sam, eval_cfg in models_list:
        if time.time() > deadline:
            rows.append(dict(model=label, skipped='time budget'))
            continue
        pair = []
        for which in (no_sam, config):
            torch.manual_seed(0)
            options = dict(args.cfg_options or {})
            if which is None:
                which, options['model.neck.sam_block'] = config, None
            pair.append(
                _build(osp.join(REPO, which), options).eval().to(args.device))
        crop = pair[0].backbone.image_size
        slide_cfg = _test_mode_cfg(eval_cfg, crop[0])
        for classes in args.report_classes:
            for m in pair:
                m.set_vocabulary(_vocabulary(classes))
            for mode in ('whole', 'slide_global'):
                if mode == 'whole':
                    images = torch.randn(1, 3, *crop, device=args.device)
                    meta = None
                else:
                    size = tuple(args.slide_image)
                    images = torch.randn(1, 3, *size, device=args.device)
                    meta = [
                        dict(
                            img_shape=size,
                            ori_shape=size,
                            pad_shape=size,
                            padding_size=[0, 0, 0, 0])
                    ]
                for m in pair:
                    m.test_cfg = dict(m.test_cfg, **slide_cfg) \
                        if mode == 'slide_global' else dict(
                            m.test_cfg, mode='whole')
                for dtype in args.dtypes:
                    row = dict(
                        model=label,
                        classes=classes,
                        mode=mode,
                        dtype=dtype,
                        views=1 if mode == 'whole' else _count_windows(
                            pair[1], images, meta))
                    if time.time() > deadline:
                        rows.append(dict(row, skipped='time budget'))
                        continue
                    autocast = torch.autocast(
                        'cuda' if cuda else 'cpu', dtype=torch.bfloat16
                    ) if dtype == 'bf16' else nullcontext()

                    def run(m, images=images, meta=meta, autocast=autocast):
                        with autocast:
                            if meta is None:
                                return m._forward(images)
                            return m.inference(images, meta)

                    try:
                        if cuda:
                            torch.cuda.reset_peak_memory_stats()
                        row.update(
                            _time_pair(pair, run, args.repeats, args.device))
                        if cuda:
                            row['peak_gib'] = \
                                torch.cuda.max_memory_allocated() / 2**30
                    except Exception as exc:  # noqa: BLE001 - in the table
                        row['error'] = f'{type(exc).__name__}: {exc}'[:200]
                    rows.append(row)
                    print(json.dumps(row), flush=True)
        del pair
        if cuda:
            torch.cuda.empty_cache()


def _report_train(args, rows: list, deadline: float) -> None:
    """One training step per setting on one built model (``with_cp`` is
    switched on the ESC blocks), peak memory as ``train-memory`` measures
    it (CUDA: max allocated over the built model)."""
    import torch
    config = SMALL_MODELS[0][1] if args.small else REPORT_TRAIN_CONFIG
    step = argparse.Namespace(
        config=osp.join(REPO, config),
        cfg_options=args.cfg_options,
        device=args.device,
        threads=args.threads,
        batch_size=1,
        amp=False)
    for with_cp in (False, True):
        for amp in (False, True):
            row = dict(
                model=osp.basename(config),
                classes=args.train_classes,
                with_cp=with_cp,
                amp=amp)
            if time.time() > deadline:
                rows.append(dict(row, skipped='time budget'))
                continue
            step.amp = amp
            step.cfg_options = dict(args.cfg_options or {},
                                    **{'model.neck.with_cp': with_cp})
            try:
                if args.device.startswith('cuda'):  # the peak resets
                    row.update(_train_step_memory(step, args.train_classes))
                else:  # a peak RSS only grows: a fresh process each
                    cmd = [
                        sys.executable, __file__, '_train_one', step.config,
                        '--classes',
                        str(args.train_classes), '--device', args.device
                    ] + (['--amp'] if amp else [])
                    row.update(_run_child(cmd + _options_argv(step)))
            except Exception as exc:  # noqa: BLE001 - in the table
                row['error'] = f'{type(exc).__name__}: {exc}'[:200]
            rows.append(row)
            print(json.dumps(row), flush=True)
            if args.device.startswith('cuda'):
                torch.cuda.empty_cache()


def _fmt(row: dict, key: str, fmt: str) -> str:
    if 'error' in row:
        return 'error'
    if 'skipped' in row:
        return 'skipped'
    return format(row[key], fmt)


def report_markdown(res: dict) -> str:
    """The ``gpu-report`` results as markdown for docs/efficiency.md."""
    env = res['environment']
    lines = [
        f'Measured by `tools/gpu_check.sh` (`tools/benchmark.py gpu-report'
        f'{" --small" if res["small"] else ""}`): {env["device_name"]}, '
        f'torch {env["torch"]} (CUDA {env["cuda"]}), triton '
        f'{env["triton"]}, Python {env["python"]}; random weights.', ''
    ]
    ppg = res.get('ppg')
    if ppg:
        lines += [
            '**PPG op** (`tools/benchmark_ppg.py`; the Triton kernel was '
            'checked equal to the torch reference in the same run):', '',
            '| maps | method | time [ms] | ms/map | speed-up vs naive |',
            '|---|---|---|---|---|'
        ]
        for r in ppg['results']:
            lines.append(f'| {r["maps"]} | {r["method"]} | '
                         f'{1e3 * r["seconds"]:.2f} | {r["ms_per_map"]:.4f} '
                         f'| {r["speedup_vs_naive"]:.1f}x |')
        lines.append('')
    lines += [
        f'**Inference**, seconds per image (median of {res["repeats"]} '
        f'alternating runs); `whole`: one CLIP-size crop, `slide_global`: '
        f'CAT-Seg\'s views of a {res["slide_image"][0]}x'
        f'{res["slide_image"][1]} image in one batch:', '',
        '| model | classes | test mode (views) | dtype | no SAM [s] | '
        'ESC-Net [s] | ESC-Net / no SAM | peak GiB |', '|---|---|---|---|---|'
        '---|---|---|'
    ]
    for r in res['inference']:
        if 'classes' not in r:
            lines.append(f'| {r["model"]} | skipped: {r["skipped"]} |||||||')
            continue
        peak = _fmt(r, 'peak_gib', '.1f') if 'peak_gib' in r or \
            'error' in r or 'skipped' in r else '-'
        lines.append(f'| {r["model"]} | {r["classes"]} | {r["mode"]} '
                     f'({r["views"]}) | {r["dtype"]} | '
                     f'{_fmt(r, "no_sam_s", ".3f")} | '
                     f'{_fmt(r, "escnet_s", ".3f")} | '
                     f'{_fmt(r, "ratio", ".2f")} | {peak} |')
    lines += [
        '', f'**Training step** (forward + backward of the loss, batch 1, '
        f'one crop), peak memory {res["train_memory_what"]}:', '',
        '| config | classes | with_cp | AMP | peak MiB | s/step |',
        '|---|---|---|---|---|---|'
    ]
    for r in res['train']:
        lines.append(f'| `{r["model"]}` | {r["classes"]} | '
                     f'{"yes" if r["with_cp"] else "no"} | '
                     f'{"yes" if r["amp"] else "no"} | '
                     f'{_fmt(r, "peak_mib", ".0f")} | '
                     f'{_fmt(r, "seconds", ".2f")} |')
    errors = [r for r in res['inference'] + res['train'] if 'error' in r]
    if errors:
        lines += ['', 'Errors:'] + [f'- {r}' for r in errors]
    return '\n'.join(lines) + '\n'


def bench_gpu_report(args) -> dict:
    import platform

    import torch
    _set_threads(args.threads)
    if args.small:
        args.report_classes = args.report_classes or [4, 12]
    args.report_classes = args.report_classes or [150, 847]
    args.slide_image = [128, 192] if args.small else list(SLIDE_IMAGE)
    cuda = args.device.startswith('cuda')
    try:
        import triton
        triton_version = triton.__version__
    except ImportError:
        triton_version = 'not installed'
    res = dict(
        small=args.small,
        repeats=args.repeats,
        slide_image=args.slide_image,
        environment=dict(
            device_name=torch.cuda.get_device_name(args.device)
            if cuda else f'CPU ({platform.machine()}, '
            f'{torch.get_num_threads()} threads)',
            torch=torch.__version__,
            cuda=torch.version.cuda,
            triton=triton_version,
            python=platform.python_version()),
        train_memory_what='max allocated over the built model'
        if cuda else 'peak RSS growth over the built model',
        inference=[],
        train=[])
    if args.ppg_json and osp.isfile(args.ppg_json):
        with open(args.ppg_json) as f:
            res['ppg'] = json.load(f)
    # Inference gets 70% of the budget; the training steps the rest.
    start = time.time()
    _report_inference(args, res['inference'], start + 0.7 * args.budget_s)
    _report_train(args, res['train'], start + args.budget_s)
    return res


# ------------------------------------------------------------------- main
def _add_common(p, classes_default=150, many=False):
    import escnet_mmseg  # noqa: F401  isort:skip (see _build)
    from mmengine.config import DictAction
    if many:
        p.add_argument('--classes', type=int, nargs='+', default=[2, 4, 8])
    else:
        p.add_argument('--classes', type=int, default=classes_default)
    p.add_argument('--device', default='cpu')
    p.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch CPU threads (default: torch\'s)')
    p.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. '
        'model.test_cfg.class_chunk_size=32')


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(dest='mode', required=True)

    p = sub.add_parser('params', help='parameter count of a config')
    p.add_argument('config')
    _add_common(p)

    p = sub.add_parser('flops', help='GFLOPs of one inference per part')
    p.add_argument('config')
    _add_common(p)
    p.add_argument(
        '--image-size',
        type=int,
        nargs=2,
        default=[640, 853],
        metavar=('H', 'W'),
        help='image for the config\'s test mode (default: an '
        'ADE20K image at the A-150 test scale); 0 0 to skip')

    p = sub.add_parser('compare', help='time two configs in alternation')
    p.add_argument('config_a')
    p.add_argument('config_b')
    _add_common(p)
    p.add_argument(
        '--repeats', type=int, default=5, help='timed runs of each model')
    p.add_argument(
        '--reference-sam',
        choices=['a', 'b', 'ab'],
        default=None,
        help='run SAM\'s TwoWayAttentionBlock (the slow path) in '
        'the SAM blocks of model a and/or b')
    p.add_argument('--json', default=None)

    for name in ('model', '_model_one'):
        m = sub.add_parser(
            name,
            help='inference time / peak memory'
            if name == 'model' else argparse.SUPPRESS)
        m.add_argument('config')
        _add_common(m, classes_default=171)
        m.add_argument(
            '--chunks',
            type=int,
            nargs='+',
            default=[0, 32],
            help='class chunk sizes; 0 = whole vocabulary')
        m.add_argument('--repeats', type=int, default=3)

    for name in ('protocol', '_protocol_one'):
        m = sub.add_parser(
            name,
            help='peak memory / time per image in the test mode'
            if name == 'protocol' else argparse.SUPPRESS)
        m.add_argument('config')
        _add_common(m, many=name == 'protocol')
        m.add_argument(
            '--image-size',
            type=int,
            nargs=2,
            default=[640, 853],
            metavar=('H', 'W'),
            help='the image (and its original size)')
        m.add_argument('--repeats', type=int, default=1)
        m.add_argument(
            '--ratio-to',
            type=int,
            default=150,
            help='vocabulary size the ratios are relative to')
        m.add_argument('--json', default=None)

    for name in ('train-memory', '_train_one'):
        m = sub.add_parser(
            name,
            help='peak memory of a training step'
            if name == 'train-memory' else argparse.SUPPRESS)
        m.add_argument('config')
        _add_common(m, many=name == 'train-memory')
        m.add_argument('--batch-size', type=int, default=1)
        m.add_argument(
            '--amp',
            action='store_true',
            help='autocast (bf16 on CPU, fp16 on CUDA)')
        m.add_argument('--json', default=None)

    p = sub.add_parser('sam-block', help='fast SAM block vs SAM\'s layer')
    p.add_argument('config')
    _add_common(p, classes_default=32)
    p.add_argument('--block', type=int, default=1)
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--profile', action='store_true')

    sub.add_parser(
        'ppg', help='the PPG op (see tools/benchmark_ppg.py)', add_help=False)

    p = sub.add_parser(
        'gpu-report', help='whole-model figures of tools/gpu_check.sh')
    _add_common(p)
    p.add_argument(
        '--report-classes',
        type=int,
        nargs='+',
        default=None,
        help='vocabulary sizes timed (default 150 847; --small: 4 12)')
    p.add_argument('--dtypes', nargs='+', default=['fp32', 'bf16'])
    p.add_argument('--train-classes', type=int, default=171)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument(
        '--small',
        action='store_true',
        help='the tiny synthetic config instead of ViT-B/16 and ViT-L/14 '
        '(checks the tool on a CPU in seconds)')
    p.add_argument(
        '--budget-s',
        type=float,
        default=1e9,
        help='skip the remaining measurements after this many seconds')
    p.add_argument('--ppg-json', default=None, help='benchmark_ppg.py JSON')
    p.add_argument('--out', default=None, help='markdown file to write')
    p.add_argument('--json', default=None)
    return parser


def _write_json(path: str, result) -> None:
    """Save a mode's result for later comparison (``--json PATH``)."""
    if path:
        with open(path, 'w') as f:
            json.dump(result, f, indent=1)


def main(argv=None) -> None:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if args.mode == 'ppg':
        sys.argv = [osp.join(REPO, 'tools', 'benchmark_ppg.py')] + rest
        import runpy
        runpy.run_path(sys.argv[0], run_name='__main__')
        return
    if rest:
        parser.error(f'unrecognised arguments: {rest}')
    if args.mode == 'params':
        counts = count_params(args.config, args.cfg_options)
        print(f'{osp.basename(args.config)}')
        for k, v in counts.items():
            print(f'  {k:<12}{v:10.1f} M')
    elif args.mode == 'flops':
        if args.image_size == [0, 0]:
            args.image_size = None
        _set_threads(args.threads)
        _print_flops(args, bench_flops(args))
    elif args.mode == 'compare':
        res = bench_compare(args)
        _print_compare(args, res)
        _write_json(args.json, res)
    elif args.mode == '_model_one':
        print(json.dumps(_time_model(args, args.chunks[0])))
    elif args.mode == 'model':
        print(f'{osp.basename(args.config)}: {args.classes} classes, '
              f'device {args.device}, {args.repeats} repeats')
        print(f'{"chunk":>6} {"s/img":>8} {"peak MiB":>9} {"time x":>7} '
              f'{"mem x":>6}')
        for r in bench_model(args):
            print(f'{r["chunk"]:>6} {r["seconds"]:8.3f} {r["peak_mib"]:9.0f} '
                  f'{r["time_ratio"]:7.2f} {r["memory_ratio"]:6.2f}')
    elif args.mode == '_protocol_one':
        _set_threads(args.threads)
        print(json.dumps(_protocol_one(args, args.classes)))
    elif args.mode == 'protocol':
        rows = bench_protocol(args)
        _print_protocol(args, rows)
        _write_json(args.json, rows)
    elif args.mode == '_train_one':
        print(json.dumps(_train_step_memory(args, args.classes)))
    elif args.mode == 'train-memory':
        res = bench_train_memory(args)
        _print_train_memory(args, res)
        _write_json(args.json, res)
    elif args.mode == 'gpu-report':
        res = bench_gpu_report(args)
        text = report_markdown(res)
        print(text)
        if args.out:
            with open(args.out, 'w') as f:
                f.write(text)
        _write_json(args.json, res)
    elif args.mode == 'sam-block':
        res = bench_sam_block(args)
        print(f'{osp.basename(args.config)}: SAM block {args.block}, '
              f'{args.classes} classes, prompts {res["prompt_types"]}, '
              f'{args.repeats} alternating runs')
        print(f'  SAM TwoWayAttentionBlock {res["reference"]:.3f} s, fast '
              f'{res["fast"]:.3f} s: {res["speedup"]:.2f}x; max |diff| '
              f'{res["max_abs_diff"]:.2e}')


if __name__ == '__main__':
    os.environ.setdefault('PYTHONUNBUFFERED', '1')
    main()
