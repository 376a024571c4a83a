"""The Python examples of README.md and docs/ run as written, on the tiny
model.

Each block is taken from the markdown (not copied here) and run in a
scratch folder by a fresh interpreter. Only what a reader replaces anyway is
replaced: the paper configs and trained checkpoints by the tiny config and a
tiny checkpoint, ``cuda:0`` by the CPU, and the photos the text names are
written first. ``docs/dataset_prepare.md``'s and ``docs/own_dataset.md``'s
blocks are run by their own tests (``tests/datasets``).
"""
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from tests.docs_blocks import REPO, code_blocks
from tests.tiny import TINY_CONFIG
from tests.tools.checkpoints import tool_env, write_checkpoint

PAPER_CONFIGS = ('configs/escnet/escnet_vitl14_coco-stuff.py',
                 'configs/escnet/escnet_vitb16_coco-stuff.py',
                 'configs/escnet/escnet_tiny_synthetic.py')
CHECKPOINTS = ('work_dirs/escnet_vitl14_coco-stuff/iter_80000.pth',
               'work_dirs/escnet_tiny_synthetic/iter_600.pth',
               'iter_80000.pth')
# (file, a line that identifies the block, a file it says it writes) of
# every inference example.
EXAMPLES = [
    ('README.md', 'OpenVocabInferencer(', 'outputs/vis/photo.jpg'),
    ('docs/inference.md', 'inferencer.set_vocabulary(',
     'outputs/vis/photo.jpg'),
    ('docs/inference.md', 'segment_images(', 'outputs/*.json'),
    ('docs/inference.md', 'MMSegInferencer(', 'outputs/pred/*.png'),
    ('docs/inference.md', 'explain(inferencer', 'sky.png'),
    ('docs/mmseg_tools.md', 'inference_model(', 'vis.png'),
]
# What an example takes from the text around it: CFG / CKPT (the
# segment_images example), an inferencer and a BGR photo (explain's).
NAMED = "CFG, CKPT = {config!r}, {checkpoint!r}\n"
EXPLAIN_INPUTS = """import cv2
from escnet_mmseg.apis import OpenVocabInferencer
inferencer = OpenVocabInferencer(CFG, weights=CKPT, device='cpu')
bgr_image = cv2.imread('photo.jpg')
"""


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    return str(write_checkpoint(tmp_path_factory.mktemp('ckpt') / 'tiny.pth'))


def _photos(root) -> None:
    """The photos the examples name."""
    rng = np.random.RandomState(0)
    (root / 'photos').mkdir()
    for name in ('photo.jpg', 'street.jpg', 'photos/cat.jpg'):
        Image.fromarray(rng.randint(0, 255, (60, 90, 3),
                                    np.uint8)).save(root / name)


def _block(doc: str, marker: str) -> str:
    blocks = [b for b in code_blocks(REPO / doc, 'python') if marker in b]
    assert len(blocks) == 1, f'{doc}: {len(blocks)} blocks with {marker!r}'
    return blocks[0]


def _as_tiny(code: str, checkpoint: str) -> str:
    for path in PAPER_CONFIGS:
        code = code.replace(repr(path), repr(str(TINY_CONFIG)))
    for path in CHECKPOINTS:
        code = code.replace(repr(path), repr(checkpoint))
    return code.replace("device='cuda:0'", "device='cpu'")


@pytest.mark.slow
@pytest.mark.parametrize(
    'doc,marker,writes', EXAMPLES, ids=[f'{d}:{m}' for d, m, _ in EXAMPLES])
def test_example_runs_as_written(tmp_path, checkpoint, doc, marker, writes):
    _photos(tmp_path)
    code = _as_tiny(_block(doc, marker), checkpoint)
    prelude = NAMED.format(config=str(TINY_CONFIG), checkpoint=checkpoint)
    if 'explain(inferencer' in code:
        prelude += EXPLAIN_INPUTS
    res = subprocess.run([sys.executable, '-c', prelude + code],
                         cwd=tmp_path,
                         env=tool_env(),
                         capture_output=True,
                         text=True,
                         timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    assert list(tmp_path.glob(writes)), f'{doc} says it writes {writes}'


def test_documented_neck_config_builds():
    """docs/model.md's neck config, as written (without the SAM file)."""
    from mmseg.registry import MODELS

    import escnet_mmseg  # noqa: F401  registers the modules
    scope = {}
    exec(_block('docs/model.md', "type='ESCNeck'"), scope)
    neck = dict(scope['neck'], sam_checkpoint=None)
    with torch.device('meta'):  # full size, no memory
        built = MODELS.build(neck)
    assert type(built).__name__ == 'ESCNeck' and len(built.blocks) == 4
    assert built.blocks[0].sam_block is not None
