"""Garbage for the shared media port: a tiny STUN encoder/decoder and the fuzz flood.

Used by tests/test_media_fuzz.py. The flood runs in a subprocess (`python3 tests/media_fuzz.py
'<json>'`) so that its tight send loop never takes the GIL from the aiortc peer under test; it
prints one JSON line with what it sent.

STUN (RFC 8489 / RFC 8445) as ICE uses it:
- header: type (2), length (2, bytes after the header), magic cookie 0x2112A442, transaction id (12)
- attributes: type (2), length (2), value padded to 4 bytes
- MESSAGE-INTEGRITY: HMAC-SHA1 over the message up to it, with the length field already counting it,
  keyed with the *short-term* credential = the ICE password of the agent being checked (the server's)
- FINGERPRINT: CRC-32 of everything before it (length counting it) xor 0x5354554E
- a check from the controlling browser: USERNAME "<server ufrag>:<client ufrag>", PRIORITY,
  ICE-CONTROLLING (tie-breaker), optionally USE-CANDIDATE (nomination; the fuzzer never sends it,
  so it cannot steal the call's selected pair), MESSAGE-INTEGRITY, FINGERPRINT.

Datagram families (all deterministic from a seed):
- `random`: uniformly random bytes, 0..1200 long (a third of them 0..20, zero-length included)
- `stun`: STUN Binding requests with valid framing but a wrong or garbled USERNAME, a broken
  MESSAGE-INTEGRITY, the call's real server ufrag with a wrong password, truncated messages and
  length fields, attributes claiming huge lengths, responses/indications, unknown attributes
- `rtp`: first byte 0x80..0xBF, RTP- or RTCP-shaped (second byte 200..206 for a third), 0..1200
  bytes with a good share of 0..12-byte runts
- `dtls`: first byte 20..63, DTLS record headers (epoch 0/1, right or wrong lengths), alerts,
  application data and ClientHello-shaped handshake records with garbage inside
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import socket
import struct
import sys
import time
import zlib
from typing import Optional

MAGIC = 0x2112A442
BINDING_REQUEST = 0x0001
BINDING_SUCCESS = 0x0101
BINDING_ERROR = 0x0111
BINDING_INDICATION = 0x0011

USERNAME = 0x0006
MESSAGE_INTEGRITY = 0x0008
ERROR_CODE = 0x0009
XOR_MAPPED_ADDRESS = 0x0020
PRIORITY = 0x0024
USE_CANDIDATE = 0x0025
FINGERPRINT = 0x8028
ICE_CONTROLLED = 0x8029
ICE_CONTROLLING = 0x802A
FINGERPRINT_XOR = 0x5354554E


# ----------------------------------------------------------------------------------------------
# STUN encoder / decoder
# ----------------------------------------------------------------------------------------------

def stun_attr(kind: int, value: bytes) -> bytes:
    pad = (-len(value)) % 4
    return struct.pack("!HH", kind, len(value)) + value + b"\x00" * pad


def stun_header(msg_type: int, length: int, txid: bytes) -> bytes:
    return struct.pack("!HHI", msg_type, length, MAGIC) + txid


def stun_encode(msg_type: int, txid: bytes, attrs: list[tuple[int, bytes]],
                integrity_key: Optional[bytes] = None, fingerprint: bool = True) -> bytes:
    """A STUN message; MESSAGE-INTEGRITY (HMAC-SHA1 with `integrity_key`) and FINGERPRINT last."""
    assert len(txid) == 12
    body = b"".join(stun_attr(k, v) for k, v in attrs)
    if integrity_key is not None:
        mac = hmac.new(integrity_key, stun_header(msg_type, len(body) + 24, txid) + body,
                       hashlib.sha1).digest()
        body += stun_attr(MESSAGE_INTEGRITY, mac)
    if fingerprint:
        crc = (zlib.crc32(stun_header(msg_type, len(body) + 8, txid) + body) ^ FINGERPRINT_XOR) & 0xFFFFFFFF
        body += stun_attr(FINGERPRINT, struct.pack("!I", crc))
    return stun_header(msg_type, len(body), txid) + body


def stun_decode(data: bytes) -> Optional[dict]:
    """{"type", "txid", "attrs": [(type, value)]} or None if not STUN-framed."""
    if len(data) < 20:
        return None
    msg_type, length, magic = struct.unpack("!HHI", data[:8])
    if magic != MAGIC or msg_type & 0xC000 or length + 20 != len(data) or length % 4:
        return None
    attrs, pos = [], 20
    while pos + 4 <= len(data):
        kind, alen = struct.unpack("!HH", data[pos:pos + 4])
        if pos + 4 + alen > len(data):
            return None
        attrs.append((kind, data[pos + 4:pos + 4 + alen]))
        pos += 4 + alen + ((-alen) % 4)
    return {"type": msg_type, "txid": data[8:20], "attrs": attrs}


def stun_verify(data: bytes, key: bytes) -> bool:
    """MESSAGE-INTEGRITY and FINGERPRINT of a received message both check out."""
    msg = stun_decode(data)
    if msg is None:
        return False
    pos, mi_ok, fp_ok = 20, False, False
    for kind, value in msg["attrs"]:
        if kind == MESSAGE_INTEGRITY:
            head = stun_header(msg["type"], pos - 20 + 24, msg["txid"])
            mi_ok = hmac.compare_digest(hmac.new(key, head + data[20:pos], hashlib.sha1).digest(), value)
        elif kind == FINGERPRINT:
            head = stun_header(msg["type"], pos - 20 + 8, msg["txid"])
            fp_ok = struct.unpack("!I", value)[0] == (zlib.crc32(head + data[20:pos]) ^ FINGERPRINT_XOR) & 0xFFFFFFFF
        pos += 4 + len(value) + ((-len(value)) % 4)
    return mi_ok and fp_ok


def xor_mapped_address(value: bytes, txid: bytes) -> tuple[str, int]:
    family, xport = value[1], struct.unpack("!H", value[2:4])[0]
    port = xport ^ (MAGIC >> 16)
    if family == 1:
        raw = bytes(a ^ b for a, b in zip(value[4:8], struct.pack("!I", MAGIC)))
        return socket.inet_ntop(socket.AF_INET, raw), port
    raw = bytes(a ^ b for a, b in zip(value[4:20], struct.pack("!I", MAGIC) + txid))
    return socket.inet_ntop(socket.AF_INET6, raw), port


def binding_request(server_ufrag: str, client_ufrag: str, server_pwd: str, *,
                    use_candidate: bool = False, txid: Optional[bytes] = None,
                    tie_breaker: Optional[int] = None) -> tuple[bytes, bytes]:
    """A valid ICE connectivity check from the controlling side; returns (datagram, txid)."""
    txid = txid or os.urandom(12)
    attrs = [(USERNAME, f"{server_ufrag}:{client_ufrag}".encode()),
             (PRIORITY, struct.pack("!I", 0x6E7F1EFF)),
             (ICE_CONTROLLING, struct.pack("!Q", tie_breaker if tie_breaker is not None
                                           else random.getrandbits(64)))]
    if use_candidate:
        attrs.append((USE_CANDIDATE, b""))
    return stun_encode(BINDING_REQUEST, txid, attrs, integrity_key=server_pwd.encode()), txid


def authenticate(sock: socket.socket, target: tuple[str, int], server_ufrag: str, client_ufrag: str,
                 server_pwd: str, timeout: float = 3.0) -> dict:
    """Sends valid Binding requests (no USE-CANDIDATE) until a success response that verifies
    with the server's password arrives. Returns {"mapped": (ip, port), "tries": n}."""
    end = time.time() + timeout
    tries = 0
    sock.settimeout(0.2)
    while time.time() < end:
        req, txid = binding_request(server_ufrag, client_ufrag, server_pwd)
        sock.sendto(req, target)
        tries += 1
        stop = time.time() + 0.3
        while time.time() < stop:
            try:
                data, _ = sock.recvfrom(2048)
            except socket.timeout:
                break
            msg = stun_decode(data)
            if msg is None or msg["txid"] != txid:
                continue
            if msg["type"] != BINDING_SUCCESS:
                raise AssertionError(f"Binding request refused: {msg}")
            if not stun_verify(data, server_pwd.encode()):
                raise AssertionError("Binding success response does not verify with the server pwd")
            mapped = [v for k, v in msg["attrs"] if k == XOR_MAPPED_ADDRESS]
            return {"mapped": xor_mapped_address(mapped[0], txid) if mapped else None, "tries": tries}
    raise AssertionError(f"no Binding success response from {target} within {timeout}s ({tries} tries)")


# ----------------------------------------------------------------------------------------------
# garbage generators
# ----------------------------------------------------------------------------------------------

def _rand(rng: random.Random, n: int) -> bytes:
    return rng.getrandbits(8 * n).to_bytes(n, "big") if n > 0 else b""


def _length(rng: random.Random, runt_max: int, share_runts: float) -> int:
    if rng.random() < share_runts:
        return rng.randint(0, runt_max)
    return rng.randint(runt_max + 1, 1200)


def random_datagram(rng: random.Random) -> bytes:
    return _rand(rng, _length(rng, 20, 1 / 3))


def stun_datagram(rng: random.Random, server_ufrag: str, client_ufrag: str, server_pwd: str) -> bytes:
    txid = _rand(rng, 12)
    good_user = f"{server_ufrag}:{client_ufrag}".encode()
    base = [(PRIORITY, struct.pack("!I", rng.getrandbits(32))),
            (ICE_CONTROLLING, _rand(rng, 8))]
    wrong_key = _rand(rng, rng.randint(1, 32))
    kind = rng.randrange(10)
    if kind == 0:    # wrong USERNAME, otherwise well formed
        user = f"{_rand(rng, 3).hex()}:{client_ufrag}".encode()
        return stun_encode(BINDING_REQUEST, txid, [(USERNAME, user)] + base, integrity_key=server_pwd.encode())
    if kind == 1:    # garbled USERNAME bytes (no colon, binary, empty, huge)
        user = rng.choice([b"", b":", _rand(rng, rng.randint(1, 40)), good_user[:-1] + b"\xff",
                           server_ufrag.encode(), b"x" * 500])
        return stun_encode(BINDING_REQUEST, txid, [(USERNAME, user)] + base, integrity_key=server_pwd.encode())
    if kind == 2:    # the call's real ufrag pair, but a wrong password
        return stun_encode(BINDING_REQUEST, txid, [(USERNAME, good_user)] + base, integrity_key=wrong_key)
    if kind == 3:    # real USERNAME, MESSAGE-INTEGRITY bytes garbage (fingerprint still right)
        body = b"".join(stun_attr(k, v) for k, v in [(USERNAME, good_user)] + base)
        body += stun_attr(MESSAGE_INTEGRITY, _rand(rng, 20))
        crc = (zlib.crc32(stun_header(BINDING_REQUEST, len(body) + 8, txid) + body) ^ FINGERPRINT_XOR) & 0xFFFFFFFF
        body += stun_attr(FINGERPRINT, struct.pack("!I", crc))
        return stun_header(BINDING_REQUEST, len(body), txid) + body
    if kind == 4:    # real credentials, but no MESSAGE-INTEGRITY / no FINGERPRINT / bad FINGERPRINT
        msg = stun_encode(BINDING_REQUEST, txid, [(USERNAME, good_user)] + base,
                          integrity_key=rng.choice([None, server_pwd.encode()]),
                          fingerprint=rng.random() < 0.5)
        if msg[-8:-4] == struct.pack("!HH", FINGERPRINT, 4):
            msg = msg[:-1] + bytes([msg[-1] ^ 0x5A])
        return msg
    if kind == 5:    # truncated message (header length now lies) or a lying header length
        msg = stun_encode(BINDING_REQUEST, txid, [(USERNAME, good_user)] + base, integrity_key=wrong_key)
        if rng.random() < 0.5:
            return msg[:rng.randint(0, len(msg) - 1)]
        return msg[:2] + struct.pack("!H", rng.choice([0, 4, len(msg), 0xFFFC, rng.getrandbits(16)])) + msg[4:]
    if kind == 6:    # an attribute claiming a huge length
        attrs = b"".join(stun_attr(k, v) for k, v in [(USERNAME, good_user)] + base)
        bad = struct.pack("!HH", rng.choice([USERNAME, MESSAGE_INTEGRITY, FINGERPRINT, PRIORITY,
                                              rng.getrandbits(16)]), rng.choice([0xFFFF, 0xFFFC, 0x8000, 1201]))
        body = attrs + bad + _rand(rng, rng.randint(0, 40))
        body += b"\x00" * ((-len(body)) % 4)
        return stun_header(BINDING_REQUEST, len(body), txid) + body
    if kind == 7:    # not a request: success/error responses and indications with real credentials
        t = rng.choice([BINDING_SUCCESS, BINDING_ERROR, BINDING_INDICATION, 0x0003, 0x0004])
        return stun_encode(t, txid, [(USERNAME, good_user)] + base, integrity_key=server_pwd.encode())
    if kind == 8:    # random attributes (comprehension-required unknowns among them)
        attrs = [(rng.getrandbits(16), _rand(rng, rng.randint(0, 24))) for _ in range(rng.randint(0, 8))]
        return stun_encode(BINDING_REQUEST, txid, attrs, integrity_key=rng.choice([None, wrong_key]),
                           fingerprint=rng.random() < 0.7)
    # bit flips in an otherwise valid check (never the USE-CANDIDATE-free valid one itself)
    msg = bytearray(stun_encode(BINDING_REQUEST, txid, [(USERNAME, good_user)] + base,
                                integrity_key=server_pwd.encode()))
    for _ in range(rng.randint(1, 4)):
        pos = rng.randrange(20, len(msg))
        msg[pos] ^= 1 << rng.randrange(8)
    # a flip that lands only in a padding byte or the tie-breaker would keep the check valid
    # (and it would then be *answered*, not dropped): also make the FINGERPRINT wrong.
    crc = (zlib.crc32(bytes(msg[:-8])) ^ FINGERPRINT_XOR) & 0xFFFFFFFF
    msg[-4:] = struct.pack("!I", crc ^ 0x01)
    return bytes(msg)


def rtp_datagram(rng: random.Random) -> bytes:
    n = _length(rng, 12, 0.25)
    if n == 0:
        return b""
    out = bytearray(_rand(rng, n))
    out[0] = 0x80 | (out[0] & 0x3F)
    if n > 1 and rng.random() < 1 / 3:
        out[1] = rng.randint(200, 206)     # SR RR SDES BYE APP RTPFB PSFB
        if n > 3 and rng.random() < 0.5:   # an RTCP length that is right, or almost
            words = (n // 4) - 1 + rng.choice([0, 0, 1, -1, 1000])
            out[2:4] = struct.pack("!H", words & 0xFFFF)
    elif n > 1:
        out[1] = rng.choice([96, 97, 98, 111, 0x80 | 96, 0x80 | 111, rng.getrandbits(8)])
    return bytes(out)


def dtls_record(rng: random.Random, content_type: int, body: bytes, epoch: Optional[int] = None,
                length: Optional[int] = None) -> bytes:
    epoch = rng.choice([0, 1, 1, 2, 0xFFFF]) if epoch is None else epoch
    version = rng.choice([b"\xfe\xfd", b"\xfe\xfd", b"\xfe\xff", b"\x03\x03", _rand(rng, 2)])
    seq = rng.getrandbits(48).to_bytes(6, "big")
    length = len(body) if length is None else length
    return bytes([content_type]) + version + struct.pack("!H", epoch) + seq + struct.pack("!H", length & 0xFFFF) + body


def client_hello_garbage(rng: random.Random) -> bytes:
    """A handshake record carrying a ClientHello-shaped message full of garbage."""
    inner = bytearray()
    inner += b"\xfe\xfd" + _rand(rng, 32)                           # client_version, random
    sid = rng.choice([0, 32, 255])
    inner += bytes([sid & 0xFF]) + _rand(rng, min(sid, 32))         # session id (length may lie)
    cookie = rng.choice([0, 20, 255])
    inner += bytes([cookie]) + _rand(rng, min(cookie, 20))          # cookie
    suites = rng.choice([2, 4, 0, 0xFFFE])
    inner += struct.pack("!H", suites) + _rand(rng, min(suites, 8))
    inner += b"\x01\x00"                                            # compression: null
    ext = _rand(rng, rng.randint(0, 120))
    inner += struct.pack("!H", rng.choice([len(ext), 0xFFFF, len(ext) + 7])) + ext
    body_len = rng.choice([len(inner), len(inner) + 100, 0xFFFFFF, 0])
    frag_off = rng.choice([0, 0, 5, 0xFFFFFF])
    frag_len = rng.choice([len(inner), len(inner) - 1, 0xFFFFFF])
    hs = bytes([1]) + body_len.to_bytes(3, "big") + struct.pack("!H", rng.getrandbits(16)) \
        + frag_off.to_bytes(3, "big") + (frag_len & 0xFFFFFF).to_bytes(3, "big") + bytes(inner)
    if rng.random() < 0.2:
        hs = hs[:rng.randint(0, len(hs))]
    return dtls_record(rng, 22, hs, epoch=rng.choice([0, 0, 1]),
                       length=rng.choice([None, None, len(hs) + 50, 0xFFFF]))


def dtls_datagram(rng: random.Random) -> bytes:
    kind = rng.randrange(6)
    if kind == 0:    # any first byte 20..63, random rest, lengths incl. runts
        n = _length(rng, 13, 0.25)
        out = bytearray(_rand(rng, max(n, 1)))
        out[0] = rng.randint(20, 63)
        return bytes(out)
    if kind == 1:
        return client_hello_garbage(rng)
    if kind == 2:    # alerts: warning/fatal, any description, epoch 0 and 1 (never valid MACs)
        return dtls_record(rng, 21, bytes([rng.choice([1, 2]), rng.getrandbits(8)]) + _rand(rng, rng.choice([0, 0, 30])))
    if kind == 3:    # application data / change cipher spec with garbage
        return dtls_record(rng, rng.choice([20, 23]), _rand(rng, rng.randint(0, 600)))
    if kind == 4:    # several records in one datagram, lengths that lie
        return b"".join(dtls_record(rng, rng.choice([20, 21, 22, 23]), _rand(rng, rng.randint(0, 60)),
                                    length=rng.choice([None, rng.getrandbits(16)]))
                        for _ in range(rng.randint(2, 5)))
    # other handshake messages (ServerHello, Certificate, Finished...) with garbage
    body = bytes([rng.choice([2, 3, 11, 12, 13, 14, 15, 16, 20, 0xFF])]) + _rand(rng, rng.randint(0, 300))
    return dtls_record(rng, 22, body)


# ----------------------------------------------------------------------------------------------
# the flood (subprocess)
# ----------------------------------------------------------------------------------------------

# How the 100,000 datagrams are split (the authenticated socket's share reaches the PeerConnection's
# own SRTP/SRTCP/DTLS/STUN paths; the others stop at the demultiplexer).
PLAN_UNAUTHENTICATED = {"random": 20_000, "stun": 18_000, "rtp": 16_000, "dtls": 16_000}
PLAN_AUTHENTICATED = {"rtp": 15_000, "dtls": 13_000, "stun": 2_000}


def build_plan(args: dict, rng: random.Random, scale: float = 1.0) -> list[tuple[int, str, bytes]]:
    """[(socket index, family, datagram)] shuffled; socket index -1 = the authenticated socket."""
    su, cu, pw = args["server_ufrag"], args["client_ufrag"], args["server_pwd"]
    gen = {"random": lambda: random_datagram(rng), "stun": lambda: stun_datagram(rng, su, cu, pw),
           "rtp": lambda: rtp_datagram(rng), "dtls": lambda: dtls_datagram(rng)}
    plan = []
    sockets = args.get("sockets", 4)
    for fam, n in args.get("plan_unauthenticated", PLAN_UNAUTHENTICATED).items():
        for i in range(int(n * scale)):
            plan.append((i % sockets, fam, gen[fam]()))
    if args.get("authenticated", True):
        for fam, n in args.get("plan_authenticated", PLAN_AUTHENTICATED).items():
            for _ in range(int(n * scale)):
                plan.append((-1, fam, gen[fam]()))
    rng.shuffle(plan)
    return plan


def flood(args: dict) -> dict:
    """Authenticates one socket, then sends the plan at `rate` datagrams/s in small bursts."""
    rng = random.Random(args.get("seed", 4))
    family = socket.AF_INET6 if ":" in args["host"] else socket.AF_INET
    target = (args["host"], args["port"])
    plain = [socket.socket(family, socket.SOCK_DGRAM) for _ in range(args.get("sockets", 4))]
    auth = socket.socket(family, socket.SOCK_DGRAM)
    for s in plain + [auth]:
        s.bind((args["host"], 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    t0 = time.time()
    plan = build_plan(args, rng, args.get("scale", 1.0))
    report: dict = {"generated_in": round(time.time() - t0, 2), "planned": len(plan)}
    if args.get("authenticated", True):
        report["auth"] = authenticate(auth, target, args["server_ufrag"], args["client_ufrag"],
                                      args["server_pwd"])
        report["auth_source"] = auth.getsockname()[:2]
    auth.setblocking(True)
    rate, burst = args.get("rate", 8000), args.get("burst", 100)
    sent = {"random": 0, "stun": 0, "rtp": 0, "dtls": 0}
    sent_auth = {"rtp": 0, "dtls": 0, "stun": 0}
    errors = 0
    start = time.time()
    report["started_at"] = start
    for i in range(0, len(plan), burst):
        for idx, fam, data in plan[i:i + burst]:
            sock = auth if idx < 0 else plain[idx]
            try:
                sock.sendto(data, target)
            except OSError:
                errors += 1
                continue
            if idx < 0:
                sent_auth[fam] += 1
            else:
                sent[fam] += 1
        # keep to the rate: burst k is due at start + k*burst/rate
        due = start + (i + burst) / rate
        delay = due - time.time()
        if delay > 0:
            time.sleep(delay)
    report["ended_at"] = time.time()
    report["duration"] = round(report["ended_at"] - start, 2)
    report["sent_unauthenticated"] = sent
    report["sent_authenticated"] = sent_auth
    report["sent_total"] = sum(sent.values()) + sum(sent_auth.values())
    report["send_errors"] = errors
    # what came back (401s to the wrong-password checks, 400s, ...): drained, counted by type
    replies: dict = {}
    for s in plain + [auth]:
        s.setblocking(False)
        while True:
            try:
                data = s.recv(4096)
            except (BlockingIOError, OSError):
                break
            msg = stun_decode(data)
            key = f"stun 0x{msg['type']:04x}" if msg else f"first byte {data[:1].hex() or 'none'}"
            replies[key] = replies.get(key, 0) + 1
        s.close()
    auth.close()
    report["replies_drained"] = replies
    return report


if __name__ == "__main__":
    print(json.dumps(flood(json.loads(sys.argv[1]))), flush=True)
