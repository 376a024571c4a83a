"""`make benchmark` runs a real benchmark mode."""
import shlex
import subprocess
import sys

from tests.tiny import REPO
from tests.tools.tool_loader import load_tool


def test_make_benchmark_command_runs(capsys, monkeypatch):
    # The recipe as make would run it, with this interpreter and without
    # (re)building the virtual environment.
    recipe = subprocess.run(
        ['make', '-s', '-n', '-o', 'venv', 'benchmark', f'PY={sys.executable}'],
        cwd=REPO, check=True, capture_output=True, text=True).stdout
    lines = [line for line in recipe.splitlines() if line.strip()]
    assert len(lines) == 1, recipe
    python, script, *args = shlex.split(lines[0])
    assert python == sys.executable and script == 'tools/benchmark.py'
    # Run in this process (same interpreter, already imported packages).
    monkeypatch.chdir(REPO)
    load_tool(script).main(args)
    out = capsys.readouterr().out
    assert 'escnet_vitb16' in out
    total = [line for line in out.splitlines() if 'total' in line]
    assert total and float(total[0].split()[1]) > 100  # ViT-B/16: ~163 M
