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
"""
import argparse
import contextlib
import glob
import json
import logging
import os
import os.path as osp
import sys
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp',
                  '.ppm', '.pgm')
OUTPUT_SUFFIXES = dict(
    labels='_labels.png', overlay='_overlay.png', summary='.json')


class CLIError(Exception):
    """A problem with the user's input, reported as one line."""


# ----------------------------------------------------------------------------
# arguments and class names
def add_loading_args(parser: argparse.ArgumentParser) -> None:
    """Options shared with tools/webui.py: test mode, config overrides,
    checkpoint trust and verbosity."""
    from mmengine.config import DictAction

    from escnet_mmseg.apis.protocol import DEFAULT_TEST_MODE, TEST_MODES
    parser.add_argument(
        '--mode',
        default=DEFAULT_TEST_MODE,
        choices=TEST_MODES,
        help='slide_global: the published 5-view protocol (default); '
        'whole: one view at the CLIP input size, faster; config: the '
        "config's model.test_cfg")
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        metavar='KEY=VALUE',
        help='override config values (applied after --mode), e.g. '
        'model.test_cfg.out_size="(896,896)"')
    parser.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help='unpickle the checkpoint fully (may run code from the file); '
        'by default only weights and metadata are read')
    parser.add_argument(
        '--verbose',
        action='store_true',
        help='show the libraries\' log messages and warnings')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        'inputs',
        nargs='+',
        metavar='INPUT',
        help='image files, folders (recursive) or glob patterns')
    parser.add_argument('--config', required=True, help='model config file')
    parser.add_argument(
        '--checkpoint', required=True, help='trained checkpoint (.pth)')
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
        '--device',
        default=None,
        help='e.g. cpu, cuda:0 (default: cuda if available)')
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
    add_loading_args(parser)
    args = parser.parse_args(argv)
    if not 0 <= args.opacity <= 1:
        parser.error(f'--opacity must be in [0, 1], got {args.opacity}')
    if args.chunk is not None and args.chunk < 1:
        parser.error(f'--chunk must be >= 1, got {args.chunk}')
    return args


def check_class_names(names: Sequence[str], source: str) -> List[str]:
    """Validate a vocabulary given by the user.

    Each name is spelled canonically (``"wall,walls"`` -> ``"wall, walls"``),
    by the package's one class-name rule.

    Raises:
        CLIError: no names, an empty name or synonym, or a duplicate.
    """
    from escnet_mmseg.utils import normalize_vocabulary
    try:
        return list(normalize_vocabulary(names, source))
    except ValueError as e:
        raise CLIError(str(e)) from None


def read_class_names(args) -> Optional[List[str]]:
    """Vocabulary of --classes / --classes-file (None: the checkpoint's)."""
    if args.classes is not None:
        return check_class_names(args.classes, '--classes')
    if args.classes_file is None:
        return None
    path = args.classes_file
    if not osp.isfile(path):
        raise CLIError(f'class file not found: {path}')
    try:
        with open(path, encoding='utf-8') as f:
            lines = [line.strip() for line in f]
    except (OSError, UnicodeDecodeError) as e:
        raise CLIError(f'cannot read the class file {path}: {e}') from None
    names = [line for line in lines if line]
    if not names:
        raise CLIError(f'the class file {path} has no class names')
    return check_class_names(names, path)


# ----------------------------------------------------------------------------
# inputs and output names
def _is_image(path: str) -> bool:
    return path.lower().endswith(IMAGE_SUFFIXES)


def _images_in(folder: str, skip: str) -> List[str]:
    found = []
    if osp.abspath(folder) == skip:
        return found
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        # Never read our own outputs back (--out-dir inside an input folder).
        dirs[:] = [d for d in dirs if osp.abspath(osp.join(root, d)) != skip]
        found += [osp.join(root, f) for f in sorted(files) if _is_image(f)]
    return found


def collect_inputs(inputs: Sequence[str],
                   out_dir: str) -> List[Tuple[str, str]]:
    """Image paths and their output names (without suffix).

    A file is named after its file name, an image found in a folder after
    its path inside that folder. When two images would get the same name,
    every image is named after its path relative to the inputs' common
    folder (``a/x.jpg`` and ``b/x.jpg`` -> ``a/x``, ``b/x``); images that
    differ only in their suffix keep it (``x_jpg``, ``x_png``).

    Raises:
        CLIError: an input that does not exist, or no image at all.
    """
    skip = osp.abspath(out_dir)
    items: Dict[str, Tuple[str, str]] = {}  # absolute -> (as given, name)

    def add(path: str, rel: str) -> None:
        items.setdefault(osp.abspath(path), (path, rel))

    for pattern in inputs:
        if osp.isdir(pattern):
            for path in _images_in(pattern, skip):
                add(path, osp.relpath(path, pattern))
        elif osp.isfile(pattern):
            add(pattern, osp.basename(pattern))
        elif glob.has_magic(pattern):
            matches = sorted(glob.glob(pattern, recursive=True))
            if not matches:
                raise CLIError(f'no file matches {pattern}')
            for path in matches:
                found = _images_in(path, skip) if osp.isdir(path) else (
                    [path] if _is_image(path) else [])
                for p in found:
                    add(p, osp.basename(p))
        else:
            raise CLIError(f'no such file or folder: {pattern}')
    if not items:
        raise CLIError(f'no images ({", ".join(IMAGE_SUFFIXES)}) found in '
                       f'{" ".join(inputs)}')
    names = {a: osp.splitext(rel)[0] for a, (_, rel) in items.items()}
    if len(set(names.values())) < len(names):
        root = osp.commonpath([osp.dirname(a) for a in items])
        names = {a: osp.splitext(osp.relpath(a, root))[0] for a in items}
    if len(set(names.values())) < len(names):
        names = {a: n + '_' + osp.splitext(a)[1][1:] for a, n in names.items()}
    return sorted((items[a][0], n) for a, n in names.items())


def output_paths(out_dir: str, name: str, overlay: bool) -> Dict[str, str]:
    """``{'labels': ..., 'overlay': ..., 'summary': ...}`` for one image."""
    kinds = [k for k in OUTPUT_SUFFIXES if overlay or k != 'overlay']
    return {k: osp.join(out_dir, name + OUTPUT_SUFFIXES[k]) for k in kinds}


def refuse_existing(plan: Sequence[Dict[str, str]]) -> None:
    existing = [p for outs in plan for p in outs.values() if osp.exists(p)]
    if existing:
        more = f' (and {len(existing) - 1} more)' if len(existing) > 1 else ''
        raise CLIError(f'{existing[0]} already exists{more}; pass --overwrite '
                       f'to replace the outputs')


# ----------------------------------------------------------------------------
# the model
@contextlib.contextmanager
def quiet_libraries(enabled: bool = True):
    """Hide the libraries' warnings and log messages below errors, so that
    stderr holds only what concerns the user (restored on exit)."""
    if not enabled:
        yield
        return
    from mmengine.logging import MMLogger
    logger = MMLogger.get_instance('mmengine')
    level = logger.level
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        # torch.distributed.optim warns with simplefilter('always') on import.
        warnings.showwarning = lambda *args, **kwargs: None
        logger.setLevel(logging.ERROR)
        try:
            yield
        finally:
            logger.setLevel(level)


def build_inferencer(config: str,
                     checkpoint: str,
                     classes: Optional[List[str]],
                     device: Optional[str],
                     chunk: Optional[int],
                     trust: bool = False,
                     test_mode: Optional[str] = 'slide_global',
                     cfg_options: Optional[dict] = None):
    """An :class:`OpenVocabInferencer` whose checkpoint must fit the config.

    The checkpoint is read without unpickling code (unless ``trust``) and
    loaded strictly (see ``escnet_mmseg.utils.load_checkpoint_strict``);
    ``test_mode`` and ``cfg_options`` as in ``OpenVocabInferencer``.

    Raises:
        CLIError: the checkpoint is unreadable, unsafe, does not fit the
            config, or stores no class names while none are given.
    """
    from escnet_mmseg.apis import OpenVocabInferencer
    from escnet_mmseg.utils import CheckpointError
    try:
        inferencer = OpenVocabInferencer(
            config,
            weights=checkpoint,
            classes=classes,
            device=device,
            trust_checkpoint=trust,
            test_mode=test_mode,
            cfg_options=cfg_options)
    except CheckpointError as e:
        raise CLIError(str(e)) from None
    except ValueError as e:
        if 'stores no class names' in str(e):
            raise CLIError(f'the checkpoint {checkpoint} stores no class '
                           f'names: pass --classes') from None
        raise
    inferencer.show_progress = False  # one bar over all images instead
    if chunk is not None:
        inferencer.model.test_cfg['class_chunk_size'] = chunk
    return inferencer


def read_image(path: str) -> np.ndarray:
    """BGR uint8 (H, W, 3); grayscale and RGBA are converted.

    Raises:
        CLIError: the file cannot be read or is not an image.
    """
    import mmcv
    try:
        image = mmcv.imread(path, flag='color')
    except Exception as e:  # noqa: BLE001  any decoder error
        raise CLIError(f'cannot read {path}: {e}') from None
    if image is None:
        raise CLIError(f'{path} is not an image (or it is damaged)')
    return image


def segment(inferencer, image_bgr: np.ndarray) -> np.ndarray:
    """Label map (H, W) int64 of one BGR image, at the image's size."""
    sample = inferencer(image_bgr, return_datasamples=True)
    return sample.pred_sem_seg.data[0].cpu().numpy()


# ----------------------------------------------------------------------------
# outputs
def summarize(labels: np.ndarray, classes: Sequence[str]) -> dict:
    """The classes present, largest first, with pixel count and share."""
    counts = np.bincount(labels.ravel(), minlength=len(classes))
    total = int(labels.size)
    present = [
        dict(
            id=int(i),
            name=classes[i],
            pixels=int(counts[i]),
            share=round(float(counts[i]) / total, 6))
        for i in np.argsort(-counts, kind='stable') if counts[i] > 0
    ]
    return dict(
        height=int(labels.shape[0]),
        width=int(labels.shape[1]),
        classes=list(classes),
        present=present)


def write_label_map(labels: np.ndarray, num_classes: int, path: str) -> None:
    """PNG with the class indices: uint8, or uint16 above 255 classes."""
    import mmcv
    dtype = np.uint8 if num_classes <= 255 else np.uint16
    if not mmcv.imwrite(labels.astype(dtype), path):
        raise CLIError(f'cannot write {path}')


def paint(image_rgb: np.ndarray, labels: np.ndarray,
          palette: Sequence[Sequence[int]], opacity: float) -> np.ndarray:
    """Blend the class colours over the image (MMSeg's visualizer formula)."""
    colours = np.asarray(palette, dtype=np.float32)[labels]
    return (image_rgb * (1 - opacity) + colours * opacity).astype(np.uint8)


def draw_legend(height: int, summary: dict,
                palette: Sequence[Sequence[int]]) -> np.ndarray:
    """A white RGB panel listing the present classes: colour, name, share."""
    from PIL import Image, ImageDraw, ImageFont

    from escnet_mmseg.utils import primary_name
    rows = summary['present']
    row = int(np.clip(height / max(len(rows), 8), 14, 32))
    font = ImageFont.load_default(size=int(row * 0.7))
    texts = [
        f'{primary_name(r["name"])}  {100 * r["share"]:.1f}%' for r in rows
    ]
    probe = ImageDraw.Draw(Image.new('RGB', (1, 1)))
    text_w = max(probe.textlength(t, font=font) for t in texts)
    width = int(row * 1.6 + text_w + row * 0.5)
    panel = Image.new('RGB', (width, max(height,
                                         row * len(rows) + row // 2)), 'white')
    draw = ImageDraw.Draw(panel)
    for i, (r, text) in enumerate(zip(rows, texts)):
        y = row // 4 + i * row
        draw.rectangle([
            row // 4, y + row // 8, row // 4 + row * 3 // 4, y + row * 7 // 8
        ],
                       fill=tuple(palette[r['id']]),
                       outline='black')
        draw.text((row * 1.3, y + row // 2),
                  text,
                  fill='black',
                  font=font,
                  anchor='lm')
    return np.asarray(panel)


def render_overlay(image_rgb: np.ndarray, labels: np.ndarray, summary: dict,
                   palette: Sequence[Sequence[int]],
                   opacity: float) -> np.ndarray:
    """Painted image with the legend on its right, RGB uint8."""
    painted = paint(image_rgb, labels, palette, opacity)
    legend = draw_legend(painted.shape[0], summary, palette)
    canvas = np.full((max(painted.shape[0], legend.shape[0]),
                      painted.shape[1] + legend.shape[1], 3), 255, np.uint8)
    canvas[:painted.shape[0], :painted.shape[1]] = painted
    canvas[:legend.shape[0], painted.shape[1]:] = legend
    return canvas


def process(inferencer, path: str, outputs: Dict[str, str],
            opacity: float) -> dict:
    """Segment one image and write its outputs; returns its summary."""
    import mmcv
    image = read_image(path)
    labels = segment(inferencer, image)
    meta = inferencer.model.dataset_meta
    summary = dict(image=path, **summarize(labels, meta['classes']))
    os.makedirs(osp.dirname(outputs['labels']) or '.', exist_ok=True)
    write_label_map(labels, len(meta['classes']), outputs['labels'])
    if 'overlay' in outputs:
        overlay = render_overlay(
            mmcv.bgr2rgb(image), labels, summary, meta['palette'], opacity)
        mmcv.imwrite(mmcv.rgb2bgr(overlay), outputs['overlay'])
    with open(outputs['summary'], 'w') as f:
        json.dump(summary, f, indent=2)
    return summary


# ----------------------------------------------------------------------------
def run(args) -> int:
    for what, path in (('config', args.config), ('checkpoint',
                                                 args.checkpoint)):
        if not osp.isfile(path):
            raise CLIError(f'{what} file not found: {path}')
    classes = read_class_names(args)
    images = collect_inputs(args.inputs, args.out_dir)
    plan = [
        output_paths(args.out_dir, name, not args.no_overlay)
        for _, name in images
    ]
    if not args.overwrite:
        refuse_existing(plan)

    inferencer = build_inferencer(args.config, args.checkpoint, classes,
                                  args.device, args.chunk,
                                  args.trust_checkpoint, args.mode,
                                  args.cfg_options)
    from rich.progress import track
    failures = []
    for (path, _), outputs in track(
            list(zip(images, plan)), description='Segmenting'):
        try:
            process(inferencer, path, outputs, args.opacity)
        except CLIError as e:
            failures.append(str(e))
    done = len(images) - len(failures)
    print(f'{done} of {len(images)} images segmented into {args.out_dir}')
    if failures:
        print(
            f'error: {len(failures)} of {len(images)} images failed: ' +
            '; '.join(failures),
            file=sys.stderr)
        return 1
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        with quiet_libraries(not args.verbose):
            return run(args)
    except KeyboardInterrupt:
        print('interrupted', file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001  one line, never a traceback
        message = str(e).strip().splitlines()
        message = message[0] if message else type(e).__name__
        if not isinstance(e, CLIError):
            message = f'{type(e).__name__}: {message}'
        print(f'error: {message}', file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
