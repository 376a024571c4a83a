"""Run a measurement of this package in a fresh Python process.

A process's peak RSS only grows, so a CPU peak per setting needs a process
per setting. :func:`run_fresh` starts ``python -m
escnet_mmseg.analysis.fresh_process FUNCTION KWARGS``: the child imports
the function (``module:name`` under ``escnet_mmseg.analysis``), calls it with
the JSON keyword arguments and prints its JSON result as the last line.
"""
import importlib
import json
import os
import os.path as osp
import subprocess
import sys
from typing import Callable

PACKAGE = 'escnet_mmseg.analysis'


def _function_path(func: Callable) -> str:
    if not func.__module__.startswith(PACKAGE + '.'):
        raise ValueError(f'{func.__qualname__} is not in {PACKAGE}')
    return f'{func.__module__}:{func.__qualname__}'


def run_fresh(func: Callable, **kwargs) -> dict:
    """``func(**kwargs)`` in a fresh process.

    Args:
        func (Callable): A module-level function of this package returning
            a JSON-serialisable result.
        **kwargs (dict): JSON-serialisable arguments (tuples arrive as lists).

    Returns:
        dict: The function's result.
    """
    env = dict(os.environ)
    # glibc's dynamic mmap threshold keeps freed tensors in the heap, so the
    # peak RSS would count memory that was free again; a fixed threshold
    # returns every large tensor to the system when it is freed.
    env.setdefault('MALLOC_MMAP_THRESHOLD_', str(64 * 1024))
    # The child imports the same copy of the package as this process.
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (root, env.get('PYTHONPATH')) if p)
    cmd = [
        sys.executable, '-m', __name__,
        _function_path(func),
        json.dumps(kwargs)
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise RuntimeError(f'{func.__qualname__}(**{kwargs}) failed in a '
                           f'fresh process:\n{res.stderr[-3000:]}')
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv: list) -> None:
    """The child: ``FUNCTION KWARGS`` from :func:`run_fresh`."""
    path, kwargs = argv
    module, name = path.split(':')
    if not module.startswith(PACKAGE + '.'):
        raise SystemExit(f'error: {module} is not in {PACKAGE}')
    func = getattr(importlib.import_module(module), name)
    print(json.dumps(func(**json.loads(kwargs))), flush=True)


if __name__ == '__main__':
    main(sys.argv[1:])
