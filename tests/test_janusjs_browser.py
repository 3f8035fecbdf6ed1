"""Stock janus.js (Debian's libjs-janus-gateway) in headless Chromium against the server under test.

The test page is served by a tiny Python HTTP server on another loopback port, so every janus.js
HTTP request is cross-origin: CORS (preflight included) is part of what is tested.
"""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest

import harness
from janus_client import JanusAdmin

pytestmark = pytest.mark.browser

def _missing(reason: str) -> None:
    """`make test` sets CONFAB_REQUIRE_ALL=1: there a missing browser piece fails the run
    instead of quietly skipping the one test that proves stock janus.js works."""
    if os.environ.get("CONFAB_REQUIRE_ALL") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


JANUS_JS = Path(os.environ.get("JANUS_JS", "/usr/share/javascript/janus-gateway/janus.js"))
CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")
PAGE_DIR = Path(__file__).parent / "browser"

CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    # keep the browser off the network: no component updates, sync, safe browsing, ...
    "--no-first-run", "--no-default-browser-check", "--disable-component-update",
    "--disable-background-networking", "--disable-sync", "--disable-client-side-phishing-detection",
    "--disable-domain-reliability", "--metrics-recording-only", "--no-pings",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture(scope="module")
def page_server():
    """Serves a temp dir with the test page and a copy of Debian's janus.js on 127.0.0.1."""
    if not JANUS_JS.exists():
        _missing(f"{JANUS_JS} missing (apt-get install libjs-janus-gateway)")
    root = Path(tempfile.mkdtemp(prefix="janusjs-page-"))
    shutil.copy(JANUS_JS, root / "janus.js")
    for f in PAGE_DIR.iterdir():
        shutil.copy(f, root / f.name)
    port = harness.free_port()
    handler = functools.partial(_QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer((harness.LOOPBACK, port), handler)
    th = threading.Thread(target=httpd.serve_forever, daemon=True)
    th.start()
    yield f"http://{harness.LOOPBACK}:{port}"
    httpd.shutdown()
    httpd.server_close()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def driver():
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        _missing("chromium / chromedriver not installed")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium not installed (pip install -r tests/requirements.txt)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for f in CHROMIUM_FLAGS:
        opts.add_argument(f)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    os.environ.setdefault("SE_AVOID_STATS", "true")
    drv = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    drv.set_script_timeout(40)
    drv.set_page_load_timeout(20)
    yield drv
    drv.quit()


def run_janus_js(driver, page_server, server_url):
    driver.get(f"{page_server}/janus-test.html")
    assert driver.execute_script("return typeof Janus") == "function", "janus.js did not load"
    result = driver.execute_async_script(
        "var done = arguments[arguments.length - 1]; window.runJanusTest(arguments[0], done);", server_url)
    return result


def browser_log(driver):
    try:
        return "\n".join(f"{e['level']}: {e['message']}" for e in driver.get_log("browser"))
    except Exception:  # noqa: BLE001
        return "(no browser log)"


def check_result(result, driver, server):
    assert result["error"] is None, f"janus.js failed: {result['error']}\n{browser_log(driver)}"
    assert result["steps"] == ["init", "session", "attached", "listed", "exists", "destroyed"], result
    assert result["webrtcSupported"] is True
    assert isinstance(result["sessionId"], int) and isinstance(result["handleId"], int)
    assert result["plugin"] == "janus.plugin.videoroom"
    # janus.js hands the plugin's data to send()'s success callback
    assert result["list"]["videoroom"] == "success"
    rooms = {r["room"]: r for r in result["list"]["list"]}
    assert 1234 in rooms and rooms[1234]["description"] == "Demo Room"
    assert result["exists"] == {"videoroom": "success", "room": 1234, "exists": True}
    assert result.get("destroyedCallback") is True
    # and the session really is gone on the server
    adm = JanusAdmin(server.admin_url, server.admin_secret)
    end = time.time() + 5
    while time.time() < end and result["sessionId"] in adm.sessions():
        time.sleep(0.1)
    assert result["sessionId"] not in adm.sessions()


def test_janusjs_over_http(server, driver, page_server):
    result = run_janus_js(driver, page_server, server.janus_url)
    check_result(result, driver, server)


def test_janusjs_over_websocket(server, driver, page_server):
    result = run_janus_js(driver, page_server, server.ws_url)
    check_result(result, driver, server)


@pytest.mark.confab_only
def test_janusjs_over_websocket_on_http_port(server, driver, page_server):
    result = run_janus_js(driver, page_server, f"ws://127.0.0.1:{server.http_port}/janus")
    check_result(result, driver, server)


def test_janusjs_server_list_falls_back(server, driver, page_server):
    """janus.js accepts an array of servers and tries them in order: a dead one first, then ours."""
    dead = f"ws://127.0.0.1:{harness.free_port()}"
    driver.get(f"{page_server}/janus-test.html")
    result = driver.execute_async_script(
        "var done = arguments[arguments.length - 1]; window.runJanusTest(arguments[0], done);",
        [dead, server.janus_url])
    check_result(result, driver, server)
