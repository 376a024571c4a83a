"""ESC-Net for MMSegmentation.

Importing the package registers every component in MMSeg's registries, as
``custom_imports = dict(imports=['escnet_mmseg'])`` in a config does.
"""
from . import ops  # noqa: F401  registers the escnet::pseudo_prompts op
from . import apis, datasets, engine, models  # noqa: F401
from .version import __version__

__all__ = ['__version__']
