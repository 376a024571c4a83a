"""Tolerances from the dtype and the scale of what is compared.

Two float computations of one function that differ only in the order of
their sums (another CPU kernel: AVX-512, AVX2 or plain; another batch,
chunk or thread layout) differ by a few units in the last place of the
values being summed, not of the result: a sum of terms of size ``s`` that
cancels to nearly zero still carries rounding of order ``eps * s``. So a
comparison is

    max |actual - expected| <= ulps * eps(dtype) * scale

with ``scale`` the largest magnitude among the reference values (or, for a
result that is a sum of larger terms, the size of those terms) and ``ulps``
growing with the depth of the computation. The rule and the budgets are in
tests/README.md.
"""
import json
import os
from typing import Optional, Union

import torch

# Budgets in units of eps(dtype) x scale (float32: eps = 1.19e-7).
OP = 16  # one layer / reduction: an attention, a conv, a loss
BLOCK = 128  # a few layers: a SAM block, a VLF, the decoder head
NETWORK = 1024  # a whole model (CLIP + blocks + head), goldens


def tolerance(ulps: int,
              scale: float,
              dtype: torch.dtype = torch.float32) -> float:
    """The bound ``ulps * eps(dtype) * scale``.

    Args:
        ulps (int): The budget in units of ``eps(dtype) * scale``.
        scale (float): The magnitude of the values compared (or summed,
            when that exceeds the result's).
        dtype (torch.dtype): The precision the computation ran in.
            Defaults to torch.float32.

    Returns:
        float: The largest allowed absolute difference.
    """
    return ulps * torch.finfo(dtype).eps * float(scale)


def _record(msg, err: float, tol: float) -> None:
    """Append the comparison to $TOLERANCE_LOG (JSON lines), if set, so the
    deviations measured on a machine can be tabulated."""
    path = os.environ.get('TOLERANCE_LOG')
    if path:
        test = os.environ.get('PYTEST_CURRENT_TEST', '?').split(' ')[0]
        with open(path, 'a') as f:
            f.write(
                json.dumps(dict(test=test, msg=str(msg), err=err, tol=tol)) +
                '\n')


def max_abs_diff(actual: torch.Tensor, expected: torch.Tensor) -> float:
    """Largest absolute difference, computed in float64."""
    return (actual.detach().double() -
            expected.detach().double()).abs().max().item()


def assert_close(actual: torch.Tensor,
                 expected: torch.Tensor,
                 ulps: int = OP,
                 scale: Optional[float] = None,
                 dtype: Optional[torch.dtype] = None,
                 msg: Union[str, tuple, None] = None) -> None:
    """Assert ``max |actual - expected| <= ulps * eps(dtype) * scale``.

    Args:
        actual (Tensor): Computed values.
        expected (Tensor): Reference values of the same shape.
        ulps (int): The budget, see :data:`OP`, :data:`BLOCK`,
            :data:`NETWORK`. Defaults to OP.
        scale (float, optional): The magnitude of the values summed, when
            it exceeds the result's. Defaults to None (the largest magnitude
            of ``expected``).
        dtype (torch.dtype, optional): The precision the computation ran
            in. Defaults to None (``actual``'s dtype).
        msg (str | tuple, optional): Context for the failure message.
            Defaults to None.
    """
    assert actual.shape == expected.shape, (msg, actual.shape, expected.shape)
    err = max_abs_diff(actual, expected)
    if scale is None:
        scale = expected.detach().abs().max().item()
    tol = tolerance(ulps, scale, dtype or actual.dtype)
    _record(msg, err, tol)
    assert err <= tol, (
        f'{msg or "values"}: max |difference| {err:.3g} > {tol:.3g} '
        f'({ulps} eps x scale {scale:.3g})')


def assert_argmax_equal(labels: torch.Tensor,
                        scores: torch.Tensor,
                        tol: float,
                        dim: int = 0) -> None:
    """Assert ``labels == scores.argmax(dim)`` wherever the best score leads
    the second best by more than ``2 * tol``.

    Where two classes tie within the comparison's tolerance, either label is
    the same function evaluated in another order; everywhere else the labels
    must agree exactly.

    Args:
        labels (Tensor): Computed label map.
        scores (Tensor): Reference scores with the classes along ``dim``.
        tol (float): The tolerance the scores were compared with.
        dim (int): The class dimension of ``scores``. Defaults to 0.
    """
    top2 = scores.topk(2, dim=dim).values
    gap = top2.select(dim, 0) - top2.select(dim, 1)
    decided = gap > 2 * tol
    assert labels.shape == decided.shape, (labels.shape, decided.shape)
    wrong = (labels != scores.argmax(dim=dim)) & decided
    assert not wrong.any(), (
        f'{int(wrong.sum())} labels differ where the scores lead by more '
        f'than {2 * tol:.3g}')
    assert decided.float().mean() > 0.9, 'too many near-ties to compare'
