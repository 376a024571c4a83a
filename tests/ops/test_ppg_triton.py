"""The fused Triton PPG kernel must equal the PyTorch reference bit for bit.

On CPU the kernel runs under ``TRITON_INTERPRET=1``, which has to be set before
triton is first imported, so those comparisons run in one subprocess for the
whole module.
"""
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from _ppg_cases import CASES, make_maps

from escnet_mmseg.ops import (ppg_triton, pseudo_prompts,
                              pseudo_prompts_reference)
from escnet_mmseg.ops.ppg_triton import HAS_TRITON, pseudo_prompts_triton

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

needs_triton = pytest.mark.skipif(
    not HAS_TRITON, reason='needs the triton package')
needs_cuda = pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason='needs a CUDA GPU: compares the compiled Triton kernel with the '
    'reference')

SCRIPT = r'''
import json, sys
sys.path.insert(0, sys.argv[1])
from _ppg_standalone import import_ops
ops = import_ops(standalone=True)
import torch
from _ppg_cases import CASES, make_maps
from escnet_mmseg.ops import ppg_triton
assert type(ppg_triton._ppg_kernel).__name__ == 'InterpretedFunction'
results = {}
cases = enumerate(sorted(CASES.items()))
for seed, (name, (kind, shape, k, iters, alpha, dtype)) in cases:
    prob = make_maps(kind, shape, dtype, seed)
    try:
        got = ops.pseudo_prompts_triton(prob, alpha, k, iters)
        want = ops.pseudo_prompts_reference(prob, alpha, k, iters)
        bad = [n for n, a, b in zip(('labels', 'points', 'valid'), got, want)
               if a.dtype != b.dtype or a.shape != b.shape or not
               torch.equal(a, b)]
        results[name] = 'ok' if not bad else 'mismatch in ' + ', '.join(bad)
    except Exception as exc:  # report per case
        results[name] = 'error: ' + repr(exc)
print('RESULTS=' + json.dumps(results))
'''


@pytest.fixture(scope='module')
def interpreter_results(tmp_path_factory):
    """Run every case through the Triton interpreter in one fresh process."""
    tmp = tmp_path_factory.mktemp('ppg_interp')
    (tmp / 'run.py').write_text(SCRIPT)
    env = dict(os.environ, TRITON_INTERPRET='1')
    env['PYTHONPATH'] = os.pathsep.join(
        [str(ROOT)] + [p for p in [os.environ.get('PYTHONPATH')] if p])
    proc = subprocess.run(
        [sys.executable, str(tmp / 'run.py'),
         str(HERE)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600)
    lines = [
        ln for ln in proc.stdout.splitlines() if ln.startswith('RESULTS=')
    ]
    assert proc.returncode == 0 and lines, proc.stdout + proc.stderr
    return json.loads(lines[-1][len('RESULTS='):])


@needs_triton
@pytest.mark.parametrize('name', sorted(CASES))
def test_interpreted_kernel_equals_reference(interpreter_results, name):
    assert interpreter_results[name] == 'ok'


@needs_triton
@pytest.mark.parametrize('kwargs,match', [
    (dict(prob=torch.rand(1, 65, 64)), 'h\\*w <= 4096'),
    (dict(num_points=9), 'num_points <= 8'),
    (dict(iters=-1), 'iters'),
    (dict(prob=torch.rand(2, 4)), '3-D'),
])
def test_kernel_limits(kwargs, match):
    args = dict(prob=torch.rand(1, 8, 8), alpha=0.5, num_points=5, iters=10)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        pseudo_prompts_triton(**args)


@needs_triton
def test_kernel_compiles_for_sm90_without_a_gpu():
    """Lower the production configuration (24x24, K=5) through ptxas for an
    H100 target."""
    import triton
    try:
        from triton.backends.compiler import GPUTarget
        from triton.compiler import ASTSource
    except ImportError:
        pytest.skip('this triton has no ASTSource/GPUTarget API')
    kernel = ppg_triton._ppg_kernel
    if not hasattr(kernel, 'constexprs'):
        pytest.skip('triton runs in interpreter mode in this process')
    types = ['*fp32', '*i64', '*fp32', '*i8', 'i32', 'i32', 'fp32']
    consts = {'K': 5, 'ITERS': 10, 'NB': 1024, 'KB': 8}
    names = kernel.arg_names
    if 'constexprs' in inspect.signature(ASTSource.__init__).parameters:
        # triton >= 3.3: arguments by name, constexprs in the signature
        signature = dict(zip(names, types), **{k: 'constexpr' for k in consts})
        source = ASTSource(fn=kernel, signature=signature, constexprs=consts)
    else:  # triton 3.0 (torch 2.4): arguments by index
        source = ASTSource(
            fn=kernel,
            signature=dict(enumerate(types)),
            constants={
                names.index(k): v
                for k, v in consts.items()
            })
    compiled = triton.compile(
        source, target=GPUTarget('cuda', 90, 32), options={'num_warps': 4})
    assert 'ptx' in compiled.asm and 'cubin' in compiled.asm


@pytest.mark.cuda
@needs_cuda
@needs_triton
@pytest.mark.parametrize('name', sorted(CASES))
def test_cuda_kernel_equals_reference(name):
    kind, shape, k, iters, alpha, dtype = CASES[name]
    prob = make_maps(kind, shape, dtype, seed=123)
    got = pseudo_prompts_triton(prob.cuda(), alpha, k, iters)
    want = pseudo_prompts_reference(prob, alpha, k, iters)
    for a, b in zip(got, want):
        assert a.is_cuda and a.dtype == b.dtype
        assert torch.equal(a.cpu(), b)


@pytest.mark.cuda
@needs_cuda
@needs_triton
def test_cuda_large_batch_and_dispatch():
    prob = make_maps('softmax', (847 * 2, 24, 24), 'float32', seed=5)
    want = pseudo_prompts_reference(prob, 0.5, 5, 10)
    for got in (pseudo_prompts_triton(prob.cuda()),
                pseudo_prompts(prob.cuda()),
                torch.ops.escnet.pseudo_prompts(prob.cuda(), 0.5, 5, 10)):
        for a, b in zip(got, want):
            assert torch.equal(a.cpu(), b)
    # The reference also runs on CUDA (fallback beyond the kernel limits) and
    # agrees.
    for a, b in zip(pseudo_prompts_reference(prob.cuda(), 0.5, 5, 10), want):
        assert torch.equal(a.cpu(), b)


@pytest.mark.cuda
@needs_cuda
@needs_triton
def test_cuda_torch_compile():

    @torch.compile(fullgraph=True)
    def fn(logits):
        prob = logits.softmax(dim=0)
        labels, points, valid = torch.ops.escnet.pseudo_prompts(
            prob, 0.5, 5, 10)
        return prob, labels, points + 0.5, valid

    prob, labels, points, valid = fn(
        torch.randn(64, 24, 24, device='cuda') * 5)
    want = pseudo_prompts_reference(prob.cpu())
    for a, b in zip((labels, points - 0.5, valid), want):
        assert a.is_cuda and torch.equal(a.cpu(), b)
