"""Wall-clock timing on a shared machine: synchronised runs, and two
models timed in alternation."""
import time
from typing import Callable, List, Optional, Sequence, Tuple

import torch
from torch import nn


def sync(device: str) -> None:
    """Wait for the device's queued work (CUDA), so a timer sees it."""
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def alternating_times(
    models: Sequence[nn.Module],
    run: Callable,
    repeats: int,
    device: str,
    after_warm_up: Optional[Callable] = None
) -> Tuple[list, Tuple[List[float], ...]]:
    """Time ``run(model)`` for two models, in the order AB, BA, AB, ... so
    that drifts of the machine (clock, other load) fall on both.

    Args:
        models (Sequence[nn.Module]): The two models.
        run (Callable): ``run(model)`` runs one forward pass.
        repeats (int): Timed runs of each model.
        device (str): Synchronised around each run.
        after_warm_up (Callable, optional): Called between the warm-up runs
            and the timed ones. Defaults to None.

    Returns:
        tuple: The outputs of the untimed warm-up run of each model (text
        cache, kernels, autotuning) and two lists of seconds per run.
    """
    times = ([], [])
    with torch.no_grad():
        outs = [run(m) for m in models]
        if after_warm_up is not None:
            after_warm_up()
        for r in range(repeats):
            for i in ((0, 1) if r % 2 == 0 else (1, 0)):
                sync(device)
                start = time.perf_counter()
                run(models[i])
                sync(device)
                times[i].append(time.perf_counter() - start)
    return outs, times
