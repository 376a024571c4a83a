"""End-to-end runs of the user's path on the synthetic data (marked slow).

tools/train.py and tools/test.py run as subprocesses, exactly as a user runs
them: a short training learns, an interrupted run resumes from its last
checkpoint, and a 2-process DDP run (torchrun, gloo, CPU) trains.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.tiny import REPO, TINY_CONFIG

pytestmark = pytest.mark.slow
CHANCE_MIOU = 100 / (2 * 6 - 1)  # uniform guessing over 6 balanced classes


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('synthetic') / 'data'
    subprocess.run([
        sys.executable,
        str(REPO / 'tools' / 'generate_synthetic_data.py'), '--out',
        str(root), '--seed', '0', '--num-train', '160', '--num-val', '30'
    ], check=True)
    return root


def _data_options(root: Path):
    return [
        f'{split}.dataset.data_root={root}'
        for split in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    ]


def _train_cmd(work_dir, root, iters, *extra, interval=None):
    options = _data_options(root) + [
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
        f'param_scheduler.1.end={iters}',
        f'default_hooks.checkpoint.interval={interval or iters}'
    ]
    return [
        sys.executable,
        str(REPO / 'tools' / 'train.py'),
        str(TINY_CONFIG), '--work-dir',
        str(work_dir), *extra, '--cfg-options', *options
    ]


def _env():
    env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    env.pop('LOCAL_RANK', None)
    return env


def test_training_learns_and_test_reports_miou(tmp_path, data_root):
    work = tmp_path / 'work'
    subprocess.run(_train_cmd(work, data_root, 300), check=True, env=_env(),
                   capture_output=True)
    ckpt = work / 'iter_300.pth'
    assert ckpt.is_file()
    out = subprocess.run([
        sys.executable,
        str(REPO / 'tools' / 'test.py'),
        str(TINY_CONFIG),
        str(ckpt), '--work-dir',
        str(tmp_path / 'test'), '--show-dir',
        str(tmp_path / 'vis'), '--cfg-options', *_data_options(data_root)
    ], check=True, env=_env(), capture_output=True, text=True)
    log = out.stdout + out.stderr
    miou = float(re.findall(r'mIoU: ([\d.]+)', log)[-1])
    print(f'tiny ESC-Net, 300 iterations: mIoU {miou:.2f} '
          f'(chance {CHANCE_MIOU:.1f})')
    assert miou > 5 * CHANCE_MIOU  # ~45: far above guessing
    # the checkpoint carries the classes MMSeg's inferencer restores
    import torch
    meta = torch.load(ckpt, map_location='cpu', weights_only=False)['meta']
    assert 'circle' in meta['dataset_meta']['classes']
    assert list((tmp_path / 'vis').rglob('*.png'))
    # test-time augmentation wraps the model in SegTTAModel
    out = subprocess.run([
        sys.executable,
        str(REPO / 'tools' / 'test.py'),
        str(TINY_CONFIG),
        str(ckpt), '--tta', '--work-dir',
        str(tmp_path / 'tta'), '--cfg-options', *_data_options(data_root)
    ], check=True, env=_env(), capture_output=True, text=True)
    tta_miou = float(re.findall(r'mIoU: ([\d.]+)', out.stdout + out.stderr)[-1])
    assert tta_miou > 5 * CHANCE_MIOU


def test_resume_continues_from_saved_iteration(tmp_path, data_root):
    work = tmp_path / 'work'
    proc = subprocess.Popen(
        _train_cmd(work, data_root, 400, interval=20), env=_env(),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        deadline = time.time() + 300
        while not (work / 'iter_40.pth').exists():
            assert proc.poll() is None, 'training stopped before iter 40'
            assert time.time() < deadline, 'no checkpoint after 300 s'
            time.sleep(0.2)
        time.sleep(0.5)  # let the checkpoint file finish writing
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the interruption
        proc.wait()
    assert not (work / 'iter_400.pth').exists()
    saved = sorted(int(p.stem.split('_')[1]) for p in work.glob('iter_*.pth'))
    last = (work / 'last_checkpoint').read_text().strip()
    resumed_from = int(Path(last).stem.split('_')[1])
    assert resumed_from == saved[-1] >= 40

    out = subprocess.run(
        _train_cmd(work, data_root, resumed_from + 20, '--resume',
                   interval=20),
        check=True, env=_env(), capture_output=True, text=True)
    log = out.stdout + out.stderr
    assert re.search(rf'resumed epoch: \d+, iter: {resumed_from}', log)
    iters = [int(i) for i in re.findall(r'Iter\(train\) \[\s*(\d+)/', log)]
    assert iters and min(iters) > resumed_from  # no iteration was redone
    assert (work / f'iter_{resumed_from + 20}.pth').is_file()


def test_ddp_two_processes_gloo_cpu(tmp_path, data_root):
    work = tmp_path / 'work'
    cmd = _train_cmd(work, data_root, 60, '--launcher', 'pytorch')
    cmd[1:1] = ['-m', 'torch.distributed.run', '--nproc_per_node=2',
                '--master_port=29517']
    cmd += ['env_cfg.dist_cfg.backend=gloo',
            'train_dataloader.num_workers=0',
            'train_dataloader.persistent_workers=False',
            'val_dataloader.num_workers=0',
            'val_dataloader.persistent_workers=False',
            'test_dataloader.num_workers=0',
            'test_dataloader.persistent_workers=False']
    out = subprocess.run(cmd, env=_env(), capture_output=True, text=True,
                         timeout=600)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-3000:]
    assert 'world_size: 2' in log or 'Distributed training: True' in log
    assert (work / 'iter_60.pth').is_file()
    scalars = next(work.rglob('scalars.json'))
    lines = [json.loads(x) for x in scalars.read_text().splitlines()]
    assert any('mIoU' in x for x in lines)  # validation ran in DDP too
