"""Pytest configuration of the op tests."""
import sys
from pathlib import Path

# Helper modules live next to this file; --import-mode=importlib puts no test
# folder on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _ppg_standalone import import_ops  # noqa: E402

# The op tests must run where only torch is installed: make
# ``escnet_mmseg.ops`` importable (without the MMSeg registrations if those
# cannot load) before the test modules import it.
import_ops()


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'cuda: needs a CUDA GPU '
        '(skipped when torch.cuda.is_available() is False)')
