"""Memory and precision options of ESC-Net on a tiny model: activation
checkpointing, bf16 autocast on CPU and ``torch.compile`` of the neck."""
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from escnet_mmseg.models.vlf import VLF
from tests.tiny import NAMES, build_tiny_model, tiny_model_cfg
from tests.tolerance import BLOCK, NETWORK, assert_close


def _samples(n, size=64, classes=len(NAMES), seed=0):
    gen = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        s = SegDataSample(
            metainfo=dict(img_shape=(size, size), pad_shape=(size, size)))
        s.gt_sem_seg = PixelData(
            data=torch.randint(0, classes, (1, size, size), generator=gen))
        out.append(s)
    return out


def _grads(with_cp: bool):
    cfg = tiny_model_cfg(with_cp=with_cp)
    cfg['decode_head']['with_cp'] = with_cp
    model = build_tiny_model(cfg, seed=0).train()
    calls = []
    for m in model.modules():
        if isinstance(m, VLF):
            m.register_forward_pre_hook(lambda *a: calls.append(1))
    torch.manual_seed(1)
    images = torch.randn(2, 3, 64, 64)
    losses = model.loss(images, _samples(2))
    loss, _ = model.parse_losses(losses)
    loss.backward()
    grads = {
        n: p.grad
        for n, p in model.named_parameters() if p.grad is not None
    }
    return loss.detach(), grads, len(calls)


def test_checkpointing_gives_identical_gradients():
    loss, grads, calls = _grads(False)
    loss_cp, grads_cp, calls_cp = _grads(True)
    assert calls_cp == 2 * calls  # the ESC blocks were recomputed
    assert torch.equal(loss, loss_cp)
    assert grads.keys() == grads_cp.keys()
    # The recomputation runs the same kernels on the same tensors; only the
    # order in which a parameter's gradient contributions are added may
    # change, so the gradients agree to rounding on the scale of all of them.
    scale = max(g.abs().max().item() for g in grads.values())
    for name, g in grads.items():
        assert_close(grads_cp[name], g, BLOCK, scale=scale, msg=name)


def test_checkpointing_is_off_by_default_and_in_eval():
    model = build_tiny_model().eval()
    assert not model.neck.blocks[0].with_cp
    assert not model.decode_head.with_cp
    cfg = tiny_model_cfg(with_cp=True)
    cfg['decode_head']['with_cp'] = True
    cp_model = build_tiny_model(cfg).eval()
    image = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(model._forward(image), cp_model._forward(image))


@pytest.fixture(scope='module')
def model():
    return build_tiny_model().eval()


def test_bf16_autocast_inference(model):
    """bf16 autocast gives finite logits with the float32 argmax.

    A randomly initialised model barely separates its classes (median top-2
    logit margin ~0.008, logit std ~0.11), the size of bf16's rounding (8
    mantissa bits) after a few layers, so only pixels where float32 decides
    most clearly (the top fifth of the margins, >= ~0.019 here) can be
    expected to agree (all of them do); on all pixels ~87% do.
    """
    torch.manual_seed(5)
    images = torch.randn(4, 3, 64, 64)
    with torch.no_grad():
        want = model._forward(images)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            got = model._forward(images).float()
    assert torch.isfinite(got).all()
    top2 = want.topk(2, dim=1).values
    margin = top2[:, 0] - top2[:, 1]
    clear = margin >= margin.quantile(0.8)
    assert clear.sum() >= 100
    agree = (got.argmax(1) == want.argmax(1))[clear].float().mean().item()
    assert agree >= 0.99, agree
    # The logits themselves stay within a few % of their spread.
    assert (got - want).abs().mean() <= 0.05 * want.std()


def test_bf16_autocast_keeps_ppg_and_class_attention_float32(model):
    """The class softmax of the PPG and the linear class attention's sums
    over the vocabulary run in float32 under autocast."""
    seen = {}
    block = model.neck.blocks[0]

    def ppg_hook(mod, args, out):
        seen['ppg_prob'] = out['prob'].dtype
        seen['ppg_mask'] = out['mask_prompt'].dtype

    attn = block.vlf.class_attn
    summary = attn.text_summary

    def text_summary(text):
        kv, k_sum = summary(text)
        seen['kv'], seen['k_sum'] = kv.dtype, k_sum.dtype
        return kv, k_sum

    handle = block.ppg.register_forward_hook(ppg_hook)
    attn.text_summary = text_summary
    try:
        with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
            model._forward(torch.randn(1, 3, 64, 64))
    finally:
        handle.remove()
        del attn.text_summary
    assert seen == dict(
        ppg_prob=torch.float32,
        ppg_mask=torch.float32,
        kv=torch.float32,
        k_sum=torch.float32)


@pytest.mark.parametrize('backend', [
    'eager',
    pytest.param('aot_eager', marks=pytest.mark.slow),
])
def test_compiled_neck_equals_eager(backend):
    """``torch.compile`` of the neck (custom PPG op included) on CPU.

    ``eager`` checks Dynamo's graph capture (seconds); ``aot_eager`` also
    traces the captured graphs with AOTAutograd (~1 min on 2 cores, so
    marked slow). One ESC block keeps the capture short.
    """
    torch._dynamo.reset()
    model = build_tiny_model(
        tiny_model_cfg(num_blocks=1, sam_layer_ids=(1, ))).eval()
    neck = model.neck
    compiled = torch.compile(neck, backend=backend)
    torch.manual_seed(6)
    visual = torch.randn(1, 32, 8, 8)
    text = torch.nn.functional.normalize(torch.randn(len(NAMES), 32), dim=-1)
    with torch.no_grad():
        want = neck(visual, text)
        got = compiled(visual, text)
    torch._dynamo.reset()
    assert_close(got, want, NETWORK)
