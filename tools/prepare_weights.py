"""Get or verify the pretrained weights ESC-Net starts from.

ESC-Net needs two pretrained models:

* **CLIP** (``open_clip``): ``ViT-B-16`` or ``ViT-L-14-336`` with the OpenAI
  weights. With ``model.backbone.pretrained='openai'`` (the default) open_clip
  downloads them on first use into its cache (``~/.cache/huggingface``, or
  ``$HF_HOME``). Offline, point the config at a local file instead::

      --cfg-options model.backbone.pretrained=/path/to/open_clip_weights.bin

* **SAM ViT-B** (``segment-anything``): only the prompt encoder and the two
  mask-decoder transformer blocks are used, read from
  ``checkpoints/sam_vit_b_01ec64.pth`` (``model.neck.sam_checkpoint``).

Usage::

    # report what is present, verify the SAM file
    python tools/prepare_weights.py
    # download the SAM checkpoint and the CLIP weights
    python tools/prepare_weights.py --download
    # verify local files
    python tools/prepare_weights.py --sam-checkpoint my_sam.pth \
        --clip-checkpoint my_clip.bin --clip-model ViT-L-14-336

Exit status 0 when every checked file is complete, 1 otherwise (missing
tensors are listed by name).
"""
import argparse
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Tuple

import torch

SAM_URL = ('https://dl.fbaipublicfiles.com/segment_anything/'
           'sam_vit_b_01ec64.pth')
SAM_DEFAULT_PATH = osp.join('checkpoints', 'sam_vit_b_01ec64.pth')
CLIP_MODELS = ('ViT-B-16', 'ViT-L-14-336')


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
        "OpenAI's TorchScript .pt)")
    parser.add_argument(
        '--clip-model',
        nargs='+',
        default=list(CLIP_MODELS),
        choices=CLIP_MODELS,
        help='CLIP architecture(s) to download / verify against')
    parser.add_argument(
        '--download',
        action='store_true',
        help='download the SAM checkpoint (if absent) and the CLIP weights')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    ok = True
    sam = args.sam_checkpoint
    if args.download and not osp.isfile(sam):
        download_sam(sam)
    if osp.isfile(sam):
        try:
            ok &= report(f'SAM checkpoint {sam}', check_sam_checkpoint(sam))
        except ValueError as e:
            ok = report(f'SAM checkpoint {sam}', [str(e)]) and ok
    else:
        ok = False
        print(f'[!!] SAM checkpoint {sam} not found: run with --download, '
              f'or fetch {SAM_URL} there (or set model.neck.sam_checkpoint)')

    if args.clip_checkpoint:
        if len(args.clip_model) != 1:
            print(
                'error: name the architecture of --clip-checkpoint with '
                'one --clip-model',
                file=sys.stderr)
            return 1
        path, name = args.clip_checkpoint, args.clip_model[0]
        try:
            good = report(f'CLIP {name} weights {path}',
                          check_clip_checkpoint(path, name))
        except (ValueError, FileNotFoundError) as e:
            good = report(f'CLIP {name} weights {path}', [str(e)])
        ok &= good
        if good:
            print('       use it with: --cfg-options '
                  f'model.backbone.pretrained={path}')
    elif args.download:
        for name in args.clip_model:
            path = download_clip(name)
            ok &= report(f'CLIP {name} weights {path}',
                         check_clip_checkpoint(path, name))
    else:
        print("[..] CLIP: open_clip downloads the 'openai' weights on first "
              'use; run with --download to fetch them now, or verify a '
              'local file with --clip-checkpoint')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
