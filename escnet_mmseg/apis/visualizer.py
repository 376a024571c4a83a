"""MMSeg's visualizer, accepting images of any memory layout.

MMSeg 1.2.2's ``SegLocalVisualizer`` paints the class labels with OpenCV on
``np.zeros_like(image)``, which keeps the image's memory layout. MMSeg's
``tools/misc/browse_dataset.py`` hands it ``inputs.permute(1, 2, 0)`` (an
(H, W, 3) view of a (3, H, W) tensor: channel-planar), so ``cv2.rectangle``
fails with "Layout of the output array img is incompatible with cv::Mat"
(every dataset, every OpenCV 4.x). Every config of this project selects
this class (``configs/_base_/default_runtime.py``), so MMSeg's tool works:

    python mmseg/.mim/tools/misc/browse_dataset.py CONFIG --not-show \\
        --output-dir vis
"""
import numpy as np
from mmseg.registry import VISUALIZERS
from mmseg.visualization import SegLocalVisualizer


@VISUALIZERS.register_module()
class ContiguousSegVisualizer(SegLocalVisualizer):
    """``SegLocalVisualizer`` that makes the image C-contiguous first."""

    def _draw_sem_seg(self, image: np.ndarray, *args, **kwargs) -> np.ndarray:
        return super()._draw_sem_seg(
            np.ascontiguousarray(image), *args, **kwargs)
