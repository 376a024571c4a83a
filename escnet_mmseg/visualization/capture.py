"""Forward hooks that record what the ESC blocks compute."""
from typing import Dict, List

from torch import Tensor, nn


def _copy(t: Tensor) -> Tensor:
    # A CPU copy: later in-place work on the model's tensor cannot alter it.
    return t.detach().to('cpu', copy=True)


class PromptCapture:
    """Records C0 and every ESC block's PPG inputs and outputs.

    A context manager around a forward pass of an :class:`ESCNeck`: forward
    hooks copy tensors (detached, to the CPU) and return nothing, so the
    model's outputs are unchanged; the hooks are removed on exit. Each call
    of the neck (one per view) is one entry of :attr:`passes`::

        with PromptCapture(model.neck) as capture:
            model.predict(inputs, samples)
        capture.passes[0]['blocks'][k]['points']   # (B, T, K, 2)

    Args:
        neck (nn.Module): The :class:`ESCNeck` to watch.

    Attributes:
        passes (list[dict]): Per neck call: ``corr``, the cosine correlation
            C0 (B, T, h, w) that enters block 0, and ``blocks``, a dict from
            block index to the record of its PPG: ``score`` (B, T, h, w) the
            score map it got (``tau * C0`` for block 0), and its outputs
            ``prob`` (B, T, h, w), ``points`` (B, T, K, 2) grid (x, y),
            ``point_labels`` (B, T, K), ``labels`` (B, T, h*w) cluster id or
            -1, ``mask_prompt`` (B, T, h, w). Blocks without a PPG (no SAM
            block) have no record.
    """

    def __init__(self, neck: nn.Module) -> None:
        self.neck = neck
        self.passes: List[Dict] = []
        self._handles = []

    def __enter__(self) -> 'PromptCapture':
        self._handles.append(
            self.neck.register_forward_pre_hook(self._new_pass))
        self._handles.append(self.neck.blocks[0].register_forward_pre_hook(
            self._block0_input))
        for k, block in enumerate(self.neck.blocks):
            self._handles.append(
                block.ppg.register_forward_hook(self._ppg_hook(k)))
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _new_pass(self, module: nn.Module, args: tuple) -> None:
        self.passes.append(dict(corr=None, blocks={}))

    def _block0_input(self, module: nn.Module, args: tuple) -> None:
        # Block 0 runs once per class chunk on the same (B, T, 1, h, w) C0.
        if self.passes[-1]['corr'] is None:
            self.passes[-1]['corr'] = _copy(args[0][:, :, 0])

    def _ppg_hook(self, index: int):

        def hook(module: nn.Module, args: tuple,
                 outputs: Dict[str, Tensor]) -> None:
            record = {k: _copy(v) for k, v in outputs.items()}
            record['score'] = _copy(args[0])
            self.passes[-1]['blocks'][index] = record

        return hook
