"""Safe loading of the CLIP and SAM weight files.

Both loaders read with ``torch.load(..., weights_only=True)`` (no pickled code
is executed; OpenAI's TorchScript CLIP archives go through ``torch.jit.load``
as in open_clip) and name every missing key, so a wrong or truncated file
fails loudly instead of leaving randomly initialised layers behind.
"""
import os.path as osp
import zipfile
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import torch
from torch import nn

StateDict = Dict[str, torch.Tensor]

# Containers that training frameworks wrap a state dict in.
_WRAPPER_KEYS = ('state_dict', 'model', 'module')
# Non-weight entries of OpenAI's CLIP archives (open_clip drops them too).
_OPENAI_METADATA_KEYS = ('input_resolution', 'context_length', 'vocab_size')


def load_state_dict_file(path: str) -> StateDict:
    """Read a state dict from a ``.pth``/``.pt``/``.bin`` or ``.safetensors``
    file, or from a TorchScript archive (OpenAI's original CLIP ``.pt``).

    Args:
        path (str): Local file path.

    Returns:
        StateDict: The (unwrapped) state dict, tensors on CPU.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        ValueError: the file does not hold a mapping of tensors.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint file not found: {path}')
    if path.endswith('.safetensors'):
        from safetensors.torch import load_file
        state = load_file(path, device='cpu')
    elif is_torchscript_archive(path):
        state = load_torchscript_state_dict(path)
    else:
        try:
            state = torch.load(path, map_location='cpu', weights_only=True)
        except Exception as exc:  # noqa: BLE001 - re-raised with the file name
            raise ValueError(
                f'cannot read {path} as a weights-only torch checkpoint: '
                f'{exc}') from exc
    for key in _WRAPPER_KEYS:
        if isinstance(state, Mapping) and isinstance(state.get(key), Mapping):
            state = state[key]
    if not isinstance(state, Mapping) or not all(
            isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f'{path} does not contain a state dict of tensors')
    return dict(state)


def is_torchscript_archive(path: str) -> bool:
    """Whether ``path`` is a TorchScript archive (a zip holding compiled
    code), as OpenAI's original CLIP ``.pt`` files are."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(
            name.endswith('/constants.pkl') for name in archive.namelist())


def load_torchscript_state_dict(path: str) -> StateDict:
    """The state dict of a TorchScript archive in open_clip's layout.

    OpenAI's CLIP archives name their tensors as open_clip's ``CLIP`` does,
    store most weights in float16 and add three metadata entries; this is
    what ``open_clip.load_openai_model`` unpacks with
    ``build_model_from_openai_state_dict``. Loading runs the archive's
    TorchScript (not arbitrary pickled Python), like open_clip does.

    Returns:
        StateDict: Tensors on CPU, floating point ones in float32, without the
            ``input_resolution``/``context_length``/``vocab_size`` entries.
    """
    try:
        state = torch.jit.load(path, map_location='cpu').state_dict()
    except Exception as exc:  # noqa: BLE001 - re-raised with the file name
        raise ValueError(
            f'cannot read {path} as a TorchScript archive: {exc}') from exc
    return {
        k: v.float() if v.is_floating_point() else v
        for k, v in state.items() if k not in _OPENAI_METADATA_KEYS
    }


def extract_prefix(state: Mapping[str, torch.Tensor],
                   prefix: str) -> StateDict:
    """Entries of ``state`` under ``prefix`` with the prefix stripped."""
    return {
        k[len(prefix):]: v
        for k, v in state.items() if k.startswith(prefix)
    }


_SHOW_KEYS = 5  # keys named in an error message


def _keys(keys: Sequence[str]) -> str:
    shown = ', '.join(keys[:_SHOW_KEYS])
    more = len(keys) - _SHOW_KEYS
    return shown + (f', ... ({more} more)' if more > 0 else '')


def state_dict_problems(
    own: Mapping[str, torch.Tensor],
    state: Mapping[str, object],
    ignore_unexpected: Iterable[str] = ()
) -> Tuple[List[str], bool]:
    """The strict key check of every loader: what keeps ``state`` from
    fitting a module whose state dict is ``own``.

    Args:
        own (Mapping[str, Tensor]): The module's ``state_dict()``.
        state (Mapping[str, object]): The state dict to load.
        ignore_unexpected (Iterable[str]): Key prefixes that may be present
            but unused. Defaults to ().

    Returns:
        tuple[list[str], bool]: One sentence per kind of problem (missing
            keys, unexpected keys, other shapes: the count and the first
            keys), and whether any key is missing or unexpected.
    """
    ignore = tuple(ignore_unexpected)
    missing = [k for k in own if k not in state]
    unexpected = [
        k for k in state
        if k not in own and not (ignore and k.startswith(ignore))
    ]
    problems = []
    if missing:
        problems.append(f'{len(missing)} weights of the model are missing '
                        f'from it ({_keys(missing)})')
    if unexpected:
        problems.append(f'{len(unexpected)} weights in it are not in the '
                        f'model ({_keys(unexpected)})')
    wrong = [
        f'{k}: {tuple(state[k].shape)} in the file, {tuple(v.shape)} in the '
        f'model' for k, v in own.items()
        if k in state and hasattr(state[k], 'shape')
        and tuple(state[k].shape) != tuple(v.shape)
    ]
    if wrong:
        problems.append(f'{len(wrong)} weights have another shape '
                        f'({_keys(wrong)})')
    return problems, bool(missing or unexpected)


def load_into(module: nn.Module,
              state: Mapping[str, torch.Tensor],
              source: str,
              ignore_unexpected: Iterable[str] = ()) -> None:
    """Load ``state`` into ``module``, failing on missing keys by name.

    Args:
        module (Module): Target module.
        state (Mapping[str, Tensor]): State dict whose keys match
            ``module.state_dict()``.
        source (str): Where the weights came from (file and prefix), for
            errors.
        ignore_unexpected (Iterable[str]): Key prefixes that may be present but
            unused. Defaults to ().

    Raises:
        KeyError: Keys of ``module`` that ``state`` lacks, or keys of
            ``state`` that ``module`` does not have (except ignored ones);
            the message is :func:`state_dict_problems`'.
        ValueError: Only shapes differ.
    """
    own = module.state_dict()
    problems, keys = state_dict_problems(own, state, ignore_unexpected)
    if problems:
        error = KeyError if keys else ValueError
        raise error(f'{source} does not fit {type(module).__name__}: ' +
                    '; '.join(problems))
    module.load_state_dict({k: state[k] for k in own}, strict=True)


def load_sam_checkpoint(path: str, prompt_encoder: Optional[nn.Module],
                        blocks: Mapping[int, Iterable[nn.Module]]) -> None:
    """Load SAM's prompt encoder and two-way attention layers.

    Args:
        path (str): A SAM checkpoint such as ``sam_vit_b_01ec64.pth``.
        prompt_encoder (Module, optional): Receives ``prompt_encoder.*``
            (skipped when None).
        blocks (Mapping[int, Iterable[Module]]): Maps a SAM mask-decoder layer
            id (0 or 1) to the modules initialised from
            ``mask_decoder.transformer.layers.<id>.*``.
    """
    state = load_state_dict_file(path)
    if prompt_encoder is not None:
        load_into(prompt_encoder, extract_prefix(state, 'prompt_encoder.'),
                  f'{path} [prompt_encoder.*]')
    for layer_id, modules in blocks.items():
        prefix = f'mask_decoder.transformer.layers.{layer_id}.'
        sub = extract_prefix(state, prefix)
        for module in modules:
            load_into(module, sub, f'{path} [{prefix}*]')
