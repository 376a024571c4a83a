"""``VocabularySession``: one model for every request of the web demo, the
vocabulary changed per request, and the Explain figure."""
import numpy as np
import pytest

from escnet_mmseg.apis import VocabularySession, load_inferencer
from escnet_mmseg.utils import UserError
from tests.tiny import NAMES, TINY_CONFIG
from tests.tools.test_infer import save_tiny_checkpoint


@pytest.fixture(scope='module')
def session(tmp_path_factory):
    checkpoint = save_tiny_checkpoint(
        tmp_path_factory.mktemp('ckpt') / 'tiny.pth')
    return VocabularySession(
        load_inferencer(str(TINY_CONFIG), checkpoint, device='cpu'))


def test_vocabulary_changes_without_rebuilding_the_model(session):
    inferencer = session.inferencer
    assert session.names == list(NAMES)
    model = inferencer.model
    encoder = model.text_encoder
    encoded = []
    real_encode = encoder._encode
    encoder._encode = lambda names, clip: (encoded.append(names),
                                           real_encode(names, clip))[1]
    image = np.random.RandomState(0).randint(0, 255, (40, 52, 4), np.uint8)
    try:
        painted, summary = session.segment(image, '\n'.join(NAMES))
        assert painted.shape == (40, 52, 3) and painted.dtype == np.uint8
        assert summary['classes'] == list(NAMES)
        painted, summary = session.segment(image, 'dog; wall, walls')
        assert summary['classes'] == ['dog', 'wall, walls']
        assert {p['name']
                for p in summary['present']} <= {'dog', 'wall, walls'}
        assert session.present == [p['name'] for p in summary['present']]
        # "wall,walls" is the same class (and the same cached embedding).
        tight = session.segment(image, 'dog\nwall,walls')
        assert tight[1] == summary and np.array_equal(tight[0], painted)
        session.segment(image[..., 0], 'dog\nwall, walls', opacity=0.2)
    finally:
        del encoder._encode
    assert inferencer.model is model
    # Encoded once per vocabulary: the repeated one came from the cache.
    assert encoded == [NAMES, ('dog', 'wall, walls')]
    with pytest.raises(UserError, match='upload or pick'):
        session.segment(None, 'dog')


def test_explain_draws_a_segmented_class(session):
    image = np.random.RandomState(2).randint(0, 255, (40, 52, 3), np.uint8)
    with pytest.raises(UserError, match='press Segment first'):
        session.explain(image, 'sky\ngrass', None)
    _, summary = session.segment(image, 'sky\ngrass, lawn\nstar')
    found = [p['name'] for p in summary['present']]
    figure = session.explain(image, 'sky\ngrass,lawn\nstar', found[0])
    assert figure.ndim == 3 and figure.shape[-1] == 3
    assert figure.dtype == np.uint8 and figure.shape[0] > 200
    with pytest.raises(UserError, match='"dog" is not in the'):
        session.explain(image, 'sky\ngrass', 'dog')
