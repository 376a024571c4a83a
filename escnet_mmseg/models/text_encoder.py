"""Class names -> CLIP text embeddings, with prompt templates and a cache."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

SINGLE_TEMPLATE = ('A photo of a {} in the scene.', )

# The 80 prompt templates of CLIP's ImageNet zero-shot evaluation.
IMAGENET_TEMPLATES = (
    'a bad photo of a {}.', 'a photo of many {}.', 'a sculpture of a {}.',
    'a photo of the hard to see {}.', 'a low resolution photo of the {}.',
    'a rendering of a {}.', 'graffiti of a {}.', 'a bad photo of the {}.',
    'a cropped photo of the {}.', 'a tattoo of a {}.',
    'the embroidered {}.', 'a photo of a hard to see {}.',
    'a bright photo of a {}.', 'a photo of a clean {}.',
    'a photo of a dirty {}.', 'a dark photo of the {}.',
    'a drawing of a {}.', 'a photo of my {}.', 'the plastic {}.',
    'a photo of the cool {}.', 'a close-up photo of a {}.',
    'a black and white photo of the {}.', 'a painting of the {}.',
    'a painting of a {}.', 'a pixelated photo of the {}.',
    'a sculpture of the {}.', 'a bright photo of the {}.',
    'a cropped photo of a {}.', 'a plastic {}.',
    'a photo of the dirty {}.', 'a jpeg corrupted photo of a {}.',
    'a blurry photo of the {}.', 'a photo of the {}.',
    'a good photo of the {}.', 'a rendering of the {}.',
    'a {} in a video game.', 'a photo of one {}.', 'a doodle of a {}.',
    'a close-up photo of the {}.', 'a photo of a {}.', 'the origami {}.',
    'the {} in a video game.', 'a sketch of a {}.',
    'a doodle of the {}.', 'a origami {}.',
    'a low resolution photo of a {}.', 'the toy {}.',
    'a rendition of the {}.', 'a photo of the clean {}.',
    'a photo of a large {}.', 'a rendition of a {}.',
    'a photo of a nice {}.', 'a photo of a weird {}.',
    'a blurry photo of a {}.', 'a cartoon {}.', 'art of a {}.',
    'a sketch of the {}.', 'a embroidered {}.',
    'a pixelated photo of a {}.', 'itap of the {}.',
    'a jpeg corrupted photo of the {}.', 'a good photo of a {}.',
    'a plushie {}.', 'a photo of the nice {}.',
    'a photo of the small {}.', 'a photo of the weird {}.',
    'the cartoon {}.', 'art of the {}.', 'a drawing of the {}.',
    'a photo of the large {}.', 'a black and white photo of a {}.',
    'the plushie {}.', 'a dark photo of a {}.', 'itap of a {}.',
    'graffiti of the {}.', 'a toy {}.', 'itap of my {}.',
    'a photo of a cool {}.', 'a photo of a small {}.', 'a tattoo of the {}.')

_TEMPLATE_SETS = dict(single=SINGLE_TEMPLATE, imagenet=IMAGENET_TEMPLATES)


def validate_vocabulary(names: Sequence[str]) -> Tuple[str, ...]:
    """Check a vocabulary and return it as a tuple.

    Raises:
        ValueError: empty vocabulary, a name that is not a non-empty string,
            or the same name twice (two logit maps for one class would make
            the argmax arbitrary).
    """
    if isinstance(names, str):
        raise ValueError(f'the vocabulary must be a list of class names, '
                         f'got the single string "{names}"')
    names = tuple(names)
    if not names:
        raise ValueError('the vocabulary (class names) is empty')
    bad = [n for n in names if not isinstance(n, str) or not n.strip()]
    if bad:
        raise ValueError(f'class names must be non-empty strings, got {bad}')
    seen, dups = set(), []
    for n in names:
        key = n.strip().lower()
        if key in seen:
            dups.append(n)
        seen.add(key)
    if dups:
        raise ValueError(f'duplicate class names in the vocabulary: {dups}')
    return names


def primary_name(name: str) -> str:
    """``'person, people'`` -> ``'person'``: a name with synonyms uses the first."""
    return name.split(',')[0].strip()


@MODELS.register_module()
class ESCTextEncoder(BaseModule):
    """Embeds a vocabulary with the text tower of a :class:`CLIPBackbone`.

    Each name is put in every template, encoded, averaged over templates and
    L2-normalised. Embeddings are cached per (vocabulary, templates) when no
    gradient can reach the text tower (frozen, eval mode or no_grad); the
    cache key includes the tower's parameter versions, so an optimizer step
    or ``load_state_dict`` invalidates it.

    Args:
        templates: ``'single'`` (``"A photo of a {} in the scene."``),
            ``'imagenet'`` (CLIP's 80 templates) or a list of format strings
            with one ``{}``.
        init_cfg: Unused (no own parameters).
    """

    def __init__(self,
                 templates: Union[str, Sequence[str]] = 'single',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(templates, str):
            if templates not in _TEMPLATE_SETS:
                raise ValueError(f'templates must be one of '
                                 f'{sorted(_TEMPLATE_SETS)} or a list, got '
                                 f'"{templates}"')
            templates = _TEMPLATE_SETS[templates]
        templates = tuple(templates)
        if not templates or any(t.count('{}') != 1 for t in templates):
            raise ValueError('every template needs exactly one "{}"')
        self.templates = templates
        self._cache_key: Optional[tuple] = None
        self._cache: Optional[Tensor] = None

    def forward(self, names: Sequence[str], clip) -> Tensor:
        """Text embeddings of a vocabulary.

        Args:
            names: T class names.
            clip: The :class:`CLIPBackbone` whose text tower is used.

        Returns:
            (T, E) L2-normalised embeddings.
        """
        names = validate_vocabulary(names)
        params = clip.text_parameters()
        needs_grad = torch.is_grad_enabled() and any(
            p.requires_grad for p in params)
        if needs_grad:
            self._cache_key = self._cache = None
            return self._encode(names, clip)
        device = params[0].device
        key = (names, self.templates, device, params[0].dtype,
               tuple(p._version for p in params))
        if key != self._cache_key:
            with torch.no_grad():
                self._cache = self._encode(names, clip)
            self._cache_key = key
        return self._cache

    def _encode(self, names: Tuple[str, ...], clip) -> Tensor:
        texts: List[str] = [
            t.format(primary_name(n)) for n in names for t in self.templates
        ]
        device = clip.text_parameters()[0].device
        tokens = clip.tokenize(texts).to(device)
        emb = F.normalize(clip.encode_text(tokens), dim=-1)
        emb = emb.view(len(names), len(self.templates), -1).mean(dim=1)
        return F.normalize(emb, dim=-1)
