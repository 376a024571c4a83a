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
import functools
import html
import os
import os.path as osp
import sys
from typing import Callable, List, Sequence

from escnet_mmseg.apis import VocabularySession, load_inferencer
from escnet_mmseg.apis.cli_args import add_model_args
from escnet_mmseg.utils import UserError
from escnet_mmseg.utils.cli import run_tool

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


def shown_on_page(handler: Callable) -> Callable:
    """A page handler whose :class:`UserError` is shown as the page's error
    message."""

    @functools.wraps(handler)
    def wrapped(*args):
        import gradio as gr
        try:
            return handler(*args)
        except UserError as e:
            raise gr.Error(str(e))

    return wrapped


def segment_handler(session: VocabularySession) -> Callable:
    """Segment button: (image, names, opacity) -> (painted, legend HTML)."""

    @shown_on_page
    def segment(image, names_text, opacity):
        painted, summary = session.segment(image, names_text, opacity)
        palette = session.inferencer.model.dataset_meta['palette']
        return painted, legend_html(summary, palette)

    return segment


def explain_choices(session: VocabularySession):
    """The class picker, offering the classes found (largest first)."""
    import gradio as gr
    found = session.present
    return gr.Dropdown(choices=found, value=found[0] if found else None)


def build_explain_tab(session: VocabularySession, image, names, segmented):
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
    segmented.then(functools.partial(explain_choices, session), None, pick)
    button.click(
        shown_on_page(session.explain), [image, names, pick], [figure],
        concurrency_limit=1)


def build_demo(session: VocabularySession, examples: Sequence[str]):
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
                        value='\n'.join(session.names),
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
            segment_handler(session), [image, names, opacity],
            [overlay, legend],
            concurrency_limit=1)
        build_explain_tab(session, image, names, segmented)
    return demo


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--port', type=int, default=7860)
    parser.add_argument(
        '--host',
        default='127.0.0.1',
        help='address to listen on (default: this machine '
        'only)')
    parser.add_argument(
        '--example',
        nargs='*',
        default=None,
        metavar='IMG',
        help='example images to offer (default: a photo shipped with '
        'matplotlib)')
    add_model_args(parser)
    return parser.parse_args(argv)


def serve(args: argparse.Namespace) -> None:
    """Load the model, then serve the page until stopped."""
    try:
        import gradio  # noqa: F401
    except ImportError:
        raise UserError('the web demo needs Gradio: pip install -e ".[webui]"')
    examples = default_examples() if args.example is None else [
        p for p in args.example if osp.isfile(p)
    ]
    inferencer = load_inferencer(
        args.config,
        args.checkpoint,
        device=args.device,
        trust_checkpoint=args.trust_checkpoint,
        test_mode=args.mode,
        cfg_options=args.cfg_options)
    demo = build_demo(VocabularySession(inferencer), examples)
    demo.queue().launch(
        server_name=args.host,
        server_port=args.port,
        show_error=True,
        allowed_paths=[osp.dirname(p) for p in examples])


def main(argv=None) -> int:
    args = parse_args(argv)
    os.environ.setdefault('GRADIO_ANALYTICS_ENABLED', 'False')
    return run_tool(serve, args, verbose=args.verbose)


if __name__ == '__main__':
    sys.exit(main())
