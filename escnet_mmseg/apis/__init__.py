from .batch_inference import BatchResult, segment_images
from .batch_outputs import (OUTPUT_SUFFIXES, output_paths, refuse_existing,
                            write_label_map, write_outputs)
from .class_names import (check_class_names, parse_class_text, read_class_file,
                          read_vocabulary)
from .image_inputs import IMAGE_SUFFIXES, collect_images, read_image, to_rgb
from .inference import init_model, set_vocabulary
from .inferencer import OpenVocabInferencer
from .label_summary import summarize
from .loading import load_inferencer, predict_labels, require_model_files
from .protocol import PROTOCOL_TEST_CFG, TEST_MODES, apply_test_mode
from .session import VocabularySession
from .visualizer import (ContiguousSegVisualizer, draw_legend, draw_overlay,
                         paint_labels)

# `add_model_args` (the tools' shared options) is imported from
# `escnet_mmseg.apis.cli_args` by the tools.
__all__ = [
    'BatchResult', 'ContiguousSegVisualizer', 'IMAGE_SUFFIXES',
    'OUTPUT_SUFFIXES', 'OpenVocabInferencer', 'PROTOCOL_TEST_CFG',
    'TEST_MODES', 'VocabularySession', 'apply_test_mode', 'check_class_names',
    'collect_images', 'draw_legend', 'draw_overlay', 'init_model',
    'load_inferencer', 'output_paths', 'paint_labels', 'parse_class_text',
    'predict_labels', 'read_class_file', 'read_image', 'read_vocabulary',
    'refuse_existing', 'require_model_files', 'segment_images',
    'set_vocabulary', 'summarize', 'to_rgb', 'write_label_map', 'write_outputs'
]
