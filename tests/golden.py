"""Golden outputs of the tiny ESC-Net: a fixed function to compare against.

Three variants of the tiny config (the default point + mask prompts, no SAM
block, box + mask prompts) are built from tiny CLIP/SAM files written by
:mod:`tests.tiny`, their new layers filled by :func:`name_seeded_init_`, and
run in whole-image mode (``encode_decode``) on fixed images. A few hundred
logits per variant are stored in ``tests/data/golden_tiny.json``.

Regenerate (only for an intentional change of the model's function, and
say why in the commit)::

    python tests/data/make_golden.py
"""
import json
import tempfile
from pathlib import Path
from typing import Dict

import torch

from tests.tiny import (NAMES, REPO, build_tiny_model, name_seeded_init_,
                        tiny_model_cfg, write_tiny_weights)

GOLDEN_FILE = REPO / 'tests' / 'data' / 'golden_tiny.json'
REGENERATE = 'python tests/data/make_golden.py'
# neck overrides of each variant
VARIANTS = {
    'escnet': {},
    'no_sam': dict(sam_block=None),
    'boxes': dict(prompt_types=('boxes', 'masks')),
}
NUM_SAMPLES = 300  # logits stored per variant
SEED = 0


def golden_images() -> torch.Tensor:
    """(2, 3, 64, 64) normalised input images."""
    g = torch.Generator().manual_seed(SEED)
    return torch.randn(2, 3, 64, 64, generator=g)


def golden_model(variant: str, weights_dir: Path) -> torch.nn.Module:
    clip_path, sam_path = write_tiny_weights(weights_dir)
    neck = dict(VARIANTS[variant])
    if neck.get('sam_block', True) is not None:
        neck['sam_checkpoint'] = sam_path
    cfg = tiny_model_cfg(**neck)
    cfg['backbone']['pretrained'] = clip_path
    # The CLIP path of the paper's configs (the toy training config trains
    # all of CLIP with ordinary blocks, see its comments).
    cfg['backbone'].update(last_block='dense', finetune='attention')
    model = build_tiny_model(cfg, vocabulary=NAMES, seed=SEED)
    name_seeded_init_(model, seed=SEED)
    return model.eval()


def golden_logits(model: torch.nn.Module) -> torch.Tensor:
    """(2, T, 64, 64) logits of the whole-image path."""
    images = golden_images()
    metas = [
        dict(
            img_shape=images.shape[-2:],
            ori_shape=images.shape[-2:],
            pad_shape=images.shape[-2:],
            padding_size=[0, 0, 0, 0]) for _ in range(images.shape[0])
    ]
    model.test_cfg['mode'] = 'whole'
    with torch.no_grad():
        return model.encode_decode(images, metas)


def sample_index(numel: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(SEED)
    return torch.randperm(numel, generator=g)[:NUM_SAMPLES].sort().values


def compute_golden() -> Dict[str, dict]:
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for variant in VARIANTS:
            logits = golden_logits(golden_model(variant, Path(tmp)))
            index = sample_index(logits.numel())
            out[variant] = dict(
                shape=list(logits.shape),
                index=index.tolist(),
                values=logits.flatten()[index].tolist(),
                class_means=logits.mean(dim=(2, 3)).flatten().tolist())
    return out


def write_golden(path: Path = GOLDEN_FILE) -> Dict[str, dict]:
    golden = compute_golden()
    data = dict(
        about='Logits of the tiny ESC-Net variants (tests/golden.py); '
        f'regenerate with `{REGENERATE}` only for an intentional change.',
        torch=torch.__version__,
        variants=golden)
    path.write_text(json.dumps(data, indent=1) + '\n')
    return golden
