"""Style is enforced, not remembered: flake8 and isort (setup.cfg) are clean.

yapf is configured in setup.cfg and run by pre-commit on changed files; the
test checks the two linters that are fast enough for every ``make test``.
"""
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PATHS = ['escnet_mmseg', 'tools', 'tests', 'configs', 'setup.py']


@pytest.mark.parametrize('tool,args', [
    ('flake8', []),
    ('isort', ['--check-only', '--diff']),
])
def test_linter_is_clean(tool, args):
    res = subprocess.run([sys.executable, '-m', tool, *args, *PATHS],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, (
        f'{tool} failed (settings in setup.cfg; pinned in '
        f'requirements/tests.txt):\n'
        f'{res.stdout}{res.stderr}')
