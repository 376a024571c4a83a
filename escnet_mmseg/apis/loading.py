"""Loading a model for the tools: every failure a user can cause is a
:class:`~escnet_mmseg.utils.UserError`."""
from typing import Optional, Sequence

import numpy as np

from ..utils import UserError, require_file
from .inferencer import OpenVocabInferencer
from .protocol import DEFAULT_TEST_MODE


def require_model_files(config: str, checkpoint: str) -> None:
    """Refuse a config or checkpoint path that is not a file.

    Raises:
        UserError: ``config file not found: ...`` (or checkpoint).
    """
    require_file(config, 'config file')
    require_file(checkpoint, 'checkpoint file')


def load_inferencer(config: str,
                    checkpoint: str,
                    classes: Optional[Sequence[str]] = None,
                    device: Optional[str] = None,
                    chunk: Optional[int] = None,
                    trust_checkpoint: bool = False,
                    test_mode: Optional[str] = DEFAULT_TEST_MODE,
                    cfg_options: Optional[dict] = None) -> OpenVocabInferencer:
    """An :class:`OpenVocabInferencer` whose checkpoint must fit the config.

    Args:
        config (str): Config file.
        checkpoint (str): Trained checkpoint, read without unpickling code
            unless ``trust_checkpoint`` and loaded strictly.
        classes (Sequence[str], optional): The vocabulary; None: the
            checkpoint's. Defaults to None.
        device (str, optional): ``'cpu'``, ``'cuda:0'``, ...; None: CUDA when
            available. Defaults to None.
        chunk (int, optional): Classes run at a time
            (``model.test_cfg.class_chunk_size``). Defaults to None.
        trust_checkpoint (bool): Unpickle the checkpoint fully. Defaults to
            False.
        test_mode (str, optional): As :class:`OpenVocabInferencer`. Defaults
            to ``'slide_global'``.
        cfg_options (dict, optional): Config overrides, applied last.
            Defaults to None.

    Returns:
        OpenVocabInferencer: Without its own progress bar (callers show one
            over all their images).

    Raises:
        UserError: A missing file, a checkpoint that is unreadable, unsafe,
            does not fit the config, or stores no class names while none
            are given.
    """
    require_model_files(config, checkpoint)
    try:
        inferencer = OpenVocabInferencer(
            config,
            weights=checkpoint,
            classes=classes,
            device=device,
            trust_checkpoint=trust_checkpoint,
            test_mode=test_mode,
            cfg_options=cfg_options)
    except ValueError as e:
        if 'stores no class names' in str(e):
            raise UserError(f'the checkpoint {checkpoint} stores no class '
                            f'names: pass --classes') from None
        raise
    inferencer.show_progress = False
    if chunk is not None:
        inferencer.model.test_cfg['class_chunk_size'] = chunk
    return inferencer


def predict_labels(inferencer: OpenVocabInferencer,
                   image_bgr: np.ndarray) -> np.ndarray:
    """The label map of one image, at the image's size.

    Args:
        inferencer (OpenVocabInferencer): The model and its vocabulary.
        image_bgr (np.ndarray): (H, W, 3) uint8, BGR.

    Returns:
        np.ndarray: (H, W) int64 class indices.
    """
    sample = inferencer(image_bgr, return_datasamples=True)
    return sample.pred_sem_seg.data[0].cpu().numpy()
