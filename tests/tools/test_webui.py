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

from escnet_mmseg.apis import VocabularySession, load_inferencer
from tests.tiny import TINY_CONFIG
from tests.tools.test_infer import save_tiny_checkpoint
from tests.tools.tool_loader import REPO, load_tool

webui = load_tool('tools/webui.py')
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
CHROMEDRIVER = shutil.which('chromedriver')


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    return save_tiny_checkpoint(tmp_path_factory.mktemp('ckpt') / 'tiny.pth')


def test_parse_args():
    args = webui.parse_args(['--config', 'c', '--checkpoint', 'w'])
    assert args.host == '127.0.0.1' and args.mode == 'slide_global'


def test_page_handlers(checkpoint):
    """The page's handlers: legend HTML, errors shown on the page, the
    Explain tab's class picker (the logic: tests/apis/test_session.py)."""
    import gradio as gr
    session = VocabularySession(
        load_inferencer(str(TINY_CONFIG), checkpoint, device='cpu'))
    # the page sends no usage analytics to an outside service
    assert webui.build_demo(session, []).analytics_enabled is False
    segment = webui.segment_handler(session)
    image = np.random.RandomState(0).randint(0, 255, (40, 52, 3), np.uint8)
    painted, legend = segment(image, 'dog; wall,walls', 0.5)
    assert painted.shape == (40, 52, 3)
    assert session.present and all(f'>{name}<' in legend
                                   for name in session.present)
    assert webui.explain_choices(session).choices == [(n, n)
                                                      for n in session.present]
    with pytest.raises(gr.Error, match='upload or pick'):
        segment(None, 'dog', 0.5)
    with pytest.raises(gr.Error, match='"cat" is not in the'):
        webui.shown_on_page(session.explain)(image, 'dog', 'cat')


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
