from .inference import init_model, set_vocabulary
from .inferencer import OpenVocabInferencer
from .visualizer import ContiguousSegVisualizer

__all__ = [
    'ContiguousSegVisualizer', 'OpenVocabInferencer', 'init_model',
    'set_vocabulary'
]
