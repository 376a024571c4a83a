"""MMEngine's log types as torch safe globals: checkpoints written by
training load with ``weights_only=True``, torch's default from 2.6 on, in
MMSeg's ``init_model`` and in tools that import only torch."""
import subprocess
import sys

import pytest

from tests.tools.checkpoints import (Planted, plant, tool_env,
                                     write_checkpoint, write_config,
                                     write_synthetic_data)

# torch.load as torch >= 2.6 calls it by default, on every stack.
WEIGHTS_ONLY = ('import functools, torch\n'
                'torch.load = functools.partial(torch.load, '
                'weights_only=True)\n')


def _python(code: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', code],
                          capture_output=True,
                          text=True,
                          cwd=cwd,
                          env=tool_env(),
                          timeout=600)


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp('safe_globals')
    data = write_synthetic_data(d / 'data', 2, 2)
    return dict(
        dir=d,
        config=write_config(d / 'tiny.py', data),
        checkpoint=write_checkpoint(d / 'tiny.pth'))


def test_init_model_loads_a_training_checkpoint_weights_only(files):
    # escnet_mmseg is imported by the config's custom_imports only.
    res = _python(
        WEIGHTS_ONLY + 'from mmseg.apis import init_model\n'
        f'model = init_model({str(files["config"])!r}, '
        f'{str(files["checkpoint"])!r}, device="cpu")\n'
        'print("classes", len(model.dataset_meta["classes"]))\n', files['dir'])
    assert res.returncode == 0, res.stderr[-3000:]
    assert 'classes' in res.stdout


def test_torch_only_process_loads_it_and_refuses_code(files, tmp_path):
    """As MMSeg's misc/publish_model.py: only torch imported (the start-up
    hook registered the types); a planted object is still refused."""
    marker = tmp_path / 'ran'
    evil = plant(
        files['checkpoint'], tmp_path / 'evil.pth', planted=Planted(marker))
    res = _python(
        WEIGHTS_ONLY + 'import sys\n'
        f'ckpt = torch.load({str(files["checkpoint"])!r})\n'
        'assert "escnet_mmseg" not in sys.modules\n'
        'print(sorted(ckpt["message_hub"]["log_scalars"]))\n'
        'try:\n'
        f'    torch.load({str(evil)!r})\n'
        'except Exception as exc:\n'
        '    print("refused", type(exc).__name__)\n', tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "'train/loss'" in res.stdout
    assert 'refused UnpicklingError' in res.stdout
    assert not marker.exists()


def test_register_safe_globals_is_idempotent():
    import torch

    from escnet_mmseg.utils import register_safe_globals
    assert register_safe_globals()
    before = len(torch.serialization.get_safe_globals())
    assert register_safe_globals()
    assert len(torch.serialization.get_safe_globals()) == before
