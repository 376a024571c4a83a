"""tools/test.py and tools/train.py refuse a checkpoint or dataset that does
not fit: one message naming the file or folder, exit status 1, no traceback,
no metric of a model that did not load, and no code run from the file."""
import re
from types import SimpleNamespace

import pytest

from tests.tiny import REPO
from tests.tools.checkpoints import (Planted, one_block_model_cfg, plant,
                                     run_tool, write_checkpoint, write_config,
                                     write_synthetic_data)

TEST = REPO / 'tools' / 'test.py'
TRAIN = REPO / 'tools' / 'train.py'
TRAIN_2_ITERS = [
    '--cfg-options', 'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
    'param_scheduler.0.end=1', 'param_scheduler.1.begin=1',
    'param_scheduler.1.end=2', 'default_hooks.checkpoint.interval=2'
]


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp('refusal')
    data = write_synthetic_data(d / 'data', num_train=4, num_val=2)
    good = write_checkpoint(d / 'good.pth')
    truncated = d / 'truncated.pth'
    truncated.write_bytes(good.read_bytes()[:good.stat().st_size // 2])
    return SimpleNamespace(
        dir=d,
        data=data,
        good=good,
        truncated=truncated,
        config=write_config(d / 'tiny.py', data),
        # with MMEngine's training state: read in a fresh process
        other=write_checkpoint(d / 'one_block.pth', one_block_model_cfg()))


def _refused(res, *phrases):
    """Exit 1 with one `error:` line holding ``phrases``, no traceback."""
    assert res.returncode == 1, res.stdout[-2000:] + res.stderr[-2000:]
    assert 'Traceback' not in res.stderr, res.stderr[-3000:]
    assert not re.search(r'mIoU: [\d.]+', res.stdout + res.stderr)
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith('error: ')
    for phrase in phrases:
        assert str(phrase) in last, last
    return last


def test_test_refuses_a_checkpoint_of_another_model(setup):
    # (MMEngine alone would warn and evaluate a partly random model.)
    _refused(
        run_tool(TEST, setup.config, setup.other), setup.other, 'does not fit',
        'missing', 'neck.blocks.1.')


def test_test_names_a_missing_dataset_folder(setup, tmp_path):
    config = write_config(tmp_path / 'nodata.py', tmp_path / 'nowhere')
    _refused(
        run_tool(TEST, config, setup.good), tmp_path / 'nowhere',
        'docs/dataset_prepare.md')
    _refused(
        run_tool(TEST, setup.config, tmp_path / 'none.pth'),
        'checkpoint not found', tmp_path / 'none.pth')


@pytest.mark.slow
def test_test_refuses_unreadable_and_unsafe_checkpoints(setup, tmp_path):
    _refused(
        run_tool(TEST, setup.config, setup.truncated),
        'cannot read checkpoint', setup.truncated)
    marker = tmp_path / 'pwned'
    planted = plant(setup.good, tmp_path / 'planted.pth', note=Planted(marker))
    _refused(
        run_tool(TEST, setup.config, planted), planted, '`builtins.exec`',
        '--trust-checkpoint')
    assert not marker.exists()


@pytest.mark.slow
def test_test_trust_flag(setup, tmp_path):
    import argparse
    path = plant(
        setup.good, tmp_path / 'args.pth', args=argparse.Namespace(lr=0.1))
    _refused(run_tool(TEST, setup.config, path), '`argparse.Namespace`')
    res = run_tool(TEST, setup.config, path, '--trust-checkpoint',
                   '--work-dir', tmp_path / 'work')
    assert res.returncode == 0, res.stderr[-3000:]
    assert 0 <= float(
        re.findall(r'mIoU: ([\d.]+)', res.stdout + res.stderr)[-1]) <= 100


@pytest.mark.slow
def test_train_refuses_load_from_and_resume_that_do_not_fit(setup, tmp_path):
    work = tmp_path / 'work'
    _refused(
        run_tool(TRAIN, setup.config, '--work-dir', work, '--load-from',
                 setup.other, *TRAIN_2_ITERS), setup.other, 'does not fit')
    marker = tmp_path / 'pwned'
    planted = plant(setup.good, tmp_path / 'planted.pth', note=Planted(marker))
    _refused(
        run_tool(TRAIN, setup.config, '--work-dir', work, '--load-from',
                 planted, *TRAIN_2_ITERS), '`builtins.exec`')
    assert not marker.exists()
    config = write_config(tmp_path / 'nodata.py', tmp_path / 'nowhere')
    _refused(
        run_tool(TRAIN, config, '--work-dir', work), tmp_path / 'nowhere',
        'docs/dataset_prepare.md')
    # --load-from a fitting checkpoint trains on from its weights
    res = run_tool(TRAIN, setup.config, '--work-dir', work, '--load-from',
                   setup.good, *TRAIN_2_ITERS)
    assert res.returncode == 0, res.stderr[-3000:]
    assert f'Load checkpoint from {setup.good}' in res.stdout + res.stderr
    assert (work / 'iter_2.pth').is_file()
    # --resume: the latest checkpoint of the work dir, broken -> refused
    (work / 'iter_2.pth').write_bytes(
        (work / 'iter_2.pth').read_bytes()[:1000])
    _refused(
        run_tool(TRAIN, setup.config, '--work-dir', work, '--resume',
                 *TRAIN_2_ITERS), 'cannot read checkpoint',
        work / 'iter_2.pth')


def test_dataset_folder_check(tmp_path):
    from escnet_mmseg.utils import DatasetNotFoundError, check_dataset_folders
    (tmp_path / 'img').mkdir()
    ok = dict(
        type='A',
        data_root=str(tmp_path),
        data_prefix=dict(img_path='img', seg_map_path=''))
    check_dataset_folders(ok)
    with pytest.raises(DatasetNotFoundError) as err:
        check_dataset_folders(
            dict(ok, data_prefix=dict(img_path='img', seg_map_path='ann')),
            'val')
    message = str(err.value)
    assert message.startswith('val dataset (A): ')
    assert f'{tmp_path}/ann does not exist' in message
    assert 'docs/dataset_prepare.md' in message
    assert 'val_dataloader.dataset.data_root' in message
    with pytest.raises(DatasetNotFoundError, match='list.txt'):
        check_dataset_folders(dict(ok, ann_file='list.txt'))
    # wrapped datasets are checked inside; remote storage is not checked
    concat = dict(
        type='ConcatDataset',
        datasets=[
            ok,
            dict(
                type='RepeatDataset',
                times=2,
                dataset=dict(type='B', data_root=str(tmp_path / 'gone')))
        ])
    with pytest.raises(DatasetNotFoundError, match=r'\(B\): .*gone'):
        check_dataset_folders(concat)
    check_dataset_folders(
        dict(
            type='C',
            data_root='s3://bucket/data',
            data_prefix=dict(img_path='img')))
