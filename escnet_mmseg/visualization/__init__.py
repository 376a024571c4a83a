"""See what ESC-Net sees: C0, the pseudo prompts of every ESC block and the
output, captured by forward hooks and drawn per class."""
from .capture import PromptCapture
from .explain import BlockPrompts, Explanation, class_indices, explain
from .figure import draw_class, figure_names, figure_to_rgb

__all__ = [
    'BlockPrompts', 'Explanation', 'PromptCapture', 'class_indices',
    'draw_class', 'explain', 'figure_names', 'figure_to_rgb'
]
