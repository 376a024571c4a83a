"""MMEngine's training-log types as torch safe globals.

torch >= 2.6 loads with ``weights_only=True`` by default. The types MMEngine
writes into every checkpoint (its ``HistoryBuffer``, numpy arrays and
scalars) rebuild without running code; :func:`register_safe_globals` allows
them. Standard library, torch, numpy and MMEngine only: the start-up hook
(``torch_hook.py``) loads this file by path, outside the package.
"""
import re
from typing import List

import torch


def _statistics_method(owner, name: str):
    """Stand-in for ``getattr`` while unpickling, limited to what MMEngine
    needs: a ``HistoryBuffer`` keeps its statistics functions (``min``,
    ``mean``, ...), which pickle (protocol 2) stores as
    ``getattr(HistoryBuffer, 'min')``. Anything else is refused."""
    from mmengine.logging import HistoryBuffer

    # The class registry fills on first use, so name the built-in ones too.
    known = {'min', 'max', 'current', 'mean'}
    known.update(HistoryBuffer._statistics_methods)
    if owner is HistoryBuffer and name in known:
        return getattr(owner, name)
    raise RuntimeError(f'Unsupported global: GLOBAL builtins.getattr (on '
                       f'{getattr(owner, "__name__", type(owner).__name__)}'
                       f'.{name})')


# Found by the unpickler under the name it looks up: builtins.getattr (torch
# < 2.6 keys its allow-list by ``__name__``, newer torch by ``__qualname__``).
_statistics_method.__module__ = 'builtins'
_statistics_method.__name__ = _statistics_method.__qualname__ = 'getattr'


def plain_mmengine_types() -> List[type]:
    """What MMEngine pickles into a checkpoint besides tensors and builtins:
    the message hub's ``HistoryBuffer`` (numpy arrays of logged scalars, and
    its statistics functions) and numpy scalars, whose bytes pickle as
    ``_codecs.encode(text, 'latin1')``. None of them runs code when
    rebuilt."""
    import _codecs
    import numpy as np
    from mmengine.logging import HistoryBuffer
    allowed = [
        HistoryBuffer, np.ndarray, np.dtype, np.core.multiarray._reconstruct,
        np.core.multiarray.scalar, _codecs.encode, _statistics_method
    ]
    # numpy >= 1.25 pickles each dtype as its own class (Float64DType, ...).
    allowed += [type(np.dtype(c)) for c in np.typecodes['All'] if c != 'O']
    return list(dict.fromkeys(allowed)) + _numpy_aliases()


def _numpy_aliases() -> list:
    """numpy 2 moved ``numpy.core`` to ``numpy._core``: checkpoints written
    with numpy 1 name ``numpy.core.multiarray._reconstruct`` and those of
    numpy 2 ``numpy._core...``. torch >= 2.6 accepts ``(object, name)``
    pairs, so both names are allowed there (same two functions)."""
    version = tuple(int(v) for v in re.findall(r'\d+', torch.__version__)[:2])
    if version < (2, 6):
        return []
    from numpy.core import multiarray
    aliases = []
    for obj in (multiarray._reconstruct, multiarray.scalar):
        for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
            name = f'{module}.{obj.__name__}'
            if name != f'{obj.__module__}.{obj.__qualname__}':
                aliases.append((obj, name))
    return aliases


def register_safe_globals() -> bool:
    """Allow MMEngine's training-log types in every weights-only
    ``torch.load`` of this process.

    torch >= 2.6 loads with ``weights_only=True`` by default, which refuses
    the ``HistoryBuffer`` and numpy objects that MMEngine writes into every
    checkpoint; MMSeg's ``init_model``, the runner's ``resume``/``load_from``
    and ``publish_model.py`` then fail on checkpoints written by training.
    Registering these types (none runs code when rebuilt) lets them load
    such checkpoints without unpickling code. Runs when ``escnet_mmseg`` is
    imported and, for tools that import only torch, from the start-up hook
    (``escnet_mmseg/utils/torch_hook.py``), which loads this file by path:
    it imports only the standard library, torch, numpy and MMEngine.

    Returns:
        bool: False when torch has no ``add_safe_globals`` (torch < 2.4) or
        MMEngine is missing, True otherwise.
    """
    if not hasattr(torch.serialization, 'add_safe_globals'):
        return False
    try:
        types = plain_mmengine_types()
    except ImportError:
        return False
    known = torch.serialization.get_safe_globals()
    torch.serialization.add_safe_globals([t for t in types if t not in known])
    return True
