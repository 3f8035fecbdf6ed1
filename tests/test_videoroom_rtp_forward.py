"""rtp_forward extras (Janus 1.x parameters beyond host/port): SRTP-protected forwarding
(`srtp_suite` + `srtp_crypto`), checked by decrypting in the test with pylibsrtp (aiortc's own
libsrtp binding). The same test runs against Janus 1.1.2 (CONFAB_TARGET=janus).

Recorded from Janus 1.1.2 (asserted below):
- `srtp_suite` or `srtp_crypto` alone: a plain forwarder (no `srtp` in its entry)
- both: the forwarder's entry gains `"srtp": true` (in rtp_forward and listforwarders)
- a suite other than 32/80: 430 "Invalid SRTP suite (40)"; a suite given as a string: 430
  "Invalid element type (srtp_suite should be a positive integer)"
- a key that is not base64 of at least 30 bytes: success with `"forwarders": []`
- suite 80: AES_CM_128_HMAC_SHA1_80. Suite 32: Janus 1.1.2 still puts an 80-bit tag on RTP;
  Confab uses the 32-bit tag of AES_CM_128_HMAC_SHA1_32 (RFC 4568), what a receiver configured
  for suite 32 (FFmpeg, GStreamer's srtpdec) expects — the one difference, asserted per target
"""
from __future__ import annotations

import asyncio
import base64
import os
import socket

import pylibsrtp
import pytest

import harness
import media_peers as mp
from test_videoroom_media import Publisher, create_room, data, media_srv, run  # noqa: F401

SECRET = "fw5ecret"
PROFILES = {80: pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80, 32: pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_32}


def receiver(family: int = socket.AF_INET, host: str = "127.0.0.1") -> socket.socket:
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind((host, 0))
    s.settimeout(5)
    return s


async def receive(sock: socket.socket, count: int) -> list[bytes]:
    return [(await asyncio.to_thread(sock.recvfrom, 2000))[0] for _ in range(count)]


def decrypted(packets: list[bytes], key: bytes, profile: int) -> list[bytes]:
    session = pylibsrtp.Session(pylibsrtp.Policy(key=key, ssrc_type=pylibsrtp.Policy.SSRC_ANY_INBOUND,
                                                 srtp_profile=profile))
    return [session.unprotect(p) for p in packets]


def test_rtp_forward_with_srtp(media_srv):
    async def scenario() -> None:
        sig = mp.HttpSignalling(media_srv.janus_url)
        await sig.start()
        pub = Publisher(sig, "srtp")
        socks = [receiver(), receiver()]
        try:
            room = await create_room(sig, secret=SECRET)
            await pub.join_and_publish(room)
            await sig.wait_event(mp.is_ev("webrtcup", pub.handle), 15, "publisher webrtcup")
            base = {"request": "rtp_forward", "room": room, "publisher_id": pub.id, "host": "127.0.0.1",
                    "secret": SECRET}
            key = os.urandom(30)
            crypto = base64.b64encode(key).decode()
            one = [{"mid": "0", "port": 9}]

            for half in ({"srtp_suite": 80}, {"srtp_crypto": crypto}):
                r = data(await sig.message(pub.handle, {**base, **half, "streams": one}))
                assert [set(f) for f in r["forwarders"]] == [{"stream_id", "type", "host", "port"}], (half, r)
            r = await sig.message(pub.handle, {**base, "srtp_suite": 40, "srtp_crypto": crypto, "streams": one})
            assert data(r) == {"videoroom": "event", "error_code": 430, "error": "Invalid SRTP suite (40)"}, r
            r = await sig.message(pub.handle, {**base, "srtp_suite": "80", "srtp_crypto": crypto, "streams": one})
            assert data(r) == {"videoroom": "event", "error_code": 430,
                               "error": "Invalid element type (srtp_suite should be a positive integer)"}, r
            for bad in ("notbase64!", base64.b64encode(b"short").decode()):
                r = data(await sig.message(pub.handle, {**base, "srtp_suite": 80, "srtp_crypto": bad, "streams": one}))
                assert (r["videoroom"], r["forwarders"]) == ("rtp_forward", []), (bad, r)

            made = []
            for suite, s in zip((80, 32), socks):
                r = data(await sig.message(pub.handle, {**base, "srtp_suite": suite, "srtp_crypto": crypto,
                                                        "streams": [{"mid": "0", "port": s.getsockname()[1]}]}))
                assert [(f["type"], f["port"], f.get("srtp")) for f in r["forwarders"]] == [
                    ("audio", s.getsockname()[1], True)], r
                made += r["forwarders"]
                packets = await receive(s, 20)
                # Suite 32 on Janus 1.1.2: an 80-bit tag anyway (see the module docstring).
                tag = 10 if suite == 80 or harness.target() == "janus" else 4
                plain = decrypted(packets, key, PROFILES[80 if tag == 10 else 32])
                assert all(len(p) - len(q) == tag for p, q in zip(packets, plain)), (suite, tag)
                assert all(q[0] >> 6 == 2 for q in plain) and len({q[1] & 0x7F for q in plain}) == 1, suite
                opus_pt = plain[0][1] & 0x7F
                assert f"a=rtpmap:{opus_pt} opus/48000/2" in pub.peer.pc.localDescription.sdp, opus_pt
                with pytest.raises(pylibsrtp.Error):   # another key does not authenticate
                    decrypted(packets[:1], bytes(30), PROFILES[80 if tag == 10 else 32])

            listed = data(await sig.message(pub.handle, {"request": "listforwarders", "room": room, "secret": SECRET}))
            forwarders = listed["publishers"][0]["forwarders"]
            by_id = lambda f: f["stream_id"]   # noqa: E731 (Janus lists in hash-table order)
            assert sorted((f for f in forwarders if f.get("srtp")), key=by_id) == sorted(made, key=by_id), listed
        finally:
            for s in socks:
                s.close()
            await pub.peer.close()
            await sig.close()

    run(scenario())
