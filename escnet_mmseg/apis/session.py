"""One model serving requests whose vocabulary changes (the web demo)."""
from typing import List, Optional, Tuple

import numpy as np

from ..utils import UserError
from .class_names import parse_class_text
from .image_inputs import to_rgb
from .inferencer import OpenVocabInferencer
from .label_summary import summarize
from .loading import predict_labels
from .visualizer import paint_labels


class VocabularySession:
    """Serves every request with one model; only the vocabulary changes.

    Typing the same names again keeps the cached text embeddings. Requests
    must be served one at a time: the vocabulary is the model's state.

    Args:
        inferencer (OpenVocabInferencer): The model.

    Attributes:
        present (list[str]): The classes found by the last segmentation,
            largest first.
    """

    def __init__(self, inferencer: OpenVocabInferencer) -> None:
        self.inferencer = inferencer
        self.present: List[str] = []

    @property
    def names(self) -> List[str]:
        """The current vocabulary."""
        return list(self.inferencer.model.dataset_meta['classes'])

    def use(self, image: Optional[np.ndarray], names_text: str) -> np.ndarray:
        """Switch to the typed vocabulary.

        Args:
            image (np.ndarray, optional): The uploaded image (grey, RGB or
                RGBA).
            names_text (str): Class names, one per line or separated by
                ``;`` (see :func:`~escnet_mmseg.apis.parse_class_text`).

        Returns:
            np.ndarray: The image as RGB uint8 (H, W, 3).

        Raises:
            UserError: No image, or bad class names.
        """
        if image is None:
            raise UserError('upload or pick an image first')
        names = parse_class_text(names_text)
        if names != self.names:  # same names: keep the cached embeddings
            self.inferencer.set_vocabulary(names)
        return to_rgb(image)

    def segment(self,
                image: Optional[np.ndarray],
                names_text: str,
                opacity: float = 0.5) -> Tuple[np.ndarray, dict]:
        """Segment one image with the typed names.

        Args:
            image (np.ndarray, optional): As :meth:`use`.
            names_text (str): As :meth:`use`.
            opacity (float): Weight of the class colours. Defaults to 0.5.

        Returns:
            tuple[np.ndarray, dict]: The painted RGB image and the summary
                (:func:`~escnet_mmseg.apis.summarize`).

        Raises:
            UserError: No image, or bad class names.
        """
        rgb = self.use(image, names_text)
        labels = predict_labels(self.inferencer, rgb[..., ::-1].copy())
        meta = self.inferencer.model.dataset_meta
        summary = summarize(labels, meta['classes'])
        self.present = [r['name'] for r in summary['present']]
        return paint_labels(rgb, labels, meta['palette'], opacity), summary

    def explain(self, image: Optional[np.ndarray], names_text: str,
                name: Optional[str]) -> np.ndarray:
        """What the model saw of class ``name``: the figure of
        :func:`escnet_mmseg.visualization.draw_class`.

        Args:
            image (np.ndarray, optional): As :meth:`use`.
            names_text (str): As :meth:`use`.
            name (str, optional): The class to draw.

        Returns:
            np.ndarray: The figure as RGB uint8 (H', W', 3).

        Raises:
            UserError: No image, no class picked, bad class names, or a
                class that is not in them.
        """
        from ..visualization import draw_class, explain, figure_to_rgb
        if not name:
            raise UserError('press Segment first, then pick one of the '
                            'classes it found')
        rgb = self.use(image, names_text)
        try:
            expl = explain(self.inferencer, rgb[..., ::-1].copy(), show=[name])
        except ValueError as e:
            raise UserError(str(e)) from None
        return figure_to_rgb(draw_class(expl, name))
