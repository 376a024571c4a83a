"""The figure of a class: its panels, and that the points and regions drawn
are the captured PPG outputs of their block."""
import numpy as np
import pytest
import torch
from matplotlib.collections import PathCollection
from matplotlib.patches import Rectangle

from escnet_mmseg.visualization import draw_class, figure_names, figure_to_rgb
from tests.visualization.conftest import busiest_class

STEPS = [
    r'score map $\tau\,C_0$', 'probability P', 'foreground P > 0.5',
    'k-means regions', 'mask prompt', 'pseudo points'
]


def _panels(fig) -> dict:
    """Title -> axes, for the axes that have a title (colour bars do not)."""
    return {ax.get_title(): ax for ax in fig.axes if ax.get_title()}


def test_panels_name_the_class_and_block(explanation):
    name = explanation.classes[busiest_class(explanation)]
    panels = _panels(draw_class(explanation, name))
    first = [
        'image', 'cosine correlation $C_0$', 'final probability', 'label map ('
    ]
    blocks = [[f'block {k} | {s}' for s in STEPS] for k in range(2)]
    blocks[1][0] = 'block 1 | score map $S_1$'
    titles = sorted(panels)
    assert len(titles) == len(first) + 12
    for expected in first + blocks[0] + blocks[1]:
        matches = [t for t in titles if t.startswith(expected)]
        assert len(matches) == 1, (expected, titles)
        assert matches[0].endswith('\n' + name)
    # Colour maps have a scale bar: one colour bar per continuous map.
    assert len([
        ax for ax in draw_class(explanation, name).axes if not ax.get_title()
        and ax.get_visible() and ax.get_label() == '<colorbar>'
    ]) == 2 + 2 * 4


def _scatter(ax) -> np.ndarray:
    (points, ) = [c for c in ax.collections if isinstance(c, PathCollection)]
    return np.asarray(points.get_offsets())


def test_drawn_points_and_regions_are_the_captured_ones(explanation):
    c = busiest_class(explanation)
    name = explanation.classes[c]
    panels = _panels(draw_class(explanation, name))
    for k, block in enumerate(explanation.blocks):
        valid = block.point_labels[c] > 0
        expected = explanation.grid_to_image(block.points[c][valid].double())
        drawn = _scatter(panels[f'block {k} | pseudo points\n{name}'])
        assert np.array_equal(drawn, expected.numpy()), k
        regions = panels[f'block {k} | k-means regions\n{name}'].images[-1]
        array = regions.get_array()
        assert np.array_equal(array.mask, block.labels[c].numpy() < 0), k
        assert np.array_equal(array.filled(-1), block.labels[c].numpy()), k
        assert regions.get_extent() == list(explanation.grid_extent)
        fore = panels[f'block {k} | foreground P > 0.5\n{name}'].images[-1]
        assert np.array_equal(fore.get_array(), block.foreground[c].numpy())
    rgb = figure_to_rgb(draw_class(explanation, name, dpi=40))
    assert rgb.ndim == 3 and rgb.shape[-1] == 3 and rgb.dtype == np.uint8


def test_boxes_are_drawn_when_used(explanation):
    c = busiest_class(explanation)
    block = explanation.blocks[0]
    block.boxes = torch.tensor([[[0, 0, 1, 2]] * block.points.shape[1]] *
                               block.points.shape[0])
    try:
        panels = _panels(draw_class(explanation, explanation.classes[c]))
    finally:
        block.boxes = None
    ax = panels[f'block 0 | pseudo points and boxes\n{explanation.classes[c]}']
    boxes = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(boxes) == int((block.point_labels[c] > 0).sum())
    # Box (0, 0)-(1, 2) covers grid cells 0..1 x 0..2: 20 x 18 image pixels.
    assert boxes[0].get_xy() == (0., 0.)
    assert (boxes[0].get_width(), boxes[0].get_height()) == (20., 18.)


def test_unknown_class_and_file_names(explanation):
    with pytest.raises(ValueError, match='class "dog" is not in the vocab'):
        draw_class(explanation, 'dog')
    assert figure_names('photo', ['sky', 'wall, walls', 'wall walls']) == {
        'sky': 'photo_sky.png',
        'wall, walls': 'photo_wall_walls_1.png',
        'wall walls': 'photo_wall_walls_2.png'
    }
