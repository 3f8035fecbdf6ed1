"""Three echo calls at once: aiortc over HTTP, aiortc over WebSocket and Chromium (janus.js).

All three are set up concurrently, and then, over the same 2.5 s window, every one of them keeps
receiving its own echo (the aiortc peers check the content: their own moving bar and tone).
For Confab also: every answer offers the configured `media.udp_port`, and the process holds a
bounded set of UDP sockets: all on udp_port, at most one per CPU core per address family, and no
other UDP port (TURN is disabled in the harness config). Janus (one libnice socket per
PeerConnection, random ports) is not held to that: its socket list is only printed.
"""
from __future__ import annotations

import asyncio
import os

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


def candidate_ports(sdp: str) -> set[int]:
    return {int(c.split()[5]) for c in mp.sdp_candidates(sdp)}


async def three_calls(srv, browser: eb.EchoBrowser) -> None:
    sigs = [mp.HttpSignalling(srv.janus_url), mp.WsSignalling(srv.ws_url)]
    peers = [mp.EchoPeer(), mp.EchoPeer()]
    try:
        for s in sigs:
            await s.start()
        browser_started = asyncio.ensure_future(asyncio.to_thread(browser.start, srv.janus_url))
        calls = await asyncio.gather(*(mp.start_echo_call(s, p) for s, p in zip(sigs, peers)))
        await browser_started
        await asyncio.gather(*(p.wait_media(video_frames=20, audio_frames=40, timeout=20) for p in peers))
        await asyncio.to_thread(browser.wait_playing, 20)

        # all three at once, over the same window
        before = [(p.stats.video_frames, p.stats.audio_frames) for p in peers]
        b0 = await asyncio.to_thread(browser.stats)
        await asyncio.sleep(2.5)
        b1 = await asyncio.to_thread(browser.stats)
        after = [(p.stats.video_frames, p.stats.audio_frames) for p in peers]
        for i, ((v0, a0), (v1, a1)) in enumerate(zip(before, after)):
            assert v1 - v0 >= 25 and a1 - a0 >= 75, f"aiortc peer {i}: {v1 - v0} video / {a1 - a0} audio frames in 2.5 s"
            assert peers[i].content_ok(), peers[i].stats.summary()
            assert peers[i].stats.video_sizes == {(mp.WIDTH, mp.HEIGHT)}, peers[i].stats.summary()
        assert browser.frames_decoded(b1) - browser.frames_decoded(b0) >= 15, (b0, b1)
        assert b1["audio"]["packetsReceived"] - b0["audio"]["packetsReceived"] >= 75, (b0, b1)
        assert b1["currentTime"] > b0["currentTime"], (b0, b1)

        handles = {c["handle_id"] for c in calls} | {browser.start_result["handleId"]}
        assert len(handles) == 3, handles

        socks = mp.udp_sockets_of(srv.proc.pid)
        print(f"\n[{harness.target()}] server UDP sockets with 3 calls: {sorted(socks)}")
        if not srv.is_janus and srv.options.ice_mode == "full":
            # Full ICE: each PeerConnection's agent has its own socket from the port range.
            agent_ports = {p for _, p in socks if srv.is_media_port(p)}
            assert len(agent_ports) >= 3, f"expected one agent socket per call: {socks}"
            for c in calls:
                assert all(srv.is_media_port(p) for p in candidate_ports(c["event"]["jsep"]["sdp"]))
        elif not srv.is_janus:
            port = srv.udp_port
            for c in calls:
                ports = candidate_ports(c["event"]["jsep"]["sdp"])
                assert ports == {port}, f"answer candidates not on media.udp_port {port}: {ports}"
            assert socks, "the server holds no UDP socket at all"
            stray = sorted({p for _, p in socks if p != port})
            assert not stray, f"UDP ports besides media.udp_port {port}: {stray} ({socks})"
            cores = os.cpu_count() or 1
            v4 = [a for a, _ in socks if ":" not in a.strip("[]")]
            v6 = [a for a, _ in socks if ":" in a.strip("[]")]
            assert len(v4) <= cores and len(v6) <= cores, \
                f"{len(v4)} IPv4 + {len(v6)} IPv6 sockets on udp_port {port} for {cores} cores: {socks}"
    finally:
        for p in peers:
            await p.close()
        for s in sigs:
            await s.close()


def test_echotest_three_concurrent_calls(media_srv):
    with eb.page_server() as page, eb.chromium() as drv:
        browser = eb.EchoBrowser(drv, page)
        try:
            asyncio.run(asyncio.wait_for(three_calls(media_srv, browser), 90))
        finally:
            try:
                browser.destroy()
            except Exception:  # noqa: BLE001 - best effort
                pass
