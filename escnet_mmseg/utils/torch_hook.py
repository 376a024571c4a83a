"""Start-up hook: MMEngine's log types as torch safe globals in every process.

torch >= 2.6 loads checkpoints with ``weights_only=True`` by default, and
MMEngine's checkpoints hold its training log (``HistoryBuffer``, numpy
scalars). ``import escnet_mmseg`` registers those types
(:func:`escnet_mmseg.utils.register_safe_globals`); tools that import only
torch before loading a checkpoint (MMSeg's ``misc/publish_model.py``) get
them from this hook, which ``escnet_mmseg-mmcv-ext.pth`` runs at start-up
(by path, like :mod:`escnet_mmseg.utils.mmcv_ext`; standard library only).

:func:`install` puts an import finder first in ``sys.meta_path`` that waits
for ``torch``: once torch has been imported, the types are registered
(``mmengine.logging`` and numpy are imported then; about 0.2 s). Nothing
else changes, nothing happens in a process that never imports torch, and
when MMEngine imports torch itself (MMEngine half-imported) the
registration is left to ``escnet_mmseg``. Errors are swallowed: the hook
never breaks an import.
"""
import importlib.abc
import importlib.machinery
import sys

MARKER = '__escnet_torch_hook__'


def _register() -> None:
    """:func:`escnet_mmseg.utils.register_safe_globals`, from
    ``safe_globals.py`` loaded by path (it needs only torch, which is
    imported now): ``escnet_mmseg`` itself is not imported."""
    if 'mmengine' in sys.modules:  # MMEngine is importing torch
        return
    import importlib.util
    import os.path as osp
    path = osp.join(osp.dirname(osp.abspath(__file__)), 'safe_globals.py')
    spec = importlib.util.spec_from_file_location(
        'escnet_mmseg_safe_globals_hook', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.register_safe_globals()


class _AfterTorch(importlib.abc.Loader):

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        self.loader.exec_module(module)
        try:
            _register()
        except Exception:  # noqa: BLE001 - never break `import torch`
            pass


class TorchFinder(importlib.abc.MetaPathFinder):
    """Wraps the loader of ``torch`` to run :func:`_register` after it."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != 'torch':
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, 'find_spec'):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _AfterTorch(spec.loader)
                return spec
        return None


setattr(TorchFinder, MARKER, True)


def install() -> bool:
    """Put :class:`TorchFinder` first in ``sys.meta_path`` (once).

    Returns:
        bool: True when this call added it.
    """
    if 'torch' in sys.modules or any(
            getattr(f, MARKER, False) for f in sys.meta_path):
        return False
    sys.meta_path.insert(0, TorchFinder())
    return True
