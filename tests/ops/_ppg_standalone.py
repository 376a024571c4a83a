"""Import ``escnet_mmseg.ops`` on its own.

The ops subpackage needs only torch (and optionally triton). The top-level
package also registers the MMSeg components, so in a torch-only environment
``import escnet_mmseg`` fails; these helpers then load the ops under a bare
parent package instead.
"""
import importlib
import importlib.util
import sys
import types


def import_ops(standalone: bool = False) -> types.ModuleType:
    """Return ``escnet_mmseg.ops``.

    Args:
        standalone: Do not try the full package import; when the package is not
            imported yet, its ``__init__`` is never executed.

    Returns:
        The ``escnet_mmseg.ops`` module.
    """
    if 'escnet_mmseg' not in sys.modules and not standalone:
        try:
            importlib.import_module('escnet_mmseg')
        except ImportError:
            pass  # a missing MMSeg-side dependency; fall back to a bare parent
    if 'escnet_mmseg' not in sys.modules:
        spec = importlib.util.find_spec('escnet_mmseg')
        if spec is None or not spec.submodule_search_locations:
            raise ImportError('escnet_mmseg is not on sys.path')
        pkg = types.ModuleType('escnet_mmseg')
        pkg.__path__ = list(spec.submodule_search_locations)
        sys.modules['escnet_mmseg'] = pkg
    ops = importlib.import_module('escnet_mmseg.ops')
    sys.modules['escnet_mmseg'].ops = ops
    return ops
