"""Confab's TURN server (RFC 8656) against independent clients, on loopback only.

- coturn's `turnutils_uclient` relays through Confab to coturn's `turnutils_peer` (an echo peer on
  127.0.0.1): UDP and TCP, with channels and with Send/Data indications, with a static user from
  `turn.users` and with TURN REST credentials (`-W secret`); every message must come back (zero loss).
- the iceServers entry of /config carries REST credentials uclient can allocate with.
- a small STUN client in this file checks the safe default (loopback peers refused with 403, except
  Confab's own media port), error codes, garbage input, and the counters in /metrics.
- RFC 3489 Binding requests (no magic cookie, as libnice sends) get MAPPED-ADDRESS; TURN methods
  without the cookie are dropped.
- TURN over TLS (turn.tls_port with a self-signed certificate made here with openssl): uclient -S
  relays without loss, a Python ssl client gets Binding answers (TLS 1.3 and 1.2), and plaintext,
  garbage and garbage inside TLS (openssl s_client) are counted and closed.

The TURN server is started with ServerOptions(turn=True) (tests/harness.py): a free loopback port,
`allow_peers = ("127.0.0.0/8", "::1/128")` unless a test asks otherwise. Needs Debian's `coturn` package.
Run inside a private network namespace, e.g.
  unshare --net -- bash -c 'ip link set lo up && python3 -m pytest tests/test_turn.py'
"""
from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import re
import shutil
import socket
import struct
import subprocess
import time
import urllib.request

import pytest

import harness
from harness import LOOPBACK, ServerOptions

pytestmark = pytest.mark.confab_only

UCLIENT = shutil.which("turnutils_uclient")
PEER = shutil.which("turnutils_peer")
needs_coturn = pytest.mark.skipif(UCLIENT is None or PEER is None,
                                  reason="coturn's turnutils_uclient/turnutils_peer not installed (apt-get install coturn)")

USER, PASSWORD = "alice", "alicepw"
SECRET = "turn-rest-secret"
REALM = "confab-test"


@pytest.fixture(scope="module")
def turn_server():
    srv = harness.start_server(ServerOptions(turn=True, turn_users=(f"{USER}:{PASSWORD}",), turn_secret=SECRET))
    yield srv
    alive = srv.alive()
    srv.stop()
    assert alive, "Confab died during the TURN tests"


@pytest.fixture(scope="module")
def echo_peer():
    if PEER is None:
        pytest.skip("turnutils_peer not installed")
    port = harness.free_port()
    proc = subprocess.Popen([PEER, "-L", LOOPBACK, "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(0.3)
    yield port
    proc.terminate()
    proc.wait(timeout=5)


def uclient(srv, peer_port: int, *flags: str, clients: int = 10, messages: int = 200, interval_ms: int = 5,
            timeout: float = 120, port: int | None = None) -> dict:
    """Runs turnutils_uclient and returns its totals; `flags` choose transport/credentials/mode;
    `port` is the server port (default turn.port; the TLS tests give turn.tls_port)."""
    argv = [UCLIENT, "-c", "-e", LOOPBACK, "-r", str(peer_port), "-p", str(port or srv.turn_port),
            "-m", str(clients), "-n", str(messages), "-l", "120", "-z", str(interval_ms), *flags, LOOPBACK]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    text = out.stdout + out.stderr
    totals = re.search(r"tot_send_msgs=(\d+), tot_recv_msgs=(\d+)\s*$", text, re.M)
    lost = re.search(r"Total lost packets (\d+)", text)
    assert totals and lost, f"uclient did not finish ({out.returncode}):\n{text[-3000:]}\n--- confab ---\n{srv.log_tail()}"
    return {"sent": int(totals.group(1)), "received": int(totals.group(2)), "lost": int(lost.group(1)), "text": text}


def assert_no_loss(result: dict, expected: int) -> None:
    assert result["sent"] == expected, result["text"][-2000:]
    assert result["received"] == expected, result["text"][-2000:]
    assert result["lost"] == 0, result["text"][-2000:]


# --- coturn's client --------------------------------------------------------------------------

@needs_coturn
@pytest.mark.parametrize("transport", ["udp", "tcp"])
@pytest.mark.parametrize("mode", ["channels", "indications"])
def test_uclient_static_user_relays_without_loss(turn_server, echo_peer, transport, mode):
    flags = ["-u", USER, "-w", PASSWORD]
    if transport == "tcp":
        flags.append("-t")
    if mode == "indications":
        flags.append("-s")
    result = uclient(turn_server, echo_peer, *flags, clients=10, messages=200)
    assert_no_loss(result, 10 * 200)


@needs_coturn
@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_uclient_rest_secret_relays_without_loss(turn_server, echo_peer, transport):
    flags = ["-u", "restuser", "-W", SECRET] + (["-t"] if transport == "tcp" else [])
    result = uclient(turn_server, echo_peer, *flags, clients=5, messages=200)
    assert_no_loss(result, 5 * 200)


@needs_coturn
@pytest.mark.slow
@pytest.mark.parametrize("transport", ["udp", "tcp"])
@pytest.mark.parametrize("mode", ["channels", "indications"])
def test_uclient_50_allocations_1000_messages_without_loss(turn_server, echo_peer, transport, mode):
    flags = ["-u", USER, "-w", PASSWORD] + (["-t"] if transport == "tcp" else []) + (["-s"] if mode == "indications" else [])
    # 50 clients every 10 ms: 5,000 packets/s each way, relayed twice (client → peer → client). A debug
    # build on a busy 2-core machine keeps up with that; at 5 ms it starts to lose packets when starved.
    result = uclient(turn_server, echo_peer, *flags, clients=50, messages=1000, interval_ms=10, timeout=300)
    assert_no_loss(result, 50 * 1000)


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def echo_peer6():
    if PEER is None or not ipv6_loopback():
        pytest.skip("turnutils_peer or ::1 not available")
    port = harness.free_port()
    proc = subprocess.Popen([PEER, "-L", "::1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(0.3)
    yield port
    proc.terminate()
    proc.wait(timeout=5)


@needs_coturn
def test_uclient_ipv6_relay(turn_server, echo_peer6):
    """REQUESTED-ADDRESS-FAMILY IPv6 (-x): an IPv6 relay on ::1 reaches an IPv6 peer."""
    argv = [UCLIENT, "-c", "-x", "-e", "::1", "-r", str(echo_peer6), "-p", str(turn_server.turn_port),
            "-m", "2", "-n", "100", "-z", "5", "-u", USER, "-w", PASSWORD, LOOPBACK]
    text = subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout
    assert "tot_send_msgs=200, tot_recv_msgs=200" in text and "Total lost packets 0 " in text, text[-2000:]


@needs_coturn
def test_uclient_dual_allocation(turn_server, echo_peer):
    """ADDITIONAL-ADDRESS-FAMILY (-Z, coturn's draft code point): IPv4 and IPv6 relays in one allocation."""
    if not ipv6_loopback():
        pytest.skip("::1 not available")
    result = uclient(turn_server, echo_peer, "-Z", "-u", USER, "-w", PASSWORD, clients=2, messages=100)
    assert_no_loss(result, 2 * 100)


@needs_coturn
def test_uclient_wrong_password_relays_nothing(turn_server, echo_peer):
    argv = [UCLIENT, "-c", "-e", LOOPBACK, "-r", str(echo_peer), "-p", str(turn_server.turn_port),
            "-m", "1", "-n", "5", "-u", USER, "-w", "wrong", LOOPBACK]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    text = out.stdout + out.stderr
    assert "tot_recv_msgs=5" not in text
    assert re.search(r"error 401|Unauthorized|Cannot complete Allocation", text), text[-2000:]


@needs_coturn
def test_config_ice_servers_give_working_rest_credentials(turn_server, echo_peer):
    config = harness_json(f"{turn_server.http_base}/config")
    turn = [s for s in config["iceServers"] if any(u.startswith("turn:") for u in as_list(s["urls"]))]
    assert len(turn) == 1, config
    entry = turn[0]
    assert set(as_list(entry["urls"])) == {f"turn:{LOOPBACK}:{turn_server.turn_port}?transport=udp",
                                           f"turn:{LOOPBACK}:{turn_server.turn_port}?transport=tcp"}
    expiry, _, user = entry["username"].partition(":")
    assert user and 86400 - 60 < int(expiry) - time.time() <= 86400 + 5  # turn.credential_lifetime default
    expected = base64.b64encode(hmac.new(SECRET.encode(), entry["username"].encode(), hashlib.sha1).digest()).decode()
    assert entry["credential"] == expected
    result = uclient(turn_server, echo_peer, "-u", entry["username"], "-w", entry["credential"], clients=2, messages=50)
    assert_no_loss(result, 2 * 50)
    # /config.js carries the same kind of entry.
    with urllib.request.urlopen(f"{turn_server.http_base}/config.js", timeout=5) as r:
        assert f"turn:{LOOPBACK}:{turn_server.turn_port}?transport=tcp" in r.read().decode()


def test_ice_servers_api_request_hands_authenticated_clients_turn_credentials(server_factory):
    """Confab's `ice_servers` request (for API clients that are not the pages): authenticated like
    `create` (apisecret here), over HTTP and WebSocket, for the host the client used; the credentials
    it hands out allocate on Confab's TURN."""
    import asyncio
    import json
    import websockets
    srv = server_factory(turn=True, turn_secret=SECRET, api_secret="api-s3cret")

    def post(body: dict) -> dict:
        request = urllib.request.Request(srv.janus_url, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as r:
            return json.loads(r.read())

    refused = post({"janus": "ice_servers", "transaction": "a"})
    assert refused["janus"] == "error" and refused["error"]["code"] == 403, refused
    reply = post({"janus": "ice_servers", "transaction": "b", "apisecret": "api-s3cret"})
    assert reply["janus"] == "success" and reply["transaction"] == "b", reply
    servers = reply["data"]["iceServers"]
    turn = [s for s in servers if isinstance(s.get("urls"), list)][0]
    assert f"turn:{LOOPBACK}:{srv.turn_port}?transport=udp" in turn["urls"], servers
    expected = base64.b64encode(hmac.new(SECRET.encode(), turn["username"].encode(), hashlib.sha1).digest()).decode()
    assert turn["credential"] == expected
    c = Client(srv, user=turn["username"], password=turn["credential"])
    assert c.allocate()["class"] == 2, "the handed-out credentials do not allocate"
    assert c.request(REFRESH, [attr(0x000D, struct.pack("!I", 0))])["class"] == 2
    c.close()

    async def over_websocket():
        async with websockets.connect(srv.ws_url, subprotocols=["janus-protocol"]) as ws:
            await ws.send(json.dumps({"janus": "ice_servers", "transaction": "c", "apisecret": "api-s3cret"}))
            return json.loads(await ws.recv())
    ws_reply = asyncio.run(over_websocket())
    assert ws_reply["janus"] == "success", ws_reply
    assert any(f"turn:{LOOPBACK}:{srv.turn_port}?transport=tcp" in s.get("urls", [])
               for s in ws_reply["data"]["iceServers"]), ws_reply


def harness_json(url: str) -> dict:
    import json
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def as_list(urls) -> list:
    return urls if isinstance(urls, list) else [urls]


# --- a minimal STUN/TURN client ---------------------------------------------------------------

COOKIE = 0x2112A442
ALLOCATE, REFRESH, CREATE_PERMISSION, CHANNEL_BIND, BINDING = 0x003, 0x004, 0x008, 0x009, 0x001


def msg_type(method: int, cls: int) -> int:
    return (method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2) | ((cls & 1) << 4) | ((cls & 2) << 7)


def attr(t: int, value: bytes) -> bytes:
    return struct.pack("!HH", t, len(value)) + value + b"\0" * ((4 - len(value) % 4) % 4)


def xor_addr(ip: str, port: int) -> bytes:
    raw = socket.inet_aton(ip)
    x = bytes(a ^ b for a, b in zip(raw, struct.pack("!I", COOKIE)))
    return struct.pack("!BBH", 0, 1, port ^ (COOKIE >> 16)) + x


def build(method: int, attrs: list, key: bytes | None = None, tid: bytes | None = None) -> tuple[bytes, bytes]:
    tid = tid or os.urandom(12)
    body = b"".join(attrs)
    if key is not None:
        header = struct.pack("!HHI", msg_type(method, 0), len(body) + 24, COOKIE) + tid
        mac = hmac.new(key, header + body, hashlib.sha1).digest()
        body += attr(0x0008, mac)
    return struct.pack("!HHI", msg_type(method, 0), len(body), COOKIE) + tid + body, tid


def parse(data: bytes) -> dict:
    t, length, cookie = struct.unpack("!HHI", data[:8])
    assert cookie == COOKIE and length + 20 == len(data)
    out = {"class": ((t >> 4) & 1) | ((t >> 7) & 2), "attrs": {}}
    i = 20
    while i < len(data):
        at, al = struct.unpack("!HH", data[i:i + 4])
        out["attrs"].setdefault(at, data[i + 4:i + 4 + al])
        i += 4 + al + (4 - al % 4) % 4
    err = out["attrs"].get(0x0009)
    out["error"] = (err[2] & 7) * 100 + err[3] if err else None
    return out


class Client:
    """One UDP TURN client that authenticates like a browser: 401 first, then long-term credentials."""

    def __init__(self, srv, user: str = USER, password: str = PASSWORD):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(3)
        self.server = (LOOPBACK, srv.turn_port)
        self.user, self.password = user, password
        self.nonce = b""
        self.realm = b""

    def request(self, method: int, attrs: list, authenticate: bool = True) -> dict:
        if authenticate and self.nonce:
            key = hashlib.md5(f"{self.user}:{self.realm.decode()}:{self.password}".encode()).digest()
            creds = [attr(0x0006, self.user.encode()), attr(0x0014, self.realm), attr(0x0015, self.nonce)]
            data, _ = build(method, attrs + creds, key)
        else:
            data, _ = build(method, attrs)
        self.sock.sendto(data, self.server)
        reply = parse(self.sock.recv(2048))
        if authenticate and reply["error"] in (401, 438) and 0x0015 in reply["attrs"] and (
                not self.nonce or reply["error"] == 438):
            self.nonce, self.realm = reply["attrs"][0x0015], reply["attrs"][0x0014]
            return self.request(method, attrs)
        return reply

    def allocate(self) -> dict:
        return self.request(ALLOCATE, [attr(0x0019, bytes([17, 0, 0, 0]))])

    def close(self):
        self.sock.close()


def test_binding_answers_xor_mapped_address(turn_server):
    c = Client(turn_server)
    c.sock.bind((LOOPBACK, 0))
    reply = c.request(BINDING, [], authenticate=False)
    assert reply["class"] == 2
    xma = reply["attrs"][0x0020]
    port = struct.unpack("!H", xma[2:4])[0] ^ (COOKIE >> 16)
    assert port == c.sock.getsockname()[1]
    c.close()


def test_allocate_error_codes(turn_server):
    c = Client(turn_server)
    first = c.request(ALLOCATE, [attr(0x0019, bytes([17, 0, 0, 0]))], authenticate=False)
    assert first["error"] == 401 and first["attrs"][0x0014] == REALM.encode() and 0x0015 in first["attrs"]
    assert c.request(ALLOCATE, [attr(0x0019, bytes([6, 0, 0, 0]))])["error"] == 442
    ok = c.allocate()
    assert ok["class"] == 2 and 0x0016 in ok["attrs"]
    assert c.request(ALLOCATE, [attr(0x0019, bytes([17, 0, 0, 0]))])["error"] == 437
    assert c.request(REFRESH, [attr(0x000D, struct.pack("!I", 0))])["class"] == 2
    assert c.request(REFRESH, [])["error"] == 437
    c.close()


def test_default_policy_refuses_loopback_peers_but_not_the_sfu(server_factory):
    srv = server_factory(turn=True, turn_allow_peers=())
    c = Client(srv)
    assert c.allocate()["class"] == 2
    # Loopback on another port than the media port: refused (ChannelBind checks the port).
    other = srv.udp_port + 1 if srv.udp_port < 65535 else srv.udp_port - 1
    denied = c.request(CHANNEL_BIND, [attr(0x000C, struct.pack("!HH", 0x4001, 0)), attr(0x0012, xor_addr(LOOPBACK, other))])
    assert denied["error"] == 403
    for ip in ("127.0.0.2", "0.0.0.0", "169.254.169.254", "224.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1",
               "100.64.0.1", "240.0.0.1", "255.255.255.255"):
        reply = c.request(CREATE_PERMISSION, [attr(0x0012, xor_addr(ip, 5000))])
        assert reply["error"] == 403, ip
        bind = c.request(CHANNEL_BIND, [attr(0x000C, struct.pack("!HH", 0x4003, 0)), attr(0x0012, xor_addr(ip, 5000))])
        assert bind["error"] == 403, ip
    # Confab's own media port on loopback: allowed.
    ok = c.request(CHANNEL_BIND, [attr(0x000C, struct.pack("!HH", 0x4002, 0)), attr(0x0012, xor_addr(LOOPBACK, srv.udp_port))])
    assert ok["class"] == 2, ok
    c.close()


def test_allow_and_deny_peers_override_the_default_policy(server_factory):
    srv = server_factory(turn=True, turn_allow_peers=("127.0.0.0/8", "10.1.0.0/16"), turn_extra='deny_peers = ("127.0.0.9");')
    c = Client(srv)
    assert c.allocate()["class"] == 2
    for ip, expected in (("127.0.0.2", None), ("10.1.2.3", None), ("10.2.0.1", 403), ("127.0.0.9", 403),
                         ("192.168.1.1", 403), ("169.254.169.254", 403)):
        reply = c.request(CREATE_PERMISSION, [attr(0x0012, xor_addr(ip, 5000))])
        assert reply["error"] == expected, (ip, reply)
    c.close()


def xor_ipv4(value: bytes) -> tuple[str, int]:
    port = struct.unpack("!H", value[2:4])[0] ^ (COOKIE >> 16)
    return socket.inet_ntoa(bytes(a ^ b for a, b in zip(value[4:8], struct.pack("!I", COOKIE)))), port


def test_max_allocations_and_user_quota_give_486(server_factory):
    srv = server_factory(turn=True, turn_users=("alice:alicepw", "bob:bobpw"), turn_user_quota=2,
                         turn_extra="max_allocations = 3;")
    alices = [Client(srv, user="alice", password="alicepw") for _ in range(3)]
    assert [c.allocate().get("error") for c in alices] == [None, None, 486]  # per-user quota
    bobs = [Client(srv, user="bob", password="bobpw") for _ in range(2)]
    assert [c.allocate().get("error") for c in bobs] == [None, 486]  # server-wide
    assert alices[0].request(REFRESH, [attr(0x000D, struct.pack("!I", 0))])["class"] == 2
    assert bobs[1].allocate()["class"] == 2, "room again after one is freed"
    for c in alices + bobs:
        c.close()


def test_external_ip_is_the_announced_relayed_address(server_factory):
    srv = server_factory(turn=True, turn_extra='external_ip = "203.0.113.7";')
    c = Client(srv)
    reply = c.allocate()
    assert reply["class"] == 2
    ip, port = xor_ipv4(reply["attrs"][0x0016])
    assert ip == "203.0.113.7" and 30000 <= port <= 32000, (ip, port)
    c.close()


def test_unauthenticated_answers_are_rate_limited_per_client_ip(server_factory):
    srv = server_factory(turn=True, turn_extra="unauthenticated_rate = 5;")  # burst of 20, then 5/s
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.settimeout(0.3)
    for _ in range(100):
        udp.sendto(build(BINDING, [])[0], (LOOPBACK, srv.turn_port))
    answered = 0
    try:
        while True:
            udp.recv(2048)
            answered += 1
    except socket.timeout:
        pass
    udp.close()
    assert 20 <= answered <= 25, answered
    # Same IP over TCP: not limited (no spoofing possible), the server still answers.
    tcp = socket.create_connection((LOOPBACK, srv.turn_port), timeout=3)
    tcp.sendall(build(BINDING, [])[0])
    assert parse(tcp.recv(2048))["class"] == 2
    tcp.close()
    time.sleep(1.2)  # counters reach /metrics once a second
    metrics = urllib.request.urlopen(f"http://{LOOPBACK}:{srv.admin_port}/metrics", timeout=5).read().decode()
    dropped = re.search(r"^confab_turn_rate_limited_dropped_total (\d+)", metrics, re.M)
    assert dropped and int(dropped.group(1)) == 100 - answered, metrics


def test_garbage_is_counted_and_dropped(turn_server):
    """10,000 datagrams of random bytes and of mutated valid messages (Binding, and authenticated
    Allocate/Refresh/CreatePermission/ChannelBind/ChannelData copied from a live client, so a flipped
    byte breaks their integrity) — some from the live client's own 5-tuple — plus TCP garbage and half
    messages: Bindings are still answered and the live allocation, its permission and its channel are
    untouched (a Refresh and the channel's refresh succeed; a removed allocation would get 437)."""
    import random
    rng = random.Random(6)
    live = Client(turn_server)
    live.sock.bind((LOOPBACK, 0))
    assert live.allocate()["class"] == 2
    peer = xor_addr(LOOPBACK, 3480)
    assert live.request(CREATE_PERMISSION, [attr(0x0012, peer)])["class"] == 2
    assert live.request(CHANNEL_BIND, [attr(0x000C, struct.pack("!HH", 0x4001, 0)), attr(0x0012, peer)])["class"] == 2
    key = hashlib.md5(f"{live.user}:{live.realm.decode()}:{live.password}".encode()).digest()
    creds = [attr(0x0006, live.user.encode()), attr(0x0014, live.realm), attr(0x0015, live.nonce)]
    templates = [build(BINDING, [])[0],
                 build(ALLOCATE, [attr(0x0019, bytes([17, 0, 0, 0]))] + creds, key)[0],
                 build(REFRESH, [attr(0x000D, struct.pack("!I", 0))] + creds, key)[0],
                 build(CREATE_PERMISSION, [attr(0x0012, xor_addr("10.0.0.1", 1))] + creds, key)[0],
                 build(CHANNEL_BIND, [attr(0x000C, struct.pack("!HH", 0x4002, 0)), attr(0x0012, peer)] + creds, key)[0],
                 struct.pack("!HH", 0x4001, 8) + b"12345678"]
    stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(10_000):
        if i % 3 == 0:
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 120)))
        else:
            data = bytearray(rng.choice(templates))
            for _ in range(rng.randrange(1, 4)):
                k = rng.randrange(len(data))
                data[k] = (data[k] + rng.randrange(1, 256)) % 256   # a real change, never the same byte
            if rng.random() < 0.2:
                data = data[:rng.randrange(len(data))]
            data = bytes(data)
            # Mutated ChannelData is a real packet for a bound channel: only from strangers.
            if data[:2] != b"\x40\x01" and rng.random() < 0.1:
                live.sock.sendto(data, live.server)
                continue
        stranger.sendto(data, (LOOPBACK, turn_server.turn_port))
    stranger.close()
    tcp = socket.create_connection((LOOPBACK, turn_server.turn_port), timeout=3)
    tcp.sendall(b"\xff" * 64)
    tcp.close()
    half = socket.create_connection((LOOPBACK, turn_server.turn_port), timeout=3)
    half.sendall(templates[0][:10])
    half.close()
    time.sleep(0.5)
    # Drop whatever answers the live client's mutated requests got, then check it is intact.
    live.sock.settimeout(0.2)
    with contextlib.suppress(socket.timeout):
        while True:
            live.sock.recv(2048)
    live.sock.settimeout(3)
    assert live.request(REFRESH, [attr(0x000D, struct.pack("!I", 600))])["class"] == 2, "allocation disturbed"
    assert live.request(CHANNEL_BIND, [attr(0x000C, struct.pack("!HH", 0x4001, 0)), attr(0x0012, peer)])["class"] == 2
    c = Client(turn_server)
    assert c.request(BINDING, [], authenticate=False)["class"] == 2
    c.close()
    time.sleep(1.2)  # counters reach /metrics once a second
    metrics = urllib.request.urlopen(f"http://{LOOPBACK}:{turn_server.admin_port}/metrics", timeout=5).read().decode()
    dropped = re.search(r"^confab_turn_malformed_dropped_total (\d+)", metrics, re.M)
    assert dropped and int(dropped.group(1)) > 1000, metrics
    live.close()


@needs_coturn
def test_metrics_count_relayed_traffic(turn_server, echo_peer):
    uclient(turn_server, echo_peer, "-u", USER, "-w", PASSWORD, clients=2, messages=20)
    wrong = Client(turn_server, password="wrong")
    assert wrong.allocate()["error"] == 401
    wrong.close()
    time.sleep(1.2)
    metrics = urllib.request.urlopen(f"http://{LOOPBACK}:{turn_server.admin_port}/metrics", timeout=5).read().decode()
    for name in ("confab_turn_allocations_total", "confab_turn_relayed_bytes_to_peers_total",
                 "confab_turn_relayed_bytes_to_clients_total", "confab_turn_auth_failures_total"):
        value = re.search(rf"^{name} (\d+)", metrics, re.M)
        assert value and int(value.group(1)) > 0, (name, metrics)
    for name in ("confab_turn_allocations", "confab_turn_permissions", "confab_turn_channels"):
        assert re.search(rf"^{name} ", metrics, re.M), (name, metrics)


# --- RFC 3489 clients (no magic cookie) ---------------------------------------------------------

def classic_binding(tid: bytes, body: bytes = b"", method_type: int = 0x0001) -> bytes:
    """An RFC 3489 request: type, length, then a 16-byte transaction ID where the cookie would be."""
    return struct.pack("!HH", method_type, len(body)) + tid + body


def test_classic_binding_gets_mapped_address(turn_server):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((LOOPBACK, 0))
    udp.settimeout(2)
    tid = os.urandom(16)
    udp.sendto(classic_binding(tid), (LOOPBACK, turn_server.turn_port))
    reply = udp.recv(2048)
    # 0x0101 Binding success, the whole 16-byte ID echoed, one MAPPED-ADDRESS (not XORed), no FINGERPRINT.
    assert reply[:4] == bytes([0x01, 0x01, 0x00, 0x0C]) and reply[4:20] == tid, reply.hex()
    family, port, ip = reply[25], struct.unpack("!H", reply[26:28])[0], socket.inet_ntoa(reply[28:32])
    assert reply[20:24] == bytes([0x00, 0x01, 0x00, 0x08]) and family == 1
    assert (ip, port) == udp.getsockname()
    # A RESPONSE-ADDRESS is never honoured (that would reflect traffic elsewhere): 420.
    response_address = struct.pack("!HHBBH", 0x0002, 8, 0, 1, 9) + socket.inet_aton(LOOPBACK)
    udp.sendto(classic_binding(tid, response_address), (LOOPBACK, turn_server.turn_port))
    reply = udp.recv(2048)
    assert reply[:2] == bytes([0x01, 0x11]) and reply[24:28] == bytes([0, 0, 4, 20]), reply.hex()
    # TURN without the cookie is dropped: an Allocate gets no answer at all.
    udp.sendto(classic_binding(tid, attr(0x0019, bytes([17, 0, 0, 0])), 0x0003), (LOOPBACK, turn_server.turn_port))
    with pytest.raises(socket.timeout):
        udp.recv(2048)
    udp.close()


# --- TURN over TLS (turn.tls_port) ----------------------------------------------------------------

@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """A self-signed P-256 certificate for 127.0.0.1 (CN and subjectAltName) and its key."""
    directory = tmp_path_factory.mktemp("turn-tls")
    cert, key = str(directory / "cert.pem"), str(directory / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "1", "-subj", f"/CN={LOOPBACK}",
                    "-addext", f"subjectAltName=IP:{LOOPBACK}"], check=True, capture_output=True)
    return cert, key


@pytest.fixture(scope="module")
def tls_server(tls_files):
    cert, key = tls_files
    tls_port = harness.free_port()
    srv = harness.start_server(ServerOptions(
        turn=True, turn_users=(f"{USER}:{PASSWORD}",), turn_secret=SECRET,
        turn_extra=f'tls_port = {tls_port}; tls_certificate = "{cert}"; tls_key = "{key}";'))
    srv.tls_port = tls_port
    yield srv
    alive = srv.alive()
    srv.stop()
    assert alive, "Confab died during the TURN over TLS tests\n" + srv.log_tail()


def tls_client(srv, cert: str, maximum=None):
    """A Python ssl connection to the TLS port that verifies the test certificate."""
    import ssl
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cert)
    if maximum is not None:
        context.maximum_version = maximum
    raw = socket.create_connection((LOOPBACK, srv.tls_port), timeout=5)
    return context.wrap_socket(raw, server_hostname=LOOPBACK)


def recv_stun(sock) -> bytes:
    """One STUN message from a stream: the 20-byte header, then its length field's worth."""
    data = b""
    while len(data) < 20:
        chunk = sock.recv(20 - len(data))
        assert chunk, "connection closed"
        data += chunk
    length = struct.unpack("!H", data[2:4])[0]
    while len(data) < 20 + length:
        chunk = sock.recv(20 + length - len(data))
        assert chunk, "connection closed"
        data += chunk
    return data


def metric(srv, name: str) -> int:
    time.sleep(1.2)  # counters reach /metrics once a second
    metrics = urllib.request.urlopen(f"http://{LOOPBACK}:{srv.admin_port}/metrics", timeout=5).read().decode()
    value = re.search(rf"^{name} (\d+)", metrics, re.M)
    return int(value.group(1)) if value else 0


@pytest.mark.parametrize("version", ["TLSv1_3", "TLSv1_2"])
def test_binding_over_tls(tls_server, tls_files, version):
    import ssl
    conn = tls_client(tls_server, tls_files[0], maximum=getattr(ssl.TLSVersion, version))
    assert conn.version() == version.replace("_", "."), conn.version()
    for _ in range(3):  # several requests on one connection
        request, tid = build(BINDING, [])
        conn.sendall(request)
        reply = parse(recv_stun(conn))
        assert reply["class"] == 2
        xma = reply["attrs"][0x0020]
        assert struct.unpack("!H", xma[2:4])[0] ^ (COOKIE >> 16) == conn.getsockname()[1]
    # An RFC 3489 Binding works over TLS as well.
    tid = os.urandom(16)
    conn.sendall(classic_binding(tid))
    reply = recv_stun(conn)
    assert reply[:2] == bytes([0x01, 0x01]) and reply[4:20] == tid
    conn.close()


@needs_coturn
@pytest.mark.parametrize("mode", ["channels", "indications"])
def test_uclient_over_tls_relays_without_loss(tls_server, echo_peer, mode):
    flags = ["-t", "-S", "-u", USER, "-w", PASSWORD] + (["-s"] if mode == "indications" else [])
    result = uclient(tls_server, echo_peer, *flags, clients=10, messages=200, port=tls_server.tls_port)
    assert_no_loss(result, 10 * 200)
    assert re.search(r"tls_connect: client session connected with cipher \S+, method=TLSv1\.[23]", result["text"]), \
        result["text"][-2000:]


def test_tls_port_counts_and_closes_garbage(tls_server, tls_files):
    before = metric(tls_server, "confab_turn_tls_failures_total")
    # Not TLS at all: random bytes, an HTTP request, a plaintext STUN Binding.
    import random
    rng = random.Random(5349)
    attempts = [bytes(rng.randrange(256) for _ in range(200)), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                build(BINDING, [])[0], b"\x16\x03\x01\x00\x05hello" + bytes(300)]
    for data in attempts:
        s = socket.create_connection((LOOPBACK, tls_server.tls_port), timeout=5)
        s.sendall(data)
        s.settimeout(5)
        try:
            while s.recv(4096):  # an alert at most, then the server closes
                pass
        except ConnectionResetError:
            pass
        s.close()
    # Garbage inside a good TLS session (openssl s_client): the TURN framing refuses it and closes.
    done = subprocess.run(["openssl", "s_client", "-connect", f"{LOOPBACK}:{tls_server.tls_port}", "-quiet",
                           "-CAfile", tls_files[0], "-verify_return_error"],
                          input=b"\xff" * 64 + b"garbage\n", capture_output=True, timeout=20)
    assert b"verify error" not in done.stderr, done.stderr
    assert metric(tls_server, "confab_turn_tls_failures_total") - before == len(attempts)
    # The server keeps answering, over TLS and over UDP.
    conn = tls_client(tls_server, tls_files[0])
    conn.sendall(build(BINDING, [])[0])
    assert parse(recv_stun(conn))["class"] == 2
    conn.close()
    c = Client(tls_server)
    assert c.request(BINDING, [], authenticate=False)["class"] == 2
    c.close()


def test_tls_settings_errors_exit_2_with_file_line_key(tls_files, tmp_path):
    """A key that does not belong to the certificate, or a missing certificate, stops Confab before
    anything listens: exit status 2 and `file:line: key` on stderr, with --check-config and --config."""
    cert, key = tls_files
    other = str(tmp_path / "other.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", other],
                   check=True, capture_output=True)
    binary = os.environ.get("CONFAB_BIN", str(harness.REPO / ".build" / "debug" / "confab"))
    cases = [
        (f'turn: {{\n  tls_port = 5349;\n  tls_certificate = "{cert}";\n  tls_key = "{other}";\n}};\n',
         f'bad.cfg:4: turn.tls_key "{other}" does not match the certificate in turn.tls_certificate'),
        (f'turn: {{\n  tls_port = 5349;\n  tls_certificate = "{tmp_path}/none.pem";\n  tls_key = "{key}";\n}};\n',
         f'bad.cfg:3: turn.tls_certificate "{tmp_path}/none.pem" cannot be read'),
        ('turn: {\n  tls_port = 5349;\n};\n',
         "bad.cfg:2: turn.tls_port 5349 needs turn.tls_certificate and turn.tls_key"),
    ]
    for text, expected in cases:
        (tmp_path / "bad.cfg").write_text(text)
        for flag in ("--check-config", "--config"):
            r = subprocess.run([binary, flag, "bad.cfg"], cwd=tmp_path, capture_output=True, text=True, timeout=20)
            assert r.returncode == 2 and expected in r.stderr, (flag, r.returncode, r.stderr)


@needs_coturn
def test_max_bps_caps_each_allocation(server_factory, echo_peer):
    """turn.max_bps = 40,000: 5,000 bytes/s per allocation and direction (2,500 bytes of burst). uclient
    offers 120-byte messages every 5 ms (24,000 bytes/s) for 2 s: roughly a quarter gets through, the
    rest is dropped and counted; an uncapped server relays the same run without loss."""
    capped = server_factory(turn=True, turn_extra="max_bps = 40000;")
    result = uclient(capped, echo_peer, "-u", USER, "-w", PASSWORD, clients=1, messages=400, interval_ms=5)
    assert result["sent"] == 400
    # Client → peer allows ~2,500 + 2 s x 5,000 bytes = ~100 messages (103 seen; more if a busy machine
    # stretches the run), the echo's way back is capped too.
    assert 40 <= result["received"] <= 250, (result["received"], result["text"][-1500:])
    assert metric(capped, "confab_turn_bandwidth_dropped_total") >= 400 - 250
    free = server_factory(turn=True)
    assert_no_loss(uclient(free, echo_peer, "-u", USER, "-w", PASSWORD, clients=1, messages=400, interval_ms=5), 400)
