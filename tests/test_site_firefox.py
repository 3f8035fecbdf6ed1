"""The meeting page in Firefox ESR (Debian's firefox-esr, headless, fake camera and microphone).

There is no geckodriver here, so Firefox is observed from the inside: the site is served from a
copy of html/ with one extra same-origin page, `firefox-probe.html`, which shows the real
`videoroom.html?room=1234&name=Fox` in an iframe (camera and microphone allowed) and POSTs what the
meeting page shows — in the room?, error text, every tile's name, video state and decoded frames —
to a collector on loopback twice a second.

What can be checked on loopback: the page works in Firefox up to the media path — it loads, gets
the camera, signals over WebSocket, joins and publishes, and the server accepts Firefox's offer
(simulcast by rid, Firefox's codecs; checked through the Admin API). Media itself cannot flow:
Firefox ESR 153 gathers no ICE candidates on loopback (checked: with
media.peerconnection.ice.loopback, force_interface=lo, link_local and default_address_only
switched, gathering stays "new" in a loopback-only namespace and skips 127.0.0.1 outside it), and
the suite never uses another address. So the test also checks what a Firefox user sees when ICE
fails: the page's error naming the ICE failure with the TURN / public address hint. When Firefox
gathers on loopback, this test fails at that assertion and becomes a meeting test.
"""
from __future__ import annotations

import contextlib
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

import harness
import site_browser as sb

pytestmark = pytest.mark.browser

FIREFOX = os.environ.get("FIREFOX_BIN", "/usr/bin/firefox-esr")

# Fake camera/microphone without prompts, loopback ICE candidates, nothing that phones home (the
# suite's namespace has no route out anyway).
FIREFOX_PREFS = {
    "media.navigator.streams.fake": True, "media.navigator.permission.disabled": True,
    "media.autoplay.default": 0, "media.autoplay.blocking_policy": 0,
    "media.peerconnection.ice.loopback": True, "media.peerconnection.ice.obfuscate_host_addresses": False,
    "app.update.enabled": False, "app.update.auto": False, "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore", "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.healthreport.uploadEnabled": False, "toolkit.telemetry.enabled": False,
    "network.captive-portal-service.enabled": False, "network.connectivity-service.enabled": False,
    "browser.safebrowsing.malware.enabled": False, "browser.safebrowsing.phishing.enabled": False,
    "extensions.update.enabled": False, "browser.region.network.url": "", "browser.search.geoip.url": "",
    "network.dns.disablePrefetch": True, "network.prefetch-next": False,
}

PROBE_PAGE = """<!doctype html>
<meta charset="utf-8"><title>firefox probe</title>
<iframe id="meeting" width="1200" height="800" allow="camera *; microphone *; autoplay *"></iframe>
<script>
const params = new URLSearchParams(location.search);
const frame = document.getElementById('meeting');
frame.src = '/videoroom.html?room=' + params.get('room') + '&name=' + encodeURIComponent(params.get('name'));
setInterval(() => {
  const state = { ua: navigator.userAgent };
  try {
    const d = frame.contentDocument;
    const room = d.getElementById('room-view');
    const error = d.getElementById('error');
    state.inRoom = Boolean(room && !room.hidden);
    state.error = error && !error.hidden ? error.textContent : null;
    state.tiles = [...d.querySelectorAll('#grid .tile')].map((t) => {
      const v = t.querySelector('video');
      return { name: t.querySelector('.tile__name')?.textContent, local: t.hasAttribute('data-local'),
               video: t.dataset.video, frames: Number(t.dataset.frames || 0),
               w: v ? v.videoWidth : 0, time: v ? v.currentTime : 0 };
    });
  } catch (e) { state.exception = String(e); }
  fetch(params.get('report'), { method: 'POST', mode: 'no-cors', body: JSON.stringify(state) });
}, 500);
</script>
"""


class _Collector(http.server.BaseHTTPRequestHandler):
    latest: dict = {}

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            type(self).latest.clear()
            type(self).latest.update(json.loads(body))
        except ValueError:
            pass
        self.send_response(204)
        self.end_headers()


@contextlib.contextmanager
def collector():
    handler = type("Collector", (_Collector,), {"latest": {}})
    httpd = http.server.ThreadingHTTPServer((harness.LOOPBACK, 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://{harness.LOOPBACK}:{httpd.server_address[1]}/report", handler.latest
    finally:
        httpd.shutdown()
        httpd.server_close()


@contextlib.contextmanager
def firefox(url: str):
    profile = Path(tempfile.mkdtemp(prefix="confab-firefox-"))
    (profile / "user.js").write_text("".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n"
                                             for k, v in FIREFOX_PREFS.items()))
    proc = subprocess.Popen([FIREFOX, "--headless", "--no-remote", "--profile", str(profile), url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


def wait_state(state: dict, what: str, pred, timeout: float = 30) -> dict:
    end = time.time() + timeout
    while time.time() < end:
        snapshot = json.loads(json.dumps(state))
        if snapshot and pred(snapshot):
            return snapshot
        time.sleep(0.25)
    raise AssertionError(f"Firefox: {what} not seen within {timeout}s; last report: {state!r}")


def _tile(snapshot: dict, name: str) -> dict | None:
    return next((t for t in snapshot.get("tiles", []) if t["name"] == name and not t["local"]), None)


@pytest.fixture(scope="module")
def site_copy():
    if not os.access(FIREFOX, os.X_OK):
        if os.environ.get("CONFAB_REQUIRE_ALL"):
            pytest.fail("firefox-esr not installed (apt-get install firefox-esr)")
        pytest.skip("firefox-esr not installed (apt-get install firefox-esr)")
    root = Path(tempfile.mkdtemp(prefix="confab-site-"))
    shutil.copytree(sb.HTML, root / "html")
    (root / "html" / "firefox-probe.html").write_text(PROBE_PAGE)
    yield root / "html"
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def server(site_copy):
    previous = os.environ.get("CONFAB_SITE_ROOT")
    os.environ["CONFAB_SITE_ROOT"] = str(site_copy)
    try:
        srv = harness.start_server(harness.ServerOptions(media=True))
    finally:
        if previous is None:
            os.environ.pop("CONFAB_SITE_ROOT", None)
        else:
            os.environ["CONFAB_SITE_ROOT"] = previous
    yield srv
    alive = srv.alive()
    srv.stop()
    assert alive, f"server under test died during the test\n--- log tail ---\n{srv.log_tail()}"


def _handle_info_by_display(server, display: str) -> dict | None:
    import urllib.request

    def admin(path: str, body: dict) -> dict:
        body = dict(body, transaction="probe", admin_secret=server.admin_secret)
        request = urllib.request.Request(server.admin_url + path, data=json.dumps(body).encode())
        with urllib.request.urlopen(request, timeout=10) as reply:
            return json.loads(reply.read())

    for session in admin("", {"janus": "list_sessions"}).get("sessions", []):
        for handle in admin(f"/{session}", {"janus": "list_handles"}).get("handles", []):
            info = admin(f"/{session}/{handle}", {"janus": "handle_info"}).get("info", {})
            if info.get("plugin_specific", {}).get("display") == display:
                return info
    return None


def test_firefox_joins_publishes_and_explains_ice_failure(server, site_copy):
    with sb.site(server, root=site_copy) as base, collector() as (report_url, state), \
            firefox(f"{base}/firefox-probe.html?room=1234&name=Fox&report={report_url}"):
        joined = wait_state(state, "the meeting page in the room", lambda s: s.get("inRoom"), timeout=45)
        assert "Firefox" in joined.get("ua", ""), joined
        own = wait_state(state, "its own camera preview", timeout=20,
                         pred=lambda s: any(t["local"] and t["w"] > 0 and t["video"] == "on" for t in s.get("tiles", [])))
        assert [t["name"] for t in own["tiles"] if t["local"]] == ["Fox (you)"], own

        info = None
        end = time.time() + 20
        while time.time() < end and not (info and info.get("sdps", {}).get("local")):
            info = _handle_info_by_display(server, "Fox")
            time.sleep(0.5)
        assert info, "no publisher handle named Fox in the Admin API"
        remote_sdp, local_sdp = info["sdps"]["remote"], info["sdps"]["local"]
        assert "mozilla" in remote_sdp and "a=simulcast:send" in remote_sdp, remote_sdp[:300]
        assert "a=simulcast:recv" in local_sdp and "VP8/90000" in local_sdp and "opus/48000/2" in local_sdp, local_sdp

        failed = wait_state(state, "the ICE failure message", timeout=60, pred=lambda s: s.get("error"))
        message = failed["error"]
        assert "media connection to the server failed (ICE)" in message and "TURN" in message, message
        print(f"\n[{harness.target()}] {failed['ua']}: joined, published, then: {message}")
