"""Weight files in the formats users have: plain, wrapped, safetensors and
OpenAI's TorchScript CLIP archives, through the loader the model uses."""
import pytest
import torch
from torch import nn

from escnet_mmseg.utils import load_state_dict_file
from tests.tiny import load_tiny_backbone, tiny_model_cfg, tiny_open_clip
from tests.tolerance import NETWORK, assert_close
from tests.tools.tool_loader import load_tool


@pytest.fixture(scope='module')
def clip():
    cfg = tiny_model_cfg()['backbone']['model_cfg']
    return cfg, tiny_open_clip(cfg)


def _same(a, b):
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize('wrap', [None, 'state_dict', 'model', 'module'])
def test_plain_and_wrapped_files(tmp_path, clip, wrap):
    state = clip[1].state_dict()
    obj = state if wrap is None else {wrap: state, 'meta': dict(epoch=3)}
    torch.save(obj, tmp_path / 'w.pth')
    _same(load_state_dict_file(str(tmp_path / 'w.pth')), state)


def test_safetensors_file(tmp_path, clip):
    from safetensors.torch import save_file

    # safetensors refuses tensors that share memory
    state = {
        k: v.clone().contiguous()
        for k, v in clip[1].state_dict().items()
    }
    save_file(state, str(tmp_path / 'w.safetensors'))
    _same(load_state_dict_file(str(tmp_path / 'w.safetensors')), state)


def test_not_a_state_dict_is_named(tmp_path):
    torch.save(dict(state_dict=[1, 2]), tmp_path / 'list.pth')
    with pytest.raises(ValueError, match='list.pth'):
        load_state_dict_file(str(tmp_path / 'list.pth'))
    (tmp_path / 'junk.pt').write_bytes(b'not a checkpoint')
    with pytest.raises(ValueError, match='junk.pt'):
        load_state_dict_file(str(tmp_path / 'junk.pt'))


class _Holder(nn.Module):

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def write_openai_archive(path, state):
    """A TorchScript archive laid out as OpenAI's CLIP ``.pt`` files: the
    same tensor names as open_clip, float16 weights and three metadata
    entries (what ``build_model_from_openai_state_dict`` drops)."""
    root = _Holder()
    for key, value in state.items():
        *parents, leaf = key.split('.')
        module = root
        for part in parents:
            if part not in module._modules:
                module.add_module(part, _Holder())
            module = module._modules[part]
        module.register_parameter(
            leaf, nn.Parameter(value.half(), requires_grad=False))
    for key, value in (('input_resolution', 64), ('context_length', 16),
                       ('vocab_size', 49408)):
        root.register_buffer(key, torch.tensor(value))
    torch.jit.save(torch.jit.script(root), str(path))
    return path


def test_openai_torchscript_archive_loads_as_open_clip_state(tmp_path, clip):
    cfg, ref = clip
    state = ref.state_dict()
    path = write_openai_archive(tmp_path / 'ViT-tiny.pt', state)
    loaded = load_state_dict_file(str(path))
    assert set(loaded) == set(state)  # open_clip's names, no metadata
    assert all(v.dtype == torch.float32 for v in loaded.values())
    assert torch.equal(loaded['visual.proj'],
                       state['visual.proj'].half().float())
    # The backbone loads it and computes open_clip's embedding of the same
    # (float16-rounded) weights.
    backbone = load_tiny_backbone(cfg, path)
    rounded = tiny_open_clip(cfg)
    rounded.load_state_dict({k: v.half().float() for k, v in state.items()})
    images = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        pooled = backbone(images)['pooled']
        assert_close(pooled, rounded.encode_image(images), NETWORK)


def test_prepare_weights_accepts_openai_archive(tmp_path, capsys):
    pw = load_tool('tools/prepare_weights.py')
    sam = tmp_path / 'sam.pth'
    torch.save(
        {
            k: torch.zeros(1).expand(*s)
            for k, s in pw.expected_sam_tensors().items()
        }, sam)
    expected = pw.expected_clip_tensors('ViT-B-16')
    # Expanded zero tensors keep the archive small.
    path = write_openai_archive(
        tmp_path / 'ViT-B-16.pt', {
            k: torch.zeros(1, dtype=torch.half).expand(*s)
            for k, s in expected.items()
        })
    assert pw.check_clip_checkpoint(str(path), 'ViT-B-16') == []
    assert pw.main([
        '--sam-checkpoint',
        str(sam), '--clip-checkpoint',
        str(path), '--clip-model', 'ViT-B-16'
    ]) == 0
    assert '[ok] CLIP ViT-B-16 weights' in capsys.readouterr().out
