"""Publisher `configure` with per-stream `send` (and the older `audio`/`video` booleans): the
server stops relaying that published stream to subscribers and resumes it (with a keyframe
request, so the picture comes back at once). aiortc publisher and subscriber on loopback; the
same test runs against Janus 1.1.2 (CONFAB_TARGET=janus).

Recorded from Janus 1.1.2 (asserted below):
- `configure` with `streams: [{"mid": "1", "send": false}]` → `{"videoroom": "event", "room",
  "configured": "ok"}`; the subscriber's video stops, its audio keeps coming
- `send: true` → the video comes back within a second
- the old `"video": false` / `"video": true` (`"audio"` likewise) do the same for every stream
  of that kind; a `streams` element without `mid` is accepted but turns nothing on or off
- neither `listparticipants` nor the publisher's Admin `handle_info` shows the flag
"""
from __future__ import annotations

import asyncio

import media_peers as mp
from test_videoroom_media import (Publisher, check_decoded, create_room, data, media_srv,  # noqa: F401
                                  request, run, subscribe)


async def frames_during(peer: mp.SubscriberPeer, seconds: float) -> tuple[int, int]:
    """(video frames, audio frames) the subscriber decoded in the next `seconds`."""
    v0, a0 = peer.stats.video_frames, peer.stats.audio_frames
    await asyncio.sleep(seconds)
    return peer.stats.video_frames - v0, peer.stats.audio_frames - a0


def test_configure_send_false_stops_a_published_stream_and_true_resumes_it(media_srv):
    async def scenario() -> None:
        pub_sig, sub_sig = mp.HttpSignalling(media_srv.janus_url), mp.HttpSignalling(media_srv.janus_url)
        await pub_sig.start()
        await sub_sig.start()
        peers: list = []
        try:
            room = await create_room(pub_sig)
            pub = Publisher(pub_sig, "toggler")
            peers.append(pub.peer)
            await pub.join_and_publish(room)
            await pub_sig.wait_event(mp.is_ev("webrtcup", pub.handle), 15, "publisher webrtcup")
            handle, peer, _ = await subscribe(sub_sig, room, pub.id)
            peers.append(peer)
            await peer.wait_media(video_frames=20, audio_frames=20, timeout=20)
            async def configure(body: dict) -> None:
                ev = await request(pub_sig, pub.handle, {"request": "configure", **body})
                assert data(ev) == {"videoroom": "event", "room": room, "configured": "ok"}, ev
                await asyncio.sleep(0.5)   # what was already on its way, or the keyframe coming

            for stop, resume in (({"streams": [{"mid": "1", "send": False}]}, {"streams": [{"mid": "1", "send": True}]}),
                                 ({"video": False}, {"video": True})):
                await configure(stop)
                video, audio = await frames_during(peer, 2.0)
                assert video <= 2 and audio >= 50, f"{stop}: video should stop, audio go on ({video}, {audio})"
                await configure(resume)
                video, audio = await frames_during(peer, 2.0)
                assert video >= 20 and audio >= 50, f"{resume}: video should come back ({video}, {audio})"
                check_decoded(peer.stats)

            await configure({"audio": False})
            video, audio = await frames_during(peer, 2.0)
            assert video >= 20 and audio <= 2, f"audio: false: audio should stop, video go on ({video}, {audio})"
            await configure({"streams": [{"send": True}]})   # no mid: accepted, changes no stream
            video, audio = await frames_during(peer, 2.0)
            assert video >= 20 and audio <= 2, f"a send without mid changed something ({video}, {audio})"
            await configure({"audio": True})
            video, audio = await frames_during(peer, 2.0)
            assert video >= 20 and audio >= 50, f"audio: true: audio should come back ({video}, {audio})"
        finally:
            for p in peers:
                await p.close()
            await pub_sig.close()
            await sub_sig.close()

    run(scenario())
