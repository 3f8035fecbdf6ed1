"""VideoRoom simulcast: a headless Chromium publisher sends three rid layers (fake camera at
960x540: 240x135, 480x270, 960x540), an aiortc subscriber switches `substream` 2 → 0 → 2 and
sees the decoded resolution follow while frames keep coming; the publisher then turns its top rid
off and on again (as Chromium does when short of bandwidth), and the subscriber, still asking for
substream 2, falls back to the middle layer and returns to the top one on its own. Then
`temporal` 2 → 0 → 2 and the frame rate follows. In a VP8 room the subscriber also checks the VP8
payload descriptors it gets: each layer has its own picture ID and TL0PICIDX counters (Chromium
starts them at random), so the server must renumber them at every switch for the receiver to see
one continuous stream.
In an H.264 room (Chromium's OpenH264 encoder) the layer switches alone are checked: they can
only happen at keyframes the server recognises in H.264 packets.

Chromium is driven from Python: the page only runs getUserMedia + RTCPeerConnection (rids in
the offer lowest first, with `rid_order: "lmh"` in the jsep so Janus 1.1.2 numbers the layers the
same way); the signalling is this test's, over the Janus HTTP API, against Confab or Janus.
"""
from __future__ import annotations

import asyncio
import time

import pytest

import media_peers as mp
import site_browser as sb
from janus_client import VIDEOROOM
from test_videoroom_media import create_room, data, request, run

pytestmark = pytest.mark.browser

PUBLISH = sb.publish_offer_script("""[
    {rid: 'l', scaleResolutionDownBy: 4, maxBitrate: 150000},
    {rid: 'm', scaleResolutionDownBy: 2, maxBitrate: 400000},
    {rid: 'h', maxBitrate: 1200000}]""")
ACCEPT = sb.ACCEPT_ANSWER

# Turns the top rid on or off, as a browser short of bandwidth (or CPU) does on its own.
TOP_LAYER_ACTIVE = r"""
const done = arguments[arguments.length - 1];
const sender = window.pc.getSenders()[0];
const parameters = sender.getParameters();
parameters.encodings.forEach((e) => { if (e.rid === 'h') e.active = arguments[0]; });
sender.setParameters(parameters).then(() => done('ok'), (e) => done('ERROR ' + e));
"""

SENT_LAYERS = r"""
const done = arguments[arguments.length - 1];
window.pc.getStats().then((report) => {
  const out = [];
  report.forEach((s) => { if (s.type === 'outbound-rtp') out.push([s.rid, s.frameWidth || 0, s.framesEncoded || 0]); });
  done(out);
});
"""


def vp8_picture_ids(payload: bytes) -> tuple[int | None, int, int | None]:
    """(picture ID or None, its width in bits, TL0PICIDX or None) from a VP8 payload descriptor
    (RFC 7741 §4.2)."""
    if len(payload) < 2 or not payload[0] & 0x80:
        return None, 0, None
    x, pos, picture_id, width, tl0 = payload[1], 2, None, 0, None
    if x & 0x80:
        if payload[pos] & 0x80:
            picture_id, width, pos = (payload[pos] & 0x7F) << 8 | payload[pos + 1], 15, pos + 2
        else:
            picture_id, width, pos = payload[pos], 7, pos + 1
    if x & 0x40:
        tl0 = payload[pos]
    return picture_id, width, tl0


def vp8_numbering_jumps(heads: list[tuple[int, bytes]], check_picture_ids: bool = True) -> tuple[list, int]:
    """Packets adjacent in sequence number whose picture ID (if `check_picture_ids`) or TL0PICIDX
    does not stay or go up by one, and how many adjacent pairs were compared. A receiver expects
    exactly that of one VP8 stream whose frames are all forwarded (each layer numbers its own
    frames one by one; a layer switch must not show)."""
    packets: dict[int, bytes] = {}
    extended = None
    for seq, head in heads:
        extended = seq if extended is None else extended + ((seq - extended + 0x8000) % 0x10000 - 0x8000)
        packets.setdefault(extended, head)
    jumps, compared = [], 0
    for seq in sorted(packets):
        if seq + 1 not in packets:
            continue
        (pid_a, width_a, tl0_a), (pid_b, width_b, tl0_b) = vp8_picture_ids(packets[seq]), vp8_picture_ids(packets[seq + 1])
        if pid_a is None or pid_b is None:
            continue
        compared += 1
        if check_picture_ids and (width_a != width_b or (pid_b - pid_a) % (1 << width_b) > 1):
            jumps.append((seq, "picture id", pid_a, pid_b))
        if tl0_a is not None and tl0_b is not None and (tl0_b - tl0_a) % 256 > 1:
            jumps.append((seq, "tl0picidx", tl0_a, tl0_b))
    return jumps, compared


@pytest.mark.parametrize("codec", ["vp8", "h264"])
def test_simulcast_substream_switching(media_srv, codec):
    with sb.site(media_srv) as base, sb.chromium() as driver:
        driver.get(f"{base}/")
        offer_sdp = driver.execute_async_script(PUBLISH)
        assert not offer_sdp.startswith("ERROR"), offer_sdp
        assert "a=simulcast:send l;m;h" in offer_sdp, offer_sdp
        run(scenario(driver, offer_sdp, media_srv, codec), timeout=150)


async def scenario(driver, offer_sdp: str, media_srv, codec: str) -> None:
    pub_sig, sub_sig = mp.HttpSignalling(media_srv.janus_url), mp.HttpSignalling(media_srv.janus_url)
    await pub_sig.start()
    await sub_sig.start()
    peer = None
    try:
        room = await create_room(pub_sig, videocodec=codec, bitrate=2_000_000)
        pub = await pub_sig.attach(VIDEOROOM)
        joined = await request(pub_sig, pub, {"request": "join", "room": room, "ptype": "publisher", "display": "chrome"})
        pub_id = data(joined)["id"]
        offer = {"type": "offer", "sdp": mp.loopback_only_sdp(offer_sdp), "rid_order": "lmh"}
        ev = await request(pub_sig, pub, {"request": "publish"}, offer)
        assert data(ev).get("configured") == "ok", ev
        assert data(ev)["streams"][0].get("simulcast") is True, data(ev)
        assert data(ev)["streams"][0].get("codec") == codec, data(ev)
        assert driver.execute_async_script(ACCEPT, mp.loopback_only_sdp(ev["jsep"]["sdp"])) == "ok"
        await pub_sig.wait_event(mp.is_ev("webrtcup", pub), 20, "publisher webrtcup")

        # Wait until Chromium really sends all three layers (it ramps the top one up).
        end = time.time() + 30
        layers = []
        while time.time() < end:
            layers = driver.execute_async_script(SENT_LAYERS)
            if len(layers) == 3 and all(w > 0 and f > 0 for _, w, f in layers):
                break
            await asyncio.sleep(0.5)
        assert len(layers) == 3 and all(w > 0 for _, w, _ in layers), layers

        handle = await sub_sig.attach(VIDEOROOM)
        attached = await request(sub_sig, handle, {"request": "join", "room": room, "ptype": "subscriber",
                                                   "streams": [{"feed": pub_id}]})
        peer = mp.SubscriberPeer()
        peer.watch_video()
        await request(sub_sig, handle, {"request": "start"}, await peer.answer(attached["jsep"]))
        await peer.wait_media(video_frames=10, audio_frames=0, timeout=20)

        async def settle(wanted, what: str) -> tuple[int, int]:
            end = time.time() + 20
            while time.time() < end:
                sizes = peer.stats.recent_sizes
                if len(sizes) >= 10 and all(wanted(w) for w, _ in sizes[-10:]):
                    frames = peer.stats.video_frames
                    await asyncio.sleep(1.0)
                    # About 20 frames/s arrive; fewer than 5 means they stopped (a loaded machine's
                    # Python decoder alone can lose a few).
                    assert peer.stats.video_frames - frames >= 5, f"{what}: frames stopped"
                    return sizes[-1]
                await asyncio.sleep(0.1)
            raise AssertionError(f"{what}: decoded sizes {peer.stats.recent_sizes[-10:]}, sent {layers}")

        async def settle_on(substream: int, wanted, what: str) -> tuple[int, int]:
            ev = await request(sub_sig, handle, {"request": "configure", "streams": [{"mid": "0", "substream": substream}]})
            assert data(ev).get("configured") == "ok", ev
            return await settle(wanted, what)

        top = await settle_on(2, lambda w: w >= 900, "substream 2")
        low = await settle_on(0, lambda w: w <= 300, "substream 0")
        again = await settle_on(2, lambda w: w >= 900, "substream 2 again")
        # The publisher stops its top layer: the subscriber falls back to the middle one, which
        # still arrives, and goes back up when the top one returns (no request in between).
        assert driver.execute_async_script(TOP_LAYER_ACTIVE, False) == "ok"
        fallback = await settle(lambda w: 400 <= w <= 500, "fallback to substream 1 without the top rid")
        assert driver.execute_async_script(TOP_LAYER_ACTIVE, True) == "ok"
        back = await settle(lambda w: w >= 900, "back to substream 2 when the top rid returns")
        print(f"\n[{media_srv.target}] {codec} substream 2 {top}, 0 {low}, 2 {again}, "
              f"top rid off {fallback}, on again {back}")
        if codec != "vp8":
            return
        # Every frame of the layers forwarded so far went out (temporal 2): picture IDs +0/+1 only,
        # through the requested switches and the fallback.
        switched_heads = list(peer.video_heads)
        jumps, compared = vp8_numbering_jumps(switched_heads)
        print(f"[{media_srv.target}] VP8 descriptors: {compared} adjacent packets compared, jumps {jumps[:5]}")
        assert compared > 100, compared
        assert not jumps, f"VP8 numbering not continuous across substream switches: {jumps[:10]}"

        # Temporal layers (Chromium's VP8 simulcast has three): temporal 0 keeps about a quarter
        # of the frames, temporal 2 all of them again.
        async def fps(temporal: int) -> float:
            ev = await request(sub_sig, handle, {"request": "configure", "streams": [{"mid": "0", "temporal": temporal}]})
            assert data(ev).get("configured") == "ok", ev
            await asyncio.sleep(1.5)
            frames, start = peer.stats.video_frames, time.time()
            await asyncio.sleep(3.0)
            return (peer.stats.video_frames - frames) / (time.time() - start)

        full, base_only, full_again = await fps(2), await fps(0), await fps(2)
        print(f"[{media_srv.target}] fps: temporal 2 {full:.1f}, 0 {base_only:.1f}, 2 {full_again:.1f}")
        assert base_only > 2 and base_only < 0.6 * full, (full, base_only)
        assert full_again > 0.8 * full, (full, full_again)
        # Dropped temporal layers leave picture ID gaps (as in the sender's own numbering), but
        # every TL0 frame went out: TL0PICIDX stays continuous throughout.
        jumps, _ = vp8_numbering_jumps(peer.video_heads[len(switched_heads):], check_picture_ids=False)
        assert not jumps, f"TL0PICIDX not continuous while switching temporal layers: {jumps[:10]}"
    finally:
        if peer is not None:
            await peer.close()
        await pub_sig.close()
        await sub_sig.close()


@pytest.fixture
def media_srv(request):
    srv = mp.media_server(request.config)
    yield srv
    assert srv.alive(), f"server under test died during the test\n--- log tail ---\n{srv.log_tail()}"
