"""CLIP parity: our backbone / text encoder vs open_clip on the same
weights."""
import pytest
import torch
import torch.nn.functional as F

from escnet_mmseg.models import CLIPBackbone, ESCTextEncoder
from tests.tiny import load_tiny_backbone, tiny_model_cfg, tiny_open_clip
from tests.tolerance import NETWORK, OP, assert_close


@pytest.fixture(scope='module')
def clip_file(tmp_path_factory):
    cfg = tiny_model_cfg()['backbone']['model_cfg']
    ref = tiny_open_clip(cfg)
    path = tmp_path_factory.mktemp('clip') / 'open_clip_tiny.pt'
    torch.save(ref.state_dict(), path)
    return cfg, ref, path


def test_pooled_image_embedding_equals_encode_image(clip_file):
    cfg, ref, path = clip_file
    backbone = load_tiny_backbone(cfg, path)
    images = torch.randn(2, 3, 64, 64)
    out = backbone(images)
    assert_close(out['pooled'], ref.encode_image(images), NETWORK)
    assert out['dense'].shape == (2, 32, 8, 8)
    assert [s.shape for s in out['skips']] == [(2, 32, 8, 8)] * 2


def test_plain_dense_tokens_are_projected_patch_tokens(clip_file):
    cfg, ref, path = clip_file
    backbone = load_tiny_backbone(cfg, path, last_block='plain')
    images = torch.randn(1, 3, 64, 64)
    ref.visual.output_tokens = True
    _, tokens = ref.visual(images)
    ref.visual.output_tokens = False
    expected = (tokens @ ref.visual.proj).transpose(1, 2).reshape(1, -1, 8, 8)
    assert_close(backbone(images)['dense'], expected, NETWORK)


def test_text_embedding_equals_encode_text(clip_file):
    cfg, ref, path = clip_file
    backbone = load_tiny_backbone(cfg, path)
    encoder = ESCTextEncoder(templates=['{}'])
    names = ['cat', 'traffic light', 'wall, walls']
    import open_clip
    tokens = open_clip.tokenizer.SimpleTokenizer(context_length=16)(
        ['cat', 'traffic light', 'wall'])  # synonyms: the first name
    expected = ref.encode_text(tokens, normalize=True)
    assert_close(encoder(names, backbone), expected, NETWORK)


def test_templates_are_averaged(clip_file):
    cfg, ref, path = clip_file
    backbone = load_tiny_backbone(cfg, path)
    templates = ['a photo of a {}.', 'a drawing of the {}.']
    encoder = ESCTextEncoder(templates=templates)
    import open_clip
    tok = open_clip.tokenizer.SimpleTokenizer(context_length=16)
    per_template = torch.stack([
        ref.encode_text(tok([t.format('dog')]), normalize=True)[0]
        for t in templates
    ])
    expected = F.normalize(per_template.mean(0), dim=-1)
    assert_close(encoder(['dog'], backbone)[0], expected, NETWORK)
    assert len(ESCTextEncoder(templates='imagenet').templates) == 80


def test_text_cache_follows_mode_and_weights(clip_file):
    cfg, _, path = clip_file
    backbone = load_tiny_backbone(cfg, path)
    encoder = ESCTextEncoder()
    with torch.no_grad():
        a = encoder(['dog', 'cat'], backbone)
        assert encoder(['dog', 'cat'], backbone) is a  # cached
        b = encoder(['cat', 'dog'], backbone)
        assert torch.equal(b, a.flip(0))  # another vocabulary, recomputed
        backbone.clip.token_embedding.weight.add_(1.0)  # e.g. a new checkpoint
        c = encoder(['dog', 'cat'], backbone)
    assert not torch.allclose(c, a)
    # While the text tower trains, every call recomputes with gradients.
    backbone.train()
    d = encoder(['dog', 'cat'], backbone)
    assert d.requires_grad and d is not encoder(['dog', 'cat'], backbone)


def test_position_grid_is_resampled(tmp_path):
    """Weights saved at 32 px (4x4 grid) load into a 64 px model (8x8)."""
    cfg = tiny_model_cfg()['backbone']['model_cfg']
    small = dict(cfg, vision_cfg=dict(cfg['vision_cfg'], image_size=32))
    torch.save(tiny_open_clip(small).state_dict(), tmp_path / 'small.pt')
    backbone = load_tiny_backbone(cfg, tmp_path / 'small.pt', image_size=64)
    assert backbone.clip.visual.positional_embedding.shape == (65, 32)
    assert backbone(torch.randn(1, 3, 64, 64))['dense'].shape[-2:] == (8, 8)


def test_position_grid_is_resized_as_catseg(tmp_path):
    """CAT-Seg's resize: CLS kept, the grid bicubic, align_corners=False,
    no antialias (not open_clip's antialiased kernel)."""
    cfg = tiny_model_cfg()['backbone']['model_cfg']
    small = dict(cfg, vision_cfg=dict(cfg['vision_cfg'], image_size=40))
    state = tiny_open_clip(small).state_dict()
    torch.nn.init.normal_(state['visual.positional_embedding'])
    torch.save(state, tmp_path / 'small.pt')
    backbone = load_tiny_backbone(cfg, tmp_path / 'small.pt', image_size=64)
    old = state['visual.positional_embedding']  # (1 + 5*5, 32)
    grid = old[1:].reshape(5, 5, 32).permute(2, 0, 1)[None]
    ref = F.interpolate(
        grid,
        size=(8, 8),
        mode='bicubic',
        align_corners=False,
        antialias=False)
    ref = torch.cat([old[:1], ref[0].reshape(32, 64).T])
    got = backbone.clip.visual.positional_embedding.detach()
    assert_close(got, ref, OP)
    assert torch.equal(got[0], old[0])
    antialiased = F.interpolate(
        grid, size=(8, 8), mode='bicubic', align_corners=False,
        antialias=True)[0].reshape(32, 64).T
    assert (got[1:] - antialiased).abs().max() > 1e-3


def test_bad_clip_checkpoint_is_named(tmp_path, clip_file):
    cfg, ref, _ = clip_file
    state = ref.state_dict()
    del state['visual.proj']
    torch.save(state, tmp_path / 'clip_broken.pt')
    with pytest.raises(KeyError, match=r'visual\.proj'):
        load_tiny_backbone(cfg, tmp_path / 'clip_broken.pt')
    with pytest.raises(FileNotFoundError, match='missing.pt'):
        load_tiny_backbone(cfg, tmp_path / 'missing.pt')


def test_finetune_modes_select_parameters():
    cfg = tiny_model_cfg()['backbone']['model_cfg']
    attn = CLIPBackbone(
        model_cfg=cfg,
        pretrained=None,
        out_indices=(1, 2),
        finetune='attention')
    trainable = {n for n, p in attn.named_parameters() if p.requires_grad}
    assert trainable and all(
        n.endswith(('.attn.q_proj_weight', '.attn.v_proj_weight'))
        for n in trainable)
    assert any(n.startswith('clip.visual.') for n in trainable)
    assert any(n.startswith('clip.transformer.') for n in trainable)
    frozen = CLIPBackbone(
        model_cfg=cfg, pretrained=None, out_indices=(1, 2), finetune='none')
    assert not any(p.requires_grad for p in frozen.parameters())
    with pytest.raises(ValueError, match='finetune'):
        CLIPBackbone(
            model_cfg=cfg, pretrained=None, out_indices=(1, 2), finetune='mlp')


def test_pretrained_tag_goes_through_open_clip_download(monkeypatch, tmp_path):
    """'openai' resolves to open_clip's download of that tag (no network
    here: the download function is replaced by one returning a file)."""
    import open_clip.factory as factory

    from escnet_mmseg.models.clip_backbone import resolve_clip_weights
    seen = {}

    def fake_download(cfg, *args, **kwargs):
        seen.update(cfg)
        return str(tmp_path / 'downloaded.bin')

    monkeypatch.setattr(factory, 'download_pretrained', fake_download)
    path = resolve_clip_weights('ViT-L-14-336', 'openai')
    assert path.endswith('downloaded.bin')
    assert seen.get('quick_gelu') is True  # OpenAI weights use QuickGELU
    with pytest.raises(FileNotFoundError, match='not-a-tag'):
        resolve_clip_weights('ViT-L-14-336', 'not-a-tag')
