"""janus.plugin.echotest with aiortc as an independent WebRTC stack: media really flows back.

aiortc sends a 440 Hz sine (Opus) and a 320x240 grey picture with a moving white bar (VP8); the
test decodes what the server sends back and checks it is that: enough frames, the same size, the
bar in many different places (a moving picture, not a frozen or blank one) and a loud tone (not
silence). Signalling over the HTTP API (long poll collects the events) and over WebSocket.

Recorded from Janus 1.1.2 (all asserted below):
- the offer message is answered `{"janus":"ack","session_id","transaction","hint":"I'm taking my time!"}`,
  then an event with the same transaction:
  `plugindata: {"plugin":"janus.plugin.echotest","data":{"echotest":"event","result":"ok"}}` + jsep answer
- `{"janus":"webrtcup","session_id","sender"}` ~30 ms after the answer
- `{"janus":"media","session_id","sender","mid":"0","type":"audio","receiving":true}` and the same for
  mid "1" / video, right after webrtcup
- closing the peer (DTLS close_notify) gives `{"echotest":"event","result":"done"}` (no transaction)
  and `{"janus":"hangup","session_id","sender","reason":"DTLS alert"}` within a few ms
"""
from __future__ import annotations

import asyncio

import pytest

import media_peers as mp
from janus_client import assert_keys


@pytest.fixture
def media_srv(request):
    srv = mp.media_server(request.config)
    yield srv
    assert srv.alive(), f"server under test died during the test\n--- log tail ---\n{srv.log_tail()}"


def run(coro, timeout: float = 60.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def check_answer_event(ev: dict, session_id: int, handle_id: int, transaction: str) -> str:
    """The echotest event carrying the answer; returns the answer SDP."""
    assert_keys(ev, {"janus", "session_id", "transaction", "sender", "plugindata", "jsep"}, "echotest answer event")
    assert ev["janus"] == "event" and ev["session_id"] == session_id and ev["sender"] == handle_id
    assert ev["transaction"] == transaction
    assert ev["plugindata"] == {"plugin": mp.ECHOTEST, "data": {"echotest": "event", "result": "ok"}}, ev
    jsep = ev["jsep"]
    assert jsep["type"] == "answer" and isinstance(jsep["sdp"], str), mp.strip_sdp(ev)
    sdp = jsep["sdp"]
    for needle in ("m=audio ", "m=video ", "a=ice-ufrag:", "a=ice-pwd:", "a=fingerprint:sha-256 ",
                   "a=rtcp-mux", "a=group:BUNDLE", "opus/48000/2", "VP8/90000"):
        assert needle in sdp, f"answer SDP lacks {needle!r}:\n{sdp}"
    cands = mp.sdp_candidates(sdp)
    assert cands, f"answer SDP has no candidate:\n{sdp}"
    assert any(c.split()[4] == "127.0.0.1" and c.split()[7] == "host" for c in cands), cands
    return sdp


def check_ack(ack: dict, session_id: int) -> None:
    assert ack["janus"] == "ack" and ack["session_id"] == session_id, ack
    assert {"janus", "session_id", "transaction"} <= set(ack) <= {"janus", "session_id", "transaction", "hint"}, ack


async def check_up_events(sig: mp.Signalling, session_id: int, handle_id: int) -> None:
    """webrtcup, then media receiving=true for audio (mid 0) and video (mid 1)."""
    up = await sig.wait_event(mp.is_ev("webrtcup", handle_id), 15, "webrtcup")
    assert_keys(up, {"janus", "session_id", "sender"}, "webrtcup")
    assert up["session_id"] == session_id
    for kind, mid in (("audio", "0"), ("video", "1")):
        m = await sig.wait_event(lambda e: mp.is_ev("media", handle_id)(e) and e.get("type") == kind
                                 and e.get("receiving") is True, 10, f"media {kind} receiving=true")
        assert_keys(m, {"janus", "session_id", "sender", "mid", "type", "receiving"}, "media event")
        assert m["session_id"] == session_id and m["mid"] == mid, m


def check_media(stats: mp.ReceiveStats) -> None:
    s = stats.summary()
    assert s["video_sizes"] == [(mp.WIDTH, mp.HEIGHT)], s
    assert s["distinct_bar_positions"] >= 5, f"the echoed picture does not move: {s}"
    assert s["max_bar_contrast"] > 40, f"the echoed picture has no bar: {s}"
    assert s["max_audio_rms"] > 1000, f"the echoed audio is silence: {s}"
    assert s["audio_rates"] == [48000], s


async def echo_call(sig: mp.Signalling) -> None:
    sid = await sig.start()
    peer = mp.EchoPeer()
    try:
        call = await mp.start_echo_call(sig, peer)
        hid = call["handle_id"]
        check_ack(call["ack"], sid)
        check_answer_event(call["event"], sid, hid, call["event"]["transaction"])
        await check_up_events(sig, sid, hid)
        await peer.wait_media(video_frames=30, audio_frames=50, timeout=15)
        check_media(peer.stats)
        # still flowing a second later (not a burst that stopped)
        v, a = peer.stats.video_frames, peer.stats.audio_frames
        await asyncio.sleep(1.0)
        assert peer.stats.video_frames - v >= 10 and peer.stats.audio_frames - a >= 25, peer.stats.summary()
        assert peer.pc.connectionState == "connected", peer.connection_states

        # Closing the PeerConnection sends a DTLS close_notify: the server ends the call.
        await peer.close()
        done = await sig.wait_event(
            lambda e: mp.is_ev("event", hid)(e) and e["plugindata"]["data"] == {"echotest": "event", "result": "done"},
            10, "echotest result=done")
        assert "transaction" not in done, done
        hang = await sig.wait_event(mp.is_ev("hangup", hid), 10, "hangup")
        assert_keys(hang, {"janus", "session_id", "sender", "reason"}, "hangup")
        assert hang["reason"] == "DTLS alert", hang
    finally:
        await peer.close()
        await sig.close()


def test_echotest_aiortc_over_http(media_srv):
    sig = mp.HttpSignalling(media_srv.janus_url)
    run(echo_call(sig))
    assert not sig.poll_errors, sig.poll_errors


def test_echotest_aiortc_over_websocket(media_srv):
    run(echo_call(mp.WsSignalling(media_srv.ws_url)))


def test_echotest_handle_info_and_metrics_show_the_call(media_srv):
    """Admin handle_info reports the PeerConnection (ICE, DTLS, counters) and /metrics the engine."""
    from janus_client import JanusAdmin

    async def scenario() -> None:
        sig = mp.HttpSignalling(media_srv.janus_url)
        await sig.start()
        peer = mp.EchoPeer()
        try:
            call = await mp.start_echo_call(sig, peer)
            await peer.wait_media(video_frames=10, audio_frames=20, timeout=15)
            adm = JanusAdmin(media_srv.admin_url, media_srv.admin_secret)
            info = adm.request("handle_info", session_id=call["event"]["session_id"], handle_id=call["handle_id"])["info"]
            assert info["plugin"] == mp.ECHOTEST, info
            # The shape both servers share (Janus 1.1.2's handle_info "webrtc" section).
            webrtc = info["webrtc"]
            assert info["flags"]["ready"] is True and info["ice-role"] == "controlled", info["flags"]
            assert webrtc["ice"]["state"] == "ready" and "127.0.0.1" in webrtc["ice"]["selected-pair"], webrtc["ice"]
            assert webrtc["dtls"]["dtls-state"] == "connected" and webrtc["dtls"]["ready"] is True, webrtc["dtls"]
            assert sorted(m["type"] for m in webrtc["media"].values()) == ["audio", "video"], webrtc["media"]
            for m in webrtc["media"].values():
                assert m["direction"] == {"send": True, "recv": True}, m
                assert m["stats"]["in"]["packets"] > 0 and m["stats"]["out"]["packets"] > 0, m
                assert {"ssrc", "ssrc-peer"} <= set(m["ssrc"]), m
            if media_srv.target == "confab":
                assert info["ice-mode"] == ("full" if media_srv.options.ice_mode == "full" else "lite"), info
                await asyncio.sleep(1.2)   # the metrics are published once a second
                import urllib.request
                text = urllib.request.urlopen(media_srv.admin_url.rsplit("/", 1)[0] + "/metrics").read().decode()
                assert "confab_media_datagrams_received_total" in text, text[:2000]
                assert "confab_media_peerconnections 1" in text or "confab_media_peerconnections 1.0" in text, text[:2000]
        finally:
            await peer.close()
            await sig.close()

    asyncio.run(asyncio.wait_for(scenario(), 60))


# ----------------------------------------------------------------------------------------------
# Losses
#
# The echo repairs losses on each leg of the echo separately, as Janus's core does
# for every plugin, with aiortc as the peer (it sends RTX when the answer keeps it, and NACKs the
# gaps it sees in what it receives):
#
# - toward the peer: the peer loses 5% of the echoed video on arrival; its NACKs are answered by
#   the server from what it sent (as RTX, the answer keeping RTX) and never reach the peer's own
#   sender, which therefore resends nothing;
# - from the peer: the peer's uplink loses 8% of its video (dropped at the sender, after aiortc kept
#   them for retransmission) and its receiver is kept from NACKing anything; the server sees the
#   gaps in what it receives and NACKs them, the peer resends them as RTX, the server echoes them as
#   the packets they repair, so the echo comes back almost complete.
#
# Relaying the peer's NACKs back to it instead (what the echo did before) fails both: the peer's
# sender is asked to resend, and with the receiver silent nobody asks for the uplink's losses.
# Both pass against Janus 1.1.2 (`CONFAB_TARGET=janus`).
# ----------------------------------------------------------------------------------------------


def video_section(sdp: str) -> str:
    return sdp.split("m=video", 1)[1].split("\nm=", 1)[0]


def test_losses_toward_the_peer_are_answered_from_what_the_server_sent(media_srv):
    async def scenario() -> None:
        sig = mp.HttpSignalling(media_srv.janus_url)
        await sig.start()
        peer = mp.EchoPeer()
        peer.drop_video(0.05)
        peer.drop_sent_video(0.0)       # loses nothing: counts the NACKs reaching the peer's sender
        try:
            call = await mp.start_echo_call(sig, peer)
            answer = video_section(call["event"]["jsep"]["sdp"])
            assert "rtx/90000" in answer and "a=ssrc-group:FID" in answer, answer
            await peer.wait_media(video_frames=30, audio_frames=20, timeout=20)
            await asyncio.sleep(6.0)
            peer.check_losses_repaired()
            # The server answered them itself: the peer's sender was asked for nothing (nothing
            # was lost on the uplink).
            assert not peer.nacked, f"the peer's NACKs came back to its sender: {sorted(peer.nacked)[:20]}"
            assert len(set(peer.stats.bar_positions)) >= 5, peer.stats.summary()
        finally:
            await peer.close()
            await sig.close()

    run(scenario())


def test_losses_from_the_peer_are_nacked_by_the_server(media_srv):
    async def scenario() -> None:
        sig = mp.HttpSignalling(media_srv.janus_url)
        await sig.start()
        peer = mp.EchoPeer()
        peer.drop_sent_video(0.08)
        peer.mute_nacks()
        peer.watch_video()
        try:
            call = await mp.start_echo_call(sig, peer)
            assert "rtx/90000" in video_section(call["event"]["jsep"]["sdp"]), "the peer's RTX was not accepted"
            await peer.wait_media(video_frames=30, audio_frames=20, timeout=20)
            await asyncio.sleep(8.0)
            mp.check_uplink_nacked(peer, "peer")
            # The echo: gaps that stayed open.
            missing, top = mp.open_gaps(peer.video_sequences)
            assert len(missing) <= max(2, 0.01 * top), (
                f"{len(missing)} of {top} echoed packets never came back ({len(peer.sent_dropped)} lost on "
                f"the uplink, {len(peer.resent)} resent, {peer.nacks_muted} NACKs held back)")
            assert len(set(peer.stats.bar_positions)) >= 5, peer.stats.summary()
        finally:
            await peer.close()
            await sig.close()

    run(scenario())
