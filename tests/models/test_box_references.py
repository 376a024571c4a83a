"""Every box of the tiny ESC-Net against a reference written here.

The references are assembled from the upstream parts (``open_clip``'s vision
blocks, ``segment_anything``'s ``PromptEncoder`` and ``TwoWayAttentionBlock``
taken from the SAM model the checkpoint was written from) and plain torch
formulas, never from the package's own helpers. The model runs once through
its public forward; forward hooks record what each box received and
returned, and the test recomputes the box for some images and classes.
"""
from collections import defaultdict

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tests.tiny import (NAMES, build_tiny_model, tiny_model_cfg,
                        tiny_open_clip, tiny_sam, write_sam_checkpoint)
from tests.tolerance import BLOCK, NETWORK, OP, assert_close

SAM_STRIDE = 16  # SAM's image embedding is 1/16 of its input frame
LOGIT_SCALE = 100.0  # CLIP's logit scale, tau of the block-0 scores


@pytest.fixture(scope='module')
def upstream(tmp_path_factory):
    """The open_clip and SAM models the tiny checkpoints are written from."""
    tmp = tmp_path_factory.mktemp('weights')
    clip_cfg = tiny_model_cfg()['backbone']['model_cfg']
    clip = tiny_open_clip(clip_cfg)
    torch.save(clip.state_dict(), tmp / 'clip.pt')
    sam = tiny_sam()
    write_sam_checkpoint(tmp / 'sam.pth', sam)
    return dict(
        clip=clip,
        sam=sam,
        clip_path=str(tmp / 'clip.pt'),
        sam_path=str(tmp / 'sam.pth'))


def _model(upstream, **neck):
    cfg = tiny_model_cfg(sam_checkpoint=upstream['sam_path'], **neck)
    cfg['backbone']['pretrained'] = upstream['clip_path']
    return build_tiny_model(cfg).eval()


class Recorder:
    """Inputs and outputs of modules during one forward."""

    def __init__(self):
        self.calls = defaultdict(list)
        self.handles = []

    def watch(self, name, module):

        def hook(mod, args, output):
            self.calls[name].append((args, output))

        self.handles.append(module.register_forward_hook(hook))

    def remove(self):
        for h in self.handles:
            h.remove()


def _run(model, images, watch):
    rec = Recorder()
    for name, module in watch.items():
        rec.watch(name, module)
    try:
        with torch.no_grad():
            model._forward(images)
    finally:
        rec.remove()
    return rec.calls


def _images(b=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, 3, 64, 64, generator=g)


# ------------------------------------------------------------------ CLIP
def _open_clip_block_outputs(clip, images):
    """Token sequences (B, 1+hw, width) after every vision block."""
    v = clip.visual
    x = v.conv1(images).flatten(2).transpose(1, 2)
    cls = v.class_embedding.expand(x.shape[0], 1, -1)
    x = v.ln_pre(torch.cat([cls, x], dim=1) + v.positional_embedding)
    batch_first = getattr(v.transformer, 'batch_first', True)
    outs = []
    for block in v.transformer.resblocks:
        x = block(x) if batch_first else block(x.transpose(0, 1)).transpose(
            0, 1)
        outs.append(x)
    return outs


def _grid(tokens, h, w):
    """(B, 1+hw, W) tokens -> (B, W, h, w) patch map (CLS dropped)."""
    return tokens[:, 1:].transpose(1, 2).reshape(tokens.shape[0], -1, h, w)


def test_clip_skips_are_open_clip_blocks_and_stage0_takes_the_shallow(
        upstream):
    model = _model(upstream)
    head = model.decode_head
    ups = {
        m.stride[0]: m
        for m in head.modules() if isinstance(m, nn.ConvTranspose2d)
    }
    assert sorted(ups) == [2, 4]  # 2h for stage 0, 4h for stage 1
    images = _images()
    calls = _run(model, images,
                 dict(backbone=model.backbone, stage0=ups[2], stage1=ups[4]))
    shallow_i, deep_i = model.backbone.out_indices
    assert shallow_i < deep_i
    with torch.no_grad():
        blocks = _open_clip_block_outputs(upstream['clip'], images)
    h, w = model.backbone.grid_size
    shallow, deep = _grid(blocks[shallow_i], h, w), _grid(blocks[deep_i], h, w)
    g1, g2 = calls['backbone'][0][1]['skips']
    # A few CLIP blocks, the same open_clip layers run on other batches.
    assert_close(g1, shallow, NETWORK, msg='shallow skip')
    assert_close(g2, deep, NETWORK, msg='deep skip')
    # CAT-Seg: the shallow block guides the first (2h) stage.
    assert_close(calls['stage0'][0][0][0], shallow, NETWORK, msg='stage 0')
    assert_close(calls['stage1'][0][0][0], deep, NETWORK, msg='stage 1')


# ------------------------------------------- correlation, block-0 scores
def test_cosine_correlation_and_block0_logit_scale(upstream):
    model = _model(upstream)
    # the configured tau is CLIP's
    assert tiny_model_cfg()['neck'].get('logit_scale', 100.0) == LOGIT_SCALE
    block0 = model.neck.blocks[0]
    calls = _run(model, _images(),
                 dict(neck=model.neck, ppg=block0.ppg, vlf=block0.vlf))
    visual, text = calls['neck'][0][0][:2]
    dot = torch.einsum('bchw,tc->bthw', visual, text)
    norm = visual.norm(dim=1)[:, None] * text.norm(dim=1)[None, :, None, None]
    cos = dot / norm
    # A cosine sums products of the features' size; scaled by tau after.
    assert_close(calls['ppg'][0][0][0], LOGIT_SCALE * cos, OP)
    corr_in = calls['vlf'][0][0][0]  # C0 enters block 0's VLF unscaled
    assert corr_in.shape == (2, len(NAMES), 1, 8, 8)
    assert_close(corr_in[:, :, 0], cos, OP)


# ------------------------------------------------------------- SAM block
def _boxes(labels, points, k, w):
    """(K, 4) inclusive boxes of the clusters of one map, written out."""
    out = []
    for j in range(k):
        idx = (labels == j).nonzero().flatten()
        if idx.numel() == 0:
            x, y = points[j].tolist()
            out.append([x, y, x, y])
        else:
            xs, ys = idx % w, idx // w
            out.append([xs.min(), ys.min(), xs.max(), ys.max()])
    return torch.tensor(out, dtype=torch.float32)


def _sam_reference(sam_block, layer, prompt_encoder, visual, text, prompts,
                   types, b, t):
    """V_k (C, h, w) of image ``b`` and class ``t`` assembled by hand."""
    h, w = visual.shape[-2:]
    k = prompts['points'].shape[2]
    to_frame = lambda xy: xy * SAM_STRIDE + (SAM_STRIDE - 1) / 2  # noqa
    pts = (to_frame(prompts['points'][b, t])[None],
           prompts['point_labels'][b, t][None])
    boxes = None
    if 'boxes' in types:
        boxes = to_frame(
            _boxes(prompts['labels'][b, t], prompts['points'][b, t], k,
                   w).view(k, 2, 2)).view(k, 4)
    sparse = []
    if 'points' in types:
        # With a box SAM adds no padding point; the K point tokens come first.
        s, _ = prompt_encoder(
            points=pts, masks=None, boxes=None if boxes is None else boxes[:1])
        sparse.append(s[:, :k] if boxes is not None else s)
    if boxes is not None:
        s, _ = prompt_encoder(points=None, boxes=boxes, masks=None)
        sparse.append(s.reshape(1, 2 * k, -1))  # 2 corner tokens per box
    mask = None
    if 'masks' in types:
        mask = F.interpolate(
            prompts['mask_prompt'][b, t][None, None],
            size=(4 * h, 4 * w),
            mode='bilinear')
    _, dense = prompt_encoder(points=None, boxes=None, masks=mask)
    text_token = sam_block.text_proj(text[t])[None, None]
    queries = torch.cat([text_token] + sparse, dim=1)
    keys = sam_block.image_proj(visual[b:b + 1]) + dense
    keys = keys.flatten(2).transpose(1, 2)
    key_pe = prompt_encoder.get_dense_pe().flatten(2).transpose(1, 2)
    _, keys = layer(queries, keys, query_pe=queries, key_pe=key_pe)
    return sam_block.out_proj(keys.transpose(1, 2).reshape(1, -1, h, w))[0]


@pytest.mark.parametrize('types', [('points', 'masks'),
                                   ('points', 'boxes', 'masks')])
def test_sam_block_equals_sam_parts_assembled_by_hand(upstream, types):
    model = _model(upstream, prompt_types=types)
    sam = upstream['sam']
    watch = dict(neck=model.neck)
    for i, block in enumerate(model.neck.blocks):
        watch[f'ppg{i}'] = block.ppg
        watch[f'sam{i}'] = block.sam_block
    calls = _run(model, _images(), watch)
    visual, text = calls['neck'][0][0][:2]
    for i, block in enumerate(model.neck.blocks):
        prompts = calls[f'ppg{i}'][0][1]
        v = calls[f'sam{i}'][0][1]
        layer = sam.mask_decoder.transformer.layers[
            model.neck.sam_layer_ids[i]]
        with torch.no_grad():
            for b, t in [(0, 0), (1, 2), (1, 5)]:
                ref = _sam_reference(block.sam_block, layer,
                                     sam.prompt_encoder, visual, text, prompts,
                                     types, b, t)
                assert_close(v[b, t], ref, BLOCK, msg=(i, b, t))
