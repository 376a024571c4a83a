"""Where the pretrained CLIP and SAM weights come from and where they go.

Online, ``model.backbone.pretrained='openai'`` lets open_clip fetch CLIP on
first use: open_clip 3.3 asks the Hugging Face hub first (the repository of
:attr:`WeightSource.hf_repo`, file ``open_clip_model.safetensors``, else
``open_clip_pytorch_model.bin``, cached under ``$HF_HOME/hub``) and falls
back to OpenAI's ``.pt`` file (:attr:`WeightSource.url`, cached in
``~/.cache/clip``) only when ``huggingface_hub`` is not installed. Offline,
the files are fetched elsewhere into ``checkpoints/`` under the names of
their URLs (:attr:`WeightSource.local_path`) and the config is pointed at
them (``model.backbone.pretrained``, ``model.neck.sam_checkpoint``).
"""
import os.path as osp
from dataclasses import dataclass
from typing import Optional, Tuple

CHECKPOINT_DIR = 'checkpoints'
SAM_URL = ('https://dl.fbaipublicfiles.com/segment_anything/'
           'sam_vit_b_01ec64.pth')
CLIP_MODELS = ('ViT-B-16', 'ViT-L-14-336')
# The files open_clip looks for in a hub repository, in its order.
HF_FILES = ('open_clip_model.safetensors', 'open_clip_pytorch_model.bin')


@dataclass(frozen=True)
class WeightSource:
    """One pretrained file: where to download it and where it goes.

    Args:
        name (str): ``'SAM ViT-B'`` or the open_clip model name.
        url (str): Direct download URL.
        hf_repo (str, optional): Hugging Face hub repository open_clip
            prefers for it. Defaults to None.
    """
    name: str
    url: str
    hf_repo: Optional[str] = None

    @property
    def filename(self) -> str:
        """The URL's file name (``ViT-B-16.pt``)."""
        return osp.basename(self.url)

    @property
    def local_path(self) -> str:
        """Where the offline instructions put it (``checkpoints/...``)."""
        return osp.join(CHECKPOINT_DIR, self.filename)


def sam_source() -> WeightSource:
    """The SAM ViT-B checkpoint (``model.neck.sam_checkpoint``)."""
    return WeightSource('SAM ViT-B', SAM_URL)


def clip_source(model_name: str) -> WeightSource:
    """OpenAI's weights of an open_clip model, as open_clip names them.

    Raises:
        ValueError: ``model_name`` has no ``'openai'`` weights in open_clip.
    """
    from open_clip.pretrained import get_pretrained_cfg
    cfg = get_pretrained_cfg(model_name, 'openai')
    if not cfg or not cfg.get('url'):
        raise ValueError(f'open_clip has no OpenAI weights for '
                         f'{model_name!r}; one of {", ".join(CLIP_MODELS)}')
    hf_repo = cfg.get('hf_hub', '').rstrip('/') or None
    return WeightSource(model_name, cfg['url'], hf_repo)


def cached_clip_file(source: WeightSource) -> Optional[str]:
    """The file open_clip would load for ``source`` from its caches, if any.

    Returns:
        str, optional: A path in the Hugging Face cache or ``~/.cache/clip``,
            or None when nothing is cached.
    """
    if source.hf_repo:
        try:
            from huggingface_hub import try_to_load_from_cache
        except ImportError:
            try_to_load_from_cache = None
        for filename in HF_FILES if try_to_load_from_cache else ():
            path = try_to_load_from_cache(source.hf_repo, filename)
            if isinstance(path, str) and osp.isfile(path):
                return path
    path = osp.join(osp.expanduser('~/.cache/clip'), source.filename)
    return path if osp.isfile(path) else None


def clip_sources() -> Tuple[WeightSource, ...]:
    """The sources of every CLIP model the configs use."""
    return tuple(clip_source(name) for name in CLIP_MODELS)
