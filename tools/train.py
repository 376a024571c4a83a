"""Train a segmentor (MMSeg's ``tools/train.py``, for ESC-Net configs).

    python tools/train.py configs/escnet/escnet_vitb16_coco-stuff.py
    tools/dist_train.sh configs/escnet/escnet_vitl14_coco-stuff.py 4

Checkpoints given with ``--load-from`` (or ``load_from`` in the config) and
``--resume`` must fit the model exactly; ``--load-from`` files are read
without running code from them unless ``--trust-checkpoint``. A missing
checkpoint or dataset folder is one error message and exit status 1.
"""
import argparse
import logging
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmseg.registry import RUNNERS

from escnet_mmseg.utils import (CheckpointError, check_dataset_folders,
                                setup_cpu_distributed)
from escnet_mmseg.utils.cli import run_tool
from escnet_mmseg.utils.strict_runner import StrictCheckpointRunner


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        action='store_true',
        default=False,
        help='resume from the latest checkpoint in the work_dir automatically')
    parser.add_argument(
        '--load-from',
        help='initialise the model from this checkpoint (weights only; '
        'training starts at iteration 0)')
    parser.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help='unpickle the --load-from checkpoint fully, which runs any code '
        'it asks for; only for files you trust')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic-mixed-precision training')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file. If the value to '
        'be overwritten is a list, it should be like key="[a,b]" or key=a,b '
        'It also allows nested list/tuple values, e.g. key="[(a,b),(c,d)]" '
        'Note that the quotation marks are necessary and that no white space '
        'is allowed.')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch / torchrun pass `--local-rank` (PyTorch >= 2)
    # or `--local_rank`.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def build_cfg(args) -> Config:
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    # work_dir: CLI > config > ./work_dirs/<config name>
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])

    if args.amp is True:
        optim_wrapper = cfg.optim_wrapper.type
        if optim_wrapper == 'AmpOptimWrapper':
            print_log(
                'AMP training is already enabled in your config.',
                logger='current',
                level=logging.WARNING)
        else:
            assert optim_wrapper == 'OptimWrapper', (
                '`--amp` is only supported when the optimizer wrapper type is '
                f'`OptimWrapper` but got {optim_wrapper}.')
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'

    cfg.resume = args.resume
    if args.load_from is not None:
        cfg.load_from = args.load_from
    return cfg


def check_inputs(cfg: Config) -> None:
    """Fail before building anything when data or checkpoint are missing."""
    check_dataset_folders(cfg.train_dataloader.dataset, 'train')
    if cfg.get('val_cfg') and cfg.get('val_dataloader'):
        check_dataset_folders(cfg.val_dataloader.dataset, 'val')
    load_from = cfg.get('load_from')
    if load_from and not osp.isfile(load_from):
        raise CheckpointError(f'checkpoint not found: {load_from}')


def main(argv=None):
    args = parse_args(argv)
    cfg = build_cfg(args)
    check_inputs(cfg)
    setup_cpu_distributed(cfg)  # gloo when there is no GPU
    if 'runner_type' not in cfg:
        runner = StrictCheckpointRunner.from_cfg(cfg)
        runner.trust_checkpoint = args.trust_checkpoint
    else:  # a runner of the config's choice loads as it does
        runner = RUNNERS.build(cfg)
    runner.train()


if __name__ == '__main__':
    sys.exit(run_tool(main))
