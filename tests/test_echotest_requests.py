"""EchoTest requests during a call (aiortc peer, HTTP API): audio/video toggles, bitrate, keyframes.

Every request is asynchronous: `ack` on the POST, then an event with the same transaction whose
plugindata.data is `{"echotest":"event","result":"ok"}` or `{"echotest":"event","error_code":413,
"error":"..."}`. The effect on the media is checked too, from the peer's side:
- `audio:false` / `video:false`: that medium stops coming back, the other one does not;
  `audio:true`: audio comes back again.
- `video:true` after `video:false`: Janus sends a PLI to the peer (our VP8 sender sees it).
  (The video itself resumes too — checked with Chromium in test_echotest_browser.py; aiortc's
  jitter buffer does not recover from the sequence-number gap the paused echo leaves.)
- `bitrate:N`: the peer gets an RTCP REMB of exactly N; `bitrate:0` (no cap) a REMB of 10000000.
- A keyframe request from the receiving side (RTCP PLI) reaches the sending side (the echo relays RTCP).

Recorded from Janus 1.1.2: there is NO `keyframe` attribute in the EchoTest API of Janus 1.1.2:
`{"keyframe":true}` alone is error 413 "Message error: no supported attributes found" (like `{}`),
and is ignored (result ok) next to a supported attribute. Confab adds `keyframe` (the media issue
asks for it; no Janus client sends it, so nothing breaks): result ok and a PLI toward the sender.
"""
from __future__ import annotations

import asyncio
import time

import pytest

import media_peers as mp
from janus_client import assert_keys

OK = {"echotest": "event", "result": "ok"}
DONE = {"echotest": "event", "result": "done"}
NO_ATTRIBUTES = {"echotest": "event", "error_code": 413, "error": "Message error: no supported attributes found"}


@pytest.fixture
def media_srv(request):
    srv = mp.media_server(request.config)
    yield srv
    assert srv.alive(), f"server under test died during the test\n--- log tail ---\n{srv.log_tail()}"


def run(coro, timeout: float = 60.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def request(sig: mp.Signalling, hid: int, body: dict) -> dict:
    ack, ev = await sig.echo_request(hid, body)
    assert ack["janus"] == "ack", ack
    assert_keys(ev, {"janus", "session_id", "transaction", "sender", "plugindata"}, f"event for {body}")
    assert ev["sender"] == hid and ev["plugindata"]["plugin"] == mp.ECHOTEST, ev
    return ev["plugindata"]["data"]


async def counts_over(peer: mp.EchoPeer, seconds: float) -> tuple[int, int]:
    """(new video frames, new audio frames) decoded during the next `seconds`."""
    v, a = peer.stats.video_frames, peer.stats.audio_frames
    await asyncio.sleep(seconds)
    return peer.stats.video_frames - v, peer.stats.audio_frames - a


async def wait_feedback(peer: mp.EchoPeer, what: str, since: float, timeout: float = 3.0) -> list:
    """RTCP feedback of kind `what` ("pli", "fir", "remb"; "pli|fir" for either) reaching our senders."""
    end = time.time() + timeout
    while time.time() < end:
        got = [f for w in what.split("|") for f in peer.feedback(w, since)]
        if got:
            return got
        await asyncio.sleep(0.05)
    raise AssertionError(f"no RTCP {what} reached the peer within {timeout}s; feedback so far: "
                         f"{peer.rtcp_feedback}")


async def wait_remb(peer: mp.EchoPeer, value: int, since: float, timeout: float = 3.0) -> None:
    """A REMB of exactly `value` reaches the peer after `since`."""
    end = time.time() + timeout
    while time.time() < end:
        if any(f[3] == value for f in peer.feedback("remb", since)):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no REMB of {value} within {timeout}s: {peer.feedback('remb', since)}")


async def toggles_and_bitrate(srv) -> None:
    sig = mp.HttpSignalling(srv.janus_url)
    await sig.start()
    peer = mp.EchoPeer()
    try:
        call = await mp.start_echo_call(sig, peer)
        hid = call["handle_id"]
        await peer.wait_media(video_frames=20, audio_frames=40, timeout=15)
        await asyncio.sleep(0.3)   # let the jitter buffers settle

        # audio off: no audio back, video still
        assert await request(sig, hid, {"audio": False}) == OK
        await asyncio.sleep(0.3)   # packets already in flight / in the jitter buffer
        dv, da = await counts_over(peer, 1.5)
        assert da <= 3, f"audio still echoed after audio:false ({da} frames in 1.5 s)"
        assert dv >= 15, f"video stopped with audio:false ({dv} frames in 1.5 s)"

        # audio on again: audio back
        assert await request(sig, hid, {"audio": True}) == OK
        await asyncio.sleep(0.5)
        dv, da = await counts_over(peer, 1.0)
        assert da >= 25, f"audio not echoed again after audio:true ({da} frames in 1 s)"

        # video off: no video back, audio still
        assert await request(sig, hid, {"video": False}) == OK
        await asyncio.sleep(0.3)
        dv, da = await counts_over(peer, 1.5)
        assert dv <= 3, f"video still echoed after video:false ({dv} frames in 1.5 s)"
        assert da >= 40, f"audio stopped with video:false ({da} frames in 1.5 s)"

        # video on again: the server asks the sender for a keyframe
        t = time.time()
        assert await request(sig, hid, {"video": True}) == OK
        fb = await wait_feedback(peer, "pli|fir", t, timeout=1.5)
        assert all(f[1] == "video" for f in fb), fb

        # bitrate cap: REMB with exactly that value reaches the peer
        t = time.time()
        assert await request(sig, hid, {"bitrate": 128000}) == OK
        # A REMB of exactly the cap arrives at once, and every REMB after the `ok` carries it
        # (one the peer itself sent just before the request may still pass unchanged).
        await wait_remb(peer, 128000, t)
        t_ok = time.time()
        await asyncio.sleep(1.5)
        later = peer.feedback("remb", t_ok)
        assert all(r[3] == 128000 for r in later), later
        t = time.time()
        assert await request(sig, hid, {"bitrate": 0}) == OK
        await wait_remb(peer, 10_000_000, t)   # bitrate 0 = no cap: the REMB is lifted to 10 Mbit/s

        # keyframe requests: no such attribute in Janus 1.1.2's EchoTest API; a Confab extension
        if srv.target == "janus":
            assert await request(sig, hid, {"keyframe": True}) == NO_ATTRIBUTES
        else:
            t = time.time()
            assert await request(sig, hid, {"keyframe": True}) == OK
            await wait_feedback(peer, "pli", t)
        assert await request(sig, hid, {"audio": True, "keyframe": True}) == OK
        assert await request(sig, hid, {}) == NO_ATTRIBUTES

        # ... but a PLI from the receiving side is relayed to the sending side
        rx = next(r for r in peer.pc.getReceivers() if r.track is not None and r.track.kind == "video")
        sources = rx.getSynchronizationSources()
        assert sources, "no video source seen by the receiver"
        t = time.time()
        await rx._send_rtcp_pli(sources[0].source)
        await wait_feedback(peer, "pli", t)

        # wrong types and values (exact Janus texts)
        assert await request(sig, hid, {"audio": "yes"}) == {
            "echotest": "event", "error_code": 413, "error": "Invalid element type (audio should be a boolean)"}
        assert await request(sig, hid, {"video": 1}) == {
            "echotest": "event", "error_code": 413, "error": "Invalid element type (video should be a boolean)"}
        assert await request(sig, hid, {"bitrate": -1}) == {
            "echotest": "event", "error_code": 413,
            "error": "Invalid element type (bitrate should be a positive integer)"}

        # media still flows after all that
        dv, da = await counts_over(peer, 1.0)
        assert da >= 25, f"audio no longer echoed at the end ({da} frames in 1 s)"

        # "hangup" on the handle: success, then the echotest "done" event and a hangup event
        r = await sig.hangup(hid)
        assert_keys(r, {"janus", "session_id", "transaction"}, "hangup reply")
        assert r["janus"] == "success", r
        done = await sig.wait_event(lambda e: mp.is_ev("event", hid)(e) and e["plugindata"]["data"] == DONE,
                                    5, "echotest result=done")
        assert "transaction" not in done, done
        hang = await sig.wait_event(mp.is_ev("hangup", hid), 5, "hangup event")
        assert hang["reason"] == "Janus API", hang
        # and the server closed the PeerConnection (DTLS close_notify)
        end = time.time() + 5
        while time.time() < end and peer.pc.connectionState not in ("closed", "failed"):
            await asyncio.sleep(0.05)
        assert peer.pc.connectionState in ("closed", "failed"), peer.connection_states
    finally:
        await peer.close()
        await sig.close()


def test_echotest_toggles_bitrate_keyframe(media_srv):
    run(toggles_and_bitrate(media_srv))


async def requests_without_peerconnection(srv) -> None:
    sig = mp.HttpSignalling(srv.janus_url)
    await sig.start()
    try:
        hid = await sig.attach(mp.ECHOTEST)
        assert await request(sig, hid, {"audio": False}) == OK
        assert await request(sig, hid, {"video": True, "bitrate": 256000}) == OK
        assert await request(sig, hid, {}) == NO_ATTRIBUTES
        expected = NO_ATTRIBUTES if srv.target == "janus" else OK
        assert await request(sig, hid, {"keyframe": True}) == expected
        # hangup without a PeerConnection: success and the plugin's "done", but no hangup event
        r = await sig.hangup(hid)
        assert r["janus"] == "success", r
        await sig.wait_event(lambda e: mp.is_ev("event", hid)(e) and e["plugindata"]["data"] == DONE,
                             5, "echotest result=done")
        await asyncio.sleep(0.5)
        assert not sig.seen(mp.is_ev("hangup", hid)), sig.events
        assert not sig.seen(mp.is_ev("webrtcup", hid)), sig.events
    finally:
        await sig.close()


def test_echotest_requests_without_peerconnection(media_srv):
    run(requests_without_peerconnection(media_srv))
