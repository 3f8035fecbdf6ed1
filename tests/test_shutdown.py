"""SIGTERM stops Confab cleanly and promptly, even with long polls and WebSockets open."""
from __future__ import annotations

import asyncio
import signal
import threading
import time

import pytest
import requests
import websockets

import harness
from harness import ServerOptions
from janus_client import JanusHTTP

pytestmark = pytest.mark.confab_only


def test_sigterm_with_open_long_polls_and_websocket_exits_promptly():
    srv = harness.start_server(ServerOptions())
    try:
        api = JanusHTTP(srv.janus_url)
        sessions = [api.create() for _ in range(5)]
        polls = []
        for sid in sessions:
            t = threading.Thread(target=lambda s=sid: _quiet_long_poll(srv, s), daemon=True)
            t.start()
            polls.append(t)

        async def open_socket():
            ws = await websockets.connect(srv.ws_url, subprotocols=["janus-protocol"])
            await ws.send('{"janus":"create","transaction":"t"}')
            await ws.recv()
            return ws
        loop = asyncio.new_event_loop()
        ws = loop.run_until_complete(open_socket())
        time.sleep(0.5)  # let the long polls start waiting

        started = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        code = srv.proc.wait(timeout=15)
        took = time.monotonic() - started
        assert code == 0, srv.log_tail()
        assert took < 10, f"shutdown took {took:.1f} s"
        for t in polls:
            t.join(timeout=5)
            assert not t.is_alive(), "a long poll was left hanging"
        loop.run_until_complete(ws.close())
        loop.close()
    finally:
        srv.stop()


def _quiet_long_poll(srv, sid):
    try:
        requests.get(f"{srv.janus_url}/{sid}?maxev=1", timeout=40)
    except requests.RequestException:
        pass
