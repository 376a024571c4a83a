"""The ``escnet::pseudo_prompts`` custom op: registration, fake impl, compile,
autograd."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch._subclasses.fake_tensor import FakeTensorMode

from escnet_mmseg.ops import pseudo_prompts, pseudo_prompts_reference

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def assert_same(got, want):
    for a, b in zip(got, want, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert torch.equal(a, b)


def test_registered_with_defaults():
    schema = str(torch.ops.escnet.pseudo_prompts.default._schema)
    assert schema.startswith(
        'escnet::pseudo_prompts(Tensor prob, float alpha=0.5, ')
    assert 'num_points=5' in schema and 'iters=10' in schema


def test_cpu_dispatch_equals_reference():
    prob = torch.rand(7, 24, 24)
    want = pseudo_prompts_reference(prob, 0.5, 5, 10)
    assert_same(pseudo_prompts(prob), want)
    assert_same(torch.ops.escnet.pseudo_prompts(prob, 0.5, 5, 10), want)
    assert_same(
        pseudo_prompts(prob, alpha=0.4, num_points=3, iters=2),
        pseudo_prompts_reference(prob, 0.4, 3, 2))


def test_fake_impl_shapes_on_meta_and_fake_tensors():
    labels, points, valid = pseudo_prompts(
        torch.empty(6, 24, 20, device='meta'), num_points=4)
    assert labels.shape == (6, 480) and labels.dtype == torch.int64
    assert points.shape == (6, 4, 2) and points.dtype == torch.float32
    assert valid.shape == (6, 4) and valid.dtype == torch.bool
    assert labels.device.type == 'meta'
    with FakeTensorMode() as mode:
        fake = mode.from_tensor(torch.rand(3, 5, 7, dtype=torch.float16))
        labels, points, valid = torch.ops.escnet.pseudo_prompts(
            fake, 0.5, 6, 10)
    assert labels.shape == (3, 35) and points.shape == (
        3, 6, 2) and valid.shape == (3, 6)
    assert points.dtype == torch.float32


def test_opcheck():
    prob = torch.rand(4, 9, 9, requires_grad=True)
    torch.library.opcheck(torch.ops.escnet.pseudo_prompts.default,
                          (prob, 0.5, 5, 10))


def test_outputs_are_not_differentiable_and_grads_flow_around_them():
    prob = torch.rand(3, 8, 8, requires_grad=True)
    labels, points, valid = pseudo_prompts(prob)
    assert not points.requires_grad and points.grad_fn is None
    mask = prob * (labels.view_as(prob) >= 0
                   )  # the dense mask prompt of the design
    mask.sum().backward()
    assert torch.equal(prob.grad, (labels.view_as(prob) >= 0).float())


def _compile_and_check(backend: str, dynamic: bool) -> None:
    torch._dynamo.reset()

    @torch.compile(backend=backend, fullgraph=True, dynamic=dynamic)
    def fn(logits):
        prob = logits.softmax(dim=0)
        labels, points, valid = torch.ops.escnet.pseudo_prompts(
            prob, 0.5, 5, 10)
        return prob, labels, points + 0.5, valid

    for shape in ((12, 24, 24), (9, 16, 20)):
        logits = (torch.randn(shape) * 5).requires_grad_()
        prob, labels, points, valid = fn(logits)
        want = pseudo_prompts_reference(prob, 0.5, 5, 10)
        assert_same((labels, points - 0.5, valid), want)
        # Gradients reach the logits through the caller's use of prob only.
        (prob * (labels.view_as(prob) >= 0)).sum().backward()
        assert logits.grad is not None and logits.grad.shape == shape


@pytest.mark.parametrize('dynamic', [False, True])
def test_torch_compile_aot_eager(dynamic):
    _compile_and_check('aot_eager', dynamic)


@pytest.mark.skipif(
    shutil.which('c++') is None and shutil.which('g++') is None,
    reason='inductor on CPU needs a C++ compiler')
def test_torch_compile_inductor_cpu():
    _compile_and_check('inductor', False)


@pytest.mark.parametrize('kwargs,match', [
    (dict(prob=torch.rand(2, 4, 4, 4)), '3-D'),
    (dict(num_points=0), 'num_points'),
    (dict(iters=-2), 'iters'),
    (dict(alpha=1.5), 'alpha'),
])
def test_invalid_arguments(kwargs, match):
    args = dict(prob=torch.rand(1, 4, 4), alpha=0.5, num_points=5, iters=10)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        pseudo_prompts(**args)


TORCH_ONLY_SCRIPT = r'''
import sys
sys.path.insert(0, sys.argv[1])
# A box with torch only: triton and the MMSeg stack cannot be imported.
for name in ('triton', 'mmcv', 'mmseg', 'mmengine', 'open_clip'):
    sys.modules[name] = None
from _ppg_standalone import import_ops
ops = import_ops(standalone=True)
import torch
assert not ops.HAS_TRITON
prob = torch.rand(5, 12, 12)
got = ops.pseudo_prompts(prob)
want = ops.pseudo_prompts_reference(prob)
assert all(torch.equal(a, b) for a, b in zip(got, want))
try:
    ops.pseudo_prompts_triton(prob)
except RuntimeError as exc:
    assert 'triton' in str(exc)
else:
    raise AssertionError('expected RuntimeError')
print('TORCH-ONLY OK')
'''


def test_ops_import_and_run_with_torch_only():
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [str(ROOT)] + [p for p in [os.environ.get('PYTHONPATH')] if p])
    env.pop('TRITON_INTERPRET', None)
    proc = subprocess.run([sys.executable, '-c', TORCH_ONLY_SCRIPT,
                           str(HERE)],
                          cwd=ROOT,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0 and 'TORCH-ONLY OK' in proc.stdout, \
        proc.stdout + proc.stderr


@pytest.mark.cuda
@pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason='needs a CUDA GPU: checks the CUDA dispatch of the op')
def test_cuda_dispatch_and_fallback():
    prob = torch.rand(16, 24, 24)
    for k in (
            5, 9
    ):  # K=9 is beyond the Triton kernel and uses the reference on CUDA
        got = pseudo_prompts(prob.cuda(), num_points=k)
        assert all(t.is_cuda for t in got)
        assert_same([t.cpu() for t in got],
                    pseudo_prompts_reference(prob, 0.5, k, 10))
