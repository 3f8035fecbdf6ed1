"""Janus API over WebSocket (subprotocol janus-protocol), shapes recorded from Janus 1.1.2."""
from __future__ import annotations

import asyncio
import time

import pytest

from janus_client import (VIDEOROOM, JanusAdmin, JanusWS, assert_error, assert_keys,
                          assert_plugin_error, plugin_data, run, tx, unique_room)


def test_subprotocol_and_ping_info(server):
    async def body():
        c = await JanusWS.connect(server.ws_url)
        try:
            assert c.ws.subprotocol == "janus-protocol"
            t = tx()
            assert await c.call({"janus": "ping", "transaction": t}) == {"janus": "pong", "transaction": t}
            info = await c.call({"janus": "info"})
            assert info["janus"] == "server_info"
            assert info["session-timeout"] == 60
            assert VIDEOROOM in info["plugins"]
        finally:
            await c.close()
    run(body())


def test_ws_transcript(server):
    async def body():
        c = await JanusWS.connect(server.ws_url)
        try:
            t = tx()
            r = await c.call({"janus": "create", "transaction": t})
            assert_keys(r, {"janus", "transaction", "data"}, "create")
            sid = r["data"]["id"]
            t = tx()
            r = await c.call({"janus": "attach", "session_id": sid, "plugin": VIDEOROOM, "opaque_id": "ws-1",
                              "transaction": t})
            assert r == {"janus": "success", "session_id": sid, "transaction": t, "data": {"id": r["data"]["id"]}}
            hid = r["data"]["id"]

            # synchronous plugin request
            t = tx()
            r = await c.call({"janus": "message", "session_id": sid, "handle_id": hid,
                              "body": {"request": "list"}, "transaction": t})
            assert_keys(r, {"janus", "session_id", "transaction", "sender", "plugindata"}, "list")
            assert (r["janus"], r["session_id"], r["transaction"], r["sender"]) == ("success", sid, t, hid)
            assert 1234 in [room["room"] for room in plugin_data(r)["list"]]
            r = await c.call({"janus": "message", "session_id": sid, "handle_id": hid,
                              "body": {"request": "exists", "room": 1234}})
            assert plugin_data(r) == {"videoroom": "success", "room": 1234, "exists": True}

            # asynchronous: an ack and a pushed event (Janus may push the event before the ack)
            t = tx()
            await c.send({"janus": "message", "session_id": sid, "handle_id": hid, "transaction": t,
                          "body": {"request": "join", "room": 1234, "ptype": "publisher", "display": "ws"}})
            ack = await c.wait_for(lambda m: m.get("transaction") == t and m.get("janus") == "ack")
            assert ack == {"janus": "ack", "session_id": sid, "transaction": t}
            ev = await c.wait_for(lambda m: m.get("transaction") == t and m.get("janus") == "event")
            assert_keys(ev, {"janus", "session_id", "transaction", "sender", "plugindata"}, "event")
            assert (ev["session_id"], ev["sender"]) == (sid, hid)
            joined = plugin_data(ev, sync=False)
            assert joined["videoroom"] == "joined" and joined["room"] == 1234

            # keepalive
            t = tx()
            assert await c.call({"janus": "keepalive", "session_id": sid, "transaction": t}, skip_ack=False) == \
                {"janus": "ack", "session_id": sid, "transaction": t}

            # trickle
            for extra in ({"candidate": {"candidate": "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host",
                                         "sdpMid": "0", "sdpMLineIndex": 0}},
                          {"candidates": []}, {"candidate": {"completed": True}}):
                t = tx()
                r = await c.call({"janus": "trickle", "session_id": sid, "handle_id": hid, "transaction": t, **extra},
                                 skip_ack=False)
                assert r == {"janus": "ack", "session_id": sid, "transaction": t}

            # detach -> success + detached event
            t = tx()
            await c.send({"janus": "detach", "session_id": sid, "handle_id": hid, "transaction": t})
            r = await c.wait_for(lambda m: m.get("transaction") == t)
            assert r == {"janus": "success", "session_id": sid, "transaction": t}
            ev = await c.wait_for(lambda m: m.get("janus") == "detached")
            assert ev == {"janus": "detached", "session_id": sid, "sender": hid}

            # destroy
            t = tx()
            assert await c.call({"janus": "destroy", "session_id": sid, "transaction": t}) == \
                {"janus": "success", "session_id": sid, "transaction": t}
            t = tx()
            assert_error(await c.call({"janus": "keepalive", "session_id": sid, "transaction": t}), 458,
                         f"No such session {sid}", transaction=t, session_id=sid)
        finally:
            await c.close()
    run(body())


def test_ws_errors(server):
    async def body():
        c = await JanusWS.connect(server.ws_url)
        try:
            # invalid JSON: 454 (the WS transport words the reason differently from HTTP)
            await c.send("{bad")
            r = await c.recv()
            assert_error(r, 454, exact_keys={"janus", "error"})
            # a JSON array over WS: Janus 1.1.2 answers 456 (missing transaction), not 455
            await c.send("[1]")
            r = await c.recv()
            assert r == {"janus": "error", "error": {"code": 456, "reason": "Missing mandatory element (transaction)"}}
            await c.send({"janus": "create"})
            assert await c.recv() == {"janus": "error", "error": {"code": 456,
                                                                  "reason": "Missing mandatory element (transaction)"}}
            # session-level request without session_id: "at this path"
            for req in ("keepalive", "attach"):
                t = tx()
                r = await c.call({"janus": req, "plugin": VIDEOROOM, "transaction": t})
                assert r == {"janus": "error", "transaction": t,
                             "error": {"code": 457, "reason": f"Unhandled request '{req}' at this path"}}
            t = tx()
            assert await c.call({"janus": "keepalive", "session_id": 123456, "transaction": t}) == \
                {"janus": "error", "session_id": 123456, "transaction": t,
                 "error": {"code": 458, "reason": "No such session 123456"}}
            sid = await c.create()
            t = tx()
            assert await c.call({"janus": "message", "session_id": sid, "handle_id": 999, "body": {},
                                 "transaction": t}) == \
                {"janus": "error", "session_id": sid, "transaction": t,
                 "error": {"code": 459, "reason": f"No such handle 999 in session {sid}"}}
            t = tx()
            assert await c.call({"janus": "message", "session_id": sid, "body": {}, "transaction": t}) == \
                {"janus": "error", "session_id": sid, "transaction": t,
                 "error": {"code": 457, "reason": "Unhandled request 'message' at this path"}}
            t = tx()
            assert await c.call({"janus": "attach", "session_id": sid, "plugin": "janus.plugin.nope",
                                 "transaction": t}) == \
                {"janus": "error", "session_id": sid, "transaction": t,
                 "error": {"code": 460, "reason": "No such plugin 'janus.plugin.nope'"}}
            t = tx()
            assert await c.call({"janus": "bogus", "session_id": sid, "transaction": t}) == \
                {"janus": "error", "session_id": sid, "transaction": t,
                 "error": {"code": 453, "reason": "Unknown request 'bogus'"}}
            hid = await c.attach(sid)
            r = await c.call({"janus": "message", "session_id": sid, "handle_id": hid, "body": {"request": "nonsense"}})
            assert_plugin_error(plugin_data(r), 423, "Unknown request 'nonsense'")
            # still usable after all that
            assert (await c.call({"janus": "ping"}))["janus"] == "pong"
        finally:
            await c.close()
    run(body())


def test_ws_async_error_event(server):
    async def body():
        c = await JanusWS.connect(server.ws_url)
        try:
            sid = await c.create()
            hid = await c.attach(sid)
            room = unique_room()
            t = tx()
            ev = await c.call({"janus": "message", "session_id": sid, "handle_id": hid, "transaction": t,
                               "body": {"request": "join", "room": room, "ptype": "publisher"}})
            assert ev == {"janus": "event", "session_id": sid, "transaction": t, "sender": hid,
                          "plugindata": {"plugin": VIDEOROOM, "data": {"videoroom": "event", "error_code": 426,
                                                                       "error": f"No such room ({room})"}}}
            ack = await c.wait_for(lambda m: m.get("transaction") == t and m.get("janus") == "ack")
            assert ack == {"janus": "ack", "session_id": sid, "transaction": t}
        finally:
            await c.close()
    run(body())


def test_events_reach_other_participants(server):
    """A VideoRoom event caused by one WS client is pushed to another (room destroyed)."""
    async def body():
        a = await JanusWS.connect(server.ws_url)
        b = await JanusWS.connect(server.ws_url)
        try:
            sa = await a.create()
            ha = await a.attach(sa)
            room = unique_room()
            r = await a.call({"janus": "message", "session_id": sa, "handle_id": ha,
                              "body": {"request": "create", "room": room}})
            assert plugin_data(r)["videoroom"] == "created"
            sb = await b.create()
            hb = await b.attach(sb)
            ev = await b.call({"janus": "message", "session_id": sb, "handle_id": hb,
                               "body": {"request": "join", "room": room, "ptype": "publisher", "display": "B"}})
            assert plugin_data(ev, sync=False)["videoroom"] == "joined"
            r = await a.call({"janus": "message", "session_id": sa, "handle_id": ha,
                              "body": {"request": "destroy", "room": room}})
            assert plugin_data(r) == {"videoroom": "destroyed", "room": room, "permanent": False}
            ev = await b.wait_for(lambda m: m.get("janus") == "event" and "transaction" not in m)
            assert ev == {"janus": "event", "session_id": sb, "sender": hb,
                          "plugindata": {"plugin": VIDEOROOM, "data": {"videoroom": "destroyed", "room": room}}}
        finally:
            await a.close()
            await b.close()
    run(body())


def test_closed_socket_destroys_its_sessions(server):
    adm = JanusAdmin(server.admin_url, server.admin_secret)

    async def body():
        c = await JanusWS.connect(server.ws_url)
        keep = await JanusWS.connect(server.ws_url)
        try:
            s1 = await c.create()
            s2 = await c.create()
            await c.attach(s1)
            other = await keep.create()
            listed = adm.sessions()
            assert {s1, s2, other} <= set(listed), listed
            await c.close()
            end = time.time() + 5
            while time.time() < end:
                listed = adm.sessions()
                if s1 not in listed and s2 not in listed:
                    break
                await asyncio.sleep(0.1)
            assert s1 not in listed and s2 not in listed, listed
            assert other in listed, "a session of another socket must survive"
            # the surviving socket still works
            t = tx()
            assert await keep.call({"janus": "keepalive", "session_id": other, "transaction": t}, skip_ack=False) == \
                {"janus": "ack", "session_id": other, "transaction": t}
        finally:
            await keep.close()
    run(body())


def test_ws_session_usable_over_http(server):
    """Sessions are not bound to a transport for plain requests: a WS session answers over HTTP."""
    from janus_client import JanusHTTP
    api = JanusHTTP(server.janus_url)

    async def body():
        c = await JanusWS.connect(server.ws_url)
        try:
            sid = await c.create()
            t = tx()
            assert api.post({"janus": "keepalive", "transaction": t}, sid) == \
                {"janus": "ack", "session_id": sid, "transaction": t}
        finally:
            await c.close()
    run(body())


@pytest.mark.confab_only
@pytest.mark.parametrize("path", ["/janus", "/"])
def test_ws_upgrade_on_http_port(server, path):
    async def body():
        c = await JanusWS.connect(f"ws://127.0.0.1:{server.http_port}{path}")
        try:
            assert c.ws.subprotocol == "janus-protocol"
            sid = await c.create()
            hid = await c.attach(sid)
            r = await c.call({"janus": "message", "session_id": sid, "handle_id": hid,
                              "body": {"request": "exists", "room": 1234}})
            assert plugin_data(r)["exists"] is True
            assert (await c.call({"janus": "destroy", "session_id": sid}))["janus"] == "success"
        finally:
            await c.close()
    run(body())


def test_admin_over_websocket(server):
    async def body():
        c = await JanusWS.connect(server.admin_ws_url, protocol="janus-admin-protocol")
        try:
            assert c.ws.subprotocol == "janus-admin-protocol"
            t = tx()
            r = await c.call({"janus": "list_sessions", "transaction": t})
            assert r == {"janus": "error", "transaction": t,
                         "error": {"code": 403, "reason": "Unauthorized request (wrong or missing secret/token)"}}
            t = tx()
            r = await c.call({"janus": "list_sessions", "transaction": t, "admin_secret": server.admin_secret})
            assert_keys(r, {"janus", "transaction", "sessions"}, "list_sessions")
            assert r["janus"] == "success" and isinstance(r["sessions"], list)
            t = tx()
            r = await c.call({"janus": "list_handles", "session_id": 123, "transaction": t,
                              "admin_secret": server.admin_secret})
            assert r == {"janus": "error", "session_id": 123, "transaction": t,
                         "error": {"code": 458, "reason": "No such session 123"}}
        finally:
            await c.close()
    run(body())


@pytest.mark.confab_only
def test_reclaim_session_after_socket_drop(server_factory):
    """With reclaim_session_timeout a dropped socket's session survives for a `claim` from a new
    socket; without a claim it is destroyed when the timeout passes. (Janus 1.1.2 claims alike but,
    in this run, kept the unclaimed session until its session_timeout.)"""
    srv = server_factory(reclaim_session_timeout=3)
    adm = JanusAdmin(srv.admin_url, srv.admin_secret)

    async def body():
        first = await JanusWS.connect(srv.ws_url)
        kept = await first.create()
        lost = await first.create()
        await first.close()
        await asyncio.sleep(0.5)
        assert {kept, lost} <= set(adm.request("list_sessions")["sessions"])
        second = await JanusWS.connect(srv.ws_url)
        try:
            t = tx()
            assert await second.call({"janus": "claim", "session_id": kept, "transaction": t}) == \
                {"janus": "success", "session_id": kept, "transaction": t}
            await asyncio.sleep(5)  # past the reclaim timeout, with keepalives for the claimed one
            t = tx()
            assert (await second.call({"janus": "keepalive", "session_id": kept, "transaction": t},
                                      skip_ack=False))["janus"] == "ack"
            sessions = set(adm.request("list_sessions")["sessions"])
            assert kept in sessions and lost not in sessions, sessions
        finally:
            await second.close()
    run(body())
