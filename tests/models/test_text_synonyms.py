"""Class names with synonyms and CAT-Seg's template, vs open_clip's
``encode_text``."""
import pytest
import torch
import torch.nn.functional as F

from escnet_mmseg.models import ESCTextEncoder
from escnet_mmseg.models.text_encoder import SINGLE_TEMPLATE
from escnet_mmseg.utils import (normalize_class_name, primary_name,
                                split_synonyms, validate_vocabulary)
from tests.tiny import load_tiny_backbone, tiny_model_cfg, tiny_open_clip
from tests.tolerance import NETWORK, assert_close

TEMPLATE_SETS = [['A photo of a {} in the scene'],
                 [
                     'a photo of a {}.', 'a drawing of the {}.',
                     'itap of my {}.'
                 ]]


@pytest.fixture(scope='module')
def clip_pair(tmp_path_factory):
    cfg = tiny_model_cfg()['backbone']['model_cfg']
    ref = tiny_open_clip(cfg)
    path = tmp_path_factory.mktemp('clip') / 'open_clip_tiny.pt'
    torch.save(ref.state_dict(), path)
    return ref, load_tiny_backbone(cfg, path)


def _encode(ref, text):
    import open_clip
    tokens = open_clip.tokenizer.SimpleTokenizer(context_length=16)([text])
    with torch.no_grad():
        return F.normalize(ref.encode_text(tokens)[0], dim=-1)


def _expected(ref, words, templates):
    """Per template: mean of the normalised synonym embeddings,
    normalised; then the mean over templates, normalised."""
    per_template = [
        F.normalize(
            torch.stack([_encode(ref, t.format(w)) for w in words]).mean(0),
            dim=-1) for t in templates
    ]
    return F.normalize(torch.stack(per_template).mean(0), dim=-1)


@pytest.mark.parametrize('templates', TEMPLATE_SETS)
def test_synonyms_are_averaged(clip_pair, templates):
    ref, backbone = clip_pair
    encoder = ESCTextEncoder(templates=templates, synonyms='mean')
    with torch.no_grad():
        got = encoder(['wall, walls', 'sky', 'person, people, human'],
                      backbone)
    expected = [
        _expected(ref, ['wall', 'walls'], templates),
        _expected(ref, ['sky'], templates),
        _expected(ref, ['person', 'people', 'human'], templates)
    ]
    for row, want in zip(got, expected):
        assert_close(row, want, NETWORK)


@pytest.mark.parametrize('templates', TEMPLATE_SETS)
def test_first_synonym_mode(clip_pair, templates):
    """CAT-Seg's get_text_embeds: the first synonym of each name."""
    ref, backbone = clip_pair
    encoder = ESCTextEncoder(templates=templates)
    assert encoder.synonyms == 'first'  # the default
    with torch.no_grad():
        got = encoder(['wall, walls', 'sky'], backbone)
    assert_close(got[0], _expected(ref, ['wall'], templates), NETWORK)
    assert_close(got[1], _expected(ref, ['sky'], templates), NETWORK)


def test_single_template_is_cat_segs():
    assert SINGLE_TEMPLATE == ('A photo of a {} in the scene', )
    assert ESCTextEncoder().templates == SINGLE_TEMPLATE


def test_synonym_split():
    assert split_synonyms('wall, walls') == ['wall', 'walls']
    assert split_synonyms('wall,walls') == ['wall', 'walls']
    assert split_synonyms(' wall ,  walls ') == ['wall', 'walls']
    assert split_synonyms('traffic light') == ['traffic light']
    assert split_synonyms('bed ') == ['bed']  # A-150's spelling
    assert primary_name('person,people') == 'person'
    assert normalize_class_name('wall,walls') == 'wall, walls'
    with pytest.raises(ValueError, match='synonyms'):
        ESCTextEncoder(synonyms='all')


@pytest.mark.parametrize('name', ['wall,', ',wall', 'wall,,walls', 'a, ,b'])
def test_empty_synonym_is_refused_naming_the_class(name):
    with pytest.raises(ValueError, match='empty synonym'):
        split_synonyms(name)
    with pytest.raises(
            ValueError, match=f'class 2 "{name}" has an empty synonym'):
        validate_vocabulary(['sky', name])


def test_spellings_of_one_class_are_duplicates():
    with pytest.raises(ValueError, match='duplicate'):
        validate_vocabulary(['wall, walls', 'Wall,walls'])


@pytest.mark.parametrize('mode', ['first', 'mean'])
def test_comma_with_or_without_space_is_one_rule(clip_pair, mode):
    """``"wall,walls"`` is the class ``"wall, walls"``, not one word."""
    ref, backbone = clip_pair
    encoder = ESCTextEncoder(synonyms=mode)
    with torch.no_grad():
        spaced = encoder(['wall, walls', 'sky'], backbone).clone()
        tight = encoder(['wall,walls', 'sky'], backbone)
    assert torch.equal(tight, spaced)
    words = ['wall'] if mode == 'first' else ['wall', 'walls']
    assert_close(tight[0], _expected(ref, words, SINGLE_TEMPLATE), NETWORK)
