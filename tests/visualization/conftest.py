"""A tiny ESC-Net inferencer and an image for the visualization tests."""
import numpy as np
import pytest

from tests.tiny import TINY_CONFIG
from tests.tools.test_infer import save_tiny_checkpoint


@pytest.fixture(scope='package')
def inferencer(tmp_path_factory):
    from escnet_mmseg.apis import OpenVocabInferencer
    path = save_tiny_checkpoint(tmp_path_factory.mktemp('ckpt') / 'tiny.pth')
    # Whole-image mode, the one pass explain() draws, so that the model's
    # own segmentation can be compared with the explanation's.
    return OpenVocabInferencer(
        str(TINY_CONFIG), weights=path, device='cpu', test_mode='whole')


@pytest.fixture(scope='package')
def image():
    """BGR (48, 80, 3): not square, so rows and columns cannot be swapped
    unnoticed."""
    return np.random.RandomState(5).randint(0, 255, (48, 80, 3), np.uint8)


@pytest.fixture(scope='package')
def explanation(inferencer, image):
    from escnet_mmseg.visualization import explain
    return explain(inferencer, image)


def busiest_class(explanation) -> int:
    """The class with the most k-means region cells in block 0."""
    return int((explanation.blocks[0].labels >= 0).flatten(1).sum(1).argmax())
