from .inference import init_model, set_vocabulary
from .inferencer import OpenVocabInferencer
from .protocol import PROTOCOL_TEST_CFG, TEST_MODES, apply_test_mode
from .visualizer import ContiguousSegVisualizer

__all__ = [
    'ContiguousSegVisualizer', 'OpenVocabInferencer', 'PROTOCOL_TEST_CFG',
    'TEST_MODES', 'apply_test_mode', 'init_model', 'set_vocabulary'
]
