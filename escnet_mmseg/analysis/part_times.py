"""Wall time per part of a model, summed over calls, by forward hooks.

Where the time of ESC-Net goes next to its no-SAM ablation: the CLIP image
tower, and in the ESC blocks the PPG, the SAM blocks, the VLF and the rest
(prompt encoding, score maps), then the decoder. Hooks time each module's
forward from its pre- to its post-hook (synchronised on CUDA); a module run
once per chunk of classes adds up. Hooks see module calls only: time
``ESCNet.view_logits`` (which calls the decode head as a module), not
MMSeg's ``_forward`` (which calls its ``forward`` method).
"""
import time
from typing import Dict, List, Tuple

from torch import nn

from .timing import sync


def _parts(model: nn.Module) -> Dict[str, List[nn.Module]]:
    blocks = model.neck.blocks
    parts = dict(
        clip_image=[model.backbone],
        esc_blocks=[model.neck],
        ppg=[b.ppg for b in blocks if b.sam_block is not None],
        sam_block=[b.sam_block for b in blocks if b.sam_block is not None],
        vlf=[b.vlf for b in blocks],
        decoder=[model.decode_head])
    return {k: v for k, v in parts.items() if v}


class PartTimer:
    """Seconds per part of an ESC-Net model, accumulated until
    :meth:`reset`.

    Args:
        model (nn.Module): An :class:`ESCNet`.
        device (str): Synchronised around every timed forward.
    """

    def __init__(self, model: nn.Module, device: str) -> None:
        self.device = device
        self.totals: Dict[str, float] = {}
        self.calls = 0
        self._handles = []
        for name, modules in _parts(model).items():
            self.totals[name] = 0.
            for module in modules:
                self._hook(name, module)

    def _hook(self, name: str, module: nn.Module) -> None:
        starts: List[float] = []

        def pre(*_):
            sync(self.device)
            starts.append(time.perf_counter())

        def post(*_):
            sync(self.device)
            self.totals[name] += time.perf_counter() - starts.pop()

        self._handles += [
            module.register_forward_pre_hook(pre),
            module.register_forward_hook(post)
        ]

    def reset(self) -> None:
        """Forget what was timed so far (e.g. a warm-up run)."""
        self.totals = dict.fromkeys(self.totals, 0.)

    def per_run(self, runs: int) -> Dict[str, float]:
        """Seconds per run of each part, and ``esc_blocks_other``: the ESC
        blocks' time outside the PPG, SAM block and VLF."""
        out = {k: v / runs for k, v in self.totals.items()}
        inner = sum(out.get(k, 0.) for k in ('ppg', 'sam_block', 'vlf'))
        out['esc_blocks_other'] = out['esc_blocks'] - inner
        return out

    def remove(self) -> None:
        """Remove every hook."""
        for handle in self._handles:
            handle.remove()
        self._handles = []


def format_parts(parts: Tuple[Dict[str, float], Dict[str, float]]) -> str:
    """Per-part seconds of models a and b, and b - a."""
    names = [k for k in parts[1] if k in parts[0]
             ] + [k for k in parts[1] if k not in parts[0]]
    lines = [f'  {"part":<18}{"a s/img":>9}{"b s/img":>9}{"b - a":>9}']
    for k in names:
        a, b = parts[0].get(k, 0.), parts[1].get(k, 0.)
        lines.append(f'  {k:<18}{a:9.3f}{b:9.3f}{b - a:+9.3f}')
    return '\n'.join(lines)
