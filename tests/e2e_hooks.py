"""For the end-to-end tests: a hook that kills training right after a
checkpoint, and a planted bug for checking the learning test.

Imported by the training subprocess through ``custom_imports``.
"""
import os
import signal

import numpy as np
from mmengine.hooks import Hook
from mmseg.registry import HOOKS, TRANSFORMS


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


@TRANSFORMS.register_module()
class ShuffleLabelIds:
    """A planted bug for checking the learning test: the class ids present in
    each training sample are permuted at random among themselves, so names
    and regions no longer match and nothing can be learned."""

    def __call__(self, results: dict) -> dict:
        seg = results['gt_seg_map']
        ids = np.unique(seg[seg != 255])
        lut = np.arange(256, dtype=seg.dtype)
        lut[ids] = np.random.permutation(ids)
        results['gt_seg_map'] = lut[seg]
        return results
