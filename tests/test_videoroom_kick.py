"""`kick` with media: what the kicked publisher, another participant and a subscriber of the
kicked feed hear, and what a kicked participant may do next. The same test runs against
Janus 1.1.2 (CONFAB_TARGET=janus).

Recorded from Janus 1.1.2 (asserted below): `kick` answers `{"videoroom": "success"}`; the kicked
handle hears `{"videoroom": "event", "room", "leaving": "ok", "reason": "kicked"}` and then the
core's `hangup` with reason "Close PC"; every other participant hears `{"videoroom": "event",
"room", "kicked": <id>}` and no `unpublished`. The kicked handle's next `join` fails with 425 "Not
in a room (create a new handle)"; a new handle may join again, even with the kicked id. A
subscriber of the kicked feed gets no more media (and, from Janus 1.1.2, no `updated`).
"""
from __future__ import annotations

import asyncio

import harness
import media_peers as mp
from janus_client import VIDEOROOM
from test_videoroom_media import (Publisher, create_room, data, media_srv,  # noqa: F401
                                  request, run, subscribe)

ROOM_SECRET = "kicks3cret"


def test_kicked_publisher_and_the_room_hear_what_janus_says(media_srv):
    async def scenario() -> None:
        sig, sub_sig = mp.HttpSignalling(media_srv.janus_url), mp.HttpSignalling(media_srv.janus_url)
        await sig.start()
        await sub_sig.start()
        peers: list = []
        try:
            room = await create_room(sig, secret=ROOM_SECRET)
            pub = Publisher(sig, "kickme")
            peers.append(pub.peer)
            await pub.join_and_publish(room)
            await sig.wait_event(mp.is_ev("webrtcup", pub.handle), 15, "publisher webrtcup")
            other = await sig.attach(VIDEOROOM)
            joined = await request(sig, other, {"request": "join", "room": room, "ptype": "publisher", "display": "x"})
            sub, peer, _ = await subscribe(sub_sig, room, pub.id)
            peers.append(peer)
            await peer.wait_media(video_frames=5, audio_frames=5, timeout=20)
            mark, sub_mark = len(sig.events), len(sub_sig.events)
            r = await sig.message(other, {"request": "kick", "room": room, "id": pub.id, "secret": ROOM_SECRET})
            assert data(r) == {"videoroom": "success"}, r
            hangup = await sig.wait_event(mp.is_ev("hangup", pub.handle), 10, "kicked publisher's hangup")
            assert hangup["reason"] == "Close PC", hangup
            await asyncio.sleep(1.0)   # anything else that would come
            heard = [(e.get("sender"), e["janus"], e.get("plugindata", {}).get("data", e.get("reason")))
                     for e in sig.events[mark:]]
            assert heard == [
                (pub.handle, "event", {"videoroom": "event", "room": room, "leaving": "ok", "reason": "kicked"}),
                (other, "event", {"videoroom": "event", "room": room, "kicked": pub.id}),
                (pub.handle, "hangup", "Close PC"),
            ], heard

            # The subscriber of the kicked feed: its media stops. Confab also renegotiates it
            # (`updated`, both streams inactive), as Janus does after a hangup or unpublish; Janus
            # 1.1.2 leaves it without an `updated` after a kick (recorded).
            frames = peer.stats.video_frames
            await asyncio.sleep(1.0)
            assert peer.stats.video_frames == frames, "the kicked feed still reaches its subscriber"
            updates = [data(e) for e in sub_sig.events[sub_mark:] if e.get("janus") == "event"]
            if harness.target() == "janus":
                assert updates == [], updates
            else:
                assert [(u["videoroom"], [st["active"] for st in u["streams"]]) for u in updates] == [
                    ("updated", [False, False])], updates

            # The kicked handle is done with the room; a new handle may join, even with the same id.
            again = await request(sig, pub.handle, {"request": "join", "room": room, "ptype": "publisher", "id": pub.id})
            assert data(again) == {"videoroom": "event", "error_code": 425,
                                   "error": "Not in a room (create a new handle)"}, again
            fresh = await sig.attach(VIDEOROOM)
            rejoined = await request(sig, fresh, {"request": "join", "room": room, "ptype": "publisher", "id": pub.id})
            assert (data(rejoined)["videoroom"], data(rejoined)["id"]) == ("joined", pub.id), rejoined
            listed = await sig.message(other, {"request": "listparticipants", "room": room})
            assert sorted(p["id"] for p in data(listed)["participants"]) == sorted([pub.id, data(joined)["id"]]), listed
        finally:
            for p in peers:
                await p.close()
            await sig.close()
            await sub_sig.close()

    run(scenario())
