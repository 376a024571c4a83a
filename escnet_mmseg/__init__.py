"""ESC-Net for MMSegmentation.

Importing the package registers every component in MMSeg's registries, as
``custom_imports = dict(imports=['escnet_mmseg'])`` in a config does.
``escnet_mmseg.ops`` needs only torch (+ triton), so the op also imports on a
machine without the MMSeg stack. With mmcv-lite, a stand-in for mmcv's
compiled ops is installed first (:mod:`escnet_mmseg.utils.mmcv_ext`).
"""
from importlib.util import find_spec

from .utils.mmcv_ext import install as _install_mmcv_ext

_install_mmcv_ext()  # before anything imports mmcv.ops (MMSeg does)

from . import ops  # noqa: E402,F401  registers the escnet::pseudo_prompts op
from .version import __version__  # noqa: E402

if find_spec('mmseg') is not None:
    from . import apis, datasets, engine, evaluation, models  # noqa: F401,E402
    from .utils import register_safe_globals  # noqa: E402

    # torch >= 2.6: MMEngine's checkpoints load with torch.load's defaults.
    register_safe_globals()

__all__ = ['__version__']
