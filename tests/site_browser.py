"""Helpers for the demo-site browser tests (tests/test_site_*.py): where the pages are served and a
headless Chromium that only lets loopback ICE candidates out.

- Confab serves html/ and /config.js itself: the pages are opened at `server.http_base`.
- Real Janus serves no pages: a Python HTTP server on another loopback port serves html/ plus a
  generated /config.js (and /config) with the Janus HTTP and WebSocket URLs, so the pages talk to
  Janus cross-origin exactly as they would to Confab.
"""
from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import threading
import time
from pathlib import Path
from typing import Callable

import harness
from test_janusjs_browser import CHROMEDRIVER, CHROMIUM, CHROMIUM_FLAGS, _missing, browser_log  # noqa: F401

HTML = Path(__file__).resolve().parent.parent / "html"

# Injected before any page script: ICE candidates on addresses other than 127.0.0.1 / ::1 never
# reach the page's handlers (the tests' rule: traffic only on loopback, even outside a namespace).
LOOPBACK_ICE_ONLY = r"""
(() => {
  const ok = (c) => !c || !c.candidate || ['127.0.0.1', '::1'].includes(c.candidate.split(' ')[4]);
  const add = RTCPeerConnection.prototype.addEventListener;
  RTCPeerConnection.prototype.addEventListener = function (type, fn, opts) {
    if (type === 'icecandidate' && typeof fn === 'function') {
      const inner = fn;
      fn = function (e) { if (ok(e.candidate)) return inner.call(this, e); };
    }
    return add.call(this, type, fn, opts);
  };
})();
"""


class _SiteHandler(http.server.SimpleHTTPRequestHandler):
    config: dict = {}

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        path = self.path.split("?", 1)[0]
        if path in ("/config.js", "/config"):
            doc = json.dumps(self.config, indent=2)
            body = (f"window.confabConfig = {doc};\n" if path == "/config.js" else doc).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/javascript" if path == "/config.js" else "application/json")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()


@contextlib.contextmanager
def site(server, root: Path = HTML):
    """Base URL of the pages for this server (Confab: itself, serving its site.root; Janus: a
    Python server serving `root`)."""
    if not server.is_janus:
        yield server.http_base
        return
    handler = type("Handler", (_SiteHandler,), {"config": {
        "httpURL": server.janus_url, "wsURL": server.ws_url, "iceServers": [], "serverName": "Janus (reference)"}})
    port = harness.free_port()
    httpd = http.server.ThreadingHTTPServer((harness.LOOPBACK, port), functools.partial(handler, directory=str(root)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://{harness.LOOPBACK}:{port}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@contextlib.contextmanager
def chromium(window_size: str = "1280,800", extra_flags: tuple[str, ...] = ()):
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        _missing("chromium / chromedriver not installed")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium not installed (pip install -r tests/requirements.txt)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for f in [*CHROMIUM_FLAGS, *extra_flags]:
        opts.add_argument(f)
    opts.add_argument(f"--window-size={window_size}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    os.environ.setdefault("SE_AVOID_STATS", "true")
    drv = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    drv.set_script_timeout(30)
    drv.set_page_load_timeout(20)
    drv.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": LOOPBACK_ICE_ONLY})
    try:
        yield drv
    finally:
        drv.quit()


def new_tab(driver) -> str:
    """Open a new tab, inject the loopback filter there too, return its window handle."""
    driver.switch_to.new_window("tab")
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": LOOPBACK_ICE_ONLY})
    return driver.current_window_handle


def wait_for(driver, script: str, timeout: float, what: str, *args, pred: Callable = bool):
    """Poll a JavaScript expression (`return ...`) until pred(value) holds; returns the value."""
    end = time.time() + timeout
    value = None
    while time.time() < end:
        value = driver.execute_script(script, *args)
        if pred(value):
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what}: not seen within {timeout}s (last value {value!r})\n"
                         f"--- browser log ---\n{browser_log(driver)}")


def console_errors(driver) -> list[str]:
    try:
        return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    except Exception:  # noqa: BLE001
        return []


DENY_MEDIA = r"""
navigator.mediaDevices.getUserMedia = async () => {
  throw new DOMException('Permission denied', 'NotAllowedError');
};
"""


@contextlib.contextmanager
def media_denied(driver):
    """Pages loaded inside get NotAllowedError from getUserMedia, as when someone clicks "Block"
    (Chromium's fake-UI flag grants everything, and CDP permission overrides do not beat it)."""
    script = driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": DENY_MEDIA})
    try:
        yield
    finally:
        driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]})


NO_CAMERA = r"""
(() => {
  const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    if (constraints && constraints.video) throw new DOMException('Requested device not found', 'NotFoundError');
    return real(constraints);
  };
})();
"""


@contextlib.contextmanager
def no_camera(driver):
    """Pages loaded inside have a microphone but no camera (NotFoundError whenever video is asked)."""
    script = driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": NO_CAMERA})
    try:
        yield
    finally:
        driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]})


def publish_offer_script(send_encodings: str = "") -> str:
    """JavaScript for execute_async_script: a fake 960x540 camera sent on a sendonly transceiver
    (`send_encodings`: a JS array for simulcast, or none), ICE gathered; returns the offer SDP
    (or 'ERROR ...') and keeps the connection in window.pc for ACCEPT_ANSWER."""
    encodings = f", sendEncodings: {send_encodings}" if send_encodings else ""
    return r"""
const done = arguments[arguments.length - 1];
(async () => {
  const stream = await navigator.mediaDevices.getUserMedia({video: {width: 960, height: 540, frameRate: 30}});
  const pc = window.pc = new RTCPeerConnection();
  pc.addTransceiver(stream.getVideoTracks()[0], {direction: 'sendonly'""" + encodings + r"""});
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== 'complete') {
    await new Promise((resolve) => pc.addEventListener('icegatheringstatechange',
      () => pc.iceGatheringState === 'complete' && resolve()));
  }
  done(pc.localDescription.sdp);
})().catch((e) => done('ERROR ' + e));
"""


# Applies the answer (arguments[0]) to window.pc from publish_offer_script.
ACCEPT_ANSWER = r"""
const done = arguments[arguments.length - 1];
window.pc.setRemoteDescription({type: 'answer', sdp: arguments[0]}).then(() => done('ok'), (e) => done('ERROR ' + e));
"""
