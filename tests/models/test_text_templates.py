"""Prompt template validation of the text encoder."""
import pytest

from escnet_mmseg.models import ESCTextEncoder


@pytest.mark.parametrize('templates, match', [
    ('photos', 'templates must be one of'),
    ([], 'exactly one "{}"'),
    (['a photo'], 'exactly one "{}"'),
    (['a {} and a {}'], 'exactly one "{}"'),
    (['a photo of a {}.', 'no slot'], 'exactly one "{}"'),
])
def test_bad_templates_are_rejected(templates, match):
    with pytest.raises(ValueError, match=match):
        ESCTextEncoder(templates=templates)


def test_template_sets_and_custom_lists():
    for name in ('single', 'imagenet'):
        templates = ESCTextEncoder(templates=name).templates
        assert templates and all(t.count('{}') == 1 for t in templates)
    assert len(ESCTextEncoder(templates='imagenet').templates) == 80
    custom = ['itap of a {}', 'a {} in the wild']
    assert ESCTextEncoder(templates=custom).templates == tuple(custom)
