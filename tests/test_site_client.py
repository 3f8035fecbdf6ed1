"""The site's client library (html/js/janus-client.js) in headless Chromium: after a WebSocket drop
it reconnects and `claim`s its session (the server keeps it for `reclaim_session_timeout`), and the
landing page shows the server status from `info`.

The drop is made by a TCP relay between the page and the server's WebSocket port that the test
cuts; the page (the meeting lobby, which keeps its session after listing the rooms) must say
"Reconnected." and the server must still have the very same session, now on the new connection.
"""
from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest

import harness
import site_browser as sb
from janus_client import JanusAdmin

pytestmark = pytest.mark.browser


class Relay:
    """127.0.0.1:port → upstream, byte for byte; cut() drops every open connection."""

    def __init__(self, upstream_port: int):
        self.upstream = upstream_port
        self.listener = socket.create_server((harness.LOOPBACK, 0))
        self.port = self.listener.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection((harness.LOOPBACK, self.upstream))
            self.conns += [client, upstream]
            self.accepted += 1
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_RDWR)

    def cut(self):
        for s in self.conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
        self.conns = []

    def close(self):
        self.cut()
        self.listener.close()


@pytest.fixture(scope="module")
def driver():
    with sb.chromium() as drv:
        yield drv


def test_websocket_drop_reconnects_and_claims(driver, server_factory):
    srv = server_factory(reclaim_session_timeout=20)
    admin = JanusAdmin(srv.admin_url, srv.admin_secret)
    relay = Relay(srv.ws_port)
    try:
        with sb.site(srv) as base:
            driver.get(f"{base}/videoroom.html?server=ws://127.0.0.1:{relay.port}/")
            sb.wait_for(driver, "return [...document.getElementById('room').options].map((o) => o.value);", 15,
                        "rooms listed over the relay", pred=lambda values: "1234" in values)
            sessions = admin.sessions()
            assert len(sessions) == 1, sessions
            relay.cut()
            sb.wait_for(driver, "return document.getElementById('notices').textContent", 15, "reconnected notice",
                        pred=lambda t: "Reconnected." in t)
            assert relay.accepted == 2, "the page should have opened exactly one new WebSocket"
            assert admin.sessions() == sessions, "the session must be the claimed one, not a new one"
            assert driver.execute_script("return document.getElementById('error').hidden") is True
    finally:
        relay.close()
        driver.get("about:blank")


def test_websocket_drop_without_reclaim_reports_lost_session(driver, server_factory):
    """reclaim_session_timeout = 0: the server destroys the session with the socket; the claim is
    refused and the page must say the connection is gone rather than pretend."""
    srv = server_factory(reclaim_session_timeout=0)
    relay = Relay(srv.ws_port)
    try:
        with sb.site(srv) as base:
            driver.get(f"{base}/videoroom.html?server=ws://127.0.0.1:{relay.port}/&room=1234&name=Zed")
            sb.wait_for(driver, "return !document.getElementById('room-view').hidden", 15, "in the room")
            relay.cut()
            msg = sb.wait_for(driver, "const e = document.getElementById('error'); return e.hidden ? null : e.textContent;",
                              15, "a visible error")
            assert "session" in msg.lower() or "connection" in msg.lower(), msg
    finally:
        relay.close()
        driver.get("about:blank")


def test_landing_page_status(driver, server):
    with sb.site(server) as base:
        driver.get(f"{base}/")
        text = sb.wait_for(driver, "return document.querySelector('[data-status-text]').textContent", 10,
                           "server status", pred=lambda t: " is up " in t)
        plugins = driver.execute_script(
            "return [...document.querySelectorAll('[data-list=plugins] .module-id')].map((e) => e.textContent)")
        assert "janus.plugin.videoroom" in plugins, (text, plugins)
        links = driver.execute_script("return [...document.querySelectorAll('main a.button')].map((a) => a.getAttribute('href'))")
        assert links == ["videoroom.html", "echotest.html"], links
        ws = driver.execute_script("return document.querySelector('[data-field=wsURL]').textContent")
        assert ws.startswith("ws://127.0.0.1:"), ws
        errors = [e for e in sb.console_errors(driver) if "favicon" not in e]
        assert not errors, errors
