"""Launch helpers shared by tools/train.py and tools/test.py."""
import torch
import torch.distributed as dist


def setup_cpu_distributed(cfg) -> None:
    """Let a distributed run work on machines without GPUs (gloo on CPU).

    MMEngine's launcher calls ``torch.cuda.set_device`` and wraps the model
    with ``device_ids=[LOCAL_RANK]``; both fail without CUDA. On such a
    machine the process group is created here with gloo (MMEngine then skips
    its own set-up) and the DDP wrapper gets ``device_ids=None``.
    """
    if cfg.get('launcher', 'none') == 'none' or torch.cuda.is_available():
        return
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel',
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    cfg.model_wrapper_cfg['device_ids'] = None
