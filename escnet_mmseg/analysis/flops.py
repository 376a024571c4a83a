"""FLOPs of one inference per part of ESC-Net.

``torch.utils.flop_counter`` counts matrix products and convolutions
(element-wise ops, softmax and norms are not, as in fvcore). Both
conventions are reported: 2 FLOPs per multiply-add (torch, most papers) and
1 (fvcore, which CAT-Seg's and ESC-Net's Table 4 GFLOPs come from).
"""
import os.path as osp
from contextlib import contextmanager
from typing import Callable, Dict, Iterator, List, Optional, Sequence

import torch
from torch import nn

from .build import build_random_model, class_names


def flop_parts(model: nn.Module) -> Dict[str, List[nn.Module]]:
    """name -> modules whose forward FLOPs are reported under that name."""
    parts = {'CLIP image': [model.backbone], 'CLIP text': [model.text_encoder]}
    for k, block in enumerate(model.neck.blocks):
        parts[f'block {k}'] = [block]
        if block.sam_block is not None:
            parts[f'block {k} SAM block'] = [block.sam_block]
        parts[f'block {k} VLF'] = [block.vlf]
    parts['ESC blocks (neck)'] = [model.neck]
    # The head's forward (and UpBlock.skip_term) are called as methods, so
    # the hooks go on the layers.
    head = model.decode_head
    parts['decoder'] = [
        *head.skip_proj, *head.guidance_proj, *head.up_blocks, head.conv_seg,
        *(b.conv_skip for b in head.up_blocks)
    ]
    return parts


@contextmanager
def countable_attention() -> Iterator[None]:
    """Run attention as plain matrix products, which the FLOP counter sees.

    The counter has no formula for two fused kernels that would otherwise
    hide attention: ``nn.MultiheadAttention``'s inference fast path
    (``_native_multi_head_attention``, used without gradients) and the CPU
    kernel of ``F.scaled_dot_product_attention``. Both are switched to their
    math versions (same results) while counting.
    """
    from torch.nn.attention import SDPBackend, sdpa_kernel
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with sdpa_kernel(SDPBackend.MATH):
            yield
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)


def count_flops(model: nn.Module,
                run: Callable[[], object],
                parts: Optional[Dict[str, List[nn.Module]]] = None) -> dict:
    """FLOPs (2 x multiply-add) of ``run()`` per part of ``model``.

    A forward pre-hook and a forward hook on every part read the running
    total of one ``FlopCounterMode``, so nested parts and repeated calls
    (class chunks) are summed correctly.

    Args:
        model (nn.Module): The model ``run`` calls.
        run (Callable): Runs the counted computation.
        parts (dict, optional): name -> modules (default: :func:`flop_parts`).
            Defaults to None.

    Returns:
        dict: FLOPs per part, ``'total'`` and ``'total without text'``.
    """
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False)
    totals, starts, handles = {}, {}, []
    parts = flop_parts(model) if parts is None else parts
    for name, modules in parts.items():
        totals[name] = 0
        for module in modules:

            def pre(mod, args, key=(name, id(module))):
                starts[key] = counter.get_total_flops()

            def post(mod, args, out, name=name, key=(name, id(module))):
                totals[name] += counter.get_total_flops() - starts[key]

            handles.append(module.register_forward_pre_hook(pre))
            handles.append(module.register_forward_hook(post))
    # Parameters as constants while counting: newer torch's counter tracks
    # modules with gradient hooks on inputs that require grad, which fails
    # for a parameter passed to a submodule under no_grad (no grad_fn).
    frozen = [p for p in model.parameters() if p.requires_grad]
    for p in frozen:
        p.requires_grad_(False)
    try:
        with counter, countable_attention():
            run()
    finally:
        for h in handles:
            h.remove()
        for p in frozen:
            p.requires_grad_(True)
    totals['total'] = counter.get_total_flops()
    totals['total without text'] = totals['total'] - totals.get('CLIP text', 0)
    return totals


def model_flops(config: str,
                classes: int,
                image_size: Optional[Sequence[int]] = None,
                cfg_options: Optional[dict] = None) -> Dict[str, dict]:
    """FLOPs per part of one CLIP-size crop and of the config's test mode.

    The test mode's are ``views x crop + text once``: a crop's FLOPs do not
    depend on its pixels (the model says how many views it runs,
    ``ESCNet.num_views``), and the text embeddings are computed once per
    vocabulary.

    Args:
        config (str): Config file.
        classes (int): Vocabulary size.
        image_size (Sequence[int], optional): (H, W) of the image for the test
            mode; None counts the crop only. Defaults to None.
        cfg_options (dict, optional): Keys merged into the config. Defaults to
            None.

    Returns:
        dict: setting -> FLOPs per part (:func:`count_flops`).
    """
    model = build_random_model(config, cfg_options).eval()
    model.set_vocabulary(class_names(classes))
    h, w = model.backbone.image_size
    with torch.no_grad():
        crop = count_flops(model,
                           lambda: model._forward(torch.randn(1, 3, h, w)))
    results = {f'whole image {h}x{w}': crop}
    if image_size:
        n = model.num_views(image_size)
        mode = model.test_cfg.get('mode', 'whole')
        views = {k: n * v for k, v in crop.items()}
        views['CLIP text'] = crop['CLIP text']
        views['total'] = views['total without text'] + crop['CLIP text']
        ih, iw = image_size
        results[f'test mode "{mode}" {ih}x{iw}: {n} crops'] = views
    return results


def format_flops(config: str, classes: int, results: Dict[str, dict]) -> str:
    """:func:`model_flops`' results as a table per setting."""
    lines = [
        f'{osp.basename(config)}: {classes} classes, GFLOPs by '
        'torch.utils.flop_counter (matmul/conv only)',
        '  2x = 2 FLOPs per multiply-add (torch, most papers); '
        '1x = 1 per multiply-add (fvcore)'
    ]
    for setting, parts in results.items():
        lines += [
            '', setting,
            f'  {"part":<22}{"GFLOPs 2x":>12}{"GFLOPs 1x":>12}{"share":>8}'
        ]
        total = parts['total'] or 1
        for name, flops in parts.items():
            lines.append(f'  {name:<22}{flops / 1e9:12.1f}{flops / 2e9:12.1f}'
                         f'{100 * flops / total:7.1f}%')
    return '\n'.join(lines)
