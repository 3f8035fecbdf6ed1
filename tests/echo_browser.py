"""Headless Chromium running stock janus.js against janus.plugin.echotest (tests/browser/echotest.*).

Same Chromium flags, paths and page-serving scheme as test_janusjs_browser.py (fake camera and
microphone, loopback host candidates without mDNS, page on another loopback port so janus.js
talks to the server cross-origin). The page only lets 127.0.0.1 / ::1 candidates out.
"""
from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Optional


import harness
from test_janusjs_browser import (CHROMEDRIVER, CHROMIUM, CHROMIUM_FLAGS, JANUS_JS,  # noqa: F401
                                  _missing, browser_log)

PAGE_DIR = Path(__file__).parent / "browser"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def page_server():
    """http://127.0.0.1:PORT serving echotest.html, echotest.js and Debian's janus.js."""
    if not JANUS_JS.exists():
        _missing(f"{JANUS_JS} missing (apt-get install libjs-janus-gateway)")
    root = Path(tempfile.mkdtemp(prefix="echotest-page-"))
    shutil.copy(JANUS_JS, root / "janus.js")
    for name in ("echotest.html", "echotest.js"):
        shutil.copy(PAGE_DIR / name, root / name)
    port = harness.free_port()
    httpd = http.server.ThreadingHTTPServer((harness.LOOPBACK, port),
                                            functools.partial(_QuietHandler, directory=str(root)))
    th = threading.Thread(target=httpd.serve_forever, daemon=True)
    th.start()
    try:
        yield f"http://{harness.LOOPBACK}:{port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def chromium():
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
    try:
        yield drv
    finally:
        drv.quit()


class EchoBrowser:
    """One echotest call in one Chromium tab."""

    def __init__(self, driver, page_url: str):
        self.d = driver
        self.page_url = page_url
        self.start_result: Optional[dict] = None

    def start(self, server_url: str, rtc_config: Optional[dict] = None) -> dict:
        """`rtc_config` replaces the RTCPeerConnection configuration (iceServers, iceTransportPolicy)."""
        self.d.get(f"{self.page_url}/echotest.html")
        assert self.d.execute_script("return typeof Janus") == "function", "janus.js did not load"
        if rtc_config is not None:
            self.d.execute_script("window.echoRtcConfig = arguments[0];", rtc_config)
        r = self.d.execute_async_script(
            "var done = arguments[arguments.length - 1]; window.startEcho(arguments[0], done);", server_url)
        assert r["error"] is None, f"janus.js echotest failed: {r['error']}\n{self.log()}"
        assert r["steps"] == ["init", "session", "attached", "offer", "answered"], r
        self.start_result = r
        return r

    def state(self) -> dict:
        return self.d.execute_script("return window.echoState();")

    def stats(self) -> dict:
        return self.d.execute_async_script(
            "var done = arguments[arguments.length - 1]; window.echoStats(done);")

    def send(self, message: dict, timeout: float = 10.0) -> dict:
        """An echotest request; returns the plugin's event data (janus.js onmessage)."""
        index = self.d.execute_async_script(
            "var done = arguments[arguments.length - 1]; window.echoSend(arguments[0], done);", message)
        assert isinstance(index, int), f"echotest send failed: {index}"
        end = time.time() + timeout
        while time.time() < end:
            msgs = self.state()["messages"]
            if len(msgs) > index:
                return msgs[index]
            time.sleep(0.05)
        raise AssertionError(f"no echotest event for {message} within {timeout}s: {self.state()}")

    def restart_ice(self) -> str:
        """Sends an ICE restart offer (janus.js iceRestart: true); returns the browser's new ufrag."""
        ufrag = self.d.execute_async_script(
            "var done = arguments[arguments.length - 1]; window.echoRestartIce(done);")
        assert not ufrag.startswith("error"), f"ICE restart failed: {ufrag}\n{self.log()}"
        return ufrag

    def hangup(self) -> None:
        self.d.execute_async_script("var done = arguments[arguments.length - 1]; window.echoHangup(done);")

    def wait(self, pred: Callable[[dict], bool], timeout: float, what: str) -> dict:
        end = time.time() + timeout
        st = {}
        while time.time() < end:
            st = self.stats()
            if pred(st):
                return st
            time.sleep(0.2)
        raise AssertionError(f"{what} not seen within {timeout}s; last stats {st}\n"
                             f"state {self.state()}\n{self.log()}")

    def frames_decoded(self, st: Optional[dict] = None) -> int:
        st = st or self.stats()
        return ((st.get("video") or {}).get("framesDecoded")) or 0

    def wait_playing(self, timeout: float = 20.0) -> dict:
        """videoWidth > 0 and frames being decoded; returns the stats at that point."""
        return self.wait(lambda s: s["videoWidth"] > 0 and self.frames_decoded(s) > 0
                         and ((s.get("audio") or {}).get("packetsReceived") or 0) > 0,
                         timeout, "remote video playing")

    def assert_frames_rising(self, seconds: float = 2.5, min_new: int = 10) -> tuple[dict, dict]:
        """framesDecoded (and audio packetsReceived) keep rising over `seconds`."""
        a = self.stats()
        time.sleep(seconds)
        b = self.stats()
        new_frames = self.frames_decoded(b) - self.frames_decoded(a)
        new_audio = ((b.get("audio") or {}).get("packetsReceived") or 0) - \
            ((a.get("audio") or {}).get("packetsReceived") or 0)
        assert new_frames >= min_new, f"only {new_frames} frames decoded in {seconds}s: {a} -> {b}"
        assert new_audio >= 10 * seconds, f"only {new_audio} audio packets in {seconds}s: {a} -> {b}"
        assert b["currentTime"] > a["currentTime"], f"<video> is not playing: {a} -> {b}"
        return a, b

    def destroy(self) -> None:
        self.d.execute_async_script("var done = arguments[arguments.length - 1]; window.echoDestroy(done);")

    def log(self) -> str:
        return browser_log(self.d)
