"""Measure the toy run of the learning test on this machine.

Trains the tiny config exactly as ``tests/test_train_e2e.py`` does, for
several seeds and CPU kernel sets (``ATEN_CPU_CAPABILITY``), and prints the
mIoU of each run as a markdown table for the test's docstring::

    python -m tests.measure_learning --seeds 0 1 2 3 4 \\
        --kernels native avx2 default --threads 1

Each run takes one to two minutes on 2 cores. ``--config`` and
``--cfg-options`` train something else (a planted bug, a new recipe) for
comparison.
"""
import argparse
import itertools
import subprocess
import tempfile
from pathlib import Path

from tests.test_train_e2e import (LEARN_ITERS, _env, _miou, _test_cmd,
                                  _train_cmd, generate_data)
from tests.tiny import TINY_CONFIG


def run_once(root: Path,
             work: Path,
             seed: int,
             kernels: str,
             threads: int,
             iters: int,
             options,
             config: Path = TINY_CONFIG) -> float:
    env = _env()
    env['OMP_NUM_THREADS'] = str(threads)
    env.pop('ATEN_CPU_CAPABILITY', None)
    if kernels != 'native':
        env['ATEN_CPU_CAPABILITY'] = kernels
    subprocess.run(
        _train_cmd(
            work,
            root,
            iters,
            config=config,
            options=[f'randomness.seed={seed}', *options]),
        check=True,
        env=env,
        capture_output=True)
    out = subprocess.run(
        _test_cmd(
            work / f'iter_{iters}.pth', work / 'test', root, config=config),
        check=True,
        env=env,
        capture_output=True,
        text=True)
    return _miou(out.stdout + out.stderr)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument(
        '--kernels',
        nargs='+',
        default=['native'],
        help='native, or a value of ATEN_CPU_CAPABILITY (avx512, avx2, '
        'default)')
    parser.add_argument('--threads', type=int, nargs='+', default=[1])
    parser.add_argument('--iters', type=int, default=LEARN_ITERS)
    parser.add_argument('--config', type=Path, default=TINY_CONFIG)
    parser.add_argument(
        '--cfg-options',
        nargs='*',
        default=[],
        help='extra overrides of the training config')
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = generate_data(Path(tmp) / 'data')
        print('| kernels | threads | seed | mIoU |\n|---|---|---|---|')
        for kernels, threads, seed in itertools.product(
                args.kernels, args.threads, args.seeds):
            work = Path(tmp) / f'{kernels}-{threads}-{seed}'
            miou = run_once(root, work, seed, kernels, threads, args.iters,
                            args.cfg_options, args.config.resolve())
            print(
                f'| {kernels} | {threads} | {seed} | {miou:.2f} |', flush=True)


if __name__ == '__main__':
    main()
