"""Draw what ESC-Net sees in one image, one figure per class.

    python tools/visualize_prompts.py IMAGE --config CFG --checkpoint CKPT
        --out-dir DIR [--classes NAME [NAME ...]] [--show NAME [NAME ...]]
        [--device cpu] [--chunk N] [--dpi 100] [--overwrite]

--classes is the vocabulary (default: the classes stored in the checkpoint),
--show the classes to draw (default: all of them). Each figure
``<image>_<class>.png`` has a first row (the image, the cosine correlation
C0, the final probability, the label map) and one row per ESC block with the
steps of its pseudo prompt generator: score map, probability, foreground,
k-means regions, mask prompt, pseudo points. The network runs once, on the
whole image (docs/inference.md, "What the model sees").
"""
import argparse
import os
import os.path as osp
import sys

from escnet_mmseg.apis import (check_class_names, load_inferencer, read_image,
                               refuse_existing, require_model_files)
from escnet_mmseg.apis.cli_args import add_model_args
from escnet_mmseg.utils import UserError, require_file
from escnet_mmseg.utils.cli import run_tool


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('image', metavar='IMAGE', help='an image file')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument(
        '--classes',
        nargs='+',
        metavar='NAME',
        help='the vocabulary, one shell word per class ("wall, walls" for '
        'synonyms); default: the classes stored in the checkpoint')
    parser.add_argument(
        '--show',
        nargs='+',
        metavar='NAME',
        help='the classes to draw (default: every class of the vocabulary)')
    parser.add_argument(
        '--chunk',
        type=int,
        default=None,
        metavar='N',
        help='run N classes at a time (model.test_cfg.class_chunk_size)')
    parser.add_argument(
        '--dpi', type=int, default=100, help='resolution of the figures')
    parser.add_argument(
        '--overwrite', action='store_true', help='replace existing figures')
    add_model_args(parser)
    args = parser.parse_args(argv)
    if args.chunk is not None and args.chunk < 1:
        parser.error(f'--chunk must be >= 1, got {args.chunk}')
    return args


def check_inputs(args) -> tuple:
    """The vocabulary and the classes to draw, checked before any loading.

    Raises:
        UserError: a missing file, bad names, or a class to draw that is
            not in the vocabulary.
    """
    from escnet_mmseg.visualization import class_indices
    require_file(args.image, 'image file')
    require_model_files(args.config, args.checkpoint)
    classes = args.classes and check_class_names(args.classes, '--classes')
    show = args.show and check_class_names(args.show, '--show')
    if classes and show:
        try:
            class_indices(classes, show)
        except ValueError as e:
            raise UserError(f'{e} (in --show)') from None
    return classes, show


def run(args: argparse.Namespace) -> None:
    from escnet_mmseg.visualization import draw_class, explain, figure_names
    classes, show = check_inputs(args)
    image = read_image(args.image)
    # The explanation runs one whole view whatever --mode says.
    inferencer = load_inferencer(args.config, args.checkpoint, classes,
                                 args.device, args.chunk,
                                 args.trust_checkpoint, args.mode,
                                 args.cfg_options)
    try:
        expl = explain(inferencer, image, show)
    except ValueError as e:
        raise UserError(f'{e} (in --show)' if show else str(e)) from None
    stem = osp.splitext(osp.basename(args.image))[0]
    paths = {
        name: osp.join(args.out_dir, file)
        for name, file in figure_names(stem, expl.shown).items()
    }
    if not args.overwrite:
        refuse_existing(paths.values())
    os.makedirs(args.out_dir, exist_ok=True)
    for name, path in paths.items():
        draw_class(expl, name, dpi=args.dpi).savefig(path)
    count = f'{len(paths)} figure' + ('s' if len(paths) != 1 else '')
    print(f'{count} of {args.image} written to {args.out_dir}')


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_tool(run, args, verbose=args.verbose)


if __name__ == '__main__':
    sys.exit(main())
