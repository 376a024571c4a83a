"""The ablation configs (paper Tables 2 and 3) build the model they name."""
from pathlib import Path

import pytest
import torch
from mmengine import Config
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules

import escnet_mmseg  # noqa: F401

ROOT = Path(__file__).parents[2] / 'configs' / 'escnet'
ABLATIONS = ROOT / 'ablations'
# config stem -> (backbone, SAM blocks?, SAM checkpoint?, prompt types)
EXPECTED = {
    'escnet_vitl14_coco-stuff_no-sam': ('ViT-L-14-336', False, None, None),
    'escnet_vitl14_coco-stuff_sam-rand-init':
    ('ViT-L-14-336', True, False, ('points', 'masks')),
    'escnet_vitl14_coco-stuff_sam-pretrained':
    ('ViT-L-14-336', True, True, ('points', 'masks')),
    'escnet_vitl14_coco-stuff_prompt-point':
    ('ViT-L-14-336', True, True, ('points', )),
    'escnet_vitl14_coco-stuff_prompt-box': ('ViT-L-14-336', True, True,
                                            ('boxes', )),
    'escnet_vitl14_coco-stuff_prompt-point-box': ('ViT-L-14-336', True, True,
                                                  ('points', 'boxes')),
    'escnet_vitl14_coco-stuff_prompt-box-mask': ('ViT-L-14-336', True, True,
                                                 ('boxes', 'masks')),
    'escnet_vitl14_coco-stuff_prompt-point-box-mask':
    ('ViT-L-14-336', True, True, ('points', 'boxes', 'masks')),
    'escnet_vitb16_coco-stuff_no-sam': ('ViT-B-16', False, None, None),
    'escnet_vitb16_coco-stuff_sam-rand-init': ('ViT-B-16', True, False,
                                               ('points', 'masks')),
}


def test_every_ablation_config_is_checked():
    assert sorted(p.stem for p in ABLATIONS.glob('*.py')) == sorted(EXPECTED)


@pytest.mark.parametrize('stem', sorted(EXPECTED))
def test_ablation_config_builds(stem):
    register_all_modules()
    cfg = Config.fromfile(str(ABLATIONS / f'{stem}.py'))
    backbone, sam, checkpoint, prompts = EXPECTED[stem]
    main = Config.fromfile(
        str(ROOT / (stem.split('_coco-stuff')[0] + '_coco-stuff.py')))
    # Only the neck differs from the main training config.
    for key in ('backbone', 'decode_head', 'text_encoder', 'test_cfg'):
        assert cfg.model[key] == main.model[key], key
    assert cfg.train_dataloader == main.train_dataloader
    assert cfg.model.backbone.model_name == backbone
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    neck = model.neck
    assert (cfg.model.neck.sam_block is not None) == sam
    assert (neck.prompt_encoder is not None) == sam
    assert all((b.sam_block is not None) == sam for b in neck.blocks)
    if sam:
        assert bool(neck.sam_checkpoint) == checkpoint
        assert all(b.prompt_types == prompts for b in neck.blocks)
    else:
        assert all(b.visual_proj.in_channels == model.backbone.embed_dim
                   for b in neck.blocks)
