import pytest


@pytest.fixture(autouse=True, scope='session')
def _mmseg_scope():
    # Pipelines name MMSeg/MMCV transforms without a scope prefix.
    from mmengine.registry import init_default_scope

    import escnet_mmseg.datasets  # noqa: F401  registers our classes
    init_default_scope('mmseg')
