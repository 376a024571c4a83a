"""Segment images with your own class names.

    python tools/infer.py INPUT [INPUT ...] --config CFG --checkpoint CKPT
        [--classes NAME [NAME ...] | --classes-file FILE] --out-dir DIR
        [--device cpu] [--overwrite] [--no-overlay] [--opacity 0.5]
        [--chunk N] [--mode {slide_global,whole,config}]
        [--cfg-options KEY=VALUE ...]

INPUT: image files, folders (searched recursively for image files) or glob
patterns. For each image ``<name>.<ext>`` the output folder gets

    <name>_labels.png   label map: pixel value = index of the class in the
                        vocabulary (8-bit, 16-bit above 255 classes)
    <name>_overlay.png  the classes painted over the image, with a legend of
                        the classes present (not with --no-overlay)
    <name>.json         the vocabulary and, for each class present, its
                        pixel count and share of the image

Images inside a folder keep their sub-folder under --out-dir. Existing
outputs are never replaced without --overwrite (checked before any work).
Photos are segmented with the published 5-view protocol (``--mode
slide_global``, also with a training config); ``--mode whole`` runs one view
(about 5x less image-side work), ``--mode config`` the config's own
``model.test_cfg``. Label maps always have the photo's size. --chunk N runs N
classes at a time (same result, less memory for large vocabularies).
The work is done by ``escnet_mmseg.apis.segment_images``.
"""
import argparse
import sys

from escnet_mmseg.apis import segment_images
from escnet_mmseg.apis.cli_args import add_model_args
from escnet_mmseg.utils.cli import run_tool


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        'inputs',
        nargs='+',
        metavar='INPUT',
        help='image files, folders (recursive) or glob patterns')
    names = parser.add_mutually_exclusive_group()
    names.add_argument(
        '--classes',
        nargs='+',
        metavar='NAME',
        help='class names, one shell word per class; a class with synonyms '
        'is one quoted word with commas (spaces optional): --classes cat '
        'sofa "wall, walls". '
        'Default: the classes stored in the checkpoint')
    names.add_argument(
        '--classes-file',
        metavar='FILE',
        help='text file with one class per line (synonyms after commas, '
        'with or without spaces, e.g. "wall, walls"); empty lines are '
        'skipped')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument(
        '--overwrite', action='store_true', help='replace existing outputs')
    parser.add_argument(
        '--no-overlay',
        action='store_true',
        help='write only the label maps and summaries')
    parser.add_argument(
        '--opacity',
        type=float,
        default=0.5,
        help='opacity of the colours in the overlay (0-1)')
    parser.add_argument(
        '--chunk',
        type=int,
        default=None,
        metavar='N',
        help='run N classes at a time to bound memory '
        '(model.test_cfg.class_chunk_size)')
    add_model_args(parser)
    args = parser.parse_args(argv)
    if not 0 <= args.opacity <= 1:
        parser.error(f'--opacity must be in [0, 1], got {args.opacity}')
    if args.chunk is not None and args.chunk < 1:
        parser.error(f'--chunk must be >= 1, got {args.chunk}')
    return args


def run(args: argparse.Namespace) -> None:
    result = segment_images(
        args.inputs,
        args.out_dir,
        args.config,
        args.checkpoint,
        classes=args.classes,
        classes_file=args.classes_file,
        device=args.device,
        overwrite=args.overwrite,
        overlay=not args.no_overlay,
        opacity=args.opacity,
        chunk=args.chunk,
        test_mode=args.mode,
        cfg_options=args.cfg_options,
        trust_checkpoint=args.trust_checkpoint)
    print(f'{len(result.summaries)} of {result.total} images segmented into '
          f'{args.out_dir}')
    result.raise_failures()


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_tool(run, args, verbose=args.verbose)


if __name__ == '__main__':
    sys.exit(main())
