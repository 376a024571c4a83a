"""ESC-Net for MMSegmentation.

Importing the package registers every component in MMSeg's registries, as
``custom_imports = dict(imports=['escnet_mmseg'])`` in a config does.
``escnet_mmseg.ops`` needs only torch (+ triton), so the op also imports on a
machine without the MMSeg stack.
"""
from importlib.util import find_spec

from . import ops  # noqa: F401  registers the escnet::pseudo_prompts op
from .version import __version__

if find_spec('mmseg') is not None:
    from . import apis, datasets, engine, evaluation, models  # noqa: F401

__all__ = ['__version__']
