"""The offline-weights instructions of docs/train_test.md: their URLs and
file names are open_clip's and the configs', and they run as written
(``wget`` hands out tiny fakes in the released formats)."""
import re

import pytest
import torch
from mmengine.config import Config

from escnet_mmseg.utils.pretrained import CLIP_MODELS, clip_source, sam_source
from tests.docs_blocks import DOCS, REPO, DocShell, block_with, commands
from tests.test_weight_files import write_openai_archive
from tests.tools.tool_loader import load_tool

pw = load_tool('tools/prepare_weights.py')
TRAIN_TEST = DOCS / 'train_test.md'


def _downloads() -> str:
    return block_with(TRAIN_TEST, 'wget -P checkpoints')


def _checks() -> str:
    return block_with(TRAIN_TEST, 'prepare_weights.py --offline')


def _expanded(shapes, dtype=torch.float32) -> dict:
    # Expanded zeros: the real shapes in a file of a few kB.
    return {k: torch.zeros(1, dtype=dtype).expand(*s) for k, s in shapes}


def write_fakes(folder):
    """SAM's .pth and OpenAI's TorchScript CLIP files, named as released."""
    folder.mkdir()
    sam = _expanded(pw.expected_sam_tensors().items())
    sam['image_encoder.patch_embed.proj.weight'] = torch.zeros(8, 3, 2, 2)
    torch.save(sam, folder / sam_source().filename)
    for name in CLIP_MODELS:
        write_openai_archive(
            folder / clip_source(name).filename,
            _expanded(pw.expected_clip_tensors(name).items(), torch.half))
    return folder


@pytest.fixture(scope='module')
def fakes(tmp_path_factory):
    return write_fakes(tmp_path_factory.mktemp('downloads') / 'files')


def test_documented_urls_and_places_are_the_real_ones():
    urls = re.findall(r'https://\S+', _downloads())
    sources = [sam_source()] + [clip_source(n) for n in CLIP_MODELS]
    assert urls == [s.url for s in sources]
    # Each training command points its config at the file of its backbone;
    # the SAM file is where the configs look.
    trains = [c for c in commands(_checks()) if 'tools/train.py' in c]
    assert len(trains) == len(CLIP_MODELS)
    for command in trains:
        config = Config.fromfile(str(REPO / command.split()[2]))
        path = command.split('model.backbone.pretrained=')[1].split()[0]
        assert path == clip_source(config.model.backbone.model_name).\
            local_path
        assert config.model.neck.sam_checkpoint == sam_source().local_path
    # The check names the hub repositories open_clip uses online.
    text = TRAIN_TEST.read_text()
    assert all(clip_source(n).hf_repo in text for n in CLIP_MODELS)


def test_offline_instructions_run_as_written(fakes, tmp_path):
    shell = DocShell(tmp_path / 'checkout', fakes)
    res = shell.run(_downloads())
    assert res.returncode == 0, res.stderr
    checks = [c for c in commands(_checks()) if 'prepare_weights' in c]
    res = shell.run('\n'.join(checks))
    assert res.returncode == 0, res.stdout + res.stderr
    assert f'[ok] SAM checkpoint {sam_source().local_path}' in res.stdout
    for name in CLIP_MODELS:
        assert f'[ok] CLIP {name} weights {clip_source(name).local_path}' \
            in res.stdout
    # A missing file fails the offline check and says where to get it.
    missing = clip_source('ViT-L-14-336')
    (shell.root / missing.local_path).unlink()
    res = shell.run('\n'.join(checks))
    assert res.returncode == 1
    assert '[!!] CLIP ViT-L-14-336' in res.stdout
    assert missing.url in res.stdout and missing.local_path in res.stdout
    # Without --offline the same is a note (open_clip fetches it online).
    res = shell.run('python tools/prepare_weights.py')
    assert res.returncode == 0 and '[..] CLIP ViT-L-14-336' in res.stdout


def test_open_clip_cache_is_found(fakes, tmp_path):
    """A file in open_clip's Hugging Face cache counts as present."""
    shell = DocShell(tmp_path / 'checkout', fakes)
    source = clip_source('ViT-B-16')
    repo = shell.root.parent / 'checkout_hf' / 'hub' / (
        'models--' + source.hf_repo.replace('/', '--'))
    (repo / 'refs').mkdir(parents=True)
    (repo / 'refs' / 'main').write_text('abc123')
    snapshot = repo / 'snapshots' / 'abc123'
    snapshot.mkdir(parents=True)
    torch.save(
        _expanded(pw.expected_clip_tensors('ViT-B-16').items()),
        snapshot / 'open_clip_pytorch_model.bin')
    res = shell.run('python tools/prepare_weights.py --offline '
                    '--clip-model ViT-B-16 --sam-checkpoint '
                    f'{fakes / sam_source().filename}')
    assert res.returncode == 0, res.stdout + res.stderr
    assert "open_clip's cache" in res.stdout and str(snapshot) in res.stdout


def test_clip_checkpoint_alone_names_its_architecture(fakes, capsys):
    sam = str(fakes / sam_source().filename)
    for name in CLIP_MODELS:
        path = str(fakes / clip_source(name).filename)
        assert pw.main(['--sam-checkpoint', sam, '--clip-checkpoint',
                        path]) == 0
        assert f'[ok] CLIP {name} weights {path}' in capsys.readouterr().out
    # A file of neither: the problems against the closer architecture.
    broken = fakes.parent / 'broken.bin'
    shapes = dict(pw.expected_clip_tensors('ViT-B-16'))
    del shapes['visual.proj']
    torch.save(_expanded(shapes.items()), broken)
    assert pw.main(['--sam-checkpoint', sam, '--clip-checkpoint',
                    str(broken)]) == 1
    out = capsys.readouterr().out
    assert '[!!] CLIP ViT-B-16 weights' in out
    assert 'missing: visual.proj' in out
