"""A stand-in for mmcv's compiled ops (``mmcv._ext``) under ``mmcv-lite``.

The default stack installs ``mmcv-lite`` 2.1.0: mmcv 2.1.0's Python code
without its compiled C++/CUDA extension ``mmcv._ext``, so nothing is compiled
and no ``nvcc`` is needed. ESC-Net calls none of mmcv's compiled ops (its only
custom op is its own, :mod:`escnet_mmseg.ops`), but MMSeg 1.2.2 imports
``mmcv.ops`` when ``mmseg.models`` is imported, and ``mmcv/ops/__init__.py``
loads every op from ``mmcv._ext``. The stand-in lets that import succeed:

* :func:`install` appends an import finder to the end of ``sys.meta_path``
  that answers for ``mmcv._ext`` only. Python asks it only after every
  regular finder failed, so with a full mmcv (the compiled ``_ext`` present)
  the real extension is imported and the stand-in does nothing.
* Every attribute of the stand-in module is a function that raises
  :class:`MissingMmcvOpError` when called, naming the op and how to install
  the full mmcv. ``import mmseg.models`` works; a model that really needs a
  compiled op (e.g. deformable attention) fails loudly where it calls it.

:func:`install` runs when ``escnet_mmseg`` is imported, and at interpreter
start-up through ``escnet_mmseg-mmcv-ext.pth`` (installed into
site-packages with the package, see ``setup.py``), so that MMSeg's own tools,
which import ``mmseg.apis`` before reading a config, import too. This file
needs only the standard library: the start-up hook loads it by path as
``escnet_mmseg.utils.mmcv_ext`` (the same module object the package uses
later), without importing ``escnet_mmseg`` (and torch) in every process.

For MMSeg models that need mmcv's ops, replace mmcv-lite with the full mmcv
(README.md, "mmcv-lite and full mmcv"); everything here keeps working.
"""
import importlib.abc
import importlib.machinery
import sys
import types
from typing import Optional, Sequence

#: The module the stand-in takes the place of.
EXT_NAME = 'mmcv._ext'
#: Attribute that marks the stand-in's finder and module.
MARKER = '__escnet_mmcv_ext_stand_in__'

INSTALL_HINT = ('pip uninstall -y mmcv-lite && pip install '
                '--no-build-isolation mmcv==2.1.0 (compiles the ops against '
                'the installed torch 2.4; see README.md, "mmcv-lite and '
                'full mmcv")')


class MissingMmcvOpError(RuntimeError):
    """An mmcv op was called, but mmcv's compiled ops are not installed."""


def _missing_op(name: str):
    """A function standing in for the compiled op ``name``."""

    def op(*args, **kwargs):
        raise MissingMmcvOpError(
            f'mmcv op `{name}` is not available: mmcv-lite is installed, '
            f'which has no compiled ops (mmcv._ext). ESC-Net does not need '
            f'them; for a model that does, install the full mmcv: '
            f'{INSTALL_HINT}')

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f'Stand-in for mmcv._ext.{name}: raises MissingMmcvOpError.'
    return op


def _module_getattr(name: str):
    # Dunder lookups (``__path__``, ``__file__``, ...) must fail normally:
    # the import system and tools probe them.
    if name.startswith('__') and name.endswith('__'):
        raise AttributeError(name)
    return _missing_op(name)


class _Loader(importlib.abc.Loader):

    def create_module(self, spec):
        return None  # the default module object

    def exec_module(self, module: types.ModuleType) -> None:
        module.__doc__ = ('Stand-in for mmcv\'s compiled ops (mmcv-lite): '
                          'see escnet_mmseg/utils/mmcv_ext.py.')
        setattr(module, MARKER, True)
        module.__getattr__ = _module_getattr


class StandInFinder(importlib.abc.MetaPathFinder):
    """Finds ``mmcv._ext`` when no other finder did (mmcv-lite)."""

    def find_spec(self,
                  fullname: str,
                  path: Optional[Sequence[str]] = None,
                  target: Optional[types.ModuleType] = None):
        if fullname != EXT_NAME:
            return None
        return importlib.machinery.ModuleSpec(
            fullname, _Loader(), origin='escnet_mmseg stand-in')


setattr(StandInFinder, MARKER, True)


def installed() -> bool:
    """Whether the stand-in's finder is in ``sys.meta_path`` (from this
    module or from the start-up hook's copy of it)."""
    return any(getattr(f, MARKER, False) for f in sys.meta_path)


def install() -> bool:
    """Make ``mmcv._ext`` importable when the real one is missing.

    Idempotent and cheap (imports nothing). A no-op for importing with the
    full mmcv: the finder is last in ``sys.meta_path`` and only answers
    when the compiled extension was not found.

    Returns:
        bool: True when this call added the finder, False when it was
        already there.
    """
    if installed():
        return False
    sys.meta_path.append(StandInFinder())
    return True


def is_stand_in(module: Optional[types.ModuleType] = None) -> bool:
    """Whether ``module`` (default: the imported ``mmcv._ext``) is the
    stand-in rather than mmcv's compiled ops.

    Args:
        module (ModuleType, optional): A module object. Defaults to None:
            imports ``mmcv._ext`` (``ImportError`` when mmcv is missing).

    Returns:
        bool: True for the stand-in.
    """
    if module is None:
        import importlib
        module = importlib.import_module(EXT_NAME)
    return bool(module.__dict__.get(MARKER, False))
