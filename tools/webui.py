"""Browser demo: upload an image, type class names, see the segmentation.

    python tools/webui.py --config CFG --checkpoint CKPT [--port 7860]
        [--host 127.0.0.1] [--device cpu] [--example IMG ...]
        [--mode {slide_global,whole,config}] [--cfg-options KEY=VALUE ...]

Needs Gradio (``pip install -e .[webui]``). The model is loaded once; typing
other class names only re-encodes the new names (the text embeddings of the
current vocabulary are cached). The page is served on 127.0.0.1 only unless
``--host 0.0.0.0`` is given. The Explain tab draws, for one of the classes
found, what the model saw (the figure of ``tools/visualize_prompts.py``).
"""
import argparse
import html
import os
import os.path as osp
import sys
from typing import List, Optional, Sequence, Tuple

import numpy as np

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import infer  # noqa: E402  tools/infer.py: checks, segmentation, drawing

NAMES_HELP = ('Class names: one per line (or separated by ";"); synonyms '
              'after commas, e.g. "wall, walls"')


def default_examples() -> List[str]:
    """A real photograph shipped with matplotlib (a dependency of MMEngine)."""
    try:
        from matplotlib import cbook
        path = str(cbook.get_sample_data('grace_hopper.jpg', asfileobj=False))
    except Exception:  # noqa: BLE001  no sample data: no example
        return []
    return [path] if osp.isfile(path) else []


def parse_names(text: str) -> List[str]:
    """``"cat\\nwall,walls; floor"`` -> ``['cat', 'wall, walls', 'floor']``.

    Synonyms follow the package's one rule (commas, spaces optional); each
    name is spelled canonically.

    Raises:
        infer.CLIError: no names, an empty synonym or a duplicate.
    """
    names = [
        n.strip() for line in (text or '').splitlines()
        for n in line.split(';')
    ]
    names = [n for n in names if n]
    if not names:
        raise infer.CLIError('type at least one class name')
    return infer.check_class_names(names, 'the class names')


def to_rgb(image: np.ndarray) -> np.ndarray:
    """Uploaded image (H, W), (H, W, 3) or (H, W, 4) -> RGB uint8 (H, W, 3)."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    image = image[..., :3]
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(image)


def legend_html(summary: dict, palette: Sequence[Sequence[int]]) -> str:
    """The classes present, largest first: colour swatch, name, share."""
    rows = []
    for r in summary['present']:
        colour = 'rgb({},{},{})'.format(*palette[r['id']])
        rows.append(
            f'<tr><td><span style="display:inline-block;width:1em;'
            f'height:1em;background:{colour};border:1px solid #000">'
            f'</span></td><td class="legend-name">{html.escape(r["name"])}'
            f'</td><td>{100 * r["share"]:.1f}%</td></tr>')
    return ('<table class="legend">' + ''.join(rows) + '</table>')


class Segmenter:
    """Serves every request with one model; only the vocabulary changes.

    Args:
        inferencer: An :class:`~escnet_mmseg.apis.OpenVocabInferencer`.
    """

    def __init__(self, inferencer) -> None:
        self.inferencer = inferencer
        self.present: List[str] = []  # classes found by the last request

    @property
    def names(self) -> List[str]:
        return list(self.inferencer.model.dataset_meta['classes'])

    def use(self, image: np.ndarray, names_text: str) -> np.ndarray:
        """Switch to the typed vocabulary; the image as RGB uint8.

        Raises:
            infer.CLIError: no image, or bad class names.
        """
        if image is None:
            raise infer.CLIError('upload or pick an image first')
        names = parse_names(names_text)
        if names != self.names:  # same names: keep the cached embeddings
            self.inferencer.set_vocabulary(names)
        return to_rgb(image)

    def segment(self,
                image: np.ndarray,
                names_text: str,
                opacity: float = 0.5) -> Tuple[np.ndarray, str, dict]:
        """Painted RGB image, HTML legend and summary of one image.

        Raises:
            infer.CLIError: no image, or bad class names.
        """
        rgb = self.use(image, names_text)
        labels = infer.segment(self.inferencer, rgb[..., ::-1].copy())
        meta = self.inferencer.model.dataset_meta
        summary = infer.summarize(labels, meta['classes'])
        self.present = [r['name'] for r in summary['present']]
        painted = infer.paint(rgb, labels, meta['palette'], opacity)
        return painted, legend_html(summary, meta['palette']), summary

    def __call__(self, image, names_text, opacity):
        import gradio as gr
        try:
            painted, legend, _ = self.segment(image, names_text, opacity)
        except infer.CLIError as e:
            raise gr.Error(str(e))
        return painted, legend


class Explainer:
    """The Explain tab: the figure of ``tools/visualize_prompts.py`` for one
    of the classes the last segmentation found.

    Args:
        segmenter (Segmenter): The model, its vocabulary and the classes
            found by its last request.
    """

    def __init__(self, segmenter: Segmenter) -> None:
        self.segmenter = segmenter

    def figure(self, image: np.ndarray, names_text: str,
               name: Optional[str]) -> np.ndarray:
        """The RGB figure (H', W', 3) of class ``name`` in ``image``.

        Raises:
            infer.CLIError: no image, no class picked, bad class names, or a
                class that is not in them.
        """
        from escnet_mmseg.visualization import (draw_class, explain,
                                                figure_to_rgb)
        if not name:
            raise infer.CLIError('press Segment first, then pick one of the '
                                 'classes it found')
        rgb = self.segmenter.use(image, names_text)
        try:
            expl = explain(
                self.segmenter.inferencer, rgb[..., ::-1].copy(), show=[name])
        except ValueError as e:
            raise infer.CLIError(str(e)) from None
        return figure_to_rgb(draw_class(expl, name))

    def choices(self):
        """The class picker, offering the classes found (largest first)."""
        import gradio as gr
        found = self.segmenter.present
        return gr.Dropdown(choices=found, value=found[0] if found else None)

    def __call__(self, image, names_text, name):
        import gradio as gr
        try:
            return self.figure(image, names_text, name)
        except infer.CLIError as e:
            raise gr.Error(str(e))


def build_explain_tab(explainer: Explainer, image, names, segmented):
    """The Explain tab; its class picker is refilled after every
    segmentation (``segmented``, the Segment button's click event)."""
    import gradio as gr
    with gr.Tab('Explain', elem_id='explain-tab'):
        gr.Markdown(
            'What the model saw for one class: the first row shows the '
            'image, the cosine correlation C0, the final probability and '
            'the label map; every further row is an ESC block with the '
            'steps of its pseudo prompt generator (score map, probability, '
            'foreground, k-means regions, mask prompt, pseudo points).')
        with gr.Row():
            pick = gr.Dropdown(
                choices=[],
                label='Class (one of those segmented)',
                elem_id='explain-class')
            button = gr.Button('Explain', variant='primary', elem_id='explain')
        figure = gr.Image(
            type='numpy',
            label='What the model saw',
            interactive=False,
            elem_id='explain-figure')
    segmented.then(explainer.choices, None, pick)
    button.click(
        explainer, [image, names, pick], [figure], concurrency_limit=1)


def build_demo(segmenter: Segmenter, examples: Sequence[str]):
    """The Gradio page (a ``gr.Blocks``)."""
    import gradio as gr
    with gr.Blocks(
            title='ESC-Net open-vocabulary segmentation',
            analytics_enabled=False,  # no usage data leaves this machine
    ) as demo:
        gr.Markdown('## ESC-Net: segment an image with your own class names')
        with gr.Tab('Segment', elem_id='segment-tab'):
            with gr.Row():
                with gr.Column():
                    image = gr.Image(
                        type='numpy',
                        image_mode='RGB',
                        label='Image',
                        elem_id='image',
                        height=360)
                    names = gr.Textbox(
                        value='\n'.join(segmenter.names),
                        lines=6,
                        label=NAMES_HELP,
                        elem_id='names')
                    opacity = gr.Slider(
                        0,
                        1,
                        value=0.5,
                        step=0.05,
                        label='Opacity',
                        elem_id='opacity')
                    button = gr.Button(
                        'Segment', variant='primary', elem_id='segment')
                with gr.Column():
                    overlay = gr.Image(
                        type='numpy',
                        label='Segmentation',
                        interactive=False,
                        elem_id='overlay',
                        height=360)
                    legend = gr.HTML(elem_id='legend')
            if examples:
                gr.Examples(
                    examples=[[p] for p in examples],
                    inputs=[image],
                    label='Example images')
        # One request at a time: the vocabulary is the model's state.
        segmented = button.click(
            segmenter, [image, names, opacity], [overlay, legend],
            concurrency_limit=1)
        build_explain_tab(Explainer(segmenter), image, names, segmented)
    return demo


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--config', required=True, help='model config file')
    parser.add_argument(
        '--checkpoint', required=True, help='trained checkpoint (.pth)')
    parser.add_argument('--port', type=int, default=7860)
    parser.add_argument(
        '--host',
        default='127.0.0.1',
        help='address to listen on (default: this machine '
        'only)')
    parser.add_argument(
        '--device',
        default=None,
        help='e.g. cpu, cuda:0 (default: cuda if available)')
    parser.add_argument(
        '--example',
        nargs='*',
        default=None,
        metavar='IMG',
        help='example images to offer (default: a photo shipped with '
        'matplotlib)')
    infer.add_loading_args(parser)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    os.environ.setdefault('GRADIO_ANALYTICS_ENABLED', 'False')
    try:
        import gradio  # noqa: F401
    except ImportError:
        print(
            'error: the web demo needs Gradio: pip install -e ".[webui]"',
            file=sys.stderr)
        return 1
    with infer.quiet_libraries(not args.verbose):
        try:
            for what, path in (('config', args.config), ('checkpoint',
                                                         args.checkpoint)):
                if not osp.isfile(path):
                    raise infer.CLIError(f'{what} file not found: {path}')
            examples = default_examples() if args.example is None else [
                p for p in args.example if osp.isfile(p)
            ]
            inferencer = infer.build_inferencer(args.config, args.checkpoint,
                                                None, args.device, None,
                                                args.trust_checkpoint,
                                                args.mode, args.cfg_options)
        except Exception as e:  # noqa: BLE001  one line, never a traceback
            print(f'error: {e}', file=sys.stderr)
            return 1
        demo = build_demo(Segmenter(inferencer), examples)
        demo.queue().launch(
            server_name=args.host,
            server_port=args.port,
            show_error=True,
            allowed_paths=[osp.dirname(p) for p in examples])
    return 0


if __name__ == '__main__':
    sys.exit(main())
