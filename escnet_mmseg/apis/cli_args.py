"""Command-line options shared by the inference tools (``tools/infer.py``,
``tools/webui.py``, ``tools/visualize_prompts.py``)."""
import argparse

from mmengine.config import DictAction

from .protocol import DEFAULT_TEST_MODE, TEST_MODES


def add_model_args(parser: argparse.ArgumentParser) -> None:
    """``--config``, ``--checkpoint``, ``--device``, the test mode, config
    overrides, checkpoint trust and verbosity.

    Args:
        parser (ArgumentParser): The tool's parser.
    """
    parser.add_argument('--config', required=True, help='model config file')
    parser.add_argument(
        '--checkpoint', required=True, help='trained checkpoint (.pth)')
    parser.add_argument(
        '--device',
        default=None,
        help='e.g. cpu, cuda:0 (default: cuda if available)')
    parser.add_argument(
        '--mode',
        default=DEFAULT_TEST_MODE,
        choices=TEST_MODES,
        help='slide_global: the published 5-view protocol (default); '
        'whole: one view at the CLIP input size, faster; config: the '
        "config's model.test_cfg")
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        metavar='KEY=VALUE',
        help='override config values (applied after --mode), e.g. '
        'model.test_cfg.out_size="(896,896)"')
    parser.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help='unpickle the checkpoint fully (may run code from the file); '
        'by default only weights and metadata are read')
    parser.add_argument(
        '--verbose',
        action='store_true',
        help='show the libraries\' log messages, warnings and tracebacks')
