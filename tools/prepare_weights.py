"""Get or verify the pretrained weights ESC-Net starts from.

ESC-Net needs two pretrained models:

* **CLIP** (``open_clip``): ``ViT-B-16`` or ``ViT-L-14-336`` with the OpenAI
  weights. With ``model.backbone.pretrained='openai'`` (the default) open_clip
  downloads them on first use: from the Hugging Face hub
  (``timm/vit_base_patch16_clip_224.openai``,
  ``timm/vit_large_patch14_clip_336.openai``; file
  ``open_clip_model.safetensors``) into ``$HF_HOME/hub``
  (``~/.cache/huggingface/hub``). Offline, fetch OpenAI's files
  (``ViT-B-16.pt``, ``ViT-L-14-336px.pt``; this script prints their URLs)
  into ``checkpoints/`` and point the config at them::

      --cfg-options model.backbone.pretrained=checkpoints/ViT-B-16.pt

* **SAM ViT-B** (``segment-anything``): only the prompt encoder and the two
  mask-decoder transformer blocks are used, read from
  ``checkpoints/sam_vit_b_01ec64.pth`` (``model.neck.sam_checkpoint``).

Usage::

    # report what is present (checkpoints/, open_clip's caches), verify it,
    # and print the URLs and file names of what is missing
    python tools/prepare_weights.py
    # the same, but every CLIP file must be present (an offline machine)
    python tools/prepare_weights.py --offline
    # download the SAM checkpoint and the CLIP weights (open_clip's cache)
    python tools/prepare_weights.py --download
    # verify a local file (the architecture is recognised from its shapes)
    python tools/prepare_weights.py --clip-checkpoint my_clip.bin

Exit status 0 when every checked file is complete, 1 otherwise (missing
tensors are listed by name).
"""
import argparse
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Tuple

import torch

from escnet_mmseg.utils.cli import run_tool
from escnet_mmseg.utils.pretrained import (CLIP_MODELS, HF_FILES, SAM_URL,
                                           cached_clip_file, clip_source,
                                           sam_source)

SAM_DEFAULT_PATH = sam_source().local_path


def expected_sam_tensors() -> Dict[str, Tuple[int, ...]]:
    """Names and shapes of the SAM tensors ESC-Net loads.

    Built from ``segment_anything``'s own modules with SAM's configuration
    (prompt encoder for 1024-px inputs and 64x64 embeddings; decoder blocks
    of width 256, 8 heads, MLP 2048), so the names match its checkpoints.
    """
    from segment_anything.modeling import PromptEncoder
    from segment_anything.modeling.transformer import TwoWayAttentionBlock
    expected = {}
    prompt_encoder = PromptEncoder(
        embed_dim=256,
        image_embedding_size=(64, 64),
        input_image_size=(1024, 1024),
        mask_in_chans=16)
    for k, v in prompt_encoder.state_dict().items():
        expected[f'prompt_encoder.{k}'] = tuple(v.shape)
    for i in range(2):
        block = TwoWayAttentionBlock(
            embedding_dim=256,
            num_heads=8,
            mlp_dim=2048,
            attention_downsample_rate=2,
            skip_first_layer_pe=(i == 0))
        for k, v in block.state_dict().items():
            expected[f'mask_decoder.transformer.layers.{i}.{k}'] = tuple(
                v.shape)
    return expected


def load_state_dict(path: str) -> Dict[str, torch.Tensor]:
    """Tensors of a checkpoint: a (possibly wrapped) state dict, a
    safetensors file, or a TorchScript archive (OpenAI's CLIP files), read
    by the same loader the model uses."""
    from escnet_mmseg.utils import load_state_dict_file
    return load_state_dict_file(path)


def compare(tensors: Dict[str, torch.Tensor],
            expected: Dict[str, Optional[Tuple[int, ...]]]) -> List[str]:
    """Problems (missing tensors, wrong shapes), one line each."""
    problems = []
    for name, shape in expected.items():
        if name not in tensors:
            problems.append(f'missing: {name}')
        elif shape is not None and tuple(tensors[name].shape) != shape:
            problems.append(f'wrong shape: {name} is '
                            f'{tuple(tensors[name].shape)}, expected {shape}')
    return problems


def check_sam_checkpoint(path: str) -> List[str]:
    return compare(load_state_dict(path), expected_sam_tensors())


def expected_clip_tensors(model_name: str) -> Dict[str, Tuple[int, ...]]:
    """A few tensors (with shapes) that identify an open_clip model."""
    import open_clip
    cfg = open_clip.get_model_config(model_name)
    if cfg is None:
        raise ValueError(f'unknown open_clip model {model_name!r}')
    v, t, e = cfg['vision_cfg'], cfg['text_cfg'], cfg['embed_dim']
    w, p, n = v['width'], v['patch_size'], v['layers']
    grid = v['image_size'] // p
    return {
        'visual.conv1.weight': (w, 3, p, p),
        'visual.positional_embedding': (grid * grid + 1, w),
        f'visual.transformer.resblocks.{n - 1}.attn.in_proj_weight':
        (3 * w, w),
        'visual.proj': (w, e),
        'token_embedding.weight': (t['vocab_size'], t['width']),
        'positional_embedding': (t['context_length'], t['width']),
        f"transformer.resblocks.{t['layers'] - 1}.attn.in_proj_weight":
        (3 * t['width'], t['width']),
        'text_projection': (t['width'], e),
    }


def check_clip_checkpoint(path: str, model_name: str) -> List[str]:
    return compare(load_state_dict(path), expected_clip_tensors(model_name))


def identify_clip_checkpoint(path: str) -> Tuple[str, List[str]]:
    """The CLIP architecture whose tensors a file holds.

    Returns:
        tuple[str, list[str]]: The best-fitting model of ``CLIP_MODELS`` and
            its problems (none when the file fits it).
    """
    tensors = load_state_dict(path)
    fits = [(compare(tensors, expected_clip_tensors(name)), name)
            for name in CLIP_MODELS]
    problems, name = min(fits, key=lambda fit: len(fit[0]))
    return name, problems


def download_sam(dst: str) -> None:
    os.makedirs(osp.dirname(dst) or '.', exist_ok=True)
    print(f'downloading {SAM_URL}\n  -> {dst}')
    torch.hub.download_url_to_file(SAM_URL, dst, progress=True)


def download_clip(model_name: str) -> str:
    from open_clip.pretrained import download_pretrained, get_pretrained_cfg
    cfg = get_pretrained_cfg(model_name, 'openai')
    print(f'downloading the OpenAI weights of {model_name} into the '
          'open_clip cache')
    return download_pretrained(cfg)


def report(title: str, problems: List[str]) -> bool:
    if not problems:
        print(f'[ok] {title}')
        return True
    print(f'[!!] {title}: {len(problems)} problem(s)')
    for line in problems[:20]:
        print(f'       {line}')
    if len(problems) > 20:
        print(f'       ... and {len(problems) - 20} more')
    return False


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Download or verify the CLIP and SAM weights.')
    parser.add_argument(
        '--sam-checkpoint',
        default=SAM_DEFAULT_PATH,
        help=f'SAM ViT-B checkpoint to verify (default: {SAM_DEFAULT_PATH})')
    parser.add_argument(
        '--clip-checkpoint',
        help='local open_clip weights to verify (state dict, safetensors or '
        "OpenAI's TorchScript .pt); the architecture is recognised")
    parser.add_argument(
        '--clip-model',
        nargs='+',
        default=list(CLIP_MODELS),
        choices=CLIP_MODELS,
        help='CLIP architecture(s) to download / verify against')
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        '--download',
        action='store_true',
        help='download the SAM checkpoint (if absent) and the CLIP weights')
    mode.add_argument(
        '--offline',
        action='store_true',
        help='fail unless every CLIP file of --clip-model is present '
        '(checkpoints/ or open_clip\'s caches)')
    return parser.parse_args(argv)


def check_sam(path: str, download: bool) -> bool:
    """Download (if asked and absent) and verify the SAM checkpoint."""
    if download and not osp.isfile(path):
        download_sam(path)
    if not osp.isfile(path):
        print(f'[!!] SAM checkpoint {path} not found: run with --download, '
              f'or fetch {SAM_URL} to {path} (or set '
              'model.neck.sam_checkpoint)')
        return False
    try:
        return report(f'SAM checkpoint {path}', check_sam_checkpoint(path))
    except ValueError as e:
        return report(f'SAM checkpoint {path}', [str(e)])


def check_clip_file(path: str, name: Optional[str]) -> bool:
    """Verify one local CLIP file (architecture recognised when None)."""
    try:
        if name is None:
            name, problems = identify_clip_checkpoint(path)
        else:
            problems = check_clip_checkpoint(path, name)
    except (ValueError, FileNotFoundError) as e:
        return report(f'CLIP weights {path}', [str(e)])
    good = report(f'CLIP {name} weights {path}', problems)
    if good:
        print('       use it with: --cfg-options '
              f'model.backbone.pretrained={path}')
    return good


def check_clip_model(name: str, required: bool) -> bool:
    """Find and verify the weights of one CLIP model: ``checkpoints/``
    first, then open_clip's caches; else say where to get them."""
    source = clip_source(name)
    if osp.isfile(source.local_path):
        return check_clip_file(source.local_path, name)
    cached = cached_clip_file(source)
    if cached:
        good = report(f'CLIP {name} weights {cached} (open_clip\'s cache)',
                      check_clip_checkpoint(cached, name))
        if good:
            print("       used by model.backbone.pretrained='openai'")
        return good
    print(f"[{'!!' if required else '..'}] CLIP {name}: not found in "
          f'{source.local_path} nor in open_clip\'s caches. Online, open_clip '
          f'downloads it on first use (Hugging Face hub {source.hf_repo}, '
          f'file {HF_FILES[0]}) or with --download. Offline, fetch\n'
          f'       {source.url}\n       to {source.local_path} and use '
          f'--cfg-options model.backbone.pretrained={source.local_path}')
    return not required


def main(argv=None) -> int:
    args = parse_args(argv)
    ok = check_sam(args.sam_checkpoint, args.download)
    if args.clip_checkpoint:
        name = args.clip_model[0] if len(args.clip_model) == 1 else None
        ok &= check_clip_file(args.clip_checkpoint, name)
    elif args.download:
        for name in args.clip_model:
            path = download_clip(name)
            ok &= report(f'CLIP {name} weights {path}',
                         check_clip_checkpoint(path, name))
    else:
        for name in args.clip_model:
            ok &= check_clip_model(name, required=args.offline)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(run_tool(main))
