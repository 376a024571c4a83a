"""tools/demo.py trains and tests with the strict runner: a checkpoint that
does not fit the model is refused, one line, exit status 1."""
from escnet_mmseg.utils import CheckpointError
from escnet_mmseg.utils.strict_runner import StrictCheckpointRunner
from tests.tools.tool_loader import load_tool

demo = load_tool('tools/demo.py')


def test_demo_loads_strictly(tmp_path, monkeypatch, capsys):
    built = []

    def from_cfg(cls, cfg):
        built.append((cls, cfg.resume))
        raise CheckpointError(f'checkpoint {cfg.work_dir}/x.pth does not fit')

    monkeypatch.setattr(demo, 'ensure_data', lambda *args: None)
    monkeypatch.setattr(StrictCheckpointRunner, 'from_cfg',
                        classmethod(from_cfg))
    assert demo.main(['--work-dir', str(tmp_path), '--iters', '60']) == 1
    assert built == [(StrictCheckpointRunner, True)]
    assert capsys.readouterr().err == (
        f'error: checkpoint {tmp_path}/x.pth does not fit\n')
