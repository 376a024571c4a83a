import pytest


@pytest.fixture(autouse=True, scope='session')
def _mmseg_scope():
    # Pipelines name MMSeg/MMCV transforms without a scope prefix.
    import escnet_mmseg.datasets  # noqa: F401  registers our classes
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
