"""MMSeg's installed tools (``mmseg/.mim/tools``) on the tiny synthetic
config, run as subprocesses exactly as a user runs them (the config's
``custom_imports`` imports this package). See docs/mmseg_tools.md."""
import hashlib
import json
import re
import time
from types import SimpleNamespace

import pytest
import torch

from escnet_mmseg.utils import read_checkpoint
from tests.tiny import NAMES, REPO
from tests.tools.checkpoints import (mmseg_tools_dir, run_tool,
                                     write_checkpoint, write_config,
                                     write_synthetic_data)

TOOLS = mmseg_tools_dir()
NUM_TRAIN, NUM_VAL = 6, 12


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp('mmseg_tools')
    data = write_synthetic_data(d / 'data', NUM_TRAIN, NUM_VAL)
    return SimpleNamespace(
        dir=d,
        data=data,
        config=write_config(d / 'tiny.py', data),
        checkpoint=write_checkpoint(d / 'tiny.pth'))


def _ok(res):
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res.stdout + res.stderr


def _miou(log: str) -> float:
    return float(re.findall(r'mIoU: ([\d.]+)', log)[-1])


def test_tools_are_installed():
    for script in ('train.py', 'test.py', 'analysis_tools/benchmark.py',
                   'analysis_tools/get_flops.py', 'misc/browse_dataset.py',
                   'misc/print_config.py', 'misc/publish_model.py'):
        assert (TOOLS / script).is_file(), script


def test_print_config(setup, tmp_path):
    # (it also writes the config to ./example.py)
    log = _ok(
        run_tool(
            TOOLS / 'misc' / 'print_config.py', setup.config, cwd=tmp_path))
    assert (tmp_path / 'example.py').read_text().count("type='ESCNet'") == 1
    assert "type='ESCNet'" in log and "type='SyntheticShapesDataset'" in log
    assert str(setup.data) in log
    assert "imports=[\n        'escnet_mmseg'" in log or \
        "imports=['escnet_mmseg']" in log


def test_publish_model_and_load_it_back(setup, tmp_path):
    from mmseg.apis import inference_model, init_model
    out = tmp_path / 'published.pth'
    _ok(run_tool(TOOLS / 'misc' / 'publish_model.py', setup.checkpoint, out))
    # The script renames to <name>-<sha256[:8]>.pth in the background.
    for _ in range(100):
        found = list(tmp_path.glob('published-*.pth'))
        if found:
            break
        time.sleep(0.1)
    assert len(found) == 1
    # (MMSeg 1.2.2 names it after the hash of the input file.)
    sha = hashlib.sha256(setup.checkpoint.read_bytes()).hexdigest()
    assert found[0].name == f'published-{sha[:8]}.pth'
    published = read_checkpoint(str(found[0]))  # still safe to read
    assert 'optimizer' not in published
    assert 'optimizer' in read_checkpoint(str(setup.checkpoint))
    model = init_model(str(setup.config), str(found[0]), device='cpu')
    assert model.vocabulary == NAMES
    original = init_model(
        str(setup.config), str(setup.checkpoint), device='cpu')
    image = (torch.rand(40, 40, 3) * 255).byte().numpy()
    assert torch.equal(
        inference_model(model, image).seg_logits.data,
        inference_model(original, image).seg_logits.data)


@pytest.mark.slow
def test_browse_dataset(setup, tmp_path):
    script = TOOLS / 'misc' / 'browse_dataset.py'
    # MMSeg 1.2.2's own bug (any dataset): channel-planar image -> OpenCV,
    # with MMSeg's stock visualizer.
    res = run_tool(script, setup.config, '--not-show', '--cfg-options',
                   'visualizer.type=SegLocalVisualizer')
    assert res.returncode != 0
    assert 'Layout of the output array img is incompatible' in res.stderr
    # Our configs select ContiguousSegVisualizer, which makes it work.
    _ok(run_tool(script, setup.config, '--not-show', '--output-dir', tmp_path))
    images = sorted((tmp_path / 'vis_data' / 'vis_image').glob('*.png'))
    assert len(images) == NUM_TRAIN
    from PIL import Image

    # the (flipped or not) image with its ground truth painted over it
    assert Image.open(images[0]).size == (64, 64)


@pytest.mark.slow
def test_get_flops_is_mmseg_limitation(setup):
    """MMSeg's get_flops.py passes both `input_shape` and `inputs` to
    MMEngine's counter, which refuses that for every model."""
    res = run_tool(TOOLS / 'analysis_tools' / 'get_flops.py', setup.config,
                   '--shape', '64')
    assert res.returncode != 0
    assert '"input_shape" and "inputs" cannot be both set' in res.stderr


@pytest.mark.slow
def test_benchmark(setup, tmp_path):
    # benchmark.py loads the weights but not the checkpoint's class names:
    # the vocabulary comes from the config.
    config = write_config(tmp_path / 'bench.py', setup.data,
                          f'model = dict(vocabulary={list(NAMES)!r})\n')
    log = _ok(
        run_tool(TOOLS / 'analysis_tools' / 'benchmark.py', config,
                 setup.checkpoint, '--log-interval', '1', '--work-dir',
                 tmp_path))
    fps = [float(f) for f in re.findall(r'fps: ([\d.]+) img / s', log)]
    # 5 warm-up images, then one line per image of the 12 (of 200 wanted)
    assert len(fps) == NUM_VAL - 5 and all(f > 0 for f in fps)
    assert list(tmp_path.glob('fps_*.json'))


@pytest.mark.slow
def test_train_then_test_with_mmseg_and_ours(setup, tmp_path):
    """MMSeg's train.py trains a few iterations and writes a checkpoint;
    MMSeg's test.py and ours (safe loading, no trust) agree on it."""
    work = tmp_path / 'work'
    iters = [
        '--cfg-options', 'train_cfg.max_iters=4', 'train_cfg.val_interval=4',
        'param_scheduler.0.end=1', 'param_scheduler.1.begin=1',
        'param_scheduler.1.end=4', 'default_hooks.checkpoint.interval=4',
        'default_hooks.logger.interval=1'
    ]
    log = _ok(
        run_tool(TOOLS / 'train.py', setup.config, '--work-dir', work, *iters))
    assert 'Iter(train) [4/4]' in log and 'loss:' in log
    ckpt = work / 'iter_4.pth'
    assert ckpt.is_file()
    state = read_checkpoint(str(ckpt))  # a real one: no trust needed
    assert tuple(state['meta']['dataset_meta']['classes']) == NAMES
    assert {'message_hub', 'optimizer', 'param_schedulers'} <= set(state)

    theirs = _ok(
        run_tool(TOOLS / 'test.py', setup.config, ckpt, '--work-dir',
                 tmp_path / 'test_mmseg'))
    ours = _ok(
        run_tool(REPO / 'tools' / 'test.py', setup.config, ckpt, '--work-dir',
                 tmp_path / 'test_ours'))
    assert 0 <= _miou(theirs) <= 100
    assert _miou(theirs) == _miou(ours)
    results = list((tmp_path / 'test_mmseg').rglob('*.json'))
    assert any('mIoU' in json.loads(p.read_text()) for p in results
               if p.name.endswith('.json') and p.stat().st_size < 10000
               and p.read_text().startswith('{'))
