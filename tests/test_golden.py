"""The tiny ESC-Net still computes the stored golden logits.

A refactor or a speed-up must keep them. Only an intentional change of the
model's function may regenerate them (``python tests/data/make_golden.py``,
see tests/data/README.md), and the commit says why.
"""
import json

import pytest
import torch

from tests.golden import (GOLDEN_FILE, REGENERATE, VARIANTS, golden_logits,
                          golden_model)
from tests.tolerance import NETWORK, max_abs_diff, record, tolerance


@pytest.fixture(scope='module')
def golden():
    return json.loads(GOLDEN_FILE.read_text())['variants']


@pytest.mark.parametrize('variant', sorted(VARIANTS))
def test_logits_equal_golden(golden, variant, tmp_path):
    assert variant in golden, f'no golden for {variant}: run {REGENERATE}'
    want = golden[variant]
    logits = golden_logits(golden_model(variant, tmp_path))
    assert list(logits.shape) == want['shape']
    got = logits.flatten()[torch.tensor(want['index'])]
    means = logits.mean(dim=(2, 3)).flatten()
    values = torch.tensor(want['values'])
    err = max(
        max_abs_diff(got, values),
        max_abs_diff(means, torch.tensor(want['class_means'])))
    # float32 through the whole network, on the scale of the logits stored.
    tol = tolerance(NETWORK, values.abs().max())
    record(variant, err, tol)
    assert err <= tol, (
        f'tiny ESC-Net "{variant}" logits moved by {err:.3g} (> {tol:.3g}) '
        f'from '
        f'{GOLDEN_FILE.name}. A refactor must keep them; if the change of '
        f'the function is intentional, regenerate with `{REGENERATE}` and '
        'say why in the commit message.')
