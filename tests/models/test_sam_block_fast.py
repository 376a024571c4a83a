"""The SAM block's fast forward computes SAM's TwoWayAttentionBlock.

:meth:`SAMBlock.forward` never expands the image tokens per class; these
tests compare it with segment_anything's ``TwoWayAttentionBlock`` run
directly on the explicitly expanded tokens (and with SAM's own prompt
encoder), for the prompt combinations of the paper's Table 3.
"""
import pytest
import torch
import torch.nn.functional as F

from escnet_mmseg.models.sam_block import (DenseEmbedding, SAMBlock,
                                           cluster_boxes, encode_prompts,
                                           grid_to_sam_coords)
from tests.tiny import (build_tiny_model, tiny_model_cfg, tiny_sam,
                        write_sam_checkpoint)
from tests.tolerance import BLOCK, NETWORK, OP, assert_close

DIMS, GRID, E, C, K = 32, 8, 24, 16, 3


@pytest.fixture(scope='module')
def sam():
    return tiny_sam(dims=DIMS, grid=GRID)


def _sam_block(sam, layer_id: int) -> SAMBlock:
    torch.manual_seed(layer_id)
    block = SAMBlock(
        E, C, DIMS, num_heads=2, mlp_dim=64, skip_first_layer_pe=layer_id == 0)
    block.layer.load_state_dict(
        sam.mask_decoder.transformer.layers[layer_id].state_dict())
    with torch.no_grad():  # non-default projections
        for p in (*block.text_proj.parameters(),
                  *block.image_proj.parameters(),
                  *block.out_proj.parameters()):
            p.add_(0.1 * torch.randn_like(p))
    return block.eval()


def _prompts(b, t, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return dict(
        points=torch.randint(0, GRID, (b, t, K, 2), generator=gen).float(),
        point_labels=torch.where(
            torch.rand(b, t, K, generator=gen) < 0.7, 1, -1),
        labels=torch.randint(-1, K, (b, t, GRID * GRID), generator=gen),
        mask_prompt=3 * torch.randn(b, t, GRID, GRID, generator=gen))


def _sam_reference(sam, block, visual, text, prompts, types):
    """The SAM block computed with segment_anything's modules directly."""
    b, t = prompts['points'].shape[:2]
    pe = sam.prompt_encoder
    points = masks = None
    if 'points' in types:
        points = (grid_to_sam_coords(prompts['points'].flatten(0, 1)),
                  prompts['point_labels'].flatten(0, 1))
    if 'masks' in types:
        masks = F.interpolate(
            prompts['mask_prompt'].flatten(0, 1)[:, None],
            size=(4 * GRID, 4 * GRID),
            mode='bilinear')
    sparse, dense = pe(points=points, boxes=None, masks=masks)
    if 'boxes' in types:  # K boxes per class; SAM pads points only without
        box = cluster_boxes(prompts['labels'].flatten(0, 1),
                            prompts['points'].flatten(0, 1), GRID)
        corners = pe._embed_boxes(grid_to_sam_coords(box.reshape(-1, 4)))
        corners = corners.reshape(b * t, 2 * K, -1)
        sparse = corners if points is None else torch.cat(
            [pe._embed_points(*points, pad=False), corners], dim=1)
    image = block.image_proj(visual).repeat_interleave(t, dim=0)
    keys = (image + dense).flatten(2).transpose(1, 2)
    tokens = block.text_proj(text).repeat(b, 1)[:, None]
    queries = torch.cat([tokens, sparse], dim=1)
    key_pe = pe.get_dense_pe().flatten(2).transpose(1, 2)
    layer = sam.mask_decoder.transformer.layers[0 if block.layer.
                                                skip_first_layer_pe else 1]
    _, keys = layer(queries, keys, query_pe=queries, key_pe=key_pe)
    out = block.out_proj(keys.transpose(1, 2).reshape(b * t, -1, GRID, GRID))
    return out.view(b, t, -1, GRID, GRID)


@pytest.mark.parametrize('layer_id', [0, 1])
@pytest.mark.parametrize(
    'types', [('points', 'masks'), ('points', ), ('boxes', ),
              ('points', 'boxes'), ('boxes', 'masks'),
              ('points', 'boxes', 'masks')],
    ids='+'.join)
def test_fast_forward_equals_sam_layer(sam, layer_id, types):
    block = _sam_block(sam, layer_id)
    b, t = 2, 5
    torch.manual_seed(3)
    visual, text = torch.randn(b, E, GRID, GRID), torch.randn(t, E)
    prompts = _prompts(b, t)
    with torch.no_grad():
        want = _sam_reference(sam, block, visual, text, prompts, types)
        sparse, dense = encode_prompts(
            sam.prompt_encoder, prompts, types, factored=True)
        assert isinstance(dense, DenseEmbedding)
        assert (dense.maps is None) == ('masks' not in types)
        got = block(visual, text, sparse, dense,
                    sam.prompt_encoder.get_dense_pe())
        # An explicit dense tensor goes through the same fast path.
        sparse2, dense2 = encode_prompts(sam.prompt_encoder, prompts, types)
        got2 = block(visual, text, sparse2, dense2,
                     sam.prompt_encoder.get_dense_pe())
        ref = block.forward_reference(visual, text, sparse2, dense2,
                                      sam.prompt_encoder.get_dense_pe())
    assert got.shape == want.shape == (b, t, C, GRID, GRID)
    assert_close(got, want, BLOCK, msg='fast')
    assert_close(got2, want, BLOCK, msg='fast, explicit dense')
    assert_close(ref, want, BLOCK, msg='reference')


def test_factored_dense_materializes_as_sam(sam):
    prompts = _prompts(1, 4, seed=5)
    for types in (('masks', ), ('points', )):
        _, dense = encode_prompts(
            sam.prompt_encoder, prompts, types, factored=True)
        _, want = encode_prompts(sam.prompt_encoder, prompts, types)
        assert_close(dense.materialize(4, (GRID, GRID)), want, OP)


def test_gradients_equal_sam_layer(sam):
    """Training goes through the fast path: its gradients are SAM's."""
    block = _sam_block(sam, 1).train()
    b, t, types = 1, 3, ('points', 'masks')
    torch.manual_seed(4)
    visual = torch.randn(b, E, GRID, GRID)
    text = torch.randn(t, E)
    prompts = _prompts(b, t, seed=2)
    grads = []
    for fast in (True, False):
        block.zero_grad()
        sparse, dense = encode_prompts(
            sam.prompt_encoder, prompts, types, factored=fast)
        fn = block if fast else block.forward_reference
        fn(visual, text, sparse, dense,
           sam.prompt_encoder.get_dense_pe()).square().sum().backward()
        grads.append({n: p.grad.clone() for n, p in block.named_parameters()})
    # A bias gradient sums the same per-token terms as its weight's (the key
    # bias's is exactly zero: softmax ignores a shift shared by all keys), so
    # each parameter is compared on the scale of its layer's gradients.
    scale = {}
    for name, g in grads[1].items():
        layer = name.rsplit('.', 1)[0]
        scale[layer] = max(scale.get(layer, 0.), g.abs().max().item())
    for name, g in grads[0].items():
        assert_close(
            g,
            grads[1][name],
            BLOCK,
            scale=scale[name.rsplit('.', 1)[0]],
            msg=name)


@pytest.mark.parametrize(
    'types', [('points', 'masks'), ('boxes', ), ('points', 'boxes', 'masks')],
    ids='+'.join)
def test_model_output_unchanged(tmp_path, types):
    """The whole tiny model with the fast SAM blocks equals the model run
    with SAM's TwoWayAttentionBlock (the implementation before)."""
    ckpt = write_sam_checkpoint(tmp_path / 'sam.pth', tiny_sam())
    model = build_tiny_model(
        tiny_model_cfg(sam_checkpoint=str(ckpt), prompt_types=types)).eval()
    image = torch.randn(
        1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        fast = model._forward(image)
        for block in model.neck.blocks:
            block.sam_block.forward = block.sam_block.forward_reference
        ref = model._forward(image)
    assert_close(fast, ref, NETWORK)
