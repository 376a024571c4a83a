"""Tiny checkpoints in MMEngine's format, synthetic data and configs for
running the tools (ours and MMSeg's installed ones) as subprocesses."""
import copy
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional, Union

import torch

from tests.tiny import (NAMES, REPO, TINY_CONFIG, build_tiny_model,
                        tiny_model_cfg)

PALETTE = [[10 * i, 20 * i, 30 * i] for i in range(len(NAMES))]


def mmseg_tools_dir() -> Path:
    """``tools/`` of the installed mmsegmentation package (``.mim``)."""
    import mmseg
    return Path(mmseg.__file__).parent / '.mim' / 'tools'


def write_checkpoint(path: Path,
                     model_cfg: Optional[dict] = None,
                     training_state: bool = True,
                     extra: Optional[dict] = None,
                     seed: int = 0,
                     state_dict: Optional[dict] = None,
                     meta: Union[dict, None, bool] = None) -> Path:
    """Save a tiny ESC-Net as MMEngine's ``CheckpointHook`` does: the one
    checkpoint writer of the tests.

    Args:
        path: Output ``.pth``.
        model_cfg: Model config (default: the tiny synthetic one).
        training_state: Add what a training run saves besides the weights:
            the message hub (``HistoryBuffer`` of the loss), optimizer and
            scheduler states.
        extra: More top-level entries (e.g. a planted object).
        seed: Seed of the model's initialisation.
        state_dict: Weights to save instead of the model's (only without
            ``training_state``).
        meta: The ``meta`` entry instead of MMEngine's (the classes
            ``NAMES``, a palette, the config, ...); False: no ``meta``.
    """
    from mmengine.logging import MessageHub
    from mmengine.optim.scheduler import LinearLR
    from mmengine.runner.checkpoint import save_checkpoint, weights_to_cpu
    if state_dict is None:
        state_dict = weights_to_cpu(
            build_tiny_model(model_cfg, seed=seed).state_dict())
    if meta is None:
        meta = dict(
            dataset_meta=dict(classes=NAMES, palette=PALETTE),
            cfg=_config_text(),
            seed=seed,
            epoch=0,
            iter=2,
            mmengine_version='0.10.7')
    checkpoint = dict(state_dict=state_dict)
    if meta is not False:
        checkpoint['meta'] = meta
    if training_state:
        model = build_tiny_model(model_cfg, seed=seed)
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=1e-6)
        scheduler = LinearLR(optimizer, start_factor=0.5, end=4)
        for p in params:
            p.grad = torch.zeros_like(p)
        optimizer.step()
        scheduler.step()
        hub = MessageHub.get_instance(f'ckpt-{path.name}')
        hub.update_scalar('train/loss', 0.5)
        hub.update_scalar('train/lr', 1e-6)
        hub.update_info('iter', 2)
        checkpoint.update(
            state_dict=weights_to_cpu(model.state_dict()),
            message_hub=hub.state_dict(),
            optimizer=optimizer.state_dict(),
            param_schedulers=[scheduler.state_dict()])
    checkpoint.update(extra or {})
    save_checkpoint(checkpoint, str(path))
    return path


def _config_text() -> str:
    # What MMEngine stores: the resolved config (no _base_ to look up).
    from mmengine import Config
    return Config.fromfile(str(TINY_CONFIG)).pretty_text


def plant(src: Path, dst: Path, **objects) -> Path:
    """Copy checkpoint ``src`` to ``dst`` with ``objects`` added to it."""
    checkpoint = torch.load(src, map_location='cpu', weights_only=False)
    checkpoint.update(objects)
    torch.save(checkpoint, dst)
    return dst


def one_block_model_cfg() -> dict:
    """The tiny model with one ESC block fewer (a checkpoint of it does not
    fit the tiny config)."""
    cfg = tiny_model_cfg(num_blocks=1, sam_layer_ids=(0, ))
    return copy.deepcopy(cfg)


class Planted:
    """Unpickling this object writes ``marker`` (a stand-in for any code a
    malicious checkpoint could run)."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f'open({self.marker!r}, "w").write("unpickled")', ))


def write_synthetic_data(root: Path,
                         num_train: int = 8,
                         num_val: int = 4) -> Path:
    from escnet_mmseg.datasets.synthetic import generate_synthetic_dataset
    generate_synthetic_dataset(
        str(root), seed=0, num_train=num_train, num_val=num_val)
    return root


def write_config(path: Path, data_root: Path, extra: str = '') -> Path:
    """A config inheriting the tiny one, reading ``data_root`` (MMSeg's
    tools take no data option); ``extra`` is appended Python."""
    path.write_text(
        f'_base_ = [{str(TINY_CONFIG)!r}]\n'
        f'train_dataloader = dict(num_workers=0, persistent_workers=False, '
        f'batch_size=2, dataset=dict(data_root={str(data_root)!r}))\n'
        f'val_dataloader = dict(num_workers=0, persistent_workers=False, '
        f'dataset=dict(data_root={str(data_root)!r}))\n'
        f'test_dataloader = val_dataloader\n' + extra)
    return path


def tool_env() -> dict:
    """Subprocess environment: this checkout's package first, one thread."""
    env = dict(
        os.environ,
        PYTHONUNBUFFERED='1',
        OMP_NUM_THREADS='1',
        MPLBACKEND='Agg')
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (str(REPO), env.get('PYTHONPATH')) if p)
    env.pop('LOCAL_RANK', None)
    return env


def run_tool(script, *args, cwd=None, timeout=600):
    """Run a Python script; returns the CompletedProcess (text output).

    ``cwd`` defaults to a new temporary folder: some tools write there
    (``./work_dirs``, ``./example.py``), never into the checkout.
    """
    cwd = cwd or tempfile.mkdtemp(prefix='escnet_tool_')
    return subprocess.run(
        [sys.executable, str(script), *map(str, args)],
        cwd=cwd,
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=timeout)
