"""Every config in configs/escnet/ builds its model (and its test data)."""
from pathlib import Path

import pytest
import torch
from mmengine import Config
from mmseg.registry import DATASETS, MODELS
from mmseg.utils import register_all_modules

import escnet_mmseg  # noqa: F401
from escnet_mmseg.engine import dataset_vocabulary
from escnet_mmseg.models import ESCNet
from tests.datasets.tiny_data import write_tiny_dataset

CONFIGS = sorted(
    (Path(__file__).parents[2] / 'configs' / 'escnet').glob('*.py'))
# data_root of each dataset type -> the name tiny_data writes it under
TINY_NAME = {
    'COCOStuffDataset': 'coco-stuff164k',
    'ADE20KDataset': 'ade20k-150',
    'ADE20K847Dataset': 'ade20k-847',
    'PascalContextDataset59': 'pascal-context-59',
    'PascalContext459Dataset': 'pascal-context-459',
    'PascalVOC20Dataset': 'voc-20',
    'PascalVOC20bDataset': 'voc-20b',
    'SyntheticShapesDataset': 'synthetic',
}


def test_all_configs_are_listed():
    assert len(CONFIGS) == 15  # 2 training + 12 evaluation + tiny


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_config_builds_model_and_test_data(path, tmp_path):
    register_all_modules()
    cfg = Config.fromfile(str(path))
    # The meta device builds even ViT-L without memory; pretrained CLIP/SAM
    # weights are only read by init_weights(), which is not called here.
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    assert isinstance(model, ESCNet)
    # The parts agree on grid and channel sizes.
    backbone, neck, head = model.backbone, model.neck, model.decode_head
    assert neck.grid_size == backbone.grid_size
    # Training batches are padded to the crop size; the model resizes them
    # to the CLIP input (ViT-L/14 trains on 384 crops at 336, as CAT-Seg).
    size = tuple(cfg.model.data_preprocessor.size)
    assert size == backbone.image_size or size == (384, 384)
    assert neck.blocks[0].sam_block.text_proj.in_features == backbone.embed_dim
    assert head.skip_proj[0].in_channels == backbone.width

    dataset_cfg = cfg.test_dataloader.dataset
    root = tmp_path / 'data'
    write_tiny_dataset(TINY_NAME[dataset_cfg.type], str(root))
    dataset = DATASETS.build(dict(dataset_cfg, data_root=str(root)))
    sample = dataset[0]
    vocabulary = dataset_vocabulary(dataset)  # what the VocabularyHook uses
    model.set_vocabulary(vocabulary)
    assert model.out_channels == len(vocabulary)
    assert sample['inputs'].shape[0] == 3
