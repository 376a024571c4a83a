import torch

from tests.tools.tool_loader import load_tool

pw = load_tool('tools/prepare_weights.py')


def fake_sam_state_dict():
    sd = {
        name: torch.zeros(shape)
        for name, shape in pw.expected_sam_tensors().items()
    }
    # Parts of the real checkpoint ESC-Net does not use.
    sd['image_encoder.patch_embed.proj.weight'] = torch.zeros(8, 3, 2, 2)
    sd['mask_decoder.iou_token.weight'] = torch.zeros(1, 256)
    return sd


def test_expected_sam_tensors_cover_both_blocks_and_prompt_encoder():
    names = pw.expected_sam_tensors()
    assert 'prompt_encoder.pe_layer.positional_encoding_gaussian_matrix' \
        in names
    assert any(n.startswith('prompt_encoder.mask_downscaling.') for n in names)
    for i in (0, 1):
        prefix = f'mask_decoder.transformer.layers.{i}.'
        assert prefix + 'self_attn.q_proj.weight' in names
        assert prefix + 'cross_attn_image_to_token.out_proj.weight' in names
    assert names['mask_decoder.transformer.layers.0.mlp.lin1.weight'] == (2048,
                                                                          256)


def test_complete_sam_checkpoint_passes(tmp_path, capsys):
    path = str(tmp_path / 'sam.pth')
    torch.save(fake_sam_state_dict(), path)
    assert pw.check_sam_checkpoint(path) == []
    assert pw.main(['--sam-checkpoint', path]) == 0
    assert '[ok] SAM checkpoint' in capsys.readouterr().out


def test_incomplete_sam_checkpoint_names_missing_tensors(tmp_path, capsys):
    sd = fake_sam_state_dict()
    sd = {
        k: v
        for k, v in sd.items()
        if not k.startswith('mask_decoder.transformer.layers.1.')
    }
    sd['prompt_encoder.point_embeddings.0.weight'] = torch.zeros(1, 128)
    path = str(tmp_path / 'sam.pth')
    torch.save(dict(state_dict=sd), path)  # nested dicts are unwrapped
    problems = pw.check_sam_checkpoint(path)
    assert 'missing: mask_decoder.transformer.layers.1.norm4.bias' in problems
    assert any('wrong shape: prompt_encoder.point_embeddings.0.weight' in p
               for p in problems)
    assert not any('layers.0' in p for p in problems)
    assert pw.main(['--sam-checkpoint', path]) == 1
    out = capsys.readouterr().out
    assert 'missing: mask_decoder.transformer.layers.1.' in out


def test_missing_sam_file_is_reported(tmp_path, capsys):
    assert pw.main(['--sam-checkpoint', str(tmp_path / 'none.pth')]) == 1
    out = capsys.readouterr().out
    assert 'none.pth not found' in out and pw.SAM_URL in out


def test_clip_checkpoint_check(tmp_path, capsys):
    sam = str(tmp_path / 'sam.pth')
    torch.save(fake_sam_state_dict(), sam)
    expected = pw.expected_clip_tensors('ViT-B-16')
    assert expected['visual.conv1.weight'] == (768, 3, 16, 16)
    assert expected['visual.proj'] == (768, 512)
    # Expanded zero tensors keep the file small.
    sd = {k: torch.zeros(1).expand(*s) for k, s in expected.items()}
    clip = str(tmp_path / 'clip.bin')
    torch.save(sd, clip)
    args = [
        '--sam-checkpoint', sam, '--clip-checkpoint', clip, '--clip-model',
        'ViT-B-16'
    ]
    assert pw.main(args) == 0
    assert 'model.backbone.pretrained=' in capsys.readouterr().out
    # Weights of the other architecture do not pass.
    assert pw.check_clip_checkpoint(clip, 'ViT-L-14-336')
    del sd['text_projection']
    torch.save(sd, clip)
    assert pw.main(args) == 1
    assert 'missing: text_projection' in capsys.readouterr().out
