"""One figure per class: rows = ESC blocks, columns = the PPG steps."""
import re
from typing import Dict, Sequence

import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from torch import Tensor

from .explain import BlockPrompts, Explanation

# The PPG steps of a block row (the paper's Fig. 3), left to right.
BLOCK_STEPS = ('score map', 'probability P', 'foreground', 'k-means regions',
               'mask prompt', 'pseudo points')
# The first row: what goes into block 0 and what comes out of the network.
SUMMARY_STEPS = ('image', 'cosine correlation', 'final probability',
                 'label map')
PANEL_INCHES = 2.7
REGION_CMAP = 'tab10'


def _show_grid(ax: Axes, expl: Explanation, values: Tensor, **kwargs):
    """A (h, w) grid map over the image frame, cells kept visible."""
    if isinstance(values, Tensor):
        values = values.numpy()
    image = ax.imshow(
        values, extent=expl.grid_extent, interpolation='nearest', **kwargs)
    _image_frame(ax, expl)
    return image


def _image_frame(ax: Axes, expl: Explanation) -> None:
    h, w = expl.image.shape[:2]
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    ax.set_xticks([])
    ax.set_yticks([])


def _with_scale(fig: Figure, ax: Axes, image) -> None:
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03)


def _gray(image: np.ndarray) -> np.ndarray:
    return image.mean(axis=-1).astype(np.uint8)


def draw_regions(fig: Figure, ax: Axes, expl: Explanation, block: BlockPrompts,
                 c: int) -> None:
    """The k-means regions of class ``c`` over the grey image (one colour
    per region, nothing outside them)."""
    k = block.points.shape[1]
    ax.imshow(_gray(expl.image), cmap='gray', alpha=0.5)
    labels = np.ma.masked_less(block.labels[c].numpy(), 0)
    image = _show_grid(
        ax, expl, labels, cmap=REGION_CMAP, vmin=-0.5, vmax=9.5, alpha=0.8)
    bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
    bar.set_ticks(range(k))
    bar.set_ticklabels([str(i + 1) for i in range(k)])
    bar.ax.set_ylim(-0.5, k - 0.5)


def draw_points(ax: Axes, expl: Explanation, block: BlockPrompts,
                c: int) -> None:
    """The pseudo points of class ``c`` on the image, numbered as their
    regions; a hollow marker is a point that fills a slot of an empty region
    (the op's highest-probability pixel not chosen yet). Boxes when used."""
    ax.imshow(expl.image)
    _image_frame(ax, expl)
    valid = block.point_labels[c] > 0
    index = torch.arange(len(valid))[valid]
    xy = expl.grid_to_image(block.points[c][valid].double()).numpy()
    in_region = [bool((block.labels[c] == i).any()) for i in index.tolist()]
    colours = colormaps[REGION_CMAP](index.numpy() % 10)
    faces = [
        col if inside else 'none' for col, inside in zip(colours, in_region)
    ]
    ax.scatter(
        xy[:, 0], xy[:, 1], s=70, c=faces, edgecolors='white', linewidths=1.5)
    for i, (x, y) in zip(index.tolist(), xy):
        ax.annotate(
            str(i + 1), (x, y),
            xytext=(5, 5),
            textcoords='offset points',
            color='white',
            fontsize=8,
            fontweight='bold')
    if block.boxes is not None:
        for i in index.tolist():
            (x0, y0), (x1, y1) = expl.grid_to_image(
                block.boxes[c, i].double().view(2, 2) +
                torch.tensor([[-0.5, -0.5], [0.5, 0.5]])).tolist()
            ax.add_patch(
                Rectangle((x0, y0),
                          x1 - x0,
                          y1 - y0,
                          fill=False,
                          edgecolor=colours[i % len(colours)],
                          linewidth=1.5))


def _draw_block(fig: Figure, axes: Sequence[Axes], expl: Explanation, k: int,
                c: int) -> None:
    block = expl.blocks[k]
    score, prob, fore, regions, mask, points = axes
    step = f'score map $S_{k}$' if k else r'score map $\tau\,C_0$'
    _with_scale(fig, score, _show_grid(score, expl, block.score[c]))
    score.set_title(step)
    _with_scale(fig, prob,
                _show_grid(prob, expl, block.prob[c], vmin=0, vmax=1))
    prob.set_title('probability P')
    _show_grid(fore, expl, block.foreground[c], cmap='gray', vmin=0, vmax=1)
    fore.set_title(f'foreground P > {block.alpha:g}')
    draw_regions(fig, regions, expl, block, c)
    regions.set_title('k-means regions')
    # Symmetric around logit 0 (P = 0.5), SAM's mask threshold.
    lim = float(block.mask_prompt[c].abs().max())
    _with_scale(
        fig, mask,
        _show_grid(
            mask,
            expl,
            block.mask_prompt[c],
            cmap='coolwarm',
            vmin=-lim,
            vmax=lim))
    mask.set_title('mask prompt')
    draw_points(points, expl, block, c)
    points.set_title('pseudo points' +
                     (' and boxes' if block.boxes is not None else ''))


def _draw_summary(fig: Figure, axes: Sequence[Axes], expl: Explanation,
                  c: int) -> None:
    image, corr, final, label_map = axes
    image.imshow(expl.image)
    _image_frame(image, expl)
    image.set_title('image')
    _with_scale(fig, corr, _show_grid(corr, expl, expl.corr[c]))
    corr.set_title('cosine correlation $C_0$')
    shown = expl.shown.index(expl.classes[c])
    _with_scale(
        fig, final,
        final.imshow(
            expl.final_prob[shown].numpy(), vmin=0, vmax=1, cmap='magma'))
    _image_frame(final, expl)
    final.set_title('final probability')
    mine = (expl.label_map == c).numpy()
    palette = np.asarray(expl.palette, dtype=np.float64)
    painted = 0.5 * expl.image + 0.5 * palette[expl.label_map.numpy()]
    label_map.imshow(painted.astype(np.uint8))
    if mine.any():
        label_map.contour(mine, levels=[0.5], colors='white', linewidths=1.5)
    _image_frame(label_map, expl)
    label_map.set_title(f'label map ({100 * mine.mean():.1f}% of the image)')


def draw_class(expl: Explanation, name: str, dpi: int = 100) -> Figure:
    """The figure of one class: a first row (image, C0, final probability,
    label map) and one row per ESC block (:data:`BLOCK_STEPS`).

    Every panel's title ends with the class name and, in block rows, the
    block index.

    Args:
        expl (Explanation): From :func:`explain`, with ``name`` among its
            ``shown`` classes.
        name (str): The class.
        dpi (int): Resolution. Defaults to 100.

    Returns:
        Figure: A matplotlib figure (no pyplot state, safe in threads).

    Raises:
        ValueError: ``name`` is not in the vocabulary or was not kept by
            :func:`explain` (``show``).
    """
    c = expl.index(name)
    if expl.classes[c] not in expl.shown:
        raise ValueError(f'class "{name}" was not among the classes to show '
                         f'when the image was explained')
    name = expl.classes[c]
    rows, cols = 1 + len(expl.blocks), len(BLOCK_STEPS)
    h, w = expl.image.shape[:2]
    fig = Figure(
        figsize=(cols * PANEL_INCHES, rows * (PANEL_INCHES * h / w + 0.5)),
        dpi=dpi,
        layout='constrained')
    axes = fig.subplots(rows, cols, squeeze=False)
    _draw_summary(fig, axes[0, :len(SUMMARY_STEPS)], expl, c)
    for ax in axes[0, len(SUMMARY_STEPS):]:
        ax.set_axis_off()
    for k in range(len(expl.blocks)):
        _draw_block(fig, axes[k + 1], expl, k, c)
    for r, row in enumerate(axes):
        for ax in row:
            if ax.get_title():
                where = f'block {r - 1} | ' if r else ''
                ax.set_title(f'{where}{ax.get_title()}\n{name}', fontsize=9)
    fig.suptitle(f'"{name}": rows = ESC blocks, columns = the pseudo prompt '
                 f'generator\'s steps')
    return fig


def figure_to_rgb(fig: Figure) -> np.ndarray:
    """Render a figure to an RGB uint8 array (H, W, 3)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def figure_names(stem: str, names: Sequence[str]) -> Dict[str, str]:
    """File names ``<stem>_<class>.png`` of the class figures, unique
    (``"wall, walls"`` -> ``<stem>_wall_walls.png``; the vocabulary index is
    appended where two names would collide)."""
    slugs = [re.sub(r'\W+', '_', n).strip('_') or 'class' for n in names]
    return {
        n: f'{stem}_{s}' + (f'_{i}' if slugs.count(s) > 1 else '') + '.png'
        for i, (n, s) in enumerate(zip(names, slugs))
    }
