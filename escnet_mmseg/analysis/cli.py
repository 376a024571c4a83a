"""The command line of ``tools/analysis_tools/benchmark.py``: one
sub-command per measurement of this package."""
import argparse
import json
from typing import Optional, Sequence

from .build import quiet_mmengine

SUB_COMMANDS = ('params', 'flops', 'compare', 'model', 'protocol',
                'train-memory', 'sam-block', 'ppg', 'gpu-report')


def _add_common(p: argparse.ArgumentParser,
                classes_default: int = 150,
                many: bool = False) -> None:
    from mmengine.config import DictAction
    if many:
        p.add_argument('--classes', type=int, nargs='+', default=[2, 4, 8])
    else:
        p.add_argument('--classes', type=int, default=classes_default)
    p.add_argument('--device', default='cpu')
    p.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch CPU threads (default: torch\'s)')
    p.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. '
        'model.test_cfg.class_chunk_size=32')


def _image_size(p: argparse.ArgumentParser, help: str) -> None:
    p.add_argument(
        '--image-size',
        type=int,
        nargs=2,
        default=[640, 853],
        metavar=('H', 'W'),
        help=help)


def _add_measurements(sub) -> None:
    p = sub.add_parser('params', help='parameter count of a config')
    p.add_argument('config')
    _add_common(p)

    p = sub.add_parser('flops', help='GFLOPs of one inference per part')
    p.add_argument('config')
    _add_common(p)
    _image_size(
        p, 'image for the config\'s test mode (default: an ADE20K image at '
        'the A-150 test scale); 0 0 to skip')

    p = sub.add_parser('compare', help='time two configs in alternation')
    p.add_argument('config_a')
    p.add_argument('config_b')
    _add_common(p)
    p.add_argument(
        '--repeats', type=int, default=5, help='timed runs of each model')
    p.add_argument(
        '--reference-sam',
        choices=['a', 'b', 'ab'],
        default=None,
        help='run SAM\'s TwoWayAttentionBlock (the slow path) in the SAM '
        'blocks of model a and/or b')
    p.add_argument('--json', default=None)

    p = sub.add_parser('model', help='inference time / peak memory')
    p.add_argument('config')
    _add_common(p, classes_default=171)
    p.add_argument(
        '--chunks',
        type=int,
        nargs='+',
        default=[0, 32],
        help='class chunk sizes; 0 = whole vocabulary')
    p.add_argument('--repeats', type=int, default=3)

    p = sub.add_parser(
        'protocol', help='peak memory / time per image in the test mode')
    p.add_argument('config')
    _add_common(p, many=True)
    _image_size(p, 'the image (and its original size)')
    p.add_argument('--repeats', type=int, default=1)
    p.add_argument(
        '--ratio-to',
        type=int,
        default=150,
        help='vocabulary size the ratios are relative to')
    p.add_argument('--json', default=None)

    p = sub.add_parser('train-memory', help='peak memory of a training step')
    p.add_argument('config')
    _add_common(p, many=True)
    p.add_argument('--batch-size', type=int, default=1)
    p.add_argument(
        '--amp',
        action='store_true',
        help='autocast (bf16 on CPU, fp16 on CUDA)')
    p.add_argument('--json', default=None)

    p = sub.add_parser('sam-block', help='fast SAM block vs SAM\'s layer')
    p.add_argument('config')
    _add_common(p, classes_default=32)
    p.add_argument('--block', type=int, default=1)
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--profile', action='store_true')


def _add_reports(sub) -> None:
    from .ppg_speed import add_ppg_arguments
    add_ppg_arguments(
        sub.add_parser('ppg', help='the PPG op (as benchmark_ppg.py)'))

    p = sub.add_parser(
        'gpu-report', help='whole-model figures of tools/gpu_check.sh')
    _add_common(p)
    p.add_argument(
        '--report-classes',
        type=int,
        nargs='+',
        default=None,
        help='vocabulary sizes timed (default 150 847; --small: 4 12)')
    p.add_argument('--dtypes', nargs='+', default=['fp32', 'bf16'])
    p.add_argument('--train-classes', type=int, default=171)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument(
        '--small',
        action='store_true',
        help='the tiny synthetic config instead of ViT-B/16 and ViT-L/14 '
        '(checks the tool on a CPU in seconds)')
    p.add_argument(
        '--budget-s',
        type=float,
        default=1e9,
        help='skip the remaining measurements after this many seconds')
    p.add_argument('--ppg-json', default=None, help='benchmark_ppg.py JSON')
    p.add_argument('--out', default=None, help='markdown file to write')
    p.add_argument('--json', default=None)


def build_parser(description: Optional[str] = None) -> argparse.ArgumentParser:
    """The parser of every sub-command (:data:`SUB_COMMANDS`)."""
    with quiet_mmengine():  # DictAction imports the stack
        parser = argparse.ArgumentParser(
            description=description,
            formatter_class=argparse.RawTextHelpFormatter)
        sub = parser.add_subparsers(dest='mode', required=True)
        _add_measurements(sub)
        _add_reports(sub)
    return parser


def write_json(path: Optional[str], result) -> None:
    """Save a result for later comparison (``--json PATH``)."""
    if path:
        with open(path, 'w') as f:
            json.dump(result, f, indent=1)


def _common(a: argparse.Namespace) -> dict:
    """The options every measurement takes."""
    return dict(device=a.device, cfg_options=a.cfg_options, threads=a.threads)


def _params(a) -> None:
    from .params import count_params, format_params
    print(format_params(a.config, count_params(a.config, a.cfg_options)))


def _flops(a) -> None:
    from .build import set_threads
    from .flops import format_flops, model_flops
    set_threads(a.threads)
    size = None if a.image_size == [0, 0] else a.image_size
    print(
        format_flops(a.config, a.classes,
                     model_flops(a.config, a.classes, size, a.cfg_options)))


def _compare(a) -> dict:
    from .compare import compare_models, format_compare
    res = compare_models(a.config_a, a.config_b, a.classes, a.repeats,
                         a.device, a.reference_sam, a.cfg_options, a.threads)
    print(format_compare(res, a.classes, a.repeats, a.device, a.reference_sam))
    return res


def _model(a) -> None:
    from .chunking import chunked_inference, format_chunked
    rows = chunked_inference(
        a.config, a.classes, a.chunks, repeats=a.repeats, **_common(a))
    print(format_chunked(a.config, a.classes, a.device, a.repeats, rows))


def _protocol(a) -> list:
    from .protocol import format_protocol_costs, protocol_costs
    rows = protocol_costs(
        a.config,
        a.classes,
        a.ratio_to,
        image_size=a.image_size,
        repeats=a.repeats,
        **_common(a))
    print(
        format_protocol_costs(a.config, a.image_size, a.device, a.repeats,
                              rows))
    return rows


def _train_memory(a) -> dict:
    from .train_memory import format_train_memory, train_memory
    res = train_memory(
        a.config, a.classes, batch_size=a.batch_size, amp=a.amp, **_common(a))
    print(
        format_train_memory(a.config, res, a.batch_size, a.amp, a.device,
                            a.cfg_options))
    return res


def _sam_block(a) -> None:
    from .sam_block_speed import format_sam_block_speed, sam_block_speed
    res = sam_block_speed(a.config, a.classes, a.block, a.repeats, a.profile,
                          a.cfg_options, a.threads)
    print(format_sam_block_speed(a.config, a.block, a.classes, a.repeats, res))


def _ppg(a) -> None:
    from .ppg_speed import run_ppg_speed
    run_ppg_speed(a)  # writes its own --json (benchmark_ppg.py's format)


def _gpu_report(a) -> dict:
    from .gpu_report import ReportSettings, gpu_report
    from .gpu_report_markdown import report_markdown
    settings = ReportSettings(
        small=a.small,
        report_classes=a.report_classes,
        dtypes=a.dtypes,
        train_classes=a.train_classes,
        repeats=a.repeats,
        budget_s=a.budget_s,
        **_common(a))
    res = gpu_report(settings, a.ppg_json)
    text = report_markdown(res)
    print(text)
    if a.out:
        with open(a.out, 'w') as f:
            f.write(text)
    return res


COMMANDS = {
    'params': _params,
    'flops': _flops,
    'compare': _compare,
    'model': _model,
    'protocol': _protocol,
    'train-memory': _train_memory,
    'sam-block': _sam_block,
    'ppg': _ppg,
    'gpu-report': _gpu_report
}


def run(args: argparse.Namespace) -> None:
    """Run the sub-command ``args.mode`` of :func:`build_parser`'s
    arguments: print its result, and save it to ``--json`` where the
    sub-command has that option."""
    result = COMMANDS[args.mode](args)
    if args.mode != 'ppg' and getattr(args, 'json', None):
        write_json(args.json, result)


def main(argv: Optional[Sequence[str]] = None,
         description: Optional[str] = None) -> None:
    """Parse ``argv`` and :func:`run` it; a ``ValueError`` of the
    measurement (e.g. a config without SAM blocks) is printed as ``error:``
    with exit status 1."""
    parser = build_parser(description)
    args = parser.parse_args(argv)
    try:
        run(args)
    except ValueError as exc:
        parser.exit(1, f'error: {exc}\n')
