"""tools/visualize_prompts.py: one figure per class, and one clear line for
every bad input."""
import cv2
import numpy as np
import pytest

from tests.tiny import TINY_CONFIG
from tests.tools.test_infer import save_tiny_checkpoint
from tests.tools.tool_loader import load_tool

tool = load_tool('tools/visualize_prompts.py')


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    return save_tiny_checkpoint(tmp_path_factory.mktemp('ckpt') / 'tiny.pth')


def run(capsys, *argv):
    code = tool.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert 'Traceback' not in err
    return code, out, err


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / 'photo.png'
    cv2.imwrite(
        str(path),
        np.random.RandomState(1).randint(0, 255, (40, 56, 3), np.uint8))
    return path


def _args(photo, checkpoint, out, *extra):
    return (photo, '--config', TINY_CONFIG, '--checkpoint', checkpoint,
            '--out-dir', out, '--device', 'cpu', '--dpi', '30', *extra)


def test_writes_one_figure_per_class(checkpoint, photo, tmp_path, capsys):
    out = tmp_path / 'out'
    code, stdout, err = run(
        capsys,
        *_args(photo, checkpoint, out, '--show', 'sky', 'circle', '--chunk',
               '2'))
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == [
        'photo_circle.png', 'photo_sky.png'
    ]
    assert '2 figures' in stdout
    assert cv2.imread(str(out / 'photo_sky.png')).shape[-1] == 3
    code, _, err = run(capsys, *_args(photo, checkpoint, out, '--show', 'sky'))
    assert code == 1 and 'photo_sky.png already exists' in err
    code, _, err = run(
        capsys,
        *_args(photo, checkpoint, out, '--classes', 'dog', 'wall,walls',
               '--overwrite'))
    assert code == 0, err
    assert (out / 'photo_wall_walls.png').is_file()


@pytest.mark.parametrize('extra,message', [
    (('--show', 'dog'), 'class "dog" is not in the vocabulary ("sky", '),
    (('--classes', 'cat', 'sofa', '--show', 'sky'),
     'class "sky" is not in the vocabulary ("cat", "sofa") (in --show)'),
    (('--classes', 'cat', 'wall,'), '"wall," in --classes has an empty'),
])
def test_bad_names_are_one_line(checkpoint, photo, tmp_path, capsys, extra,
                                message):
    code, _, err = run(capsys, *_args(photo, checkpoint, tmp_path / 'o',
                                      *extra))
    assert code == 1 and err.startswith('error: ') and message in err, err
    assert not (tmp_path / 'o').exists()


def test_missing_image(checkpoint, tmp_path, capsys):
    code, _, err = run(capsys, *_args(tmp_path / 'no.jpg', checkpoint,
                                      tmp_path))
    assert code == 1 and 'image file not found: ' in err
