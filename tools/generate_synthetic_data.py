"""Write the synthetic shapes dataset used by the tiny demo config.

    python tools/generate_synthetic_data.py --out data/synthetic --seed 0 \
        --num-train 240 --num-val 60 --size 64

The images show a sky/grass landscape with coloured, textured circles,
squares, triangles and stars; every pixel is labelled with one of the six
classes of ``SyntheticShapesDataset``. The same arguments always give the
same bytes. The output folder must be empty (or absent) unless
``--overwrite`` is given.
"""
import argparse
import sys

from escnet_mmseg.datasets.synthetic import generate_synthetic_dataset
from escnet_mmseg.utils import UserError
from escnet_mmseg.utils.cli import run_tool


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Generate the synthetic shapes segmentation dataset.')
    parser.add_argument(
        '--out', default='data/synthetic', help='output folder')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--num-train', type=int, default=240, help='training images')
    parser.add_argument(
        '--num-val', type=int, default=60, help='validation images')
    parser.add_argument(
        '--size', type=int, default=64, help='image side length in pixels')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace a dataset previously written to --out')
    return parser.parse_args(argv)


def run(args) -> None:
    """Write the dataset and say what was written.

    Raises:
        UserError: ``--out`` is a file, or a non-empty folder without
            ``--overwrite``, or a size that cannot be drawn.
    """
    try:
        meta = generate_synthetic_dataset(
            args.out,
            seed=args.seed,
            num_train=args.num_train,
            num_val=args.num_val,
            size=args.size,
            overwrite=args.overwrite)
    except (FileExistsError, NotADirectoryError, ValueError) as e:
        raise UserError(str(e)) from None
    print(f"wrote {meta['counts']['train']} training and "
          f"{meta['counts']['val']} validation images of {args.size}x"
          f"{args.size} px to {args.out} (classes: "
          f"{', '.join(meta['classes'])})")


def main(argv=None) -> int:
    return run_tool(run, parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
