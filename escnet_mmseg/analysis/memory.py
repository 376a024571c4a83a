"""Peak memory: CUDA's allocator statistics, or the process's RSS on a
CPU (Linux)."""
import resource

import torch


def cpu_peak_mib() -> float:
    """Peak RSS of this process so far, MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_kib() -> dict:
    """``VmRSS`` (now) and ``VmHWM`` (peak) of this process, KiB."""
    with open('/proc/self/status') as f:
        fields = dict(line.split(':', 1) for line in f if ':' in line)
    return {k: int(fields[k].split()[0]) for k in ('VmRSS', 'VmHWM')}


def reset_peak_rss() -> None:
    """Start a new peak-RSS window (Linux >= 4.0), so that the peak of
    what ran before (e.g. the text encoding) does not count."""
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')


def reset_cuda_peak() -> float:
    """Synchronise, reset CUDA's peak statistics and return what is
    allocated now, MiB (the base a peak is measured over)."""
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    return torch.cuda.memory_allocated() / 2**20


def cuda_peak_mib() -> float:
    """CUDA's max allocated since the last reset, MiB."""
    return torch.cuda.max_memory_allocated() / 2**20


def memory_ratio(peak_mib: float, base_mib: float) -> float:
    """``peak_mib / base_mib``; NaN when the base peak is 0 (a small model
    whose build peaked higher than what is measured)."""
    return peak_mib / base_mib if base_mib else float('nan')
