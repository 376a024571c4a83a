"""`make benchmark` runs real benchmark modes."""
import os.path as osp
import shlex
import subprocess
import sys

from escnet_mmseg.analysis.cli import build_parser, run
from tests.tiny import REPO


def _recipe():
    """The recipe as make would run it, with this interpreter and without
    (re)building the virtual environment."""
    out = subprocess.run([
        'make', '-s', '-n', '-o', 'venv', 'benchmark', f'PY={sys.executable}'
    ],
                         cwd=REPO,
                         check=True,
                         capture_output=True,
                         text=True).stdout
    out = out.replace('\\\n', ' ')  # continued lines
    return [shlex.split(line) for line in out.splitlines() if line.strip()]


def test_every_make_benchmark_command_is_a_valid_mode():
    commands = _recipe()
    assert len(commands) >= 2
    parser = build_parser()
    for python, script, *args in commands:
        assert python == sys.executable
        assert script == 'tools/analysis_tools/benchmark.py'
        parsed = parser.parse_args(args)  # exits on an unknown mode/option
        for arg in args:
            if arg.endswith('.py'):
                assert osp.isfile(osp.join(REPO, arg)), arg
        assert parsed.mode in ('params', 'flops', 'compare')


def test_make_benchmark_params_runs(capsys, monkeypatch):
    params = [c for c in _recipe() if c[2] == 'params']
    assert params
    # Run in this process (same interpreter, already imported packages).
    monkeypatch.chdir(REPO)
    run(build_parser().parse_args(params[0][2:]))
    out = capsys.readouterr().out
    total = [line for line in out.splitlines() if 'total' in line]
    assert total and float(total[0].split()[1]) > 400  # ViT-L/14: ~443 M
