"""A hook for the end-to-end tests: kill training right after a checkpoint.

Imported by the training subprocess through ``custom_imports``.
"""
import os
import signal

from mmengine.hooks import Hook
from mmseg.registry import HOOKS


@HOOKS.register_module()
class KillAfterIterHook(Hook):
    """SIGKILL the process after iteration ``iters`` (1-based) has ended,
    i.e. after the checkpoint hook saved that iteration: a crash at a known
    point, without timing."""
    priority = 'LOWEST'  # after CheckpointHook (VERY_LOW)

    def __init__(self, iters: int) -> None:
        self.iters = iters

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        if runner.iter + 1 == self.iters:
            os.kill(os.getpid(), signal.SIGKILL)
