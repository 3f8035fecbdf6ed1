"""Stock janus.js in headless Chromium (fake camera + microphone) through janus.plugin.echotest.

The page (tests/browser/echotest.*) attaches the echotest, creates an offer with audio + video,
sends `{"audio":true,"video":true}` with it and applies the answer; the remote tracks go to a
<video>. Asserted from the browser's side: the <video> plays (`videoWidth > 0`, currentTime moving),
inbound-rtp `framesDecoded` and audio `packetsReceived` keep rising over 2.5 s, the selected ICE
candidate pair is host <-> host on 127.0.0.1 over UDP, janus.js reported webrtcState(true) and
mediaState(audio/video, true). Over HTTP also: `video:false` freezes the echoed video and
`video:true` brings it back (Janus asks the sender for a keyframe), and janus.js's hangup gives
webrtcState(false, "Janus API" or "DTLS alert"). Once over HTTP, once over WebSocket.
"""
from __future__ import annotations

import time

import pytest

import echo_browser as eb
import harness
import media_peers as mp

pytestmark = pytest.mark.browser


@pytest.fixture
def media_srv(request):
    srv = mp.media_server(request.config)
    yield srv
    assert srv.alive(), f"server under test died during the test\n--- log tail ---\n{srv.log_tail()}"


@pytest.fixture(scope="module")
def echo_page():
    with eb.page_server() as url:
        yield url


@pytest.fixture(scope="module")
def driver():
    with eb.chromium() as drv:
        yield drv


def check_call(b: eb.EchoBrowser, srv) -> dict:
    st = b.wait_playing(timeout=20)
    b.assert_frames_rising(seconds=2.5, min_new=15)
    st = b.stats()
    assert st["videoWidth"] > 0 and st["videoHeight"] > 0, st
    assert st["pcState"] == "connected", st
    pair = st["pair"]
    assert pair is not None, f"no selected candidate pair: {st}"
    assert pair["local"]["type"] == "host" and pair["remote"]["type"] == "host", pair
    assert pair["local"]["protocol"] == "udp" and pair["remote"]["protocol"] == "udp", pair
    assert pair["remote"]["address"] == "127.0.0.1", pair
    if not srv.is_janus and srv.udp_port:
        assert srv.is_media_port(pair["remote"]["port"]), f"Confab media must be on its media port(s): {pair}"
    state = b.state()
    assert state["messages"][0] == {"echotest": "event", "result": "ok"}, state["messages"]
    assert state["jseps"][0]["type"] == "answer"
    assert state["webrtcState"] == [{"on": True, "reason": None}], state["webrtcState"]
    media_on = {(m["type"], m["mid"]) for m in state["mediaState"] if m["receiving"]}
    assert media_on == {("audio", "0"), ("video", "1")}, state["mediaState"]
    print(f"\n[{harness.target()}] selected pair: {pair}; video {st['videoWidth']}x{st['videoHeight']}, "
          f"framesDecoded {st['video']['framesDecoded']}")
    return st


def test_echotest_janusjs_over_http(media_srv, driver, echo_page):
    b = eb.EchoBrowser(driver, echo_page)
    b.start(media_srv.janus_url)
    try:
        check_call(b, media_srv)

        # video off: the echoed video freezes, audio goes on
        assert b.send({"video": False}) == {"echotest": "event", "result": "ok"}
        time.sleep(0.7)
        a = b.stats()
        time.sleep(1.5)
        c = b.stats()
        assert b.frames_decoded(c) - b.frames_decoded(a) <= 3, f"video still echoed after video:false: {a} -> {c}"
        assert c["audio"]["packetsReceived"] - a["audio"]["packetsReceived"] >= 30, (a, c)

        # video on: it comes back (a keyframe is needed and requested)
        assert b.send({"video": True}) == {"echotest": "event", "result": "ok"}
        before = b.frames_decoded(c)
        b.wait(lambda s: b.frames_decoded(s) - before >= 15, 10, "video back after video:true")

        # bitrate cap is accepted
        assert b.send({"bitrate": 256000}) == {"echotest": "event", "result": "ok"}
        b.assert_frames_rising(seconds=1.0, min_new=5)

        # janus.js hangup: it sends "hangup" and closes its PeerConnection at once (DTLS close_notify),
        # so the server's hangup event says "Janus API" or "DTLS alert", whichever it saw first
        # (both seen with Janus 1.1.2) -> webrtcState(false, reason)
        b.hangup()
        end = time.time() + 5
        while time.time() < end and len(b.state()["webrtcState"]) < 2:
            time.sleep(0.1)
        state = b.state()
        assert state["webrtcState"][0] == {"on": True, "reason": None}, state["webrtcState"]
        assert state["webrtcState"][1:] in ([{"on": False, "reason": "Janus API"}],
                                            [{"on": False, "reason": "DTLS alert"}]), state["webrtcState"]
        assert {"echotest": "event", "result": "done"} in state["messages"], state["messages"]
    finally:
        b.destroy()


def test_echotest_janusjs_over_websocket(media_srv, driver, echo_page):
    b = eb.EchoBrowser(driver, echo_page)
    b.start(media_srv.ws_url)
    try:
        check_call(b, media_srv)
    finally:
        b.destroy()
