"""Photos are segmented with the published 5-view protocol by default (the
inferencer, tools/infer.py, tools/webui.py), ``whole`` on request, and the
label map always has the photo's size and geometry."""
import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from escnet_mmseg.apis import (PROTOCOL_TEST_CFG, OpenVocabInferencer,
                               VocabularySession, apply_test_mode,
                               load_inferencer)
from escnet_mmseg.models import ESCNet
from escnet_mmseg.utils import UserError
from tests.tiny import REPO, TINY_CONFIG
from tests.tools.test_infer import save_tiny_checkpoint
from tests.tools.tool_loader import load_tool

infer = load_tool('tools/infer.py')
webui = load_tool('tools/webui.py')
TRAIN_CONFIG = REPO / 'configs' / 'escnet' / 'escnet_vitb16_coco-stuff.py'
# A photo of another aspect than the 640 x 640 / 384 x 384 views: red on
# the left 30 %, green elsewhere (BGR).
PHOTO_HW = (50, 90)
RED_COLUMNS = 27


def photo() -> np.ndarray:
    image = np.zeros(PHOTO_HW + (3, ), np.uint8)
    image[:, :RED_COLUMNS, 2] = 255
    image[:, RED_COLUMNS:, 1] = 255
    return image


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    return save_tiny_checkpoint(tmp_path_factory.mktemp('ckpt') / 'tiny.pth')


@pytest.fixture
def colour_model(monkeypatch):
    """Every ESCNet scores class 0 by a view's red and class 1 by its green
    channel (the inputs are RGB after the preprocessor), so the expected
    label map is known; records the batch of views of each call."""
    views = []

    def view_logits(self, inputs):
        views.append(tuple(inputs.shape))
        return torch.stack([inputs[:, 0], inputs[:, 1]], dim=1)

    monkeypatch.setattr(ESCNet, 'view_logits', view_logits)
    return views


def assert_photo_geometry(labels: np.ndarray) -> None:
    """The photo's size, red left columns -> 0, green -> 1 (the boundary
    column may blur by a pixel through the resizing)."""
    assert labels.shape == PHOTO_HW
    assert (labels[:, :RED_COLUMNS - 1] == 0).all()
    assert (labels[:, RED_COLUMNS + 1:] == 1).all()


# ----------------------------------------------------------- apply_test_mode
def _model_cfg(test_cfg) -> Config:
    return Config(dict(model=dict(type='ESCNet', test_cfg=test_cfg)))


def test_protocol_is_the_one_of_the_evaluation_configs():
    for backbone in ('vitb16', 'vitl14'):
        cfg = Config.fromfile(
            str(REPO / 'configs' / '_base_' / 'models' /
                f'escnet_{backbone}_catseg-eval.py'))
        test_cfg = cfg.model.test_cfg
        assert {k: test_cfg[k] for k in PROTOCOL_TEST_CFG} == \
            PROTOCOL_TEST_CFG


def test_apply_test_mode():
    training = Config.fromfile(str(TRAIN_CONFIG))
    assert training.model.test_cfg.mode == 'whole'
    apply_test_mode(training)
    assert training.model.test_cfg == dict(
        PROTOCOL_TEST_CFG, class_chunk_size=None)
    # A benchmark config keeps its own layout and options.
    own = dict(mode='slide_global', out_size=(896, 896), max_classes=256)
    cfg = apply_test_mode(_model_cfg(own), 'slide_global')
    assert cfg.model.test_cfg == own
    cfg = apply_test_mode(_model_cfg(own), 'whole')
    assert cfg.model.test_cfg == dict(own, mode='whole')
    for keep in ('config', None):
        assert apply_test_mode(_model_cfg(own), keep).model.test_cfg == own
    # --cfg-options come last.
    cfg = apply_test_mode(
        _model_cfg(dict(mode='whole')), 'slide_global',
        {'model.test_cfg.out_size': (896, 896)})
    assert cfg.model.test_cfg.out_size == (896, 896)
    assert cfg.model.test_cfg.crop_size == (384, 384)
    with pytest.raises(ValueError, match="unknown test mode 'slide'"):
        apply_test_mode(_model_cfg(own), 'slide')


# ---------------------------------------------------------------- inferencer
@pytest.mark.parametrize('mode,views', [(None, (5, 3, 384, 384)),
                                        ('whole', (1, 3) + PHOTO_HW)])
def test_inferencer_modes(checkpoint, colour_model, mode, views):
    kwargs = {} if mode is None else dict(test_mode=mode)
    inferencer = OpenVocabInferencer(
        str(TINY_CONFIG),
        weights=checkpoint,
        classes=['red', 'green'],
        device='cpu',
        **kwargs)
    sample = inferencer(photo(), return_datasamples=True)
    assert colour_model == [views]
    assert_photo_geometry(sample.pred_sem_seg.data[0].numpy())


# ---------------------------------------------------------------- the tools
def _write_photo(tmp_path) -> str:
    path = str(tmp_path / 'photo.png')
    cv2.imwrite(path, photo())
    return path


@pytest.mark.parametrize(
    'extra,views',
    [
        ([], [(5, 3, 384, 384)]),
        (['--mode', 'whole'], [(1, 3) + PHOTO_HW]),
        (['--cfg-options', 'model.test_cfg.out_size=(896,896)'
          ], [(10, 3, 384, 384)]),  # 3 x 3 windows + the global view
    ])
def test_infer_cli_modes(checkpoint, colour_model, tmp_path, extra, views):
    out = tmp_path / 'out'
    code = infer.main([
        _write_photo(tmp_path), '--config',
        str(TINY_CONFIG), '--checkpoint', checkpoint, '--classes', 'red',
        'green', '--out-dir',
        str(out), '--device', 'cpu', '--no-overlay'
    ] + extra)
    assert code == 0
    assert colour_model == views
    labels = cv2.imread(str(out / 'photo_labels.png'), cv2.IMREAD_UNCHANGED)
    assert_photo_geometry(labels)


def test_infer_cli_bad_layout_is_one_line(checkpoint, tmp_path, capsys):
    code = infer.main([
        _write_photo(tmp_path), '--config',
        str(TINY_CONFIG), '--checkpoint', checkpoint, '--out-dir',
        str(tmp_path / 'out'), '--device', 'cpu', '--cfg-options',
        'model.test_cfg.out_size=(500,500)'
    ])
    assert code == 1
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and 'tile the output exactly' in err


def test_webui_segments_with_the_chosen_mode(checkpoint, colour_model,
                                             monkeypatch):
    built = []

    def build(*args, **kwargs):
        built.append((kwargs['test_mode'], kwargs['cfg_options']))
        raise UserError('stop before serving')

    monkeypatch.setattr(webui, 'load_inferencer', build)
    base = ['--config', str(TINY_CONFIG), '--checkpoint', checkpoint]
    assert webui.main(base) == 1
    assert webui.main(base + ['--mode', 'whole']) == 1
    assert built == [('slide_global', None), ('whole', None)]
    # The page's segmentation with the default: the 5 views, photo size.
    session = VocabularySession(
        load_inferencer(
            str(TINY_CONFIG),
            checkpoint,
            device='cpu',
            test_mode=built[0][0],
            cfg_options=built[0][1]))
    _, summary = session.segment(photo()[..., ::-1], 'red\ngreen', 0.5)
    assert colour_model == [(5, 3, 384, 384)]
    assert (summary['height'], summary['width']) == PHOTO_HW
    share = {r['name']: r['share'] for r in summary['present']}
    assert abs(share['red'] - RED_COLUMNS / PHOTO_HW[1]) < 2 / PHOTO_HW[1]
