"""CLIP fine-tuning = query and value projections only (CAT-Seg's
``clip_finetune='attention'``), with open_clip-layout state dicts."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.runner.checkpoint import (get_state_dict, load_checkpoint,
                                        save_checkpoint, weights_to_cpu)

from tests.models.test_escnet import _samples
from tests.tiny import (NAMES, REPO, build_tiny_model, load_tiny_backbone,
                        tiny_cfg, tiny_open_clip)
from tests.tolerance import NETWORK, assert_close

SCHEDULE = osp.join(REPO, 'configs', '_base_', 'schedules', 'schedule_80k.py')


def _attention_cfg():
    cfg = tiny_cfg().model.to_dict()
    cfg['backbone']['finetune'] = 'attention'
    cfg['backbone']['last_block'] = 'dense'  # the COCO-Stuff configs' path
    return cfg


def _attn_layers(backbone):
    return [(f'{tower}.{i}', blk.attn)
            for tower, t in (('visual', backbone.clip.visual.transformer),
                             ('text', backbone.clip.transformer))
            for i, blk in enumerate(t.resblocks)]


def _snapshot(model):
    return {n: p.detach().clone() for n, p in model.named_parameters()}


def _train(model, steps=3, seed=0):
    """AdamW with weight decay and the real schedule's lr multipliers."""
    optim_cfg = copy.deepcopy(Config.fromfile(SCHEDULE).optim_wrapper)
    optim_cfg.update(
        optimizer=dict(type='AdamW', lr=1e-2, weight_decay=0.1),
        clip_grad=None)
    wrapper = build_optim_wrapper(model, optim_cfg)
    torch.manual_seed(seed)
    model.train()
    for _ in range(steps):
        labels = torch.randint(0, len(NAMES), (2, 64, 64))
        labels[:, :4] = 255
        losses = model.loss(torch.randn(2, 3, 64, 64), _samples(labels))
        wrapper.update_params(sum(v for k, v in losses.items() if 'loss' in k))
    return wrapper


def test_trainable_clip_parameters_are_q_and_v():
    model = build_tiny_model(_attention_cfg())
    trainable = {
        n
        for n, p in model.backbone.named_parameters() if p.requires_grad
    }
    expected = {
        f'{prefix}.resblocks.{i}.attn.{w}'
        for prefix, layers in (('clip.visual.transformer', 4),
                               ('clip.transformer', 2))
        for i in range(layers)
        for w in ('q_proj_weight', 'v_proj_weight')
    }
    assert trainable == expected
    # The real schedule trains them at lr x 0.01.
    wrapper = build_optim_wrapper(model,
                                  Config.fromfile(SCHEDULE).optim_wrapper)
    q = model.backbone.clip.visual.transformer.resblocks[0].attn.q_proj_weight
    group = next(
        g for g in wrapper.optimizer.param_groups
        if any(p is q for p in g['params']))
    assert group['lr'] == pytest.approx(2e-4 * 0.01)


def test_adamw_moves_only_q_and_v():
    model = build_tiny_model(_attention_cfg())
    before = _snapshot(model)
    _train(model)
    after = _snapshot(model)
    clip = 'backbone.clip.'
    for name, p in model.named_parameters():
        if name.startswith(clip) and not p.requires_grad:
            # K slices, in_proj biases, out_proj, MLPs, norms, embeddings.
            assert torch.equal(before[name], after[name]), name
    changed = []
    for tag, attn in _attn_layers(model.backbone):
        prefix = f'{clip}{"visual." if tag.startswith("visual") else ""}'
        prefix += f'transformer.resblocks.{tag.split(".")[1]}.attn.'
        assert torch.equal(before[prefix + 'k_proj_weight'],
                           after[prefix + 'k_proj_weight'])
        assert torch.equal(before[prefix + 'in_proj_bias'],
                           after[prefix + 'in_proj_bias'])
        for w in ('q_proj_weight', 'v_proj_weight'):
            if not torch.equal(before[prefix + w], after[prefix + w]):
                changed.append(f'{tag}.{w}')
    # Every Q and V moved, except the last visual block's Q: its dense pass
    # reads only the value path (as in CAT-Seg), so Q gets no gradient.
    expected = {
        f'{tag}.{w}'
        for tag, _ in _attn_layers(model.backbone)
        for w in ('q_proj_weight', 'v_proj_weight')
    }
    assert set(changed) == expected - {'visual.3.q_proj_weight'}
    # The rest of the network trained too.
    assert not torch.equal(before['decode_head.conv_seg.weight'],
                           after['decode_head.conv_seg.weight'])


def test_checkpoint_round_trip(tmp_path):
    model = build_tiny_model(_attention_cfg())
    _train(model)
    model.eval()
    state = weights_to_cpu(get_state_dict(model))  # what Runner saves
    # open_clip's layout: one packed in_proj_weight per attention layer.
    key = 'backbone.clip.visual.transformer.resblocks.0.attn.'
    assert key + 'in_proj_weight' in state
    assert not any(
        k.endswith(('q_proj_weight', 'k_proj_weight', 'v_proj_weight'))
        for k in state)
    path = str(tmp_path / 'iter_3.pth')
    save_checkpoint(dict(state_dict=state), path)
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        want = model._forward(images)
    for finetune in ('attention', 'full'):
        cfg = _attention_cfg()
        cfg['backbone']['finetune'] = finetune
        fresh = build_tiny_model(cfg, seed=7).eval()
        load_checkpoint(fresh, path, strict=True)
        with torch.no_grad():
            got = fresh._forward(images)
        assert_close(got, want, NETWORK, msg=finetune)
        if finetune == 'attention':
            assert torch.equal(got, want)


def test_open_clip_state_dict_loads(tmp_path):
    cfg = tiny_cfg().model.backbone.model_cfg.to_dict()
    ref = tiny_open_clip(cfg)
    path = tmp_path / 'open_clip_tiny.pt'
    torch.save(ref.state_dict(), path)
    backbone = load_tiny_backbone(cfg, path, finetune='attention')
    ref_blocks = ([b.attn for b in ref.visual.transformer.resblocks] +
                  [b.attn for b in ref.transformer.resblocks])
    for (_, attn), ref_attn in zip(_attn_layers(backbone), ref_blocks):
        q, k, v = ref_attn.in_proj_weight.chunk(3)
        assert torch.equal(attn.q_proj_weight, q)
        assert torch.equal(attn.k_proj_weight, k)
        assert torch.equal(attn.v_proj_weight, v)
        assert attn.in_proj_weight is None
    # The state dict is open_clip's again, key for key.
    own = backbone.clip.state_dict()
    assert own.keys() == ref.state_dict().keys()
    assert all(torch.equal(own[k], v) for k, v in ref.state_dict().items())
    tokens = torch.randint(1, 100, (3, 16))
    with torch.no_grad():
        assert_close(
            backbone.encode_text(tokens), ref.encode_text(tokens), NETWORK)
