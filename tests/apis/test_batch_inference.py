"""The batch inference API of ``escnet_mmseg.apis`` (``tools/infer.py``
runs it): inputs and their output names, class names from users, outputs,
and the rule that nothing is overwritten."""
import os

import cv2
import numpy as np
import pytest

from escnet_mmseg.apis import (batch_inference, collect_images, draw_overlay,
                               parse_class_text, read_vocabulary,
                               segment_images, summarize, write_label_map)
from escnet_mmseg.utils import UserError
from tests.tiny import TINY_CONFIG
from tests.tools.test_infer import save_tiny_checkpoint, write_images


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    return save_tiny_checkpoint(tmp_path_factory.mktemp('ckpt') / 'tiny.pth')


def test_output_names_from_globs_and_files(tmp_path):
    write_images(tmp_path)
    out = str(tmp_path / 'out')
    # Two explicit files with one name: named after their folders.
    items = collect_images(
        [str(tmp_path / 'sub1' / 'a.png'),
         str(tmp_path / 'sub2' / 'a.png')], out)
    assert [name for _, name in items] == ['sub1/a', 'sub2/a']
    # A glob: only images; our own output folder is never an input.
    os.makedirs(tmp_path / 'out')
    cv2.imwrite(
        str(tmp_path / 'out' / 'old_overlay.png'), np.zeros((4, 4, 3),
                                                            np.uint8))
    items = collect_images([str(tmp_path / '*')], out)
    assert sorted(name
                  for _, name in items) == ['rgba', 'sub1/a', 'sub2/a', 'top']
    # Same stem, other suffix: the suffix is kept.
    cv2.imwrite(str(tmp_path / 'top.png'), np.zeros((4, 4, 3), np.uint8))
    items = collect_images(
        [str(tmp_path / 'top.jpg'),
         str(tmp_path / 'top.png')], out)
    assert [name for _, name in items] == ['top_jpg', 'top_png']


def test_segment_images_and_the_no_overwrite_rule(checkpoint, tmp_path,
                                                  monkeypatch):
    write_images(tmp_path / 'photos')
    (tmp_path / 'photos' / 'broken.png').write_bytes(b'\x89PNG garbage')
    out = tmp_path / 'out'
    kwargs = dict(
        config=str(TINY_CONFIG),
        checkpoint=checkpoint,
        classes=['sky', 'circle,circles'],
        device='cpu',
        test_mode='whole',
        progress=False)
    result = segment_images([str(tmp_path / 'photos')], str(out), **kwargs)
    assert result.total == 5 and len(result.summaries) == 4
    assert result.failures == [
        f'{tmp_path}/photos/broken.png is not an image (or it is damaged)'
    ]
    with pytest.raises(UserError, match='1 of 5 images failed: '):
        result.raise_failures()
    summary = next(s for s in result.summaries
                   if s['image'].endswith('top.jpg'))
    assert summary['classes'] == ['sky', 'circle, circles']
    assert (summary['height'], summary['width']) == (50, 60)
    assert sorted(p.name for p in out.iterdir()) == [
        'rgba.json', 'rgba_labels.png', 'rgba_overlay.png', 'sub1', 'sub2',
        'top.json', 'top_labels.png', 'top_overlay.png'
    ]
    # Any existing output: refused before the model is loaded.
    monkeypatch.setattr(batch_inference, 'load_inferencer', None)
    with pytest.raises(UserError, match=r'already exists \(and 11 more\)'):
        segment_images([str(tmp_path / 'photos')], str(out), **kwargs)
    with pytest.raises(UserError, match='class 2 in --classes is an empty'):
        segment_images([str(tmp_path / 'photos')], str(out),
                       **dict(kwargs, classes=['sky', ' ']))


def test_user_class_names(tmp_path):
    assert parse_class_text('cat\n wall, walls ;floor\n\n') == [
        'cat', 'wall, walls', 'floor'
    ]
    # One class-name rule: commas with or without spaces.
    assert parse_class_text('cat\nwall,walls') == ['cat', 'wall, walls']
    for text, message in ((' \n;', 'at least one'), ('cat\nCat', 'duplicate'),
                          ('cat\nwall,', '"wall," in the class'),
                          ('wall, walls\nwall,walls', 'duplicate')):
        with pytest.raises(UserError, match=message):
            parse_class_text(text)
    names = tmp_path / 'names.txt'
    names.write_text('sky\n\ncircle,circles\n')
    assert read_vocabulary(None, str(names)) == ['sky', 'circle, circles']
    assert read_vocabulary(['a'], str(names)) == ['a']
    assert read_vocabulary() is None
    with pytest.raises(UserError, match='class file not found: '):
        read_vocabulary(None, str(tmp_path / 'none.txt'))


def test_label_maps_summary_and_overlay(tmp_path):
    labels = np.zeros((6, 8), np.int64)
    labels[:, :2] = 299
    summary = summarize(labels, [f'c{i}, cs{i}' for i in range(300)])
    assert [(p['id'], p['pixels'], p['share'])
            for p in summary['present']] == [(0, 36, 0.75), (299, 12, 0.25)]
    for classes, dtype in ((255, np.uint8), (300, np.uint16)):
        path = str(tmp_path / f'{classes}.png')
        write_label_map(labels % classes, classes, path)
        read = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        assert read.dtype == dtype and np.array_equal(read, labels % classes)
    palette = [[i % 256, 0, 0] for i in range(300)]
    image = np.full((6, 8, 3), 200, np.uint8)
    overlay = draw_overlay(image, labels, summary, palette, 0.5)
    # painted image on the left (MMSeg's blend), the legend on its right
    assert overlay.shape[0] >= 6 and overlay.shape[1] > 8
    assert overlay[0, 0].tolist() == [(200 + 43) // 2, 100, 100]
    assert not os.path.exists(tmp_path / 'out')
