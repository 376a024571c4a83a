"""Class names -> CLIP text embeddings, with prompt templates and a cache."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from ..utils.vocabulary import split_synonyms, validate_vocabulary

# CAT-Seg's single template, verbatim (no final period).
SINGLE_TEMPLATE = ('A photo of a {} in the scene', )

# The 80 prompt templates of CLIP's ImageNet zero-shot evaluation.
IMAGENET_TEMPLATES = (
    'a bad photo of a {}.', 'a photo of many {}.', 'a sculpture of a {}.',
    'a photo of the hard to see {}.', 'a low resolution photo of the {}.',
    'a rendering of a {}.', 'graffiti of a {}.', 'a bad photo of the {}.',
    'a cropped photo of the {}.', 'a tattoo of a {}.', 'the embroidered {}.',
    'a photo of a hard to see {}.', 'a bright photo of a {}.',
    'a photo of a clean {}.', 'a photo of a dirty {}.',
    'a dark photo of the {}.', 'a drawing of a {}.', 'a photo of my {}.',
    'the plastic {}.', 'a photo of the cool {}.', 'a close-up photo of a {}.',
    'a black and white photo of the {}.', 'a painting of the {}.',
    'a painting of a {}.', 'a pixelated photo of the {}.',
    'a sculpture of the {}.', 'a bright photo of the {}.',
    'a cropped photo of a {}.', 'a plastic {}.', 'a photo of the dirty {}.',
    'a jpeg corrupted photo of a {}.', 'a blurry photo of the {}.',
    'a photo of the {}.', 'a good photo of the {}.', 'a rendering of the {}.',
    'a {} in a video game.', 'a photo of one {}.', 'a doodle of a {}.',
    'a close-up photo of the {}.', 'a photo of a {}.', 'the origami {}.',
    'the {} in a video game.', 'a sketch of a {}.', 'a doodle of the {}.',
    'a origami {}.', 'a low resolution photo of a {}.', 'the toy {}.',
    'a rendition of the {}.', 'a photo of the clean {}.',
    'a photo of a large {}.', 'a rendition of a {}.', 'a photo of a nice {}.',
    'a photo of a weird {}.', 'a blurry photo of a {}.', 'a cartoon {}.',
    'art of a {}.', 'a sketch of the {}.', 'a embroidered {}.',
    'a pixelated photo of a {}.', 'itap of the {}.',
    'a jpeg corrupted photo of the {}.', 'a good photo of a {}.',
    'a plushie {}.', 'a photo of the nice {}.', 'a photo of the small {}.',
    'a photo of the weird {}.', 'the cartoon {}.', 'art of the {}.',
    'a drawing of the {}.', 'a photo of the large {}.',
    'a black and white photo of a {}.', 'the plushie {}.',
    'a dark photo of a {}.', 'itap of a {}.', 'graffiti of the {}.',
    'a toy {}.', 'itap of my {}.', 'a photo of a cool {}.',
    'a photo of a small {}.', 'a tattoo of the {}.')

_TEMPLATE_SETS = dict(single=SINGLE_TEMPLATE, imagenet=IMAGENET_TEMPLATES)
# 'first': a name with synonyms uses its first one (what CAT-Seg's training
# and evaluation run); 'mean': every synonym, averaged per template. Synonyms
# are split by `escnet_mmseg.utils.split_synonyms` ("wall, walls" or
# "wall,walls").
SYNONYM_MODES = ('first', 'mean')
# Texts per text-tower call: bounds memory for large vocabularies x templates.
_TEXT_BATCH = 1024


@MODELS.register_module()
class ESCTextEncoder(BaseModule):
    """Embeds a vocabulary with the text tower of a :class:`CLIPBackbone`.

    Each name (its first synonym, or every synonym) is put in every
    template and encoded; the L2-normalised embeddings are averaged over the
    synonyms of each template (then normalised again), then over the
    templates and L2-normalised. With ``synonyms='mean'`` the per-template
    step is CAT-Seg's ``class_embeddings``. Embeddings are cached per
    (vocabulary, templates) when no gradient can reach the text tower (frozen,
    eval mode or no_grad); the cache key includes the tower's parameter
    versions, so an optimizer step or ``load_state_dict`` invalidates it.

    Args:
        templates (str or Sequence[str]): ``'single'`` (``"A photo of a {} in
            the scene"``, CAT-Seg's), ``'imagenet'`` (CLIP's 80 templates) or a
            list of format strings with one ``{}``. Defaults to 'single'.
        synonyms (str): ``'first'`` (CAT-Seg's ``get_text_embeds``, used in its
            training and evaluation): only the first of ``'a, b'``; ``'mean'``
            (CAT-Seg's ``class_embeddings``): all of them, averaged per
            template. Defaults to 'first'.
        init_cfg (dict, optional): Unused (no own parameters). Defaults to
            None.
    """

    def __init__(self,
                 templates: Union[str, Sequence[str]] = 'single',
                 synonyms: str = 'first',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if synonyms not in SYNONYM_MODES:
            raise ValueError(f'synonyms must be one of {SYNONYM_MODES}, got '
                             f'"{synonyms}"')
        self.synonyms = synonyms
        if isinstance(templates, str):
            if templates not in _TEMPLATE_SETS:
                raise ValueError(f'templates must be one of '
                                 f'{sorted(_TEMPLATE_SETS)} or a list, got '
                                 f'"{templates}"')
            templates = _TEMPLATE_SETS[templates]
        templates = tuple(templates)
        if not templates or any(p.count('{}') != 1 for p in templates):
            raise ValueError('every template needs exactly one "{}"')
        self.templates = templates
        self._cache_key: Optional[tuple] = None
        self._cache: Optional[Tensor] = None

    def forward(self, names: Sequence[str], clip) -> Tensor:
        """Text embeddings of a vocabulary.

        Args:
            names (Sequence[str]): T class names.
            clip (CLIPBackbone): The backbone whose text tower is used.

        Returns:
            Tensor: (T, E) L2-normalised embeddings.
        """
        names = validate_vocabulary(names)
        params = clip.text_parameters()
        needs_grad = torch.is_grad_enabled() and any(p.requires_grad
                                                     for p in params)
        if needs_grad:
            self._cache_key = self._cache = None
            return self._encode(names, clip)
        device = params[0].device
        key = (names, self.templates, self.synonyms, device, params[0].dtype,
               tuple(p._version for p in params))
        if key != self._cache_key:
            with torch.no_grad():
                self._cache = self._encode(names, clip)
            self._cache_key = key
        return self._cache

    def _encode(self, names: Tuple[str, ...], clip) -> Tensor:
        """(T, E) embeddings of T names, each over P templates."""
        num_p = len(self.templates)
        texts: List[str] = []
        groups: List[int] = []  # text -> (class, template) row
        for c, name in enumerate(names):
            words = split_synonyms(name)
            if self.synonyms == 'first':
                words = words[:1]
            for p, template in enumerate(self.templates):
                texts += [template.format(w) for w in words]
                groups += [c * num_p + p] * len(words)
        device = clip.text_parameters()[0].device
        tokens = clip.tokenize(texts).to(device)
        emb = torch.cat([
            clip.encode_text(tokens[i:i + _TEXT_BATCH])
            for i in range(0, len(texts), _TEXT_BATCH)
        ])
        emb = F.normalize(emb, dim=-1)
        index = torch.tensor(groups, device=device)
        rows = len(names) * num_p
        counts = torch.bincount(index, minlength=rows).to(emb.dtype)
        per_template = emb.new_zeros(rows, emb.shape[-1]).index_add(
            0, index, emb) / counts[:, None]
        per_template = F.normalize(per_template, dim=-1)
        emb = per_template.view(len(names), num_p, -1).mean(dim=1)
        return F.normalize(emb, dim=-1)
