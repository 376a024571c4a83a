#!/usr/bin/env bash
# GPU check of the PPG op, for a CUDA machine with only torch + triton (no
# mmcv/MMSeg, no network; pytest is needed for the tests):
#
#   bash tools/gpu_check.sh            # or PYTHON=/path/to/python bash ...
#
# 1. prints the card, torch, CUDA and triton versions;
# 2. runs the `cuda`-marked op tests (tests/ops load escnet_mmseg.ops
#    without the MMSeg side, see tests/ops/conftest.py): the compiled Triton
#    kernel against the PyTorch reference;
# 3. runs tools/benchmark_ppg.py --device cuda (reference vs Triton);
# 4. prints a summary. Takes a few minutes; writes nothing outside $OUT_DIR
#    (default: a temporary folder).
# Exit status: 0 when every step passed, 1 otherwise.
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
OUT_DIR=${OUT_DIR:-$(mktemp -d)}
mkdir -p "$OUT_DIR"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
status=0

echo "== environment"
if ! "$PY" - <<'PYEOF'
import sys
import torch
print('python', sys.version.split()[0], '| torch', torch.__version__,
      '| CUDA', torch.version.cuda)
try:
    import triton
    print('triton', triton.__version__)
except ImportError:
    print('triton: not installed (the Triton kernel cannot run)')
if not torch.cuda.is_available():
    sys.exit('no CUDA device visible to torch')
for i in range(torch.cuda.device_count()):
    p = torch.cuda.get_device_properties(i)
    print(f'cuda:{i}', p.name, f'{p.total_memory / 2**30:.0f} GiB',
          f'sm_{p.major}{p.minor}')
PYEOF
then
    echo "gpu_check: no usable CUDA device, stopping"
    exit 1
fi

echo "== cuda-marked op tests (tests/ops -m cuda)"
tests="not run"
if "$PY" -c "import pytest" 2>/dev/null; then
    if "$PY" -m pytest tests/ops -m cuda -q -p no:cacheprovider \
        --junitxml="$OUT_DIR/ops_cuda.xml" 2>&1 | tee "$OUT_DIR/ops_cuda.log"
    then
        tests="passed"
    else
        tests="FAILED"
        status=1
    fi
    tests="$tests ($(tail -n 1 "$OUT_DIR/ops_cuda.log"))"
else
    tests="not run: pytest is not installed (pip install pytest)"
    status=1
fi

echo "== tools/benchmark_ppg.py --device cuda"
if "$PY" tools/benchmark_ppg.py --device cuda --repeats 20 \
    --json "$OUT_DIR/ppg_cuda.json" 2>&1 | tee "$OUT_DIR/ppg_cuda.log"; then
    bench="done"
else
    bench="FAILED"
    status=1
fi

echo "== summary"
echo "op tests:  $tests"
echo "benchmark: $bench (table above; JSON in $OUT_DIR/ppg_cuda.json)"
echo "record the card and the table in docs/benchmark_ppg.md"
exit $status
