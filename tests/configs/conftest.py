# The tiny copies of every dataset and MMSeg's default scope, as for the
# dataset tests.
from tests.datasets.conftest import _mmseg_scope, tiny_datasets  # noqa: F401
