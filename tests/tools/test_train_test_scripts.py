import os
import os.path as osp
import subprocess
import sys

from tests.tools.tool_loader import REPO, load_tool

train = load_tool('tools/train.py')
test = load_tool('tools/test.py')
TRAIN_CFG = osp.join(REPO, 'configs/escnet/escnet_vitb16_coco-stuff.py')
EVAL_CFG = osp.join(REPO, 'configs/escnet/escnet_vitl14_test-ade20k-847.py')


def test_train_args_and_config():
    args = train.parse_args([TRAIN_CFG, '--local-rank', '0'])
    cfg = train.build_cfg(args)
    assert cfg.work_dir == osp.join('./work_dirs', 'escnet_vitb16_coco-stuff')
    assert cfg.resume is False and cfg.launcher == 'none'
    args = train.parse_args([
        TRAIN_CFG, '--work-dir', 'wd', '--resume', '--launcher', 'pytorch',
        '--cfg-options', 'train_cfg.max_iters=10',
        'optim_wrapper.type=OptimWrapper'
    ])
    cfg = train.build_cfg(args)
    assert cfg.work_dir == 'wd' and cfg.resume and cfg.launcher == 'pytorch'
    assert cfg.train_cfg.max_iters == 10
    assert cfg.optim_wrapper.type == 'OptimWrapper'
    args.amp = True
    cfg = train.build_cfg(args)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    # The paper config itself is fp32; --amp switches it, keeping the
    # gradient clipping and the paramwise rules.
    args = train.parse_args([TRAIN_CFG])
    assert train.build_cfg(args).optim_wrapper.type == 'OptimWrapper'
    args.amp = True
    cfg = train.build_cfg(args)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.clip_grad.max_norm == 0.01
    assert cfg.optim_wrapper.paramwise_cfg.norm_decay_mult == 0.0


def test_test_args_and_config(caplog):
    args = test.parse_args(
        [EVAL_CFG, 'ckpt.pth', '--tta', '--out', 'preds', '--show-dir', 'vis'])
    cfg = test.build_cfg(args)
    assert cfg.load_from == 'ckpt.pth'
    assert cfg.work_dir == osp.join('./work_dirs',
                                    'escnet_vitl14_test-ade20k-847')
    assert cfg.model.type == 'ESCTTAModel'
    assert cfg.model.module.type == 'ESCNet'
    assert cfg.test_dataloader.dataset.pipeline == cfg.tta_pipeline
    assert cfg.test_evaluator.output_dir == 'preds'
    assert cfg.default_hooks.visualization.draw
    assert cfg.visualizer.save_dir == 'vis'


def test_scripts_run_from_a_checkout():
    """`python tools/train.py --help` works without installing the package,
    from any working directory."""
    env = dict(os.environ)
    env.pop('PYTHONPATH', None)
    for script in ('train.py', 'test.py'):
        res = subprocess.run(
            [sys.executable,
             osp.join(REPO, 'tools', script), '--help'],
            cwd='/',
            env=env,
            capture_output=True,
            text=True,
            timeout=120)
        assert res.returncode == 0, res.stderr
        assert '--launcher' in res.stdout and '--cfg-options' in res.stdout
