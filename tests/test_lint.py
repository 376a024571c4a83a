"""Style is enforced, not remembered: flake8, isort and yapf (settings in
setup.cfg, as MMSegmentation's; the same hooks in .pre-commit-config.yaml)
leave every file unchanged. ``tests/test_docstrings.py`` checks the
docstring style.
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
    ('yapf', ['--diff', '--recursive', '--parallel']),
])
def test_linter_is_clean(tool, args):
    res = subprocess.run([sys.executable, '-m', tool, *args, *PATHS],
                         cwd=ROOT,
                         capture_output=True,
                         text=True)
    assert res.returncode == 0, (
        f'{tool} failed (settings in setup.cfg; pinned in '
        f'requirements/tests.txt):\n'
        f'{res.stdout}{res.stderr}')
