#!/usr/bin/env bash
# GPU check of ESC-Net, for a CUDA machine with Python 3.12, torch + triton
# and a few common packages, but no mmcv/MMSeg and no network:
#
#   make wheelhouse                    # beforehand, where PyPI is reachable
#   bash tools/gpu_check.sh            # or PYTHON=/path/to/python bash ...
#   bash tools/gpu_check.sh --device cpu --small   # the CPU part, anywhere
#
# 1. prints the card, torch, CUDA and triton versions;
# 2. installs the wheels of .wheelhouse/ (`make wheelhouse`: mmcv-lite,
#    MMEngine, MMSeg, open_clip, segment-anything and their pure-Python
#    dependencies) with `pip install --no-index --no-deps --target` into a
#    temporary folder on PYTHONPATH, when MMSeg is not importable;
# 3. runs the `cuda`-marked op tests (tests/ops load escnet_mmseg.ops
#    without the MMSeg side, see tests/ops/conftest.py): the compiled Triton
#    kernel against the PyTorch reference (CUDA only);
# 4. runs tools/analysis_tools/benchmark_ppg.py (reference vs Triton, timed);
# 5. runs `tools/analysis_tools/benchmark.py gpu-report` with random weights: ESC-Net
#    ViT-B/16 and ViT-L/14 against their no-SAM ablations (one crop and the
#    5-view slide_global protocol; 150 and 847 classes; fp32 and bf16) and
#    the peak memory of one ViT-L/14 training step at 171 classes (with and
#    without with_cp, fp32 and AMP), within BUDGET_S seconds (default 240);
#    writes $OUT_DIR/gpu_report.md, the tables for docs/efficiency.md;
# 6. prints a summary. About 6 minutes on a recent GPU; writes nothing
#    outside $OUT_DIR (default: $OUT, else a temporary folder) and the
#    temporary wheel folder.
# Options: --device DEV (default cuda), --small (the tiny synthetic config
# instead of ViT-B/L: checks the tool, e.g. on a CPU).
# Exit status: 0 when every step passed, 1 otherwise.
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-$(command -v python3 || command -v python)}
OUT_DIR=${OUT_DIR:-${OUT:-$(mktemp -d)}}
BUDGET_S=${BUDGET_S:-240}
DEVICE=cuda
SMALL=
while [ $# -gt 0 ]; do
    case "$1" in
        --device) DEVICE=$2; shift 2 ;;
        --small) SMALL=--small; shift ;;
        *) echo "gpu_check: unknown option $1"; exit 2 ;;
    esac
done
mkdir -p "$OUT_DIR"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
status=0

echo "== environment"
if ! DEVICE=$DEVICE "$PY" - <<'PYEOF'
import os
import sys
import torch
print('python', sys.version.split()[0], '| torch', torch.__version__,
      '| CUDA', torch.version.cuda)
try:
    import triton
    print('triton', triton.__version__)
except ImportError:
    print('triton: not installed (the Triton kernel cannot run)')
if not os.environ['DEVICE'].startswith('cuda'):
    sys.exit(0)
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

echo "== MMSeg stack"
STACK_CHECK="import mmcv, mmengine, mmseg, open_clip, segment_anything, ftfy"
wheels="already installed"
if ! "$PY" -c "$STACK_CHECK" 2>/dev/null; then
    if ls .wheelhouse/*.whl >/dev/null 2>&1; then
        WHEEL_SITE=${WHEEL_SITE:-$(mktemp -d)/site}
        if "$PY" -m pip install --disable-pip-version-check --no-index \
            --no-deps --target "$WHEEL_SITE" .wheelhouse/*.whl \
            >"$OUT_DIR/wheelhouse.log" 2>&1; then
            export PYTHONPATH="$PYTHONPATH:$WHEEL_SITE"
            wheels="installed from .wheelhouse into $WHEEL_SITE"
        else
            wheels="FAILED to install .wheelhouse (see $OUT_DIR/wheelhouse.log)"
        fi
    else
        wheels="missing, and no .wheelhouse/ (run make wheelhouse)"
    fi
fi
if "$PY" -c "import escnet_mmseg; $STACK_CHECK; import mmseg.models" \
    2>"$OUT_DIR/stack.log"; then
    echo "MMSeg stack: $wheels"
else
    wheels="$wheels; import FAILED ($(tail -n 1 "$OUT_DIR/stack.log"))"
    echo "MMSeg stack: $wheels"
    status=1
fi

tests="not run (CPU)"
if [ "${DEVICE#cuda}" != "$DEVICE" ]; then
    echo "== cuda-marked op tests (tests/ops -m cuda)"
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
fi

echo "== tools/analysis_tools/benchmark_ppg.py --device $DEVICE"
ppg_args=(--repeats 20)
[ -n "$SMALL" ] && ppg_args=(--repeats 2 --naive-repeats 1 --sizes 171)
if "$PY" tools/analysis_tools/benchmark_ppg.py --device "$DEVICE" "${ppg_args[@]}" \
    --json "$OUT_DIR/ppg.json" 2>&1 | tee "$OUT_DIR/ppg.log"; then
    bench="done"
else
    bench="FAILED"
    status=1
fi

echo "== tools/analysis_tools/benchmark.py gpu-report --device $DEVICE $SMALL"
report_args=()
[ -n "$SMALL" ] && report_args=(--small --repeats 1)
if "$PY" tools/analysis_tools/benchmark.py gpu-report --device "$DEVICE" "${report_args[@]}" \
    --budget-s "$BUDGET_S" --ppg-json "$OUT_DIR/ppg.json" \
    --out "$OUT_DIR/gpu_report.md" --json "$OUT_DIR/gpu_report.json" \
    >"$OUT_DIR/gpu_report.log" 2>&1 && [ -s "$OUT_DIR/gpu_report.md" ]; then
    cat "$OUT_DIR/gpu_report.md"
    report="done"
    grep -q "| error |\|^Errors:" "$OUT_DIR/gpu_report.md" && \
        { report="done, with errors (see the table)"; status=1; }
else
    tail -n 30 "$OUT_DIR/gpu_report.log"
    report="FAILED (see $OUT_DIR/gpu_report.log)"
    status=1
fi

echo "== summary"
echo "MMSeg stack: $wheels"
echo "op tests:    $tests"
echo "PPG bench:   $bench (JSON in $OUT_DIR/ppg.json)"
echo "report:      $report ($OUT_DIR/gpu_report.md)"
echo "record the tables in docs/efficiency.md and docs/benchmark_ppg.md"
exit $status
