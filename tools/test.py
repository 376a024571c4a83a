"""Test (and evaluate) a segmentor (MMSeg's ``tools/test.py``).

    python tools/test.py configs/escnet/escnet_vitb16_test-ade20k-150.py \
        work_dirs/escnet_vitb16_coco-stuff/iter_80000.pth
    tools/dist_test.sh configs/escnet/escnet_vitl14_test-ade20k-847.py \
        CHECKPOINT 4

Unlike MMSeg's script, a checkpoint that does not fit the config's model is
refused (not evaluated half-random), and it is read without running code from
it (``--trust-checkpoint`` to allow that); a missing checkpoint or dataset
folder is one error message and exit status 1.
"""
import argparse
import logging
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction
from mmengine.logging import print_log

from escnet_mmseg.utils import (CheckpointError, check_dataset_folders,
                                setup_cpu_distributed)
from escnet_mmseg.utils.cli import run_tool
from escnet_mmseg.utils.strict_runner import StrictCheckpointRunner


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='MMSeg test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help=('if specified, the evaluation metric results will be dumped '
              'into the directory as json'))
    parser.add_argument(
        '--out',
        type=str,
        help='The directory to save output prediction for offline evaluation')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory where painted images will be saved. '
        'If specified, it will be automatically saved '
        'to the work_dir/timestamp/show_dir')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument(
        '--vis-interval',
        type=int,
        default=1,
        help='with --show/--show-dir, paint one image in this many')
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
    parser.add_argument(
        '--tta', action='store_true', help='Test time augmentation')
    parser.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help='unpickle the checkpoint fully, which runs any code it asks '
        'for (by default only weights, metadata and MMEngine\'s training '
        'log are read); only for files you trust')
    # torch.distributed.launch / torchrun pass `--local-rank` (PyTorch >= 2)
    # or `--local_rank`.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def trigger_visualization_hook(cfg, args):
    default_hooks = cfg.default_hooks
    if 'visualization' in default_hooks:
        visualization_hook = default_hooks['visualization']
        # Turn on visualization, of every image unless told otherwise
        # (MMSeg's hook default paints one image in 50).
        visualization_hook['draw'] = True
        visualization_hook['interval'] = args.vis_interval
        if args.show:
            visualization_hook['show'] = True
            visualization_hook['wait_time'] = args.wait_time
        if args.show_dir:
            visualizer = cfg.visualizer
            visualizer['save_dir'] = args.show_dir
    else:
        raise RuntimeError(
            'VisualizationHook must be included in default_hooks.'
            'refer to usage '
            '"visualization=dict(type=\'VisualizationHook\')"')
    return cfg


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

    cfg.load_from = args.checkpoint

    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)

    if args.tta:
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model

    if args.out is not None:
        cfg.test_evaluator['output_dir'] = args.out
        cfg.test_evaluator['keep_results'] = True
        if cfg.test_evaluator.get('ignore_index', 255) > 255:
            # MMSeg's IoUMetric writes the predictions as 8-bit PNGs.
            print_log(
                '--out: the predictions are saved as 8-bit PNGs, so class '
                'ids above 255 (A-847, PC-459) wrap around in those files; '
                'the metrics are not affected.',
                logger='current',
                level=logging.WARNING)
    return cfg


def main(argv=None):
    args = parse_args(argv)
    cfg = build_cfg(args)
    check_dataset_folders(cfg.test_dataloader.dataset, 'test')
    if not osp.isfile(args.checkpoint):
        raise CheckpointError(f'checkpoint not found: {args.checkpoint}')
    setup_cpu_distributed(cfg)  # gloo when there is no GPU
    runner = StrictCheckpointRunner.from_cfg(cfg)
    runner.trust_checkpoint = args.trust_checkpoint
    return runner.test()


if __name__ == '__main__':
    sys.exit(run_tool(main))
