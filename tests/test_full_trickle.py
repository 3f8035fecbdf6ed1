"""Trickle out: the server's own candidates as `trickle` events (Janus's `nat.full_trickle`,
Confab's `media.full_trickle` with `media.ice_mode = "full"`), compared with Janus 1.1.2.

Recorded against Janus 1.1.2 on loopback (aiortc EchoTest, the offer carrying all its candidates):
- full_trickle = true: `{"janus":"trickle","session_id":S,"sender":H,"candidate":{"sdpMid":"0",
  "sdpMLineIndex":0,"candidate":"candidate:1 1 udp 2015363327 127.0.0.1 P typ host"}}`, then
  `{"janus":"trickle","session_id":S,"sender":H,"candidate":{"completed":true}}` (no transaction);
  the host candidate before the EchoTest event with the answer, `completed` before or just after
  it (Janus's gathering thread races its plugin thread: both orders were seen), all before
  `webrtcup`. The answer has no a=candidate and no a=end-of-candidates. `info` says
  "full-trickle": true. Confab reports host candidates while it makes the agent, so both of its
  events always precede the answer.
- full_trickle = false (the default, half-trickle): no `trickle` event at all; the answer carries
  the candidates and a=end-of-candidates.
janus.js keeps trickled candidates that arrive before the remote description and adds them after
it (Debian libjs-janus-gateway, the "trickle got here before the offer?" branch); the Chromium test
checks that a call works that way.
"""
from __future__ import annotations

import asyncio

import pytest
import requests

import echo_browser as eb
import harness
import media_peers as mp
import test_videoroom_media as videoroom
from test_echotest_browser import check_call, driver, echo_page  # noqa: F401  (fixtures)


def start(full_trickle: bool) -> harness.Server:
    # Confab trickles only in full ICE mode (ICE-lite has nothing to gather); Janus is always full.
    return harness.start_server(harness.ServerOptions(media=True, ice_mode="full", full_trickle=full_trickle))


@pytest.fixture(scope="module")
def trickle_srv():
    srv = start(True)
    yield srv
    alive, tail = srv.alive(), srv.log_tail()
    srv.stop()
    assert alive, f"server under test died during the test\n--- log tail ---\n{tail}"


def run(coro, timeout: float = 60.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def echo_call_events(srv) -> tuple[list[dict], dict, dict]:
    """An aiortc EchoTest call through webrtcup and media: (events of the handle in arrival order,
    the event carrying the answer, the `info` reply)."""
    sig = mp.HttpSignalling(srv.janus_url)
    await sig.start()
    peer = mp.EchoPeer()
    try:
        info = (await asyncio.to_thread(requests.get, srv.janus_url + "/info", timeout=5)).json()
        started = await mp.start_echo_call(sig, peer)
        handle_id = started["handle_id"]
        await sig.wait_event(mp.is_ev("webrtcup", handle_id), 15, "webrtcup")
        await peer.wait_media(video_frames=20, audio_frames=30)
        await asyncio.sleep(0.3)
        return [e for e in sig.events if e.get("sender") == handle_id], started["event"], info
    finally:
        await peer.close()
        await sig.close()


def test_full_trickle_sends_candidates_then_completed_before_the_answer(trickle_srv):
    events, answer_event, info = run(echo_call_events(trickle_srv))
    assert info.get("full-trickle") is True, info
    assert info.get("ice-lite") is False, info
    trickles = [e for e in events if e.get("janus") == "trickle"]
    assert len(trickles) >= 2, [mp.strip_sdp(e) for e in events]
    for e in trickles:
        # Exactly Janus's shape: no transaction, the handle as sender.
        assert set(e) == {"janus", "session_id", "sender", "candidate"}, e
        assert e["session_id"] == answer_event["session_id"], e
    *candidates, last = [e["candidate"] for e in trickles]
    assert last == {"completed": True}, trickles
    assert candidates, trickles
    for c in candidates:
        assert set(c) == {"sdpMid", "sdpMLineIndex", "candidate"}, c
        assert c["sdpMid"] == "0" and c["sdpMLineIndex"] == 0, c
        fields = c["candidate"].split()
        assert fields[0].startswith("candidate:") and fields[1] == "1" and fields[2] == "udp", c
        assert fields[4] == "127.0.0.1" and fields[6:8] == ["typ", "host"], c
        assert trickle_srv.is_janus or trickle_srv.is_media_port(int(fields[5])), c
    # Ordering as Janus on loopback: a host candidate before the answer, every trickle before
    # webrtcup; Confab (deterministic) sends the end before the answer too.
    kinds = [e["janus"] if e.get("janus") != "event" else ("answer" if "jsep" in e else "event") for e in events]
    trickle_positions = [i for i, k in enumerate(kinds) if k == "trickle"]
    assert trickle_positions[0] < kinds.index("answer") < kinds.index("webrtcup"), kinds
    assert trickle_positions[-1] < kinds.index("webrtcup"), kinds
    if not trickle_srv.is_janus:
        assert trickle_positions[-1] < kinds.index("answer"), kinds
    sdp = answer_event["jsep"]["sdp"]
    assert not mp.sdp_candidates(sdp), sdp
    assert "a=end-of-candidates" not in sdp, sdp


def test_half_trickle_sends_no_trickle_event_and_a_complete_answer():
    srv = start(False)
    try:
        events, answer_event, info = run(echo_call_events(srv))
        assert srv.alive(), srv.log_tail()
    finally:
        srv.stop()
    assert info.get("full-trickle") is False, info
    assert not [e for e in events if e.get("janus") == "trickle"], events
    sdp = answer_event["jsep"]["sdp"]
    hosts = [c.split() for c in mp.sdp_candidates(sdp)]
    assert hosts and all(c[2] == "udp" and c[4] == "127.0.0.1" and c[7] == "host" for c in hosts), sdp
    assert "a=end-of-candidates" in sdp, sdp


@pytest.mark.browser
def test_full_trickle_chromium_janusjs_echotest(trickle_srv, driver, echo_page):  # noqa: F811
    """janus.js gets the candidates before the answer, keeps them, adds them after it: the call works."""
    b = eb.EchoBrowser(driver, echo_page)
    b.start(trickle_srv.janus_url)
    try:
        check_call(b, trickle_srv)
    finally:
        b.destroy()


def test_full_trickle_videoroom_subscribers(trickle_srv):
    """Confab (Janus) offers to subscribers with no candidates; the trickled ones follow."""
    videoroom.test_one_publisher_two_subscribers(trickle_srv)
