"""Benchmarks of escnet_mmseg: parameter counts, inference speed and memory.

    python tools/benchmark.py params configs/escnet/escnet_vitl14_coco-stuff.py
    python tools/benchmark.py model configs/escnet/escnet_tiny_synthetic.py \
        --classes 171 --chunks 0 32 --repeats 3
    python tools/benchmark.py ppg [benchmark_ppg.py options]

Models are built with random weights (no CLIP or SAM file is read). ``params``
builds on the meta device, so even ViT-L needs no memory. ``model`` compares
chunked with unchunked inference in one run: time per image and peak memory
(CUDA: max allocated; CPU: growth of the peak RSS over the built model, in a
fresh process per setting).
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)  # run from a checkout without installing


def _build(config: str, cfg_options=None, device=None):
    import torch
    from mmengine import Config
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules

    import escnet_mmseg  # noqa: F401
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


def count_params(config: str) -> dict:
    """Parameters per part (millions) of a config's model."""
    model = _build(config, device='meta')
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


def _time_model(args, chunk: int) -> dict:
    import torch
    model = _build(args.config).eval().to(args.device)
    model.set_vocabulary([f'class {i}' for i in range(args.classes)])
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


def bench_model(args) -> list:
    """One fresh process per chunk size, so CPU peak RSS is per setting."""
    rows = []
    for chunk in args.chunks:
        cmd = [sys.executable, __file__, '_model_one', args.config,
               '--classes', str(args.classes), '--repeats', str(args.repeats),
               '--device', args.device, '--chunks', str(chunk)]
        res = subprocess.run(cmd, capture_output=True, text=True, check=True)
        rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
    base = rows[0]
    for row in rows:
        row['time_ratio'] = row['seconds'] / base['seconds']
        row['memory_ratio'] = row['peak_mib'] / base['peak_mib']
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(dest='mode', required=True)
    p = sub.add_parser('params', help='parameter count of a config')
    p.add_argument('config')
    for name in ('model', '_model_one'):
        m = sub.add_parser(name, help='inference time / peak memory'
                           if name == 'model' else argparse.SUPPRESS)
        m.add_argument('config')
        m.add_argument('--classes', type=int, default=171)
        m.add_argument('--chunks', type=int, nargs='+', default=[0, 32],
                       help='class chunk sizes; 0 = whole vocabulary')
        m.add_argument('--repeats', type=int, default=3)
        m.add_argument('--device', default='cpu')
    sub.add_parser('ppg', help='the PPG op (see tools/benchmark_ppg.py)',
                   add_help=False)
    args, rest = parser.parse_known_args(argv)
    if args.mode == 'ppg':
        sys.argv = [osp.join(REPO, 'tools', 'benchmark_ppg.py')] + rest
        import runpy
        runpy.run_path(sys.argv[0], run_name='__main__')
        return
    if rest:
        parser.error(f'unrecognised arguments: {rest}')
    if args.mode == 'params':
        counts = count_params(args.config)
        print(f'{osp.basename(args.config)}')
        for k, v in counts.items():
            print(f'  {k:<12}{v:10.1f} M')
    elif args.mode == '_model_one':
        print(json.dumps(_time_model(args, args.chunks[0])))
    else:
        print(f'{osp.basename(args.config)}: {args.classes} classes, '
              f'device {args.device}, {args.repeats} repeats')
        print(f'{"chunk":>6} {"s/img":>8} {"peak MiB":>9} {"time x":>7} '
              f'{"mem x":>6}')
        for r in bench_model(args):
            print(f'{r["chunk"]:>6} {r["seconds"]:8.3f} {r["peak_mib"]:9.0f} '
                  f'{r["time_ratio"]:7.2f} {r["memory_ratio"]:6.2f}')


if __name__ == '__main__':
    os.environ.setdefault('PYTHONUNBUFFERED', '1')
    main()
