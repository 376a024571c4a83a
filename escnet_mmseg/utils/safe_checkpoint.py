"""Loading a trained checkpoint strictly and without running code from it.

MMEngine reads checkpoints with pickle (any object, any code) and loads them
non-strictly (missing or unexpected keys are only a warning). To evaluate or
segment, :func:`load_checkpoint_strict` instead

* reads with ``torch.load(weights_only=True)``, allowing besides tensors only
  the plain types MMEngine itself writes (its ``HistoryBuffer`` and numpy
  arrays / scalars of the training log); a file that needs any other type is
  refused, naming the type, unless the caller trusts the file;
* refuses a state dict that does not fit the model exactly (missing or
  unexpected keys, other shapes), naming the file and the first keys. A
  trained checkpoint holds every weight, CLIP's and SAM's included, so
  nothing is exempt.

Every refusal is a :class:`CheckpointError` naming the file.
"""
import builtins
import contextlib
import pickle
import re
from collections import OrderedDict
from typing import (Callable, Iterator, Mapping, Optional, Sequence, Tuple,
                    Union)

import torch
from torch import nn

from .checkpoint import state_dict_problems
from .errors import UserError
from .safe_globals import plain_mmengine_types

MapLocation = Union[str, torch.device, Callable, None]
# Key renamings applied before loading, as MMEngine's (DDP's "module.").
DEFAULT_REVISE_KEYS = ((r'^module\.', ''), )


class CheckpointError(UserError, RuntimeError):
    """A checkpoint that cannot be used: unreadable, unsafe to unpickle, or
    not a checkpoint of this model. The message names the file."""


@contextlib.contextmanager
def _allowed_globals(types: Sequence) -> Iterator[None]:
    """``types`` allowed for the reads inside, then exactly the previous
    allow-list again (torch's scoped ``safe_globals`` is missing in torch
    2.4, and newer torch's removes on exit whatever it was given, including
    types registered for the whole process before)."""
    serialization = torch.serialization
    before = list(serialization.get_safe_globals())  # (a copy)
    serialization.add_safe_globals([t for t in types if t not in before])
    try:
        yield
    finally:
        serialization.clear_safe_globals()
        serialization.add_safe_globals(before)


def _refused_type(message: str) -> Optional[str]:
    """The type a weights-only unpickling refused, from torch's message
    (torch >= 2.6 names built-ins without ``builtins.``)."""
    for pattern in (r'GLOBAL ([\w.]+)', r'but got <class \'([\w.]+)\'>',
                    r'unsupported class <class \'([\w.]+)\'>'):
        found = re.search(pattern, message)
        if found:
            name = found.group(1)
            if '.' not in name and hasattr(builtins, name):
                name = f'builtins.{name}'
            return name
    return None


def read_checkpoint(filename: str,
                    trust: bool = False,
                    map_location: MapLocation = 'cpu') -> dict:
    """Read a checkpoint file.

    Args:
        filename (str): Path of a ``.pth`` file written by MMEngine (or any
            dict).
        trust (bool): Unpickle with full pickle (runs whatever code the file
            asks for). Only for files you made yourself or fully trust.
            Defaults to False.
        map_location (MapLocation): As for ``torch.load``. Defaults to 'cpu'.

    Returns:
        The checkpoint: a dict, usually with ``state_dict`` and ``meta``.

    Raises:
        CheckpointError: The file does not exist or cannot be read (e.g.
            truncated), or, unless ``trust``, needs a type outside tensors,
            builtins and MMEngine's plain types.
    """
    try:
        with open(filename, 'rb') as f:
            if trust:
                checkpoint = torch.load(
                    f, map_location=map_location, weights_only=False)
            else:
                with _allowed_globals(plain_mmengine_types()):
                    checkpoint = torch.load(
                        f, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f'checkpoint not found: {filename}') from None
    except pickle.UnpicklingError as exc:
        refused = None if trust else _refused_type(str(exc))
        if refused is None:
            hint = '' if trust else (
                ' (not a torch checkpoint, or one that needs '
                '--trust-checkpoint)')
            raise CheckpointError(f'cannot read checkpoint {filename}{hint}: '
                                  f'{_last_line(exc)}') from None
        raise CheckpointError(
            f'refusing to load {filename}: it contains a `{refused}` object, '
            f'and unpickling that type may run code. Only weights, the '
            f'metadata and MMEngine\'s training log are loaded without '
            f'trusting the file. If you trust it (e.g. you wrote it), pass '
            f'--trust-checkpoint (Python: trust_checkpoint=True).') from None
    except Exception as exc:  # noqa: BLE001 - truncated zip, bad magic, ...
        raise CheckpointError(
            f'cannot read checkpoint {filename} (truncated or not a torch '
            f'checkpoint?): {_first_line(exc)}') from None
    if not isinstance(checkpoint, Mapping):
        raise CheckpointError(f'{filename} is not a checkpoint: it holds a '
                              f'{type(checkpoint).__name__}, not a dict')
    return checkpoint


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def _last_line(exc: BaseException) -> str:
    # torch's weights-only errors put the cause after a long preamble.
    lines = [ln for ln in str(exc).splitlines() if 'error:' in ln.lower()]
    return lines[-1].strip()[:300] if lines else _first_line(exc)


def model_state_dict(
    checkpoint: Mapping,
    revise_keys: Sequence[Tuple[str, str]] = (DEFAULT_REVISE_KEYS)
) -> 'OrderedDict':
    """The model weights of a checkpoint, keys revised as MMEngine does."""
    state = checkpoint.get('state_dict', checkpoint)
    for pattern, repl in revise_keys:
        state = OrderedDict(
            (re.sub(pattern, repl, k), v) for k, v in state.items())
    return state


def _unwrap(model: nn.Module) -> nn.Module:
    # DDP and SegTTAModel keep the segmentor in `.module`, whose keys the
    # checkpoint has (MMEngine unwraps the same way).
    from mmengine.model import BaseTTAModel, is_model_wrapper
    while is_model_wrapper(model) or isinstance(model, BaseTTAModel):
        model = model.module
    return model


def check_model_keys(model: nn.Module, state: Mapping[str, torch.Tensor],
                     filename: str) -> None:
    """Refuse a state dict that does not fit ``model`` exactly.

    Raises:
        CheckpointError: Missing or unexpected keys, or another shape; the
            message names ``filename``, the counts and the first keys.
    """
    problems, _ = state_dict_problems(_unwrap(model).state_dict(), state)
    if problems:
        raise CheckpointError(
            f'checkpoint {filename} does not fit the model of this config: ' +
            '; '.join(problems) + '. Was it trained with another config?')


def load_checkpoint_strict(model: nn.Module,
                           filename: str,
                           trust: bool = False,
                           map_location: MapLocation = 'cpu',
                           revise_keys: Sequence[Tuple[str, str]] = (
                               DEFAULT_REVISE_KEYS),
                           checkpoint: Optional[Mapping] = None) -> dict:
    """Load a trained checkpoint into ``model``, refusing what does not fit.

    The safe, strict counterpart of ``mmengine.runner.load_checkpoint``: the
    file is read with :func:`read_checkpoint` (no code runs unless
    ``trust``), its keys are checked with :func:`check_model_keys`, and
    ``meta.dataset_meta`` (classes, palette) becomes ``model.dataset_meta``,
    as MMSeg's ``init_model`` does (ESC-Net's default vocabulary).

    Args:
        model (Module): The model built from the config (may be wrapped in DDP
            or ``SegTTAModel``).
        filename (str): Checkpoint path.
        trust (bool): Allow full pickle loading (see :func:`read_checkpoint`).
            Defaults to False.
        map_location (MapLocation): As for ``torch.load``. Defaults to 'cpu'.
        revise_keys (Sequence[tuple[str, str]]): ``(pattern, replacement)``
            applied to the keys. Defaults to ``DEFAULT_REVISE_KEYS`` (strips
            DDP's ``module.`` prefix).
        checkpoint (Mapping, optional): Already read contents of ``filename``
            (skips reading). Defaults to None.

    Returns:
        dict: The checkpoint dict (``meta``, ``state_dict``, ...).

    Raises:
        CheckpointError: Unreadable, refused or not fitting; the model is
            left untouched in all three cases.
    """
    if checkpoint is None:
        checkpoint = read_checkpoint(filename, trust, map_location)
    state = model_state_dict(checkpoint, revise_keys)
    check_model_keys(model, state, filename)
    _unwrap(model).load_state_dict(state, strict=True)
    meta = checkpoint.get('meta') or {}
    if isinstance(meta, Mapping) and meta.get('dataset_meta'):
        _unwrap(model).dataset_meta = dict(meta['dataset_meta'])
    return dict(checkpoint)
