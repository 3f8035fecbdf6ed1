"""The server pings quiet WebSockets (websockets.ping_interval), so proxies with an idle cut keep
them open. Read with a raw socket, since WebSocket client libraries answer pings silently."""
from __future__ import annotations

import base64
import os
import socket
import subprocess
import time

import pytest

import harness

pytestmark = pytest.mark.confab_only


def read_frame(sock: socket.socket) -> tuple[int, bytes]:
    header = sock.recv(2, socket.MSG_WAITALL)
    opcode, length = header[0] & 0x0F, header[1] & 0x7F
    if length == 126:
        length = int.from_bytes(sock.recv(2, socket.MSG_WAITALL), "big")
    elif length == 127:
        length = int.from_bytes(sock.recv(8, socket.MSG_WAITALL), "big")
    return opcode, sock.recv(length, socket.MSG_WAITALL) if length else b""


def test_server_pings_an_idle_websocket(tmp_path):
    http_port, ws_port, admin_port = harness.free_port(), harness.free_port(), harness.free_port()
    cfg = tmp_path / "ping.cfg"
    cfg.write_text(f"""http: {{ bind = "127.0.0.1"; port = {http_port}; }};
websockets: {{ bind = "127.0.0.1"; port = {ws_port}; ping_interval = 1; }};
admin: {{ bind = "127.0.0.1"; port = {admin_port}; }};
turn: {{ enabled = false; }};
site: {{ enabled = false; }};
""")
    binary = os.environ.get("CONFAB_BIN", str(harness.REPO / ".build" / "debug" / "confab"))
    proc = subprocess.Popen([binary, "--config", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 15
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", ws_port), timeout=5)
                break
            except OSError:
                assert time.time() < deadline, "server did not start"
                time.sleep(0.1)
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall((f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{ws_port}\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                      f"Sec-WebSocket-Protocol: janus-protocol\r\n\r\n").encode())
        response = b""
        while b"\r\n\r\n" not in response:
            response += sock.recv(1)
        assert response.startswith(b"HTTP/1.1 101"), response
        assert b"janus-protocol" in response.lower()
        sock.settimeout(5)
        started = time.monotonic()
        opcode, _ = read_frame(sock)
        assert opcode == 0x9, f"expected a ping frame, got opcode {opcode}"
        assert time.monotonic() - started < 4
        sock.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
