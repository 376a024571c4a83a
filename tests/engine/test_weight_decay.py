"""CAT-Seg's optimiser (detectron2's defaults in its build_optimizer): no
weight decay on normalisation layers and embeddings; CLIP and the SAM parts
at lr x 0.01; the paper configs train in fp32."""
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import DefaultOptimWrapperConstructor
from torch import nn

from tests.tiny import REPO

PAPER_CONFIGS = [
    'configs/escnet/escnet_vitb16_coco-stuff.py',
    'configs/escnet/escnet_vitl14_coco-stuff.py',
]


def _is_norm(module: nn.Module) -> bool:
    """Any normalisation layer: torch's, open_clip's and SAM's LayerNorm2d."""
    return (isinstance(
        module, (nn.LayerNorm, nn.GroupNorm, nn.modules.batchnorm._NormBase))
            or 'Norm' in type(module).__name__)


def _param_groups(path: str):
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules

    import escnet_mmseg  # noqa: F401
    register_all_modules()
    cfg = Config.fromfile(str(REPO / path))
    cfg.model.backbone.pretrained = None
    cfg.model.neck.sam_checkpoint = None
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    wrapper_cfg = cfg.optim_wrapper.to_dict()
    paramwise = wrapper_cfg.pop('paramwise_cfg')
    constructor = DefaultOptimWrapperConstructor(wrapper_cfg, paramwise)
    wrapper = constructor(model)
    groups = {}
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            groups[id(p)] = group
    return cfg, model, groups


@pytest.mark.parametrize('path', PAPER_CONFIGS)
def test_no_trainable_norm_or_embedding_is_decayed(path):
    cfg, model, groups = _param_groups(path)
    base_lr = cfg.optim_wrapper.optimizer.lr
    base_wd = cfg.optim_wrapper.optimizer.weight_decay
    assert base_wd > 0
    norm, embed, decayed = [], [], []
    for mod_name, module in model.named_modules():
        for name, p in module.named_parameters(recurse=False):
            if not p.requires_grad:
                continue
            full = f'{mod_name}.{name}'
            if _is_norm(module):
                norm.append(full)
            elif isinstance(module, nn.Embedding) or 'embedding' in name:
                embed.append(full)
            else:
                continue
            if groups[id(p)]['weight_decay'] != 0:
                decayed.append(full)
    assert not decayed, decayed
    # SAM's layer norms, its prompt encoder's LayerNorm2d and embeddings,
    # the VLF LayerNorms and the decoder GroupNorms are all trainable.
    assert any('sam_block.layer.norm' in n for n in norm)
    assert any('mask_downscaling' in n for n in norm)
    assert any('vlf' in n for n in norm)
    assert any('decode_head' in n for n in norm)
    assert any('point_embeddings' in n for n in embed)
    # Everything else keeps the weight decay; lr multipliers are unchanged.
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        lr = groups[id(p)]['lr']
        pretrained = (
            name.startswith('backbone.') or 'sam_block.layer.' in name
            or 'prompt_encoder.' in name)
        assert lr == pytest.approx(base_lr * (0.01 if pretrained else 1)), \
            name
        if name.endswith('q_proj_weight') or name.startswith('decode_head.'
                                                             'skip_proj'):
            assert groups[id(p)]['weight_decay'] == base_wd, name


@pytest.mark.parametrize('path', PAPER_CONFIGS)
def test_paper_configs_train_in_fp32(path):
    cfg = Config.fromfile(str(REPO / path))
    assert cfg.optim_wrapper.type == 'OptimWrapper'
    assert cfg.optim_wrapper.clip_grad == dict(max_norm=0.01, norm_type=2)


def test_full_finetune_norms_in_clip_are_not_decayed():
    """With the whole of CLIP trained, its LayerNorms and embeddings get no
    weight decay either (at CLIP's lr)."""
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules

    import escnet_mmseg  # noqa: F401
    register_all_modules()
    cfg = Config.fromfile(str(REPO / PAPER_CONFIGS[0]))
    cfg.model.backbone.pretrained = None
    cfg.model.backbone.finetune = 'full'
    cfg.model.neck.sam_checkpoint = None
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    wrapper_cfg = cfg.optim_wrapper.to_dict()
    paramwise = wrapper_cfg.pop('paramwise_cfg')
    wrapper = DefaultOptimWrapperConstructor(wrapper_cfg, paramwise)(model)
    by_id = {
        id(p): g
        for g in wrapper.optimizer.param_groups
        for p in g['params']
    }
    clip = model.backbone.clip
    blocks = [*clip.visual.transformer.resblocks, *clip.transformer.resblocks]
    zero = [
        clip.visual.positional_embedding, clip.visual.class_embedding,
        clip.positional_embedding, clip.token_embedding.weight,
        clip.visual.ln_pre.weight, clip.visual.ln_post.bias,
        clip.ln_final.weight
    ] + [
        p for b in blocks for p in (*b.ln_1.parameters(), *b.ln_2.parameters())
    ]
    for p in zero:
        assert by_id[id(p)]['weight_decay'] == 0
        assert by_id[id(p)]['lr'] == pytest.approx(2e-6)
    assert by_id[id(clip.visual.proj)]['weight_decay'] > 0
