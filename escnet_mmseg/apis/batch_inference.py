"""Segment many images into files: what ``tools/infer.py`` runs.

Every check on the user's input (files, class names, existing outputs) runs
before the model is loaded; an image that cannot be read fails alone.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from ..utils import UserError
from .batch_outputs import output_paths, refuse_existing, write_outputs
from .class_names import read_vocabulary
from .image_inputs import collect_images, read_image
from .label_summary import summarize
from .loading import load_inferencer, predict_labels, require_model_files
from .protocol import DEFAULT_TEST_MODE


@dataclass
class BatchResult:
    """What :func:`segment_images` did.

    Attributes:
        summaries (list[dict]): One per image segmented, with its ``image``
            path (the content of its ``.json``).
        failures (list[str]): One message per image that failed.
    """

    summaries: List[dict] = field(default_factory=list)
    failures: List[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.summaries) + len(self.failures)

    def raise_failures(self) -> None:
        """Raise when an image failed.

        Raises:
            UserError: ``<n> of <total> images failed: <messages>``.
        """
        if self.failures:
            raise UserError(f'{len(self.failures)} of {self.total} images '
                            f'failed: ' + '; '.join(self.failures))


def _segment_one(inferencer, path: str, paths: Dict[str, str],
                 opacity: float) -> dict:
    image = read_image(path)
    labels = predict_labels(inferencer, image)
    meta = inferencer.model.dataset_meta
    summary = dict(image=path, **summarize(labels, meta['classes']))
    write_outputs(image, labels, summary, meta['palette'], paths, opacity)
    return summary


def segment_images(inputs: Sequence[str],
                   out_dir: str,
                   config: str,
                   checkpoint: str,
                   classes: Optional[Sequence[str]] = None,
                   classes_file: Optional[str] = None,
                   device: Optional[str] = None,
                   overwrite: bool = False,
                   overlay: bool = True,
                   opacity: float = 0.5,
                   chunk: Optional[int] = None,
                   test_mode: Optional[str] = DEFAULT_TEST_MODE,
                   cfg_options: Optional[dict] = None,
                   trust_checkpoint: bool = False,
                   progress: bool = True) -> BatchResult:
    """Segment images and write a label map, an overlay and a summary each.

    Args:
        inputs (Sequence[str]): Image files, folders or glob patterns (see
            :func:`~escnet_mmseg.apis.collect_images`).
        out_dir (str): The output folder; images found in a folder keep
            their sub-folder (see :mod:`~escnet_mmseg.apis.batch_outputs`).
        config (str): Config file.
        checkpoint (str): Trained checkpoint (loaded strictly).
        classes (Sequence[str], optional): The vocabulary. Defaults to None.
        classes_file (str, optional): A file with one class per line, used
            when ``classes`` is None; neither: the checkpoint's classes.
            Defaults to None.
        device (str, optional): Device. Defaults to None (CUDA if any).
        overwrite (bool): Replace existing outputs; otherwise any existing
            output stops everything before the model is loaded. Defaults to
            False.
        overlay (bool): Write the overlays. Defaults to True.
        opacity (float): Weight of the colours in the overlays. Defaults to
            0.5.
        chunk (int, optional): Classes run at a time. Defaults to None.
        test_mode (str, optional): As
            :class:`~escnet_mmseg.apis.OpenVocabInferencer`. Defaults to
            ``'slide_global'``.
        cfg_options (dict, optional): Config overrides. Defaults to None.
        trust_checkpoint (bool): Unpickle the checkpoint fully. Defaults to
            False.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        BatchResult: The summaries and the images that failed.

    Raises:
        UserError: A bad input, class name or checkpoint, or an existing
            output without ``overwrite``.
    """
    require_model_files(config, checkpoint)
    names = read_vocabulary(classes, classes_file)
    images = collect_images(inputs, out_dir)
    plan = [output_paths(out_dir, name, overlay) for _, name in images]
    if not overwrite:
        refuse_existing(p for paths in plan for p in paths.values())
    inferencer = load_inferencer(config, checkpoint, names, device, chunk,
                                 trust_checkpoint, test_mode, cfg_options)
    jobs = list(zip([path for path, _ in images], plan))
    if progress:
        from rich.progress import track
        jobs = track(jobs, description='Segmenting')
    result = BatchResult()
    for path, paths in jobs:
        try:
            result.summaries.append(
                _segment_one(inferencer, path, paths, opacity))
        except UserError as e:
            result.failures.append(str(e))
    return result
