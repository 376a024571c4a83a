"""`make benchmark` runs a real benchmark mode."""
import os
import shlex
import subprocess
import sys

from tests.tiny import REPO


def test_make_benchmark_command_runs():
    # The recipe as make would run it, with this interpreter and without
    # (re)building the virtual environment.
    recipe = subprocess.run(
        ['make', '-s', '-n', '-o', 'venv', 'benchmark', f'PY={sys.executable}'],
        cwd=REPO, check=True, capture_output=True, text=True).stdout
    lines = [line for line in recipe.splitlines() if line.strip()]
    assert len(lines) == 1 and 'tools/benchmark.py' in lines[0], recipe
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1')
    out = subprocess.run(shlex.split(lines[0]), cwd=REPO, env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert 'escnet_vitb16' in out.stdout
    total = [line for line in out.stdout.splitlines() if 'total' in line]
    assert total and float(total[0].split()[1]) > 100  # ViT-B/16: ~163 M
