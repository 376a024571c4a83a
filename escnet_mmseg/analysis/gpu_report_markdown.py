"""The ``gpu-report`` results (:func:`.gpu_report.gpu_report`) as the
markdown tables of docs/efficiency.md."""
from typing import List


def _fmt(row: dict, key: str, fmt: str) -> str:
    if 'error' in row:
        return 'error'
    if 'skipped' in row:
        return 'skipped'
    return format(row[key], fmt)


def _ppg_table(ppg: dict) -> List[str]:
    lines = [
        '**PPG op** (`tools/analysis_tools/benchmark_ppg.py`; the Triton '
        'kernel was checked equal to the torch reference in the same run):',
        '', '| maps | method | time [ms] | ms/map | speed-up vs naive |',
        '|---|---|---|---|---|'
    ]
    lines += [
        f'| {r["maps"]} | {r["method"]} | {1e3 * r["seconds"]:.2f} | '
        f'{r["ms_per_map"]:.4f} | {r["speedup_vs_naive"]:.1f}x |'
        for r in ppg['results']
    ]
    return lines + ['']


def _inference_table(res: dict) -> List[str]:
    lines = [
        f'**Inference**, seconds per image (median of {res["repeats"]} '
        f'alternating runs); `whole`: one CLIP-size crop, `slide_global`: '
        f'CAT-Seg\'s views of a {res["slide_image"][0]}x'
        f'{res["slide_image"][1]} image in one batch:', '',
        '| model | classes | test mode (views) | dtype | no SAM [s] | '
        'ESC-Net [s] | ESC-Net / no SAM | peak GiB |',
        '|---|---|---|---|---|---|---|---|'
    ]
    for r in res['inference']:
        if 'classes' not in r:
            lines.append(f'| {r["model"]} | skipped: {r["skipped"]} |||||||')
            continue
        peak = _fmt(r, 'peak_gib', '.1f') if 'peak_gib' in r or \
            'error' in r or 'skipped' in r else '-'
        lines.append(f'| {r["model"]} | {r["classes"]} | {r["mode"]} '
                     f'({r["views"]}) | {r["dtype"]} | '
                     f'{_fmt(r, "no_sam_s", ".3f")} | '
                     f'{_fmt(r, "escnet_s", ".3f")} | '
                     f'{_fmt(r, "ratio", ".2f")} | {peak} |')
    return lines


def _train_table(res: dict) -> List[str]:
    lines = [
        '', f'**Training step** (forward + backward of the loss, batch 1, '
        f'one crop), peak memory {res["train_memory_what"]}:', '',
        '| config | classes | with_cp | AMP | peak MiB | s/step |',
        '|---|---|---|---|---|---|'
    ]
    lines += [
        f'| `{r["model"]}` | {r["classes"]} | '
        f'{"yes" if r["with_cp"] else "no"} | '
        f'{"yes" if r["amp"] else "no"} | '
        f'{_fmt(r, "peak_mib", ".0f")} | '
        f'{_fmt(r, "seconds", ".2f")} |' for r in res['train']
    ]
    return lines


def report_markdown(res: dict) -> str:
    """The ``gpu-report`` results as markdown for docs/efficiency.md."""
    env = res['environment']
    lines = [
        f'Measured by `tools/gpu_check.sh` (`tools/analysis_tools/'
        f'benchmark.py gpu-report{" --small" if res["small"] else ""}`): '
        f'{env["device_name"]}, torch {env["torch"]} (CUDA {env["cuda"]}), '
        f'triton {env["triton"]}, Python {env["python"]}; random weights.', ''
    ]
    if res.get('ppg'):
        lines += _ppg_table(res['ppg'])
    lines += _inference_table(res) + _train_table(res)
    errors = [r for r in res['inference'] + res['train'] if 'error' in r]
    if errors:
        lines += ['', 'Errors:'] + [f'- {r}' for r in errors]
    return '\n'.join(lines) + '\n'
