"""Drawing results: MMSeg's visualizer for any memory layout, and the
overlay with a legend that ``tools/infer.py`` writes.

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

from ..utils import primary_name
from .inference import Palette


@VISUALIZERS.register_module()
class ContiguousSegVisualizer(SegLocalVisualizer):
    """``SegLocalVisualizer`` that makes the image C-contiguous first."""

    def _draw_sem_seg(self, image: np.ndarray, *args, **kwargs) -> np.ndarray:
        return super()._draw_sem_seg(
            np.ascontiguousarray(image), *args, **kwargs)


def paint_labels(image_rgb: np.ndarray, labels: np.ndarray, palette: Palette,
                 opacity: float) -> np.ndarray:
    """Blend the class colours over the image (MMSeg's visualizer formula).

    Args:
        image_rgb (np.ndarray): (H, W, 3) uint8.
        labels (np.ndarray): (H, W) class indices.
        palette (Palette): One RGB colour per class.
        opacity (float): Weight of the colours, 0 to 1.

    Returns:
        np.ndarray: (H, W, 3) uint8.
    """
    colours = np.asarray(palette, dtype=np.float32)[labels]
    return (image_rgb * (1 - opacity) + colours * opacity).astype(np.uint8)


def draw_legend(height: int, summary: dict, palette: Palette) -> np.ndarray:
    """A white RGB panel listing the classes present: colour, name, share.

    Args:
        height (int): Height of the image it goes next to; the panel is
            taller when its rows need more.
        summary (dict): From :func:`~escnet_mmseg.apis.summarize`.
        palette (Palette): One RGB colour per class.

    Returns:
        np.ndarray: (H', W', 3) uint8.
    """
    from PIL import Image, ImageDraw, ImageFont
    rows = summary['present']
    row = int(np.clip(height / max(len(rows), 8), 14, 32))
    font = ImageFont.load_default(size=int(row * 0.7))
    texts = [
        f'{primary_name(r["name"])}  {100 * r["share"]:.1f}%' for r in rows
    ]
    probe = ImageDraw.Draw(Image.new('RGB', (1, 1)))
    text_w = max(probe.textlength(t, font=font) for t in texts)
    width = int(row * 1.6 + text_w + row * 0.5)
    panel = Image.new('RGB', (width, max(height,
                                         row * len(rows) + row // 2)), 'white')
    draw = ImageDraw.Draw(panel)
    for i, (r, text) in enumerate(zip(rows, texts)):
        y = row // 4 + i * row
        swatch = [
            row // 4, y + row // 8, row // 4 + row * 3 // 4, y + row * 7 // 8
        ]
        draw.rectangle(swatch, fill=tuple(palette[r['id']]), outline='black')
        draw.text((row * 1.3, y + row // 2),
                  text,
                  fill='black',
                  font=font,
                  anchor='lm')
    return np.asarray(panel)


def draw_overlay(image_rgb: np.ndarray, labels: np.ndarray, summary: dict,
                 palette: Palette, opacity: float) -> np.ndarray:
    """The painted image with the legend on its right.

    Args:
        image_rgb (np.ndarray): (H, W, 3) uint8.
        labels (np.ndarray): (H, W) class indices.
        summary (dict): From :func:`~escnet_mmseg.apis.summarize`.
        palette (Palette): One RGB colour per class.
        opacity (float): Weight of the colours, 0 to 1.

    Returns:
        np.ndarray: (max(H, H'), W + W', 3) uint8, white where empty.
    """
    painted = paint_labels(image_rgb, labels, palette, opacity)
    legend = draw_legend(painted.shape[0], summary, palette)
    canvas = np.full((max(painted.shape[0], legend.shape[0]),
                      painted.shape[1] + legend.shape[1], 3), 255, np.uint8)
    canvas[:painted.shape[0], :painted.shape[1]] = painted
    canvas[:legend.shape[0], painted.shape[1]:] = legend
    return canvas
