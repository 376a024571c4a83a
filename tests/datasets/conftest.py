import pytest

from tests.datasets.tiny_data import write_tiny_datasets


@pytest.fixture
def tiny_datasets(tmp_path):
    """Tiny copies of every dataset: dict name -> data_root."""
    return write_tiny_datasets(tmp_path / 'data')


@pytest.fixture(autouse=True, scope='session')
def _mmseg_scope():
    # Pipelines name MMSeg/MMCV transforms without a scope prefix.
    from mmengine.registry import init_default_scope

    import escnet_mmseg.datasets  # noqa: F401  registers our classes
    init_default_scope('mmseg')
