"""tools/infer.py: folders in, label maps / overlays / summaries out, and
one clear line for every bad input."""
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from escnet_mmseg.apis import batch_inference
from tests.tiny import NAMES, TINY_CONFIG, build_tiny_model
from tests.tools.checkpoints import write_checkpoint
from tests.tools.tool_loader import REPO, load_tool

infer = load_tool('tools/infer.py')
PALETTE = [[10 * i, 200 - 10 * i, 50] for i in range(len(NAMES))]


def save_tiny_checkpoint(path, state_dict=None, meta=None):
    if meta is None:
        meta = dict(dataset_meta=dict(classes=list(NAMES), palette=PALETTE))
    return str(
        write_checkpoint(
            path, training_state=False, state_dict=state_dict, meta=meta))


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    return save_tiny_checkpoint(tmp_path_factory.mktemp('ckpt') / 'tiny.pth')


def write_images(root):
    """sub1/a.png and sub2/a.png (same name), top.jpg (grey), rgba.png,
    notes.txt (not an image, ignored in a folder)."""
    rng = np.random.RandomState(0)
    os.makedirs(root / 'sub1')
    os.makedirs(root / 'sub2')
    cv2.imwrite(
        str(root / 'sub1' / 'a.png'), rng.randint(0, 255, (40, 56, 3),
                                                  np.uint8))
    cv2.imwrite(
        str(root / 'sub2' / 'a.png'), rng.randint(0, 255, (72, 48, 3),
                                                  np.uint8))
    cv2.imwrite(str(root / 'top.jpg'), rng.randint(0, 255, (50, 60), np.uint8))
    cv2.imwrite(
        str(root / 'rgba.png'), rng.randint(0, 255, (30, 30, 4), np.uint8))
    (root / 'notes.txt').write_text('not an image')
    return dict(sub1_a=(40, 56), sub2_a=(72, 48), top=(50, 60), rgba=(30, 30))


def run(capsys, *argv):
    code = infer.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert 'Traceback' not in err
    return code, out, err


def common(checkpoint, out_dir):
    return [
        '--config', TINY_CONFIG, '--checkpoint', checkpoint, '--out-dir',
        out_dir, '--device', 'cpu'
    ]


def test_folder_outputs_and_refusal_to_overwrite(checkpoint, tmp_path, capsys,
                                                 monkeypatch):
    sizes = write_images(tmp_path / 'photos')
    out = tmp_path / 'out'
    code, stdout, err = run(capsys, tmp_path / 'photos',
                            *common(checkpoint, out), '--classes', 'sky',
                            'circle, circles', 'grass')
    assert code == 0, err
    assert '4 of 4 images segmented' in stdout
    for name, (h, w) in sizes.items():
        stem = name.replace('sub1_', 'sub1/').replace('sub2_', 'sub2/')
        labels = cv2.imread(
            str(out / f'{stem}_labels.png'), cv2.IMREAD_UNCHANGED)
        assert labels.dtype == np.uint8 and labels.shape == (h, w)
        assert labels.max() < 3
        overlay = cv2.imread(str(out / f'{stem}_overlay.png'))
        assert overlay.shape[0] >= h and overlay.shape[1] > w  # + legend
        summary = json.loads((out / f'{stem}.json').read_text())
        assert summary['classes'] == ['sky', 'circle, circles', 'grass']
        assert (summary['height'], summary['width']) == (h, w)
        present = summary['present']
        counts = np.bincount(labels.ravel(), minlength=3)
        assert [p['id'] for p in present] == [
            i for i in np.argsort(-counts, kind='stable') if counts[i]
        ]
        assert [p['pixels'] for p in present] == sorted(
            counts[counts > 0].tolist(), reverse=True)
        assert sum(p['share'] for p in present) == pytest.approx(1, abs=1e-5)
    assert not list(out.rglob('notes*'))

    # Existing outputs: refused before the model is even built.
    before = {p: p.stat().st_mtime_ns for p in out.rglob('*') if p.is_file()}
    monkeypatch.setattr(batch_inference, 'load_inferencer',
                        None)  # must not be used
    code, _, err = run(capsys, tmp_path / 'photos', *common(checkpoint, out))
    assert code == 1
    assert err.strip().splitlines()[-1].startswith('error: ')
    assert 'already exists' in err and '--overwrite' in err
    assert before == {p: p.stat().st_mtime_ns for p in before}
    monkeypatch.undo()
    # --overwrite replaces them; --no-overlay writes no overlay.
    code, _, err = run(capsys, tmp_path / 'photos' / 'top.jpg',
                       *common(checkpoint, tmp_path / 'out2'), '--no-overlay')
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / 'out2').iterdir()) == [
        'top.json', 'top_labels.png'
    ]
    code, _, err = run(capsys, tmp_path / 'photos' / 'top.jpg',
                       *common(checkpoint, out), '--overwrite')
    assert code == 0, err
    assert (out /
            'top_labels.png').stat().st_mtime_ns > before[out /
                                                          'top_labels.png']


def test_synonyms_with_or_without_spaces_are_one_class(checkpoint, tmp_path,
                                                       capsys):
    """``"circle,circles"`` is the class ``"circle, circles"``: same summary,
    label map and overlay (legend) as the spaced spelling."""
    img = tmp_path / 'img.png'
    cv2.imwrite(
        str(img),
        np.random.RandomState(1).randint(0, 255, (32, 40, 3), np.uint8))
    (tmp_path / 'classes.txt').write_text('sky\ncircle,circles\ngrass\n')
    spellings = dict(
        spaced=['--classes', 'sky', 'circle, circles', 'grass'],
        tight=['--classes', 'sky', 'circle,circles', 'grass'],
        file=['--classes-file', tmp_path / 'classes.txt'])
    outputs = {}
    for key, classes in spellings.items():
        out = tmp_path / key
        code, _, err = run(capsys, img, *common(checkpoint, out), *classes)
        assert code == 0, err
        outputs[key] = (json.loads((out / 'img.json').read_text()),
                        cv2.imread(
                            str(out / 'img_labels.png'), cv2.IMREAD_UNCHANGED),
                        cv2.imread(str(out / 'img_overlay.png')))
    summary, labels, overlay = outputs['spaced']
    assert summary['classes'] == ['sky', 'circle, circles', 'grass']
    for key in ('tight', 'file'):
        assert outputs[key][0] == summary
        assert np.array_equal(outputs[key][1], labels)
        assert np.array_equal(outputs[key][2], overlay)


def test_more_than_255_classes_give_16_bit_label_maps(checkpoint, tmp_path,
                                                      capsys):
    names = tmp_path / 'names.txt'
    names.write_text('\n'.join(f'thing {i}, things {i}'
                               for i in range(300)) + '\n\n')
    image = tmp_path / 'img.png'
    cv2.imwrite(
        str(image),
        np.random.RandomState(1).randint(0, 255, (24, 32, 3), np.uint8))
    code, _, err = run(capsys, image, *common(checkpoint, tmp_path / 'out'),
                       '--classes-file', names, '--chunk', '128')
    assert code == 0, err
    labels = cv2.imread(
        str(tmp_path / 'out' / 'img_labels.png'), cv2.IMREAD_UNCHANGED)
    assert labels.dtype == np.uint16 and labels.shape == (24, 32)
    summary = json.loads((tmp_path / 'out' / 'img.json').read_text())
    assert len(summary['classes']) == 300
    assert {p['id']
            for p in summary['present']} == set(np.unique(labels).tolist())


def test_unreadable_image_in_a_folder_fails_alone(checkpoint, tmp_path,
                                                  capsys):
    write_images(tmp_path / 'photos')
    (tmp_path / 'photos' / 'broken.png').write_bytes(b'\x89PNG garbage')
    out = tmp_path / 'out'
    code, stdout, err = run(capsys, tmp_path / 'photos',
                            *common(checkpoint, out))
    assert code == 1
    assert '4 of 5 images segmented' in stdout
    last = err.strip().splitlines()[-1]
    assert last.startswith('error: 1 of 5 images failed')
    assert 'broken.png is not an image' in last
    assert (out / 'top_labels.png').is_file()
    assert not list(out.glob('broken*'))
    # An explicit non-image file fails the same way.
    code, _, err = run(capsys, tmp_path / 'photos' / 'notes.txt',
                       *common(checkpoint, tmp_path / 'out2'))
    assert code == 1 and 'notes.txt is not an image' in err


@pytest.fixture(scope='module')
def bad_checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp('bad')
    state = build_tiny_model().state_dict()
    key = next(k for k in state if k.startswith('neck.'))
    other = dict(state)
    other.pop(key)
    wide = next(k for k, v in state.items()
                if k.startswith('decode_head.') and v.ndim == 4)
    other[wide] = torch.zeros(1, 1, 1, 1)
    other['extra.weight'] = torch.zeros(1)
    (root / 'text.pth').write_text('not a checkpoint')
    return dict(
        mismatch=save_tiny_checkpoint(root / 'other.pth', other),
        no_classes=save_tiny_checkpoint(root / 'no_meta.pth', meta=False),
        garbage=str(root / 'text.pth'),
        key=key,
        wide=wide)


BAD_INPUTS = {
    'missing image': (['{tmp}/nope.jpg'], 'no such file or folder: '
                      '{tmp}/nope.jpg'),
    'unmatched glob': (['{tmp}/*.webp'], 'no file matches {tmp}/*.webp'),
    'no images': (['{tmp}/empty'], 'no images'),
    'missing checkpoint':
    (['{img}', '--checkpoint',
      '{tmp}/no.pth'], 'checkpoint file not found: {tmp}/no.pth'),
    'empty class name': (['{img}', '--classes', 'sky',
                          ' '], 'class 2 in --classes is an empty name'),
    'empty synonym': (['{img}', '--classes', 'sky', 'wall,'],
                      'class 2 "wall," in --classes has an empty synonym'),
    'duplicate': (['{img}', '--classes', 'sky', 'grass',
                   'Sky'], "duplicate class names in the vocabulary: ['Sky']"),
    'missing class file': (['{img}', '--classes-file', '{tmp}/n.txt'],
                           'class file not found: {tmp}/n.txt'),
    'empty class file': (['{img}', '--classes-file', '{tmp}/empty.txt'],
                         'the class file {tmp}/empty.txt has no class names'),
    'duplicate in class file': (['{img}', '--classes-file', '{tmp}/dup.txt'],
                                "duplicate class names in the vocabulary: "
                                "['sky'] (in {tmp}/dup.txt)"),
    'checkpoint of another model':
    (['{img}', '--checkpoint', '{mismatch}'],
     'checkpoint {mismatch} does not fit the model of this config: 1 '
     'weights of the model are missing from it ({key}); 1 weights in it '
     'are not in the model (extra.weight); 1 weights have another shape '
     '({wide}: (1, 1, 1, 1) in the file, (1, 8, 3, 3) in the model)'),
    'checkpoint without classes':
    (['{img}', '--checkpoint', '{no_classes}'],
     'the checkpoint {no_classes} stores no class names: pass --classes'),
    'not a checkpoint': (['{img}', '--checkpoint', '{garbage}'],
                         'error: cannot read checkpoint {garbage}'),
}


@pytest.mark.parametrize('case', sorted(BAD_INPUTS))
def test_bad_input_is_one_line(case, checkpoint, bad_checkpoints, tmp_path,
                               capsys):
    os.makedirs(tmp_path / 'empty')
    (tmp_path / 'empty.txt').write_text('\n  \n')
    (tmp_path / 'dup.txt').write_text('sky\ngrass\nsky\n')
    img = tmp_path / 'img.png'
    cv2.imwrite(str(img), np.zeros((8, 8, 3), np.uint8))
    fmt = dict(tmp=tmp_path, img=img, **bad_checkpoints)
    argv, message = BAD_INPUTS[case]
    argv = [a.format(**fmt) for a in argv] + [
        '--config', TINY_CONFIG, '--out-dir', tmp_path / 'out', '--device',
        'cpu'
    ]
    if '--checkpoint' not in argv:
        argv += ['--checkpoint', checkpoint]
    from mmengine.logging import MMLogger
    level = MMLogger.get_instance('mmengine').level
    code, _, err = run(capsys, *argv)
    assert MMLogger.get_instance('mmengine').level == level  # restored
    assert code == 1
    last = err.strip().splitlines()[-1]
    assert last.startswith('error: ') and message.format(**fmt) in last
    assert not (tmp_path / 'out').exists()


def test_a_real_process_prints_one_line(bad_checkpoints, tmp_path):
    img = tmp_path / 'img.png'
    cv2.imwrite(str(img), np.zeros((8, 8, 3), np.uint8))
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    cmd = [
        sys.executable,
        osp.join(REPO, 'tools', 'infer.py'),
        str(img), '--config',
        str(TINY_CONFIG), '--checkpoint', bad_checkpoints['mismatch'],
        '--out-dir',
        str(tmp_path / 'out'), '--device', 'cpu'
    ]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 1
    assert 'Traceback' not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(
        f'error: checkpoint {bad_checkpoints["mismatch"]} does not fit')
    help_text = subprocess.run(
        cmd[:2] + ['--help'],
        capture_output=True,
        text=True,
        env=env,
        timeout=60).stdout
    assert '"wall, walls"' in help_text and 'synonyms' in help_text


def test_mmseg_inferencer_on_our_config_and_checkpoint(checkpoint, tmp_path):
    """MMSeg's own inferencer: the checkpoint's classes and palette."""
    from mmseg.apis import MMSegInferencer
    inferencer = MMSegInferencer(
        str(TINY_CONFIG), weights=checkpoint, device='cpu')
    image = tmp_path / 'img.png'
    cv2.imwrite(
        str(image),
        np.random.RandomState(2).randint(0, 255, (36, 44, 3), np.uint8))
    result = inferencer(str(image), out_dir=str(tmp_path / 'out'))
    labels = result['predictions']
    assert labels.shape == (36, 44) and labels.max() < len(NAMES)
    assert tuple(inferencer.model.dataset_meta['classes']) == NAMES
    assert inferencer.visualizer.dataset_meta['palette'] == PALETTE
    assert (tmp_path / 'out' / 'vis' / 'img.png').is_file()
    assert (tmp_path / 'out' / 'pred' / '00000000_pred.png').is_file()
