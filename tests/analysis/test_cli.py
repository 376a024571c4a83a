"""tools/analysis_tools/: every sub-command parses, and a tool prints its
figures, not MMEngine's log lines."""
import subprocess
import sys

import pytest

from escnet_mmseg.analysis.cli import SUB_COMMANDS, build_parser
from tests.tiny import REPO, TINY_CONFIG

CONFIG = str(TINY_CONFIG)
ARGS = {
    'params': [CONFIG],
    'flops': [CONFIG, '--image-size', '0', '0'],
    'compare': [CONFIG, CONFIG, '--reference-sam', 'b'],
    'model': [CONFIG, '--chunks', '0', '8'],
    'protocol': [CONFIG, '--classes', '20', '150', '--ratio-to', '20'],
    'train-memory': [CONFIG, '--amp'],
    'sam-block': [CONFIG, '--profile'],
    'ppg': ['--sizes', '171', '--maps', 'dense'],
    'gpu-report': ['--small', '--budget-s', '10', '--out', 'r.md'],
}


@pytest.mark.parametrize('mode', SUB_COMMANDS)
def test_every_sub_command_parses(mode):
    args = build_parser().parse_args([mode, *ARGS[mode]])
    assert args.mode == mode


def _tool(*argv):
    return subprocess.run([sys.executable, *argv],
                          cwd=REPO,
                          capture_output=True,
                          text=True,
                          check=True)


def test_get_flops_prints_only_the_figures():
    res = _tool('tools/analysis_tools/get_flops.py', CONFIG, '--classes', '3',
                '--shape', '0', '0')
    lines = res.stdout.splitlines()
    assert lines[0] == 'escnet_tiny_synthetic.py'
    assert any(line.split()[0] == 'total' for line in lines[1:8])
    assert 'whole image 64x64' in lines
    assert len(lines) < 30 and 'INFO' not in res.stdout + res.stderr


def test_benchmark_error_is_one_line(tmp_path):
    no_sam = tmp_path / 'no_sam.py'
    no_sam.write_text(f'_base_ = [{CONFIG!r}]\n'
                      'model = dict(neck=dict(sam_block=None))\n')
    res = subprocess.run([
        sys.executable, 'tools/analysis_tools/benchmark.py', 'sam-block',
        str(no_sam)
    ],
                         cwd=REPO,
                         capture_output=True,
                         text=True)
    assert res.returncode == 1
    assert res.stderr.splitlines()[-1] == f'error: {no_sam} has no SAM blocks'
