"""`make demo`: generate the synthetic dataset, train the tiny ESC-Net, test
it.

    python tools/demo.py [--iters N] [--work-dir DIR] [--data-root DIR]

Re-running reuses the generated data and resumes from the last checkpoint in
the work dir (a finished run is only re-tested), so nothing is overwritten.
"""
import argparse
import os.path as osp
import subprocess
import sys
import time

from escnet_mmseg.utils.cli import run_tool

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = osp.join(REPO, 'configs', 'escnet', 'escnet_tiny_synthetic.py')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        '--work-dir',
        default=osp.join(REPO, 'work_dirs', 'escnet_tiny_synthetic'))
    parser.add_argument(
        '--data-root', default=osp.join(REPO, 'data', 'synthetic'))
    parser.add_argument(
        '--iters',
        type=int,
        default=None,
        help='training iterations (default: the config\'s)')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def ensure_data(data_root: str, seed: int) -> None:
    if osp.isfile(osp.join(data_root, 'meta.json')):
        print(f'[demo] using the synthetic dataset in {data_root}')
        return
    print(f'[demo] generating the synthetic dataset in {data_root}')
    subprocess.run([
        sys.executable,
        osp.join(REPO, 'tools', 'generate_synthetic_data.py'), '--out',
        data_root, '--seed',
        str(seed)
    ],
                   check=True)


def build_cfg(args):
    from mmengine.config import Config
    cfg = Config.fromfile(CONFIG)
    cfg.work_dir = args.work_dir
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[split].dataset.data_root = args.data_root
    if args.iters:
        cfg.train_cfg.max_iters = args.iters
        cfg.train_cfg.val_interval = args.iters
        cfg.param_scheduler[-1].end = args.iters
    cfg.resume = True  # continue (or skip) an earlier run, never restart it
    cfg.randomness = dict(seed=args.seed)
    return cfg


def print_summary(metrics: dict, num_classes: int) -> None:
    # IoUMetric has already logged the per-class table above.
    # Uniform random labels over C balanced classes: IoU = 1 / (2C - 1).
    print(f'\n[demo] synthetic val split, {num_classes} classes (random '
          f'guessing: mIoU about {100 / (2 * num_classes - 1):.0f})')
    for key in ('aAcc', 'mIoU', 'mAcc'):
        print(f'  {key:<6}{metrics[key]:7.2f}')


def run(args) -> dict:
    """Data, training (or its resumption) and the test; the test metrics."""
    # Strict loading: a checkpoint that does not fit the model is refused,
    # not tested half-random.
    from escnet_mmseg.utils.strict_runner import StrictCheckpointRunner

    ensure_data(args.data_root, args.seed)
    cfg = build_cfg(args)
    start = time.time()
    runner = StrictCheckpointRunner.from_cfg(cfg)
    runner.train()
    print(f'[demo] training done in {time.time() - start:.0f} s')
    # Test with visualisations of the predictions (MMSeg's hook).
    cfg.default_hooks.visualization.update(draw=True, interval=1)
    # A visualizer of its own (the training runner's instance is still alive
    # in this process) that writes into the work dir.
    vis_dir = osp.join(args.work_dir, 'vis')
    cfg.visualizer.update(name='escnet_demo_test', save_dir=vis_dir)
    cfg.load_from = osp.join(args.work_dir,
                             f'iter_{cfg.train_cfg.max_iters}.pth')
    cfg.resume = False
    tester = StrictCheckpointRunner.from_cfg(cfg)
    metrics = tester.test()
    print_summary(metrics,
                  len(tester.test_dataloader.dataset.metainfo['classes']))
    print(f'[demo] checkpoint: {cfg.load_from}')
    print(f'[demo] visualisations: {vis_dir}/vis_data/vis_image')
    return metrics


def main(argv=None) -> int:
    return run_tool(run, parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
