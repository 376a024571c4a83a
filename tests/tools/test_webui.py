"""tools/webui.py: one model for every request, and the page in a real
(headless) browser."""
import os
import os.path as osp
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import cv2
import numpy as np
import pytest

from tests.tiny import NAMES, TINY_CONFIG
from tests.tools.test_infer import save_tiny_checkpoint
from tests.tools.tool_loader import REPO, load_tool

webui = load_tool('tools/webui.py')
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
CHROMEDRIVER = shutil.which('chromedriver')


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    return save_tiny_checkpoint(tmp_path_factory.mktemp('ckpt') / 'tiny.pth')


def test_parse_names():
    assert webui.parse_names('cat\n wall, walls ;floor\n\n') == [
        'cat', 'wall, walls', 'floor'
    ]
    with pytest.raises(webui.infer.CLIError, match='at least one'):
        webui.parse_names(' \n;')
    with pytest.raises(webui.infer.CLIError, match='duplicate'):
        webui.parse_names('cat\nCat')
    # One class-name rule: commas with or without spaces.
    assert webui.parse_names('cat\nwall,walls') == webui.parse_names(
        'cat\nwall, walls') == ['cat', 'wall, walls']
    with pytest.raises(webui.infer.CLIError, match='"wall," in the class'):
        webui.parse_names('cat\nwall,')
    with pytest.raises(webui.infer.CLIError, match='duplicate'):
        webui.parse_names('wall, walls\nwall,walls')
    assert webui.parse_args(['--config', 'c', '--checkpoint',
                             'w']).host == ('127.0.0.1')


def test_vocabulary_changes_without_rebuilding_the_model(checkpoint):
    inferencer = webui.infer.build_inferencer(
        str(TINY_CONFIG), checkpoint, None, 'cpu', None)
    segmenter = webui.Segmenter(inferencer)
    assert segmenter.names == list(NAMES)
    # the page sends no usage analytics to an outside service
    assert webui.build_demo(segmenter, []).analytics_enabled is False
    model = inferencer.model
    encoder = model.text_encoder
    encoded = []
    real_encode = encoder._encode
    encoder._encode = lambda names, clip: (encoded.append(names),
                                           real_encode(names, clip))[1]
    image = np.random.RandomState(0).randint(0, 255, (40, 52, 4), np.uint8)

    painted, legend, summary = segmenter.segment(image, '\n'.join(NAMES))
    assert painted.shape == (40, 52, 3) and painted.dtype == np.uint8
    assert summary['classes'] == list(NAMES)
    painted, legend, summary = segmenter.segment(image, 'dog; wall, walls')
    assert summary['classes'] == ['dog', 'wall, walls']
    assert {p['name'] for p in summary['present']} <= {'dog', 'wall, walls'}
    assert all(
        html_name in legend
        for html_name in (p['name'] for p in summary['present']))
    # "wall,walls" is the same class (and the same cached embedding).
    tight = segmenter.segment(image, 'dog\nwall,walls')
    assert tight[2] == summary and tight[1] == legend
    assert np.array_equal(tight[0], painted)
    segmenter.segment(image[..., 0], 'dog\nwall, walls', opacity=0.2)
    assert inferencer.model is model
    # Encoded once per vocabulary: the repeated one came from the cache.
    assert encoded == [NAMES, ('dog', 'wall, walls')]
    with pytest.raises(webui.infer.CLIError, match='upload or pick'):
        segmenter.segment(None, 'dog')


def test_explain_tab_draws_a_segmented_class(checkpoint):
    inferencer = webui.infer.build_inferencer(
        str(TINY_CONFIG), checkpoint, None, 'cpu', None)
    segmenter = webui.Segmenter(inferencer)
    explainer = webui.Explainer(segmenter)
    image = np.random.RandomState(2).randint(0, 255, (40, 52, 3), np.uint8)
    with pytest.raises(webui.infer.CLIError, match='press Segment first'):
        explainer.figure(image, 'sky\ngrass', None)
    _, _, summary = segmenter.segment(image, 'sky\ngrass, lawn\nstar')
    found = [p['name'] for p in summary['present']]
    assert segmenter.present == found
    assert explainer.choices().choices == [(n, n) for n in found]
    figure = explainer.figure(image, 'sky\ngrass,lawn\nstar', found[0])
    assert figure.ndim == 3 and figure.shape[-1] == 3
    assert figure.dtype == np.uint8 and figure.shape[0] > 200
    with pytest.raises(webui.infer.CLIError, match='"dog" is not in the'):
        explainer.figure(image, 'sky\ngrass', 'dog')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _wait_for_page(url: str, proc, log, timeout: float = 180) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f'webui.py exited with {proc.returncode}:\n' +
                        open(log).read()[-3000:])
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    pytest.fail(f'no page at {url} after {timeout} s:\n' +
                open(log).read()[-3000:])


@pytest.fixture
def server(checkpoint, tmp_path):
    """tools/webui.py on a free local port, stopped afterwards."""
    port = _free_port()
    log = str(tmp_path / 'webui.log')
    env = dict(
        os.environ,
        PYTHONPATH=REPO,
        OMP_NUM_THREADS='1',
        GRADIO_ANALYTICS_ENABLED='False')
    with open(log, 'w') as f:
        proc = subprocess.Popen([
            sys.executable,
            osp.join(REPO, 'tools', 'webui.py'), '--config',
            str(TINY_CONFIG), '--checkpoint', checkpoint, '--port',
            str(port), '--device', 'cpu', '--example'
        ],
                                stdout=f,
                                stderr=subprocess.STDOUT,
                                env=env)
    url = f'http://127.0.0.1:{port}/'
    try:
        _wait_for_page(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.mark.slow  # starts a server and a browser (~30 s)
@pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason='needs Chromium and its driver (Debian: apt-get install chromium '
    'chromium-driver; `make test` installs them when it runs as root)')
def test_the_page_in_a_headless_browser(server, tmp_path):
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    image = str(tmp_path / 'upload.png')
    cv2.imwrite(
        image,
        np.random.RandomState(3).randint(0, 255, (48, 64, 3), np.uint8))
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ('--headless=new', '--no-sandbox', '--disable-gpu',
                '--disable-dev-shm-usage', '--window-size=1280,1000'):
        options.add_argument(arg)
    driver = webdriver.Chrome(
        options=options, service=Service(executable_path=CHROMEDRIVER))
    wait = WebDriverWait(driver, 120)
    try:
        driver.get(server)
        upload = wait.until(
            EC.presence_of_element_located(
                (By.CSS_SELECTOR, '#image input[type=file]')))
        upload.send_keys(image)
        wait.until(
            EC.presence_of_element_located((By.CSS_SELECTOR, '#image img')))

        def submit(names):
            box = driver.find_element(By.CSS_SELECTOR, '#names textarea')
            box.clear()
            box.send_keys('\n'.join(names))
            driver.find_element(By.CSS_SELECTOR, '#segment').click()

            def legend_names(d):
                cells = d.find_elements(By.CSS_SELECTOR,
                                        '#legend .legend-name')
                try:
                    found = [c.text for c in cells]
                except StaleElementReferenceException:
                    return False  # the legend was being redrawn: look again
                return found if found and set(found) <= set(names) else False

            return wait.until(legend_names)

        found = submit(['sky', 'circle, circles', 'grass'])
        overlay = wait.until(
            EC.presence_of_element_located((By.CSS_SELECTOR, '#overlay img')))
        assert overlay.get_attribute('src')
        # Other names: a new legend from the same server process.
        found = submit(['road', 'tree, trees'])
        assert set(found) <= {'road', 'tree, trees'}
        driver.save_screenshot(str(tmp_path / 'webui.png'))
        # The Explain tab offers the classes found and draws the first.
        driver.find_element(
            By.XPATH,
            '//button[@role="tab" and normalize-space()="Explain"]').click()
        picked = wait.until(lambda d: d.find_element(
            By.CSS_SELECTOR, '#explain-class input').get_attribute('value'))
        assert picked == found[0]
        driver.find_element(By.CSS_SELECTOR, '#explain').click()
        figure = wait.until(
            EC.presence_of_element_located(
                (By.CSS_SELECTOR, '#explain-figure img')))
        assert figure.get_attribute('src')
        driver.save_screenshot(str(tmp_path / 'explain.png'))
    finally:
        driver.quit()
