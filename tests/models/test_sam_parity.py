"""SAM parity: our SAM blocks and prompt encoding vs segment_anything's."""
import pytest
import torch
import torch.nn.functional as F

from escnet_mmseg.models.sam_block import encode_prompts, grid_to_sam_coords
from tests.tiny import (build_tiny_model, tiny_model_cfg, tiny_sam,
                        write_sam_checkpoint)
from tests.tolerance import BLOCK, OP, assert_close


@pytest.fixture(scope='module')
def sam_and_model(tmp_path_factory):
    sam = tiny_sam()
    ckpt = write_sam_checkpoint(
        tmp_path_factory.mktemp('sam') / 'sam_tiny.pth', sam)
    model = build_tiny_model(tiny_model_cfg(sam_checkpoint=str(ckpt)))
    return sam, model.eval()


def test_two_way_blocks_equal_sam_layers(sam_and_model):
    sam, model = sam_and_model
    torch.manual_seed(0)
    q, k = torch.randn(6, 5, 32), torch.randn(6, 64, 32)
    q_pe, k_pe = torch.randn(6, 5, 32), torch.randn(6, 64, 32)
    for block, layer_id in zip(model.neck.blocks, model.neck.sam_layer_ids):
        ours = block.sam_block.layer(q, k, q_pe, k_pe)
        ref = sam.mask_decoder.transformer.layers[layer_id](q, k, q_pe, k_pe)
        for a, b in zip(ours, ref):
            assert_close(a, b, BLOCK)


def test_prompt_encoding_equals_sam(sam_and_model):
    sam, model = sam_and_model
    torch.manual_seed(0)
    b, t, k, h, w = 2, 3, 3, 8, 8
    prompts = dict(
        points=torch.randint(0, 8, (b, t, k, 2)).float(),
        point_labels=torch.tensor([1, 1, -1]).expand(b, t, k),
        labels=torch.randint(-1, k, (b, t, h * w)),
        mask_prompt=torch.randn(b, t, h, w))
    sparse, dense = encode_prompts(model.neck.prompt_encoder, prompts,
                                   ('points', 'masks'))
    ref_sparse, ref_dense = sam.prompt_encoder(
        points=(grid_to_sam_coords(prompts['points'].flatten(0, 1)),
                prompts['point_labels'].flatten(0, 1)),
        boxes=None,
        masks=F.interpolate(
            prompts['mask_prompt'].flatten(0, 1)[:, None],
            size=(4 * h, 4 * w),
            mode='bilinear'))
    assert sparse.shape == (b * t, k + 1, 32)  # SAM's padding point
    assert_close(sparse, ref_sparse, OP)
    assert_close(dense, ref_dense, OP)
    dense_pe = model.neck.prompt_encoder.get_dense_pe()
    assert_close(dense_pe, sam.prompt_encoder.get_dense_pe(), OP)


def test_point_lands_on_its_grid_cell(sam_and_model):
    """A point at grid cell (x, y) gets the dense PE of that cell."""
    _, model = sam_and_model
    pe = model.neck.prompt_encoder
    xy = torch.tensor([[[0., 0.], [7., 0.], [3., 5.], [7., 7.]]])
    point_pe = pe.pe_layer.forward_with_coords(
        grid_to_sam_coords(xy) + 0.5, pe.input_image_size)
    dense = pe.get_dense_pe()[0]
    for i, (x, y) in enumerate(xy[0].long().tolist()):
        # sin/cos of 2 pi (xy G): rounding grows with the argument, which
        # SAM's random Gaussian G keeps of order 10.
        assert_close(point_pe[0, i], dense[:, y, x], BLOCK, scale=1.)


@pytest.mark.parametrize('types', [('points', ), ('masks', ), ('boxes', ),
                                   ('points', 'boxes', 'masks'), ()])
def test_prompt_type_switches(sam_and_model, types):
    _, model = sam_and_model
    b, t, k = 1, 2, 3
    prompts = dict(
        points=torch.randint(0, 8, (b, t, k, 2)).float(),
        point_labels=torch.ones(b, t, k, dtype=torch.long),
        labels=torch.randint(-1, k, (b, t, 64)),
        mask_prompt=torch.randn(b, t, 8, 8))
    sparse, dense = encode_prompts(model.neck.prompt_encoder, prompts, types)
    n = (k + ('boxes' not in types) if 'points' in types else 0) + \
        (2 * k if 'boxes' in types else 0)
    assert sparse.shape == (b * t, n, 32)
    assert dense.shape == (b * t, 32, 8, 8)
    no_mask = model.neck.prompt_encoder.no_mask_embed.weight.view(-1)
    assert torch.allclose(dense[0, :, 0, 0], no_mask) != ('masks' in types)


def test_missing_sam_keys_are_named(tmp_path):
    state = tiny_sam().state_dict()
    del state['mask_decoder.transformer.layers.1.norm4.weight']
    del state['prompt_encoder.no_mask_embed.weight']
    torch.save(state, tmp_path / 'broken.pth')
    cfg = tiny_model_cfg(sam_checkpoint=str(tmp_path / 'broken.pth'))
    with pytest.raises(KeyError, match='no_mask_embed.weight'):
        build_tiny_model(cfg)
    state2 = tiny_sam().state_dict()
    del state2['mask_decoder.transformer.layers.1.norm4.weight']
    torch.save(state2, tmp_path / 'broken2.pth')
    cfg = tiny_model_cfg(sam_checkpoint=str(tmp_path / 'broken2.pth'))
    with pytest.raises(KeyError, match=r'layers\.1\..*norm4\.weight'):
        build_tiny_model(cfg)


def test_missing_sam_file_is_named(tmp_path):
    cfg = tiny_model_cfg(sam_checkpoint=str(tmp_path / 'nope.pth'))
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        build_tiny_model(cfg)


def test_no_sam_block_and_random_init_switches():
    model = build_tiny_model(tiny_model_cfg(sam_block=None))
    assert model.neck.prompt_encoder is None
    assert all(b.sam_block is None for b in model.neck.blocks)
    out = model.eval()._forward(torch.randn(1, 3, 64, 64))
    assert out.shape == (1, 6, 32, 32)
