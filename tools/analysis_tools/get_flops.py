r"""Parameters and GFLOPs of an ESC-Net config, per part.

MMSeg's own ``get_flops.py`` cannot count ESC-Net (its vocabulary is an
input, and fvcore misses fused attention); this one builds the model with
random weights, gives it ``--classes`` names and counts with
``torch.utils.flop_counter`` (matrix products and convolutions), in both
conventions: 2 FLOPs per multiply-add (torch, most papers) and 1 (fvcore).
One CLIP-size crop, and the config's test mode on an ``--shape`` image
(``views x crop + text once``).

Example::

    python tools/analysis_tools/get_flops.py \
        configs/escnet/escnet_vitb16_test-ade20k-150.py --classes 150
"""
import argparse

from escnet_mmseg.analysis.build import quiet_mmengine, set_threads
from escnet_mmseg.analysis.flops import format_flops, model_flops
from escnet_mmseg.analysis.params import count_params, format_params


def parse_args() -> argparse.Namespace:
    with quiet_mmengine():  # the stack, before MMEngine imports mmcv
        from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--classes', type=int, default=150, help='vocabulary size')
    parser.add_argument(
        '--shape',
        type=int,
        nargs=2,
        default=[640, 853],
        metavar=('H', 'W'),
        help='image for the test mode (default: an ADE20K image at the '
        'A-150 test scale); 0 0: the crop only')
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. model.test_cfg.mode=whole')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    set_threads(args.threads)
    print(
        format_params(args.config, count_params(args.config,
                                                args.cfg_options)))
    shape = None if args.shape == [0, 0] else args.shape
    flops = model_flops(args.config, args.classes, shape, args.cfg_options)
    print(format_flops(args.config, args.classes, flops))


if __name__ == '__main__':
    main()
