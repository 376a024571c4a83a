"""Wall-clock timing on a shared machine: synchronised runs, and two
models timed in alternation."""
import time
from typing import Callable, List, Sequence, Tuple

import torch
from torch import nn


def sync(device: str) -> None:
    """Wait for the device's queued work (CUDA), so a timer sees it."""
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def alternating_times(models: Sequence[nn.Module], run: Callable, repeats: int,
                      device: str) -> Tuple[list, Tuple[List[float], ...]]:
    """Time ``run(model)`` for two models, in the order AB, BA, AB, ... so
    that drifts of the machine (clock, other load) fall on both.

    Args:
        models (Sequence[nn.Module]): The two models.
        run (Callable): ``run(model)`` runs one forward pass.
        repeats (int): Timed runs of each model.
        device (str): Synchronised around each run.

    Returns:
        tuple: The outputs of the untimed warm-up run of each model (text
        cache, kernels, autotuning) and two lists of seconds per run.
    """
    times = ([], [])
    with torch.no_grad():
        outs = [run(m) for m in models]
        for r in range(repeats):
            for i in ((0, 1) if r % 2 == 0 else (1, 0)):
                sync(device)
                start = time.perf_counter()
                run(models[i])
                sync(device)
                times[i].append(time.perf_counter() - start)
    return outs, times
