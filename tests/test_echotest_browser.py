"""Stock janus.js in headless Chromium (fake camera + microphone) through janus.plugin.echotest.

The page (tests/browser/echotest.*) attaches the echotest, creates an offer with audio + video,
sends `{"audio":true,"video":true}` with it and applies the answer; the remote tracks go to a
<video>. Asserted from the browser's side: the <video> plays (`videoWidth > 0`, currentTime moving),
inbound-rtp `framesDecoded` and audio `packetsReceived` keep rising over 2.5 s, the selected ICE
candidate pair is host <-> host on 127.0.0.1 over UDP, janus.js reported webrtcState(true) and
mediaState(audio/video, true). Over HTTP also: `video:false` freezes the echoed video and
`video:true` brings it back (Janus asks the sender for a keyframe), and janus.js's hangup gives
webrtcState(false, "Janus API" or "DTLS alert"). Once over HTTP, once over WebSocket.
With 5% of the UDP datagrams dropped (iptables, only inside a private network namespace): both
legs of the echo are repaired.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
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


@contextlib.contextmanager
def lossy_udp(percent: float):
    """`percent` of the UDP datagrams arriving on any interface dropped at random (iptables
    statistic match; tc netem is not available in this kernel), only inside a private network
    namespace whose one interface is `lo` (`unshare --net`): never on the machine's own network."""
    import socket
    if [name for _, name in socket.if_nameindex()] != ["lo"]:
        pytest.skip("random loss only inside a private network namespace (unshare --net)")
    rule = ["INPUT", "-p", "udp", "-m", "statistic", "--mode", "random", "--probability", str(percent / 100), "-j", "DROP"]
    add = subprocess.run(["iptables", "-A", *rule], capture_output=True, text=True)
    if add.returncode != 0:
        pytest.skip(f"iptables is not usable here: {add.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["iptables", "-D", *rule], capture_output=True)


def test_echotest_losses_are_repaired_both_ways_in_chromium(media_srv, driver, echo_page):
    """5% of the datagrams lost, both directions, for 8 s: the server NACKs what it misses of Chromium's video
    and Chromium resends it (outbound-rtp nackCount, retransmittedPacketsSent); Chromium NACKs what
    it misses of the echo and the server's repairs arrive (inbound-rtp nackCount,
    retransmittedPacketsReceived: RTX) without them reaching Chromium's sender; the echoed video
    keeps being decoded."""
    b = eb.EchoBrowser(driver, echo_page)
    b.start(media_srv.janus_url)
    try:
        check_call(b, media_srv)
        before = b.stats()
        with lossy_udp(5):
            time.sleep(8.0)
            during = b.stats()
        def grew(side: str, key: str) -> int:
            return (during[side].get(key) or 0) - (before[side].get(key) or 0)
        figures = {f"{side}.{key}": grew(side, key) for side, key in (
            ("video", "packetsReceived"), ("video", "packetsLost"), ("video", "nackCount"),
            ("video", "retransmittedPacketsReceived"), ("video", "framesDecoded"),
            ("video", "pliCount"), ("sent", "packetsSent"), ("sent", "nackCount"),
            ("sent", "retransmittedPacketsSent"))}
        print(f"\n[{harness.target()}] under 5% loss for 8 s: {figures}")
        assert figures["sent.nackCount"] > 0 and figures["sent.retransmittedPacketsSent"] > 0, figures
        assert figures["video.nackCount"] > 0 and figures["video.retransmittedPacketsReceived"] > 0, figures
        # The server answers Chromium's NACKs itself: they do not come back to Chromium's sender,
        # which only hears the server's own NACKs about the uplink, about one per packet it resends
        # (relayed, it got as many NACKs as its receiver sent: 315 NACKs for 55 resent packets in
        # one run, and the echo decoded 39 frames).
        assert figures["sent.nackCount"] <= 2 * figures["sent.retransmittedPacketsSent"] + 10, figures
        # Every loss was repaired in time: Chromium never had to ask for a keyframe, and the echo
        # kept its frame rate (about 20 fps here; a loss left unrepaired froze it for 3 s, until
        # Chromium's keyframe request, when the server's first answer to a NACK came too late).
        assert figures["video.pliCount"] == 0, figures
        assert figures["video.framesDecoded"] >= 100, figures
        b.assert_frames_rising(seconds=2.0, min_new=15)
    finally:
        b.destroy()
