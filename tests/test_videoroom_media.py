"""janus.plugin.videoroom with media: aiortc publishers and subscribers on loopback.

A publisher (aiortc: 440 Hz sine as Opus, moving white bar on grey as VP8) publishes into a room;
subscribers join with `ptype: subscriber`, answer the server's offer and must decode the
publisher's picture and tone. The same test runs against Janus 1.1.2 (CONFAB_TARGET=janus).

Recorded from Janus 1.1.2 (all asserted below):
- `publish` with an offer → `{"videoroom":"event","room","configured":"ok","audio_codec":"opus",
  "video_codec":"vp8","streams":[{"type":"audio","mindex":0,"mid":"0","codec":"opus"},
  {"type":"video","mindex":1,"mid":"1","description":"cam","codec":"vp8"}]}` + jsep answer
- the others in the room then hear `{"videoroom":"event","room","publishers":[{"id","display",
  "audio_codec","video_codec","streams":[...same entries...]}]}` (after the publisher's webrtcup)
- subscriber `join` → `{"videoroom":"attached","room","streams":[{"type","active":true,"mindex",
  "mid","ready":false,"send":true,"feed_id","feed_display","feed_mid","feed_description"?,
  "codec"}]}` + jsep offer (sendonly m-lines, the publisher's codecs)
- `start` with the answer → `{"videoroom":"event","room","started":"ok"}`; `pause` → `"paused":"ok"`;
  subscriber `configure` → `"configured":"ok"`; publisher `configure` without jsep → `"configured":"ok"`
- `unpublish` → `"unpublished":"ok"`, then the core's `hangup` with reason "Close PC"; the others
  hear `"unpublished": <id>` twice; `leave` → `"leaving":"ok"` and the others hear `"leaving": <id>`
"""
from __future__ import annotations

import asyncio
import time

import pytest

import media_peers as mp
from janus_client import VIDEOROOM, assert_keys, unique_room

ROOM_SECRET = "adminpwd"


@pytest.fixture
def media_srv(request):
    srv = mp.media_server(request.config)
    yield srv
    assert srv.alive(), f"server under test died during the test\n--- log tail ---\n{srv.log_tail()}"


def run(coro, timeout: float = 90.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def data(ev: dict) -> dict:
    return ev["plugindata"]["data"]


async def request(sig: mp.Signalling, handle_id: int, body: dict, jsep=None, timeout: float = 15.0) -> dict:
    ack, ev = await sig.echo_request(handle_id, body, jsep, timeout)
    assert ack.get("janus") == "ack", ack
    assert ev["plugindata"]["plugin"] == VIDEOROOM, ev
    return ev


async def create_room(sig: mp.Signalling, **options) -> int:
    room = unique_room()
    h = await sig.attach(VIDEOROOM)
    r = await sig.message(h, {"request": "create", "room": room, **{"publishers": 6, **options}})
    assert data(r)["videoroom"] == "created", r
    await sig.request({"janus": "detach", "handle_id": h})
    return room


class Publisher:
    """A participant that joins and publishes audio + video."""

    def __init__(self, sig: mp.Signalling, display: str, audio: bool = True):
        self.sig = sig
        self.display = display
        self.peer = mp.EchoPeer(audio=audio)
        self.handle = 0
        self.id = 0

    async def join_and_publish(self, room: int) -> dict:
        self.handle = await self.sig.attach(VIDEOROOM)
        joined = await request(self.sig, self.handle, {"request": "join", "room": room, "ptype": "publisher",
                                                        "display": self.display})
        assert data(joined)["videoroom"] == "joined", joined
        self.id = data(joined)["id"]
        offer = await self.peer.offer()
        ev = await request(self.sig, self.handle, {"request": "publish", "audio": True, "video": True,
                                                   "descriptions": [{"mid": "1", "description": "cam"}]}, offer)
        assert "jsep" in ev, mp.strip_sdp(ev)
        await self.peer.accept(ev["jsep"])
        return ev


async def subscribe(sig: mp.Signalling, room: int, feed: int,
                    peer: mp.SubscriberPeer | None = None) -> tuple[int, mp.SubscriberPeer, dict]:
    handle = await sig.attach(VIDEOROOM)
    attached = await request(sig, handle, {"request": "join", "room": room, "ptype": "subscriber",
                                           "streams": [{"feed": feed}]})
    assert data(attached)["videoroom"] == "attached", attached
    peer = peer or mp.SubscriberPeer()
    answer = await peer.answer(attached["jsep"])
    started = await request(sig, handle, {"request": "start"}, answer)
    assert data(started) == {"videoroom": "event", "room": room, "started": "ok"}, started
    return handle, peer, attached


def check_decoded(stats: mp.ReceiveStats) -> None:
    s = stats.summary()
    assert s["video_sizes"] == [(mp.WIDTH, mp.HEIGHT)], s
    assert s["distinct_bar_positions"] >= 5, f"the forwarded picture does not move: {s}"
    assert s["max_bar_contrast"] > 40, f"the forwarded picture has no bar: {s}"
    assert s["max_audio_rms"] > 1000, f"the forwarded audio is silence: {s}"


def check_configured(ev: dict, room: int) -> None:
    d = data(ev)
    assert_keys(d, {"videoroom", "room", "configured", "audio_codec", "video_codec", "streams"}, "configured")
    assert d["configured"] == "ok" and d["room"] == room and ev["jsep"]["type"] == "answer", d
    assert (d["audio_codec"], d["video_codec"]) == ("opus", "vp8"), d
    assert d["streams"] == [
        {"type": "audio", "mindex": 0, "mid": "0", "codec": "opus"},
        {"type": "video", "mindex": 1, "mid": "1", "description": "cam", "codec": "vp8"},
    ], d
    sdp = ev["jsep"]["sdp"]
    assert sdp.count("a=recvonly") == 2 and "a=sendrecv" not in sdp, sdp


def check_attached(ev: dict, room: int, publisher: Publisher) -> None:
    d = data(ev)
    assert_keys(d, {"videoroom", "room", "streams"}, "attached")
    assert ev["jsep"]["type"] == "offer", mp.strip_sdp(ev)
    common = {"active": True, "ready": False, "send": True, "feed_id": publisher.id,
              "feed_display": publisher.display}
    assert d["streams"] == [
        {"type": "audio", "mindex": 0, "mid": "0", "feed_mid": "0", "codec": "opus", **common},
        {"type": "video", "mindex": 1, "mid": "1", "feed_mid": "1", "feed_description": "cam", "codec": "vp8", **common},
    ], d
    sdp = ev["jsep"]["sdp"]
    assert sdp.count("a=sendonly") == 2 and "opus/48000/2" in sdp and "VP8/90000" in sdp, sdp


def test_one_publisher_two_subscribers(media_srv):
    """Both subscribers decode the publisher's moving bar and tone; events have Janus's shapes."""

    async def scenario() -> None:
        sigs = [mp.HttpSignalling(media_srv.janus_url) for _ in range(4)]
        for s in sigs:
            await s.start()
        watcher_sig, pub_sig, sub1_sig, sub2_sig = sigs
        peers: list = []
        try:
            room = await create_room(watcher_sig)
            watcher = await watcher_sig.attach(VIDEOROOM)
            await request(watcher_sig, watcher, {"request": "join", "room": room, "ptype": "publisher",
                                                 "display": "watcher"})
            pub = Publisher(pub_sig, "alice")
            peers.append(pub.peer)
            check_configured(await pub.join_and_publish(room), room)

            # The room hears about the new publisher once its PeerConnection is up.
            ev = await watcher_sig.wait_event(lambda e: "publishers" in e.get("plugindata", {}).get("data", {}), 15,
                                              "publishers event")
            assert data(ev) == {"videoroom": "event", "room": room, "publishers": [{
                "id": pub.id, "display": "alice", "audio_codec": "opus", "video_codec": "vp8",
                "streams": [{"type": "audio", "mindex": 0, "mid": "0", "codec": "opus"},
                            {"type": "video", "mindex": 1, "mid": "1", "description": "cam", "codec": "vp8"}]}]}, ev

            subs = []
            for sig in (sub1_sig, sub2_sig):
                handle, peer, attached = await subscribe(sig, room, pub.id)
                peers.append(peer)
                check_attached(attached, room, pub)
                subs.append((sig, handle, peer))
            for sig, handle, peer in subs:
                await sig.wait_event(mp.is_ev("webrtcup", handle), 15, "subscriber webrtcup")
                await peer.wait_media(video_frames=30, audio_frames=50, timeout=20)
                check_decoded(peer.stats)

            # pause stops the flow, start resumes it
            sig, handle, peer = subs[0]
            paused = await request(sig, handle, {"request": "pause"})
            assert data(paused) == {"videoroom": "event", "room": room, "paused": "ok"}, paused
            await asyncio.sleep(0.5)
            frozen = peer.stats.video_frames
            await asyncio.sleep(1.0)
            assert peer.stats.video_frames - frozen <= 2, "video still flows while paused"
            resumed = await request(sig, handle, {"request": "start"})
            assert data(resumed) == {"videoroom": "event", "room": room, "started": "ok"}, resumed
            await peer.wait_media(video_frames=frozen + 20, audio_frames=0, timeout=10)

            # unpublish: the publisher hears "ok" then its PeerConnection closes; the room hears it
            ev = await request(pub_sig, pub.handle, {"request": "unpublish"})
            assert data(ev) == {"videoroom": "event", "room": room, "unpublished": "ok"}, ev
            hang = await pub_sig.wait_event(mp.is_ev("hangup", pub.handle), 10, "publisher hangup")
            assert hang["reason"] == "Close PC", hang
            await watcher_sig.wait_event(lambda e: data_is(e, {"videoroom": "event", "room": room,
                                                              "unpublished": pub.id}), 10, "unpublished")
            # Subscribers get `updated` with an offer keeping the m-lines, now inactive.
            for sig, handle, peer in subs:
                ev = await sig.wait_event(lambda e: mp.is_ev("event", handle)(e)
                                          and data(e).get("videoroom") == "updated", 10, "updated")
                assert "transaction" not in ev and ev["jsep"]["type"] == "offer", mp.strip_sdp(ev)
                assert data(ev) == {"videoroom": "updated", "room": room, "streams": [
                    {"type": "audio", "active": False, "mindex": 0, "mid": "0", "ready": False, "send": True},
                    {"type": "video", "active": False, "mindex": 1, "mid": "1", "ready": False, "send": True},
                ]}, ev
                assert ev["jsep"]["sdp"].count("a=inactive") == 2, ev["jsep"]["sdp"]
                answer = await peer.answer(ev["jsep"])
                started = await request(sig, handle, {"request": "start"}, answer)
                assert data(started) == {"videoroom": "event", "room": room, "started": "ok"}, started
            ev = await request(pub_sig, pub.handle, {"request": "leave"})
            assert data(ev) == {"videoroom": "event", "room": room, "leaving": "ok"}, ev
            await watcher_sig.wait_event(lambda e: data_is(e, {"videoroom": "event", "room": room,
                                                              "leaving": pub.id}), 10, "leaving")
        finally:
            for p in peers:
                await p.close()
            for s in sigs:
                await s.close()

    run(scenario())


def data_is(ev: dict, expected: dict) -> bool:
    return ev.get("janus") == "event" and ev.get("plugindata", {}).get("data") == expected


def test_late_subscriber_gets_a_keyframe_quickly(media_srv):
    """A subscriber joining minutes... well, seconds into a call decodes video within a second or
    two: the server asks the publisher for a keyframe instead of waiting for the next one."""

    async def scenario() -> None:
        pub_sig, sub_sig = mp.HttpSignalling(media_srv.janus_url), mp.HttpSignalling(media_srv.janus_url)
        await pub_sig.start()
        await sub_sig.start()
        peers: list = []
        try:
            room = await create_room(pub_sig)
            pub = Publisher(pub_sig, "bob")
            peers.append(pub.peer)
            await pub.join_and_publish(room)
            await pub_sig.wait_event(mp.is_ev("webrtcup", pub.handle), 15, "publisher webrtcup")
            await asyncio.sleep(4.0)   # well past the publisher's first keyframe
            handle, peer, _ = await subscribe(sub_sig, room, pub.id)
            peers.append(peer)
            up = await sub_sig.wait_event(mp.is_ev("webrtcup", handle), 15, "subscriber webrtcup")
            await peer.wait_media(video_frames=1, audio_frames=0, timeout=10)
            delay = peer.stats.first_video_at - sub_sig.received_at(up)
            assert delay < 2.0, f"first decoded frame {delay:.2f}s after webrtcup"
            assert pub.peer.feedback("pli") or pub.peer.feedback("fir"), "no keyframe request reached the publisher"
        finally:
            for p in peers:
                await p.close()
            await pub_sig.close()
            await sub_sig.close()

    run(scenario())


def test_publisher_hangup_stops_forwarding_and_room_hears_unpublished(media_srv):
    """The publisher's PeerConnection closing (DTLS alert) unpublishes it."""

    async def scenario() -> None:
        pub_sig, sub_sig = mp.HttpSignalling(media_srv.janus_url), mp.HttpSignalling(media_srv.janus_url)
        await pub_sig.start()
        await sub_sig.start()
        peers: list = []
        try:
            room = await create_room(pub_sig)
            watcher = await sub_sig.attach(VIDEOROOM)
            await request(sub_sig, watcher, {"request": "join", "room": room, "ptype": "publisher"})
            pub = Publisher(pub_sig, "carol")
            peers.append(pub.peer)
            await pub.join_and_publish(room)
            # A feed can be subscribed to once its PeerConnection is up ("No such feed" before).
            await pub_sig.wait_event(mp.is_ev("webrtcup", pub.handle), 15, "publisher webrtcup")
            handle, peer, _ = await subscribe(sub_sig, room, pub.id)
            peers.append(peer)
            await peer.wait_media(video_frames=10, audio_frames=10, timeout=20)
            await pub.peer.close()
            await sub_sig.wait_event(lambda e: data_is(e, {"videoroom": "event", "room": room,
                                                          "unpublished": pub.id}), 10, "unpublished")
            hang = await pub_sig.wait_event(mp.is_ev("hangup", pub.handle), 10, "publisher hangup")
            assert hang["reason"] == "DTLS alert", hang
            await asyncio.sleep(0.5)
            count = peer.stats.video_frames
            await asyncio.sleep(1.0)
            assert peer.stats.video_frames == count, "frames still arrive after the publisher hung up"
        finally:
            for p in peers:
                await p.close()
            await pub_sig.close()
            await sub_sig.close()

    run(scenario())


def test_subscriber_losses_are_repaired_by_retransmission(media_srv):
    """The subscriber loses 5% of the video packets; its NACKs are answered by the server (from
    what it sent to that subscriber), so most losses are repaired and the picture keeps moving.
    The offer announces RTX (RFC 4588, `ssrc-group:FID`) and aiortc keeps it, so the repairs come
    as RTX packets on the RTX SSRC."""

    async def scenario() -> None:
        pub_sig, sub_sig = mp.HttpSignalling(media_srv.janus_url), mp.HttpSignalling(media_srv.janus_url)
        await pub_sig.start()
        await sub_sig.start()
        peers: list = []
        try:
            room = await create_room(pub_sig)
            pub = Publisher(pub_sig, "dave")
            peers.append(pub.peer)
            await pub.join_and_publish(room)
            await pub_sig.wait_event(mp.is_ev("webrtcup", pub.handle), 15, "publisher webrtcup")
            lossy = mp.SubscriberPeer()
            lossy.drop_video(0.05)
            _, peer, attached = await subscribe(sub_sig, room, pub.id, lossy)
            peers.append(peer)
            video_offer = attached["jsep"]["sdp"].split("m=video", 1)[1]
            assert "rtx/90000" in video_offer and "a=ssrc-group:FID" in video_offer, video_offer
            await peer.wait_media(video_frames=30, audio_frames=0, timeout=20)
            await asyncio.sleep(6.0)
            peer.check_losses_repaired()
            check_decoded(peer.stats) if peer.stats.audio_frames else None
            assert len(set(peer.stats.bar_positions)) >= 5, peer.stats.summary()
        finally:
            for p in peers:
                await p.close()
            await pub_sig.close()
            await sub_sig.close()

    run(scenario())


def test_publisher_losses_are_repaired_by_nacks_to_the_publisher(media_srv):
    """The publisher's uplink loses 8% of its video packets (dropped at the sender, after aiortc
    kept them for retransmission): the server sees the gaps and NACKs them (RFC 4585), the
    publisher resends them as RTX, the server turns those back into the packets they repair and
    forwards them, so the subscriber ends up missing almost nothing and the picture moves."""

    async def scenario() -> None:
        pub_sig, sub_sig = mp.HttpSignalling(media_srv.janus_url), mp.HttpSignalling(media_srv.janus_url)
        await pub_sig.start()
        await sub_sig.start()
        peers: list = []
        try:
            room = await create_room(pub_sig)
            pub = Publisher(pub_sig, "lossy uplink")
            pub.peer.drop_sent_video(0.08)
            peers.append(pub.peer)
            ev = await pub.join_and_publish(room)
            assert "rtx/90000" in ev["jsep"]["sdp"].split("m=video", 1)[1], "the publisher's RTX was not accepted"
            await pub_sig.wait_event(mp.is_ev("webrtcup", pub.handle), 15, "publisher webrtcup")
            watcher = mp.SubscriberPeer()
            watcher.watch_video()
            _, peer, _ = await subscribe(sub_sig, room, pub.id, watcher)
            peers.append(peer)
            await peer.wait_media(video_frames=30, audio_frames=10, timeout=20)
            await asyncio.sleep(8.0)
            mp.check_uplink_nacked(pub.peer, "publisher")
            # The subscriber's stream: gaps that stayed open.
            missing, top = mp.open_gaps(peer.video_sequences)
            assert len(missing) <= max(2, 0.01 * top), (
                f"{len(missing)} of {top} packets never reached the subscriber "
                f"({len(pub.peer.sent_dropped)} lost on the uplink, {len(pub.peer.resent)} resent)")
            check_decoded(peer.stats)
        finally:
            for p in peers:
                await p.close()
            await pub_sig.close()
            await sub_sig.close()

    run(scenario())


def test_update_adds_and_removes_streams_with_renegotiation(media_srv):
    """One subscriber PeerConnection, renegotiated with `update`: B's streams are added as new
    m-lines, A's removed ones turn inactive (and are reused by the next subscription); Janus's
    errors for an empty update and an unknown feed."""

    async def scenario() -> None:
        sigs = [mp.HttpSignalling(media_srv.janus_url) for _ in range(3)]
        for s in sigs:
            await s.start()
        a_sig, b_sig, sub_sig = sigs
        peers: list = []
        try:
            room = await create_room(a_sig)
            a, b = Publisher(a_sig, "A"), Publisher(b_sig, "B")
            peers += [a.peer, b.peer]
            for p in (a, b):
                await p.join_and_publish(room)
                await p.sig.wait_event(mp.is_ev("webrtcup", p.handle), 15, "publisher webrtcup")
            handle, peer, _ = await subscribe(sub_sig, room, a.id)
            peers.append(peer)
            await sub_sig.wait_event(mp.is_ev("webrtcup", handle), 15, "subscriber webrtcup")

            ev = await request(sub_sig, handle, {"request": "update", "subscribe": [{"feed": b.id}]})
            d = data(ev)
            assert d["videoroom"] == "updated" and d["room"] == room and ev["jsep"]["type"] == "offer", d
            lines = [(s["mid"], s["type"], s.get("feed_id"), s["active"], s["ready"]) for s in d["streams"]]
            assert lines == [("0", "audio", a.id, True, True), ("1", "video", a.id, True, True),
                             ("2", "audio", b.id, True, False), ("3", "video", b.id, True, False)], lines
            started = await request(sub_sig, handle, {"request": "start"}, await peer.answer(ev["jsep"]))
            assert data(started) == {"videoroom": "event", "room": room, "started": "ok"}, started

            async def frames(mid: str, at_least: int, timeout: float = 20) -> int:
                end = time.time() + timeout
                while time.time() < end:
                    stats = peer.stats_by_mid.get(mid)
                    if stats and stats.video_frames >= at_least:
                        return stats.video_frames
                    await asyncio.sleep(0.1)
                raise AssertionError(f"mid {mid}: fewer than {at_least} frames: "
                                     f"{ {m: s.video_frames for m, s in peer.stats_by_mid.items()} }")

            await frames("1", 20)
            await frames("3", 20)
            assert len(set(peer.stats_by_mid["3"].bar_positions)) >= 5, peer.stats_by_mid["3"].summary()

            ev = await request(sub_sig, handle, {"request": "update", "unsubscribe": [{"feed": a.id}]})
            lines = [(s["mid"], s["active"], s.get("feed_id")) for s in data(ev)["streams"]]
            assert lines == [("0", False, None), ("1", False, None), ("2", True, b.id), ("3", True, b.id)], lines
            sdp = ev["jsep"]["sdp"]
            assert sdp.count("a=inactive") == 2 and sdp.count("a=sendonly") == 2, sdp
            await request(sub_sig, handle, {"request": "start"}, await peer.answer(ev["jsep"]))
            await asyncio.sleep(0.5)
            a_frames, b_frames = peer.stats_by_mid["1"].video_frames, peer.stats_by_mid["3"].video_frames
            await asyncio.sleep(1.5)
            assert peer.stats_by_mid["1"].video_frames - a_frames <= 1, "A still arrives after unsubscribing"
            assert peer.stats_by_mid["3"].video_frames - b_frames >= 15, "B stopped too"

            # Subscribing to A again reuses the inactive m-lines 0 and 1. (aiortc does not restart a
            # receiver whose transceiver went inactive, so only the negotiation is checked here.)
            ev = await request(sub_sig, handle, {"request": "update", "subscribe": [{"feed": a.id}]})
            lines = [(s["mid"], s["active"], s.get("feed_id")) for s in data(ev)["streams"]]
            assert lines == [("0", True, a.id), ("1", True, a.id), ("2", True, b.id), ("3", True, b.id)], lines
            started = await request(sub_sig, handle, {"request": "start"}, await peer.answer(ev["jsep"]))
            assert data(started) == {"videoroom": "event", "room": room, "started": "ok"}, started

            ev = await request(sub_sig, handle, {"request": "update"})
            assert data(ev) == {"videoroom": "event", "error_code": 429,
                                "error": "At least one of either 'subscribe' or 'unsubscribe' must be present"}, ev
            ev = await request(sub_sig, handle, {"request": "update", "subscribe": [{"feed": 123}]})
            assert data(ev) == {"videoroom": "event", "error_code": 428, "error": "No such feed (123)"}, ev
            ev = await request(sub_sig, handle, {"request": "leave"})
            assert data(ev) == {"videoroom": "event", "room": room, "left": "ok"}, ev
            hang = await sub_sig.wait_event(mp.is_ev("hangup", handle), 10, "subscriber hangup")
            assert hang["reason"] == "Close PC", hang
        finally:
            for p in peers:
                await p.close()
            for s in sigs:
                await s.close()

    run(scenario(), timeout=120)


def test_full_room_refuses_another_publisher(media_srv):
    """`publishers: 1` with someone publishing: the next participant may join, but its offer is
    refused with 432; publishing again (renegotiating) is not counted against the publisher itself."""

    async def scenario() -> None:
        a_sig, b_sig = mp.HttpSignalling(media_srv.janus_url), mp.HttpSignalling(media_srv.janus_url)
        await a_sig.start()
        await b_sig.start()
        peers: list = []
        try:
            room = await create_room(a_sig, publishers=1)
            a = Publisher(a_sig, "A")
            peers.append(a.peer)
            await a.join_and_publish(room)
            await a_sig.wait_event(mp.is_ev("webrtcup", a.handle), 15, "publisher webrtcup")
            b = Publisher(b_sig, "B")
            peers.append(b.peer)
            b.handle = await b_sig.attach(VIDEOROOM)
            joined = await request(b_sig, b.handle, {"request": "join", "room": room, "ptype": "publisher"})
            assert data(joined)["videoroom"] == "joined", joined
            assert [p["id"] for p in data(joined)["publishers"]] == [a.id], joined
            ev = await request(b_sig, b.handle, {"request": "publish"}, await b.peer.offer())
            assert data(ev) == {"videoroom": "event", "error_code": 432,
                                "error": "Maximum number of publishers (1) already reached"}, ev
            assert "jsep" not in ev, mp.strip_sdp(ev)
        finally:
            for p in peers:
                await p.close()
            await a_sig.close()
            await b_sig.close()

    run(scenario())


def test_talking_events_from_audio_levels(media_srv):
    """`audiolevel_event` rooms: the publisher's audio levels (aiortc's 440 Hz tone, about 13 -dBov)
    make everyone, the speaker included, hear `talking`; listparticipants says so too."""

    async def scenario() -> None:
        w_sig, p_sig = mp.HttpSignalling(media_srv.janus_url), mp.HttpSignalling(media_srv.janus_url)
        await w_sig.start()
        await p_sig.start()
        peers: list = []
        try:
            room = await create_room(w_sig, audiolevel_event=True, audio_active_packets=10, audio_level_average=40)
            watcher = await w_sig.attach(VIDEOROOM)
            await request(w_sig, watcher, {"request": "join", "room": room, "ptype": "publisher", "display": "w"})
            talker = Publisher(p_sig, "talker")
            peers.append(talker.peer)
            await talker.join_and_publish(room)
            for sig in (w_sig, p_sig):
                ev = await sig.wait_event(lambda e: e.get("janus") == "event"
                                          and data(e).get("videoroom") == "talking", 10, "talking")
                d = data(ev)
                assert_keys(d, {"videoroom", "room", "id", "mindex", "mid", "audio-level-dBov-avg"}, "talking")
                assert (d["room"], d["id"], d["mindex"], d["mid"]) == (room, talker.id, 0, "0"), d
                # Janus writes a real (13.0); Confab's JSON writes whole doubles without ".0" (13).
                assert isinstance(d["audio-level-dBov-avg"], (int, float)) and d["audio-level-dBov-avg"] < 40, d
            listed = await w_sig.message(watcher, {"request": "listparticipants", "room": room})
            entry = next(p for p in data(listed)["participants"] if p["id"] == talker.id)
            assert entry == {"id": talker.id, "display": "talker", "publisher": True, "talking": True}, entry
        finally:
            for p in peers:
                await p.close()
            await w_sig.close()
            await p_sig.close()

    run(scenario())


def test_rtp_forward_sends_plain_rtp_to_a_local_port(media_srv):
    """rtp_forward (multistream `streams` and the deprecated `audio_port`), listforwarders,
    stop_rtp_forward, with Janus 1.1.2's shapes and errors; the UDP ports receive plain RTP with
    the publisher's payload types; forwarders end with the publisher's PeerConnection."""
    import socket

    async def receive(sock: socket.socket, count: int) -> list[bytes]:
        return [(await asyncio.to_thread(sock.recvfrom, 2000))[0] for _ in range(count)]

    async def scenario() -> None:
        sig = mp.HttpSignalling(media_srv.janus_url)
        await sig.start()
        pub = Publisher(sig, "fw")
        socks = []
        try:
            room = await create_room(sig, secret="s3cret")
            await pub.join_and_publish(room)
            await sig.wait_event(mp.is_ev("webrtcup", pub.handle), 15, "publisher webrtcup")
            for _ in range(2):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind(("127.0.0.1", 0))
                s.settimeout(5)
                socks.append(s)
            audio_port, video_port = (s.getsockname()[1] for s in socks)
            base = {"request": "rtp_forward", "room": room, "publisher_id": pub.id, "host": "127.0.0.1"}

            r = await sig.message(pub.handle, {**base, "streams": [{"mid": "0", "port": audio_port}]})
            assert data(r) == {"videoroom": "event", "error_code": 429, "error": "Missing mandatory element (secret)"}, r
            r = await sig.message(pub.handle, {**{k: v for k, v in base.items() if k != "host"}, "secret": "s3cret",
                                               "streams": [{"mid": "0", "port": audio_port}]})
            assert data(r) == {"videoroom": "event", "error_code": 429, "error": "Missing mandatory element (host)"}, r
            r = await sig.message(pub.handle, {**base, "publisher_id": 5, "secret": "s3cret",
                                               "streams": [{"mid": "0", "port": audio_port}]})
            assert data(r) == {"videoroom": "event", "error_code": 428, "error": "No such feed (5)"}, r

            r = await sig.message(pub.handle, {**base, "secret": "s3cret", "streams": [
                {"mid": "0", "port": audio_port}, {"mid": "1", "port": video_port}, {"mid": "7", "port": 9}]})
            d = data(r)
            assert_keys(d, {"videoroom", "room", "publisher_id", "forwarders"}, "rtp_forward")
            assert (d["videoroom"], d["room"], d["publisher_id"]) == ("rtp_forward", room, pub.id), d
            assert [(f["type"], f["host"], f["port"]) for f in d["forwarders"]] == [
                ("audio", "127.0.0.1", audio_port), ("video", "127.0.0.1", video_port)], d
            payload_types = []
            for kind, s in zip(("audio", "video"), socks):
                packets = await receive(s, 20)
                assert all(p[0] >> 6 == 2 for p in packets), f"{kind}: not RTP"
                assert len({p[8:12] for p in packets}) == 1, f"{kind}: more than one SSRC"
                payload_types.append({p[1] & 0x7F for p in packets})
            assert all(len(pts) == 1 for pts in payload_types), payload_types
            audio_pt, video_pt = (pts.pop() for pts in payload_types)
            offer_sdp = pub.peer.pc.localDescription.sdp
            assert f"a=rtpmap:{audio_pt} opus/48000/2" in offer_sdp and f"a=rtpmap:{video_pt} VP8/90000" in offer_sdp

            listed = await sig.message(pub.handle, {"request": "listforwarders", "room": room, "secret": "s3cret"})
            assert data(listed) == {"videoroom": "forwarders", "room": room, "publishers": [
                {"publisher_id": pub.id, "display": "fw", "forwarders": d["forwarders"]}]}, listed

            legacy = await sig.message(pub.handle, {**base, "secret": "s3cret", "audio_port": audio_port})
            ld = data(legacy)
            assert set(ld["rtp_stream"]) == {"host", "audio", "audio_stream_id", "warning"}, ld
            assert ld["rtp_stream"]["warning"] == "deprecated_api" and ld["rtp_stream"]["audio"] == audio_port, ld

            stream_id = d["forwarders"][0]["stream_id"]
            stop = {"request": "stop_rtp_forward", "room": room, "publisher_id": pub.id, "secret": "s3cret",
                    "stream_id": stream_id}
            r = await sig.message(pub.handle, stop)
            assert data(r) == {"videoroom": "stop_rtp_forward", "room": room, "publisher_id": pub.id,
                               "stream_id": stream_id}, r
            r = await sig.message(pub.handle, stop)
            assert data(r) == {"videoroom": "event", "error_code": 428, "error": f"No such stream ({stream_id})"}, r

            await pub.peer.close()
            await sig.wait_event(mp.is_ev("hangup", pub.handle), 10, "publisher hangup")
            listed = await sig.message(pub.handle, {"request": "listforwarders", "room": room, "secret": "s3cret"})
            assert data(listed)["publishers"] == [{"publisher_id": pub.id, "display": "fw", "forwarders": []}], listed
        finally:
            for s in socks:
                s.close()
            await pub.peer.close()
            await sig.close()

    run(scenario())


def test_switch_moves_a_subscriber_stream_to_another_publisher(media_srv):
    """`switch` puts B's video on the m-line that carried A's, without renegotiation; the decoder
    keeps going (same SSRC, continuous numbering); Janus's answers for the odd cases."""

    async def scenario() -> None:
        sigs = [mp.HttpSignalling(media_srv.janus_url) for _ in range(3)]
        for s in sigs:
            await s.start()
        a_sig, b_sig, sub_sig = sigs
        peers: list = []
        try:
            room = await create_room(a_sig)
            a, b = Publisher(a_sig, "A"), Publisher(b_sig, "B")
            peers += [a.peer, b.peer]
            for p in (a, b):
                await p.join_and_publish(room)
                await p.sig.wait_event(mp.is_ev("webrtcup", p.handle), 15, "publisher webrtcup")
            handle, peer, _ = await subscribe(sub_sig, room, a.id)
            peers.append(peer)
            await peer.wait_media(video_frames=20, audio_frames=0, timeout=20)

            ev = await request(sub_sig, handle, {"request": "switch",
                                                 "streams": [{"feed": b.id, "mid": "1", "sub_mid": "1"}]})
            d = data(ev)
            assert "jsep" not in ev, mp.strip_sdp(ev)
            assert (d["videoroom"], d["room"], d["switched"], d["changes"]) == ("event", room, "ok", 1), d
            assert [(s["mid"], s["feed_id"], s["feed_display"], s["feed_mid"]) for s in d["streams"]] == [
                ("0", a.id, "A", "0"), ("1", b.id, "B", "1")], d
            before = peer.stats_by_mid["1"].video_frames
            await asyncio.sleep(2.0)
            assert peer.stats_by_mid["1"].video_frames - before >= 20, "video stalled after the switch"

            # an audio mid onto the video m-line, an unknown sub_mid: nothing changes
            for odd in ({"feed": a.id, "mid": "0", "sub_mid": "1"}, {"feed": a.id, "mid": "1", "sub_mid": "9"}):
                ev = await request(sub_sig, handle, {"request": "switch", "streams": [odd]})
                assert data(ev)["changes"] == 0 and data(ev)["switched"] == "ok", ev
            for body, code, error in (
                    ({"request": "switch"}, 428, "No such feed (0)"),
                    ({"request": "switch", "streams": [{"feed": b.id, "mid": "1"}]}, 429,
                     "Missing mandatory element (sub_mid)"),
                    ({"request": "switch", "streams": [{"feed": 999, "mid": "1", "sub_mid": "1"}]}, 428,
                     "No such feed (999)"),
                    ({"request": "switch", "streams": [{"feed": b.id, "mid": "9", "sub_mid": "1"}]}, 428,
                     f"No such mid '9' in feed ({b.id})")):
                ev = await request(sub_sig, handle, body)
                assert data(ev) == {"videoroom": "event", "error_code": code, "error": error}, (body, ev)
        finally:
            for p in peers:
                await p.close()
            for s in sigs:
                await s.close()

    run(scenario())


def test_subscribers_get_sender_reports_on_their_own_timeline(media_srv):
    """Lip sync needs sender reports: each subscriber stream gets the publisher's, with the SSRC it
    receives and an RTP timestamp on the timeline of the packets it receives."""

    async def scenario() -> None:
        pub_sig, sub_sig = mp.HttpSignalling(media_srv.janus_url), mp.HttpSignalling(media_srv.janus_url)
        await pub_sig.start()
        await sub_sig.start()
        peers: list = []
        try:
            room = await create_room(pub_sig)
            pub = Publisher(pub_sig, "sr")
            peers.append(pub.peer)
            await pub.join_and_publish(room)
            await pub_sig.wait_event(mp.is_ev("webrtcup", pub.handle), 15, "publisher webrtcup")
            _, peer, _ = await subscribe(sub_sig, room, pub.id)
            peers.append(peer)
            await peer.wait_media(video_frames=5, audio_frames=5, timeout=20)
            from aiortc.rtp import RtcpSrPacket
            reports: list[tuple[str, int, int, int]] = []   # kind, ssrc, SR rtp ts, last received rtp ts
            last_rtp: dict[int, int] = {}
            for t in peer.pc.getTransceivers():
                receiver, kind = t.receiver, t.kind
                on_rtcp, on_rtp = receiver._handle_rtcp_packet, receiver._handle_rtp_packet

                async def rtcp(packet, on_rtcp=on_rtcp, kind=kind):
                    if isinstance(packet, RtcpSrPacket) and packet.ssrc in last_rtp:
                        reports.append((kind, packet.ssrc, packet.sender_info.rtp_timestamp, last_rtp[packet.ssrc]))
                    await on_rtcp(packet)

                async def rtp(packet, arrival_time_ms, on_rtp=on_rtp):
                    last_rtp[packet.ssrc] = packet.timestamp
                    await on_rtp(packet, arrival_time_ms)

                receiver._handle_rtcp_packet, receiver._handle_rtp_packet = rtcp, rtp
            end = time.time() + 15
            while time.time() < end and {r[0] for r in reports} != {"audio", "video"}:
                await asyncio.sleep(0.2)
            assert {r[0] for r in reports} == {"audio", "video"}, reports
            for kind, ssrc, sr_ts, rtp_ts in reports:
                rate = 48000 if kind == "audio" else 90000
                drift = ((sr_ts - rtp_ts + 2**31) % 2**32) - 2**31
                assert abs(drift) < 2 * rate, f"{kind} SR timestamp {sr_ts} is {drift / rate:.1f}s off {rtp_ts}"
        finally:
            for p in peers:
                await p.close()
            await pub_sig.close()
            await sub_sig.close()

    run(scenario())


def test_three_participants_each_see_the_other_two(media_srv):
    """The meeting case: three aiortc participants publish, each subscribes to the other two in one
    multistream PeerConnection and decodes both; one leaves, the others hear `leaving` (Janus sends
    no `unpublished` then), their subscriptions are renegotiated (its m-lines inactive) and the rest
    keeps flowing."""

    async def scenario() -> None:
        names = ["ada", "grace", "linus"]
        pub_sigs = [mp.HttpSignalling(media_srv.janus_url) for _ in names]
        sub_sigs = [mp.HttpSignalling(media_srv.janus_url) for _ in names]
        for s in pub_sigs + sub_sigs:
            await s.start()
        peers: list = []
        try:
            room = await create_room(pub_sigs[0])
            # Video only: six VP8 decoders and three encoders in one Python process on two cores
            # are the limit of this machine (a lost first keyframe would then mean a long wait).
            pubs = [Publisher(sig, name, audio=False) for sig, name in zip(pub_sigs, names)]
            for p in pubs:
                peers.append(p.peer)
                await p.join_and_publish(room)
            for p in pubs:
                await p.sig.wait_event(mp.is_ev("webrtcup", p.handle), 15, "publisher webrtcup")
            subs = []
            for me, sig in enumerate(sub_sigs):
                others = [p for i, p in enumerate(pubs) if i != me]
                handle = await sig.attach(VIDEOROOM)
                attached = await request(sig, handle, {"request": "join", "room": room, "ptype": "subscriber",
                                                       "streams": [{"feed": o.id} for o in others]})
                assert [s["feed_id"] for s in data(attached)["streams"]] == [others[0].id, others[1].id]
                peer = mp.SubscriberPeer()
                peers.append(peer)
                await request(sig, handle, {"request": "start"}, await peer.answer(attached["jsep"]))
                subs.append((sig, handle, peer))

            async def video_on(peer: mp.SubscriberPeer, mid: str, at_least: int) -> None:
                end = time.time() + 25
                while time.time() < end:
                    s = peer.stats_by_mid.get(mid)
                    if s and s.video_frames >= at_least and len(set(s.bar_positions)) >= 5:
                        return
                    await asyncio.sleep(0.2)
                raise AssertionError(f"mid {mid}: {peer.stats_by_mid.get(mid) and peer.stats_by_mid[mid].summary()}")

            for _, _, peer in subs:
                await video_on(peer, "0", 20)
                await video_on(peer, "1", 20)

            # linus leaves
            leaver = pubs[2]
            ev = await request(leaver.sig, leaver.handle, {"request": "leave"})
            assert data(ev) == {"videoroom": "event", "room": room, "leaving": "ok"}, ev
            for p in pubs[:2]:
                # Leaving while publishing: Janus 1.1.2 says `leaving` only, no `unpublished`.
                await p.sig.wait_event(lambda e: data_is(e, {"videoroom": "event", "room": room,
                                                             "leaving": leaver.id}), 10, "leaving")
                assert not p.sig.seen(lambda e: data_is(e, {"videoroom": "event", "room": room,
                                                            "unpublished": leaver.id})), p.sig.events
            if media_srv.is_janus:
                return   # Janus 1.1.2 sends subscribers no `updated` when a publisher leaves (it does
                #          after `unpublish`); Confab renegotiates in both cases.
            for sig, handle, peer in subs[:2]:
                ev = await sig.wait_event(lambda e: mp.is_ev("event", handle)(e)
                                          and data(e).get("videoroom") == "updated", 10, "updated")
                streams = data(ev)["streams"]
                assert [(s["mid"], s["active"]) for s in streams] == [("0", True), ("1", False)], streams
                await request(sig, handle, {"request": "start"}, await peer.answer(ev["jsep"]))
                before = peer.stats_by_mid["0"].video_frames
                await video_on(peer, "0", before + 20)
        finally:
            for p in peers:
                await p.close()
            for s in pub_sigs + sub_sigs:
                await s.close()

    run(scenario(), timeout=150)


def test_handle_info_shows_publisher_and_subscriber_media(media_srv):
    """Admin handle_info: the publisher's handle receives media, the subscriber's sends it
    (Janus 1.1.2's `webrtc` section: ICE ready, DTLS connected, per-stream directions and counters)."""
    from janus_client import JanusAdmin

    async def scenario() -> None:
        pub_sig, sub_sig = mp.HttpSignalling(media_srv.janus_url), mp.HttpSignalling(media_srv.janus_url)
        await pub_sig.start()
        await sub_sig.start()
        peers: list = []
        try:
            room = await create_room(pub_sig)
            pub = Publisher(pub_sig, "info")
            peers.append(pub.peer)
            await pub.join_and_publish(room)
            await pub_sig.wait_event(mp.is_ev("webrtcup", pub.handle), 15, "publisher webrtcup")
            handle, peer, _ = await subscribe(sub_sig, room, pub.id)
            peers.append(peer)
            await peer.wait_media(video_frames=10, audio_frames=10, timeout=20)
            adm = JanusAdmin(media_srv.admin_url, media_srv.admin_secret)
            for sig, h, receives in ((pub_sig, pub.handle, True), (sub_sig, handle, False)):
                info = adm.request("handle_info", session_id=sig.session_id, handle_id=h)["info"]
                assert info["plugin"] == VIDEOROOM, info
                webrtc = info["webrtc"]
                assert webrtc["ice"]["state"] == "ready" and webrtc["dtls"]["dtls-state"] == "connected", webrtc
                media = sorted(webrtc["media"].values(), key=lambda m: m["type"])
                assert [m["type"] for m in media] == ["audio", "video"], media
                for m in media:
                    assert m["direction"] == {"send": not receives, "recv": receives}, m
                    counter = m["stats"]["in" if receives else "out"]["packets"]
                    assert counter > 0, m
                plugin = info["plugin_specific"]
                if receives:   # the publisher: its streams and how many subscribers each feeds
                    assert (plugin["type"], plugin["room"], plugin["id"], plugin["display"]) == (
                        "publisher", room, pub.id, "info"), plugin
                    assert [(s["type"], s["mid"], s["codec"], s["subscribers"]) for s in plugin["streams"]] == [
                        ("audio", "0", "opus", 1), ("video", "1", "vp8", 1)], plugin
                else:
                    assert {k: plugin[k] for k in ("type", "room", "answered", "paused", "pending_offer")} == {
                        "type": "subscriber", "room": room, "answered": True, "paused": False,
                        "pending_offer": False}, plugin
                    assert [(s["mid"], s["feed_id"], s["active"]) for s in plugin["streams"]] == [
                        ("0", pub.id, True), ("1", pub.id, True)], plugin
        finally:
            for p in peers:
                await p.close()
            await pub_sig.close()
            await sub_sig.close()

    run(scenario())


def test_destroy_notifies_participants_and_subscribers_and_closes_their_media(media_srv):
    """`destroy` with a publisher, a participant who does not publish and a subscriber: the room's
    participants hear `{"videoroom":"destroyed","room"}` and the publisher's PeerConnection closes
    ("Close PC"), as in Janus 1.1.2. Confab tells the subscriber the same (`destroyed`, then the
    hangup, and no `updated` offer for a room that is gone); Janus 1.1.2 sends subscribers nothing
    and keeps their PeerConnection up with no streams (recorded here). Either way media stops, and
    the subscriber handle answers later requests as Janus does."""

    async def scenario() -> None:
        sigs = [mp.HttpSignalling(media_srv.janus_url) for _ in range(3)]
        for s in sigs:
            await s.start()
        pub_sig, sub_sig, other_sig = sigs
        peers: list = []
        try:
            room = await create_room(pub_sig, secret=ROOM_SECRET)
            watcher = await other_sig.attach(VIDEOROOM)
            await request(other_sig, watcher, {"request": "join", "room": room, "ptype": "publisher"})
            pub = Publisher(pub_sig, "erin")
            peers.append(pub.peer)
            await pub.join_and_publish(room)
            await pub_sig.wait_event(mp.is_ev("webrtcup", pub.handle), 15, "publisher webrtcup")
            handle, peer, _ = await subscribe(sub_sig, room, pub.id)
            peers.append(peer)
            await peer.wait_media(video_frames=10, audio_frames=10, timeout=20)

            admin = await other_sig.attach(VIDEOROOM)
            reply = await other_sig.message(admin, {"request": "destroy", "room": room, "secret": ROOM_SECRET})
            assert data(reply) == {"videoroom": "destroyed", "room": room, "permanent": False}, reply
            destroyed = {"videoroom": "destroyed", "room": room}
            for sig, h in ((pub_sig, pub.handle), (other_sig, watcher)):
                ev = await sig.wait_event(lambda e, h=h: e.get("sender") == h and "plugindata" in e
                                          and data(e).get("videoroom") == "destroyed", 10, "destroyed")
                assert data(ev) == destroyed and "transaction" not in ev, ev
            hang = await pub_sig.wait_event(mp.is_ev("hangup", pub.handle), 10, "publisher hangup")
            assert hang["reason"] == "Close PC", hang
            if media_srv.is_janus:
                await asyncio.sleep(2.0)
                assert sub_sig.seen(lambda e: e.get("sender") == handle and e.get("janus") in ("event", "hangup")
                                    and "transaction" not in e) == [], "Janus 1.1.2 tells subscribers nothing"
            else:
                ev = await sub_sig.wait_event(lambda e: e.get("sender") == handle and "plugindata" in e
                                              and "transaction" not in e, 10, "subscriber destroyed")
                assert data(ev) == destroyed and "jsep" not in ev, ev
                hang = await sub_sig.wait_event(mp.is_ev("hangup", handle), 10, "subscriber hangup")
                assert hang["reason"] == "Close PC", hang
                await asyncio.sleep(1.0)
                updates = sub_sig.seen(lambda e: e.get("sender") == handle and "plugindata" in e
                                       and data(e).get("videoroom") == "updated")
                assert updates == [], [mp.strip_sdp(e) for e in updates]
                assert other_sig.seen(mp.is_ev("hangup", watcher)) == [], "a participant without media hung up"
            await asyncio.sleep(0.5)
            count = peer.stats.video_frames
            await asyncio.sleep(1.0)
            assert peer.stats.video_frames == count, "frames still arrive after the room was destroyed"

            # The subscriber handle afterwards, as Janus 1.1.2 answers it.
            for body, expected in (
                ({"request": "start"}, {"videoroom": "event", "room": room, "started": "ok"}),
                ({"request": "pause"}, {"videoroom": "event", "room": room, "paused": "ok"}),
                ({"request": "configure", "send": True}, {"videoroom": "event", "room": room, "configured": "ok"}),
                ({"request": "update", "subscribe": [{"feed": pub.id}]},
                 {"videoroom": "event", "error_code": 428, "error": f"No such feed ({pub.id})"}),
                ({"request": "join", "room": room, "ptype": "subscriber", "feed": pub.id},
                 {"videoroom": "event", "error_code": 425, "error": "Already in as a subscriber on this handle"}),
                ({"request": "leave"}, {"videoroom": "event", "room": room, "left": "ok"}),
            ):
                ev = await request(sub_sig, handle, body)
                assert data(ev) == expected, (body, ev)
            ev = await request(pub_sig, pub.handle, {"request": "configure", "bitrate": 1000})
            assert data(ev) == {"videoroom": "event", "error_code": 426, "error": "No such room"}, ev
        finally:
            for p in peers:
                await p.close()
            for s in sigs:
                await s.close()

    run(scenario())


def test_subscribe_and_unsubscribe_requests_and_updates_waiting_for_an_answer(media_srv):
    """`subscribe`/`unsubscribe` with `streams` are one-sided `update`s (Janus 1.1.2): new streams
    take a new m-line (or an inactive one of their kind), removed ones go inactive; an
    unsubscribe that changes nothing answers `updated` alone; Janus's errors for missing, empty
    and unknown lists. While an offer waits for its answer, another update answers `updating`;
    once the answer is in, `started` is followed by `updated` with the next offer."""

    async def scenario() -> None:
        sigs = [mp.HttpSignalling(media_srv.janus_url) for _ in range(3)]
        for s in sigs:
            await s.start()
        a_sig, b_sig, sub_sig = sigs
        peers: list = []
        try:
            room = await create_room(a_sig)
            a, b = Publisher(a_sig, "A"), Publisher(b_sig, "B")
            peers += [a.peer, b.peer]
            for p in (a, b):
                await p.join_and_publish(room)
                await p.sig.wait_event(mp.is_ev("webrtcup", p.handle), 15, "publisher webrtcup")
            handle, peer, _ = await subscribe(sub_sig, room, a.id)
            peers.append(peer)
            await sub_sig.wait_event(mp.is_ev("webrtcup", handle), 15, "subscriber webrtcup")

            def lines(ev: dict) -> list:
                return [(s["mid"], s["type"], s["active"], s.get("feed_id"), s.get("feed_mid")) for s in data(ev)["streams"]]

            async def answered(ev: dict) -> None:
                started = await request(sub_sig, handle, {"request": "start"}, await peer.answer(ev["jsep"]))
                assert data(started) == {"videoroom": "event", "room": room, "started": "ok"}, started

            ev = await request(sub_sig, handle, {"request": "subscribe", "streams": [{"feed": b.id, "mid": "1"}]})
            assert data(ev)["videoroom"] == "updated" and ev["jsep"]["type"] == "offer", mp.strip_sdp(ev)
            assert lines(ev) == [("0", "audio", True, a.id, "0"), ("1", "video", True, a.id, "1"),
                                 ("2", "video", True, b.id, "1")], lines(ev)
            await answered(ev)
            end = time.time() + 20
            while (peer.stats_by_mid.get("2") is None or peer.stats_by_mid["2"].video_frames < 15) and time.time() < end:
                await asyncio.sleep(0.1)
            assert peer.stats_by_mid.get("2") and peer.stats_by_mid["2"].video_frames >= 15, peer.stats_by_mid

            ev = await request(sub_sig, handle, {"request": "unsubscribe", "streams": [{"feed": a.id}]})
            assert lines(ev) == [("0", "audio", False, None, None), ("1", "video", False, None, None),
                                 ("2", "video", True, b.id, "1")], lines(ev)
            sdp = ev["jsep"]["sdp"]
            assert sdp.count("a=inactive") == 2 and sdp.count("a=sendonly") == 1, sdp
            await answered(ev)
            for body in ({"request": "unsubscribe", "streams": [{"feed": a.id}]},
                         {"request": "unsubscribe", "streams": [{"sub_mid": "9"}]},
                         {"request": "unsubscribe", "streams": [{}]}):
                ev = await request(sub_sig, handle, body)
                assert data(ev) == {"videoroom": "updated", "room": room} and "jsep" not in ev, (body, ev)

            for body, code, error in (
                ({"request": "subscribe"}, 429, "Missing mandatory element (streams)"),
                ({"request": "unsubscribe"}, 429, "Missing mandatory element (streams)"),
                ({"request": "subscribe", "streams": []}, 430, "Empty subscription list"),
                ({"request": "unsubscribe", "streams": []}, 430, "Empty unsubscription list"),
                ({"request": "update", "subscribe": [], "unsubscribe": [{"feed": b.id}]}, 430, "Empty subscription list"),
                ({"request": "subscribe", "streams": [{}]}, 429, "Missing mandatory element (feed)"),
                ({"request": "subscribe", "streams": [{"feed": 999}]}, 428, "No such feed (999)"),
                ({"request": "subscribe", "streams": [{"feed": b.id, "mid": "7"}]}, 428,
                 f"No such mid '7' in feed ({b.id})"),
                ({"request": "unsubscribe", "streams": [{"sub_mid": 0}]}, 430,
                 "Invalid element type (sub_mid should be a string)"),
                ({"request": "update", "subscribe": [{"feed": 999}], "unsubscribe": [{"feed": b.id}]}, 428,
                 "No such feed (999)"),
            ):
                ev = await request(sub_sig, handle, body)
                assert data(ev) == {"videoroom": "event", "error_code": code, "error": error}, (body, ev)

            # An offer waiting for its answer: the next update waits for it too.
            first = await request(sub_sig, handle, {"request": "unsubscribe", "streams": [{"feed": b.id}]})
            assert lines(first) == [("0", "audio", False, None, None), ("1", "video", False, None, None),
                                    ("2", "video", False, None, None)], lines(first)
            ev = await request(sub_sig, handle, {"request": "subscribe", "streams": [{"feed": b.id, "mid": "0"}]})
            assert data(ev) == {"videoroom": "updating", "room": room} and "jsep" not in ev, ev
            mark = len(sub_sig.events)
            await answered(first)
            ev = await sub_sig.wait_event(lambda e: sub_sig.events.index(e) >= mark and e.get("sender") == handle
                                          and "plugindata" in e and data(e).get("videoroom") == "updated",
                                          10, "updated after the answer")
            assert "transaction" not in ev and ev["jsep"]["type"] == "offer", mp.strip_sdp(ev)
            assert lines(ev) == [("0", "audio", True, b.id, "0"), ("1", "video", False, None, None),
                                 ("2", "video", False, None, None)], lines(ev)
            await answered(ev)
        finally:
            for p in peers:
                await p.close()
            for s in sigs:
                await s.close()

    run(scenario(), timeout=120)
