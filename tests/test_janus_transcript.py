"""Janus API over HTTP: a full transcript, the core error codes, auth, and VideoRoom room management.

Every expected shape here was recorded from Debian's Janus 1.1.2 (CONFAB_TARGET=janus) and must
hold for Confab too. Where a value is an implementation detail (server name, jansson's parser
messages, random ids) only the type is checked.
"""
from __future__ import annotations

import json
import time

import pytest
import requests

from janus_client import (UNAUTHORIZED, VIDEOROOM, JanusAdmin, JanusHTTP, assert_error, assert_keys,
                          assert_plugin_error, plugin_data, tx, unique_room)
from harness import signed_token

# Top-level keys of Janus 1.1.2's server_info (GET /janus/info, or {"janus":"info"}).
INFO_KEYS = {
    "janus", "transaction", "name", "version", "version_string", "author", "commit-hash",
    "compile-time", "log-to-stdout", "log-to-file", "data_channels", "accepting-new-sessions",
    "session-timeout", "reclaim-session-timeout", "candidates-timeout", "server-name", "local-ip",
    "ipv6", "ice-lite", "ice-tcp", "ice-nomination", "ice-keepalive-conncheck", "full-trickle",
    "mdns-enabled", "min-nack-queue", "nack-optimizations", "twcc-period", "dtls-mtu",
    "static-event-loops", "api_secret", "auth_token", "event_handlers", "opaqueid_in_api",
    "dependencies", "transports", "events", "loggers", "plugins",
}
INFO_BOOLS = {"log-to-stdout", "log-to-file", "data_channels", "accepting-new-sessions", "ipv6",
              "ice-lite", "ice-tcp", "ice-keepalive-conncheck", "full-trickle", "mdns-enabled",
              "nack-optimizations", "api_secret", "auth_token", "event_handlers", "opaqueid_in_api"}
INFO_INTS = {"version", "session-timeout", "reclaim-session-timeout", "candidates-timeout",
             "min-nack-queue", "twcc-period", "dtls-mtu", "static-event-loops"}
INFO_STRS = {"transaction", "name", "version_string", "author", "commit-hash", "compile-time",
             "server-name", "local-ip", "ice-nomination"}
PLUGIN_INFO_KEYS = {"name", "author", "description", "version_string", "version"}

# One entry of the VideoRoom "list" reply for a plain (non-SVC) room.
ROOM_LIST_KEYS = {
    "room", "description", "pin_required", "is_private", "max_publishers", "bitrate", "fir_freq",
    "require_pvtid", "require_e2ee", "dummy_publisher", "notify_joining", "audiocodec", "videocodec",
    "opus_fec", "record", "lock_record", "num_participants", "audiolevel_ext", "audiolevel_event",
    "videoorient_ext", "playoutdelay_ext", "transport_wide_cc_ext",
}
ROOM_LIST_BOOLS = ROOM_LIST_KEYS - {"room", "description", "max_publishers", "bitrate", "fir_freq",
                                    "audiocodec", "videocodec", "num_participants"}

CANDIDATE = {"candidate": "candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host",
             "sdpMid": "0", "sdpMLineIndex": 0}


def check_info(info: dict, session_timeout: int = 60, api_secret: bool = False, auth_token: bool = False):
    assert info["janus"] == "server_info"
    missing = INFO_KEYS - set(info)
    assert not missing, f"server_info lacks {sorted(missing)}"
    for k in INFO_BOOLS:
        assert isinstance(info[k], bool), (k, info[k])
    for k in INFO_INTS:
        assert isinstance(info[k], int) and not isinstance(info[k], bool), (k, info[k])
    for k in INFO_STRS:
        assert isinstance(info[k], str), (k, info[k])
    for k in ("dependencies", "transports", "events", "loggers", "plugins"):
        assert isinstance(info[k], dict), (k, info[k])
    assert info["session-timeout"] == session_timeout
    assert info["api_secret"] is api_secret
    assert info["auth_token"] is auth_token
    assert info["accepting-new-sessions"] is True
    assert VIDEOROOM in info["plugins"], info["plugins"]
    assert_keys(info["plugins"][VIDEOROOM], PLUGIN_INFO_KEYS, "plugins[videoroom]")
    assert "janus.transport.http" in info["transports"]
    assert "janus.transport.websockets" in info["transports"]
    for t in info["transports"].values():
        assert_keys(t, PLUGIN_INFO_KEYS, "transport info")


# ==============================================================================================
# info / ping
# ==============================================================================================

def test_info_get(server, api):
    r = requests.get(server.janus_url + "/info", timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    info = r.json()
    check_info(info)
    assert info["transaction"], "GET /info invents a transaction id"


def test_info_post_and_ping(api):
    t = tx()
    info = api.post({"janus": "info", "transaction": t})
    check_info(info)
    assert info["transaction"] == t
    t = tx()
    assert api.post({"janus": "ping", "transaction": t}) == {"janus": "pong", "transaction": t}


def test_info_and_ping_not_allowed_below_root(session):
    api, sid, hid = session
    for path in ((sid,), (sid, hid)):
        for req in ("info", "ping", "create"):
            t = tx()
            r = api.post({"janus": req, "transaction": t}, *path)
            assert_error(r, 453, f"Unknown request '{req}'", transaction=t, session_id=sid,
                         exact_keys={"janus", "session_id", "transaction", "error"})


# ==============================================================================================
# the transcript
# ==============================================================================================

def test_full_transcript(server, api):
    # create
    t = tx()
    r = api.post({"janus": "create", "transaction": t})
    assert_keys(r, {"janus", "transaction", "data"}, "create")
    assert r["janus"] == "success" and r["transaction"] == t
    assert_keys(r["data"], {"id"}, "create.data")
    sid = r["data"]["id"]
    assert isinstance(sid, int) and 0 < sid < 2**53

    # attach with opaque_id
    t = tx()
    r = api.post({"janus": "attach", "plugin": VIDEOROOM, "opaque_id": "transcript-1", "transaction": t}, sid)
    assert r == {"janus": "success", "session_id": sid, "transaction": t, "data": {"id": r["data"]["id"]}}
    hid = r["data"]["id"]
    assert isinstance(hid, int) and 0 < hid < 2**53

    # message: list (synchronous)
    t = tx()
    r = api.post({"janus": "message", "body": {"request": "list"}, "transaction": t}, sid, hid)
    assert_keys(r, {"janus", "session_id", "transaction", "sender", "plugindata"}, "list reply")
    assert (r["janus"], r["session_id"], r["transaction"], r["sender"]) == ("success", sid, t, hid)
    data = plugin_data(r)
    assert_keys(data, {"videoroom", "list"}, "list data")
    assert data["videoroom"] == "success"
    demo = [room for room in data["list"] if room["room"] == 1234]
    assert len(demo) == 1, data["list"]
    assert_keys(demo[0], ROOM_LIST_KEYS, "list entry of room 1234")
    assert demo[0]["description"] == "Demo Room"
    assert demo[0]["pin_required"] is False and demo[0]["is_private"] is False
    for k in ROOM_LIST_BOOLS:
        assert isinstance(demo[0][k], bool), (k, demo[0][k])
    assert isinstance(demo[0]["num_participants"], int)

    # message: exists (synchronous)
    r = api.message(sid, hid, {"request": "exists", "room": 1234})
    assert plugin_data(r) == {"videoroom": "success", "room": 1234, "exists": True}
    absent = unique_room()
    r = api.message(sid, hid, {"request": "exists", "room": absent})
    assert plugin_data(r) == {"videoroom": "success", "room": absent, "exists": False}

    # message: join (asynchronous) -> ack now, event through the long poll
    t = tx()
    r = api.post({"janus": "message", "body": {"request": "join", "room": 1234, "ptype": "publisher",
                                               "display": "transcript"}, "transaction": t}, sid, hid)
    assert r == {"janus": "ack", "session_id": sid, "transaction": t}
    resp = api.long_poll(sid, maxev=1)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    ev = resp.json()
    assert isinstance(ev, dict), ev   # maxev=1 (or none): a single object; maxev>1: an array
    assert_keys(ev, {"janus", "session_id", "transaction", "sender", "plugindata"}, "joined event")
    assert (ev["janus"], ev["session_id"], ev["transaction"], ev["sender"]) == ("event", sid, t, hid)
    joined = plugin_data(ev, sync=False)
    assert_keys(joined, {"videoroom", "room", "description", "id", "private_id", "publishers"}, "joined")
    assert joined["videoroom"] == "joined" and joined["room"] == 1234
    assert joined["description"] == "Demo Room" and joined["publishers"] == []
    assert isinstance(joined["id"], int) and isinstance(joined["private_id"], int)
    my_id = joined["id"]

    # listparticipants shows us
    data = api.vr(sid, hid, {"request": "listparticipants", "room": 1234})
    assert_keys(data, {"videoroom", "room", "participants"}, "participants")
    assert data["videoroom"] == "participants" and data["room"] == 1234
    mine = [p for p in data["participants"] if p["id"] == my_id]
    assert mine == [{"id": my_id, "display": "transcript", "publisher": False}]

    # keepalive
    t = tx()
    assert api.post({"janus": "keepalive", "transaction": t}, sid) == \
        {"janus": "ack", "session_id": sid, "transaction": t}

    # trickle: single candidate, array, completed
    for extra in ({"candidate": CANDIDATE}, {"candidates": [CANDIDATE, dict(CANDIDATE, sdpMLineIndex=1)]},
                  {"candidate": {"completed": True}}):
        t = tx()
        r = api.post({"janus": "trickle", "transaction": t, **extra}, sid, hid)
        assert r == {"janus": "ack", "session_id": sid, "transaction": t}, (extra, r)

    # hangup (no PeerConnection: still success)
    t = tx()
    assert api.post({"janus": "hangup", "transaction": t}, sid, hid) == \
        {"janus": "success", "session_id": sid, "transaction": t}

    # detach -> success, then a "detached" event on the long poll; the handle is gone
    t = tx()
    assert api.post({"janus": "detach", "transaction": t}, sid, hid) == \
        {"janus": "success", "session_id": sid, "transaction": t}
    evs = api.events(sid, want=1)
    assert {"janus": "detached", "session_id": sid, "sender": hid} in evs, evs
    t = tx()
    assert_error(api.post({"janus": "detach", "transaction": t}, sid, hid), 459,
                 f"No such handle {hid} in session {sid}", transaction=t, session_id=sid,
                 exact_keys={"janus", "session_id", "transaction", "error"})
    # left the room with the handle
    data = api.vr(sid, api.attach(sid), {"request": "listparticipants", "room": 1234})
    assert my_id not in [p["id"] for p in data["participants"]]

    # destroy
    t = tx()
    assert api.post({"janus": "destroy", "transaction": t}, sid) == \
        {"janus": "success", "session_id": sid, "transaction": t}
    t = tx()
    assert_error(api.post({"janus": "destroy", "transaction": t}, sid), 458, f"No such session {sid}",
                 transaction=t, session_id=sid, exact_keys={"janus", "session_id", "transaction", "error"})
    t = tx()
    assert_error(api.post({"janus": "keepalive", "transaction": t}, sid), 458, f"No such session {sid}",
                 transaction=t, session_id=sid)


def test_claim(session):
    api, sid, _ = session
    t = tx()
    assert api.post({"janus": "claim", "transaction": t}, sid) == \
        {"janus": "success", "session_id": sid, "transaction": t}


def test_keepalive_on_handle_path_is_accepted(session):
    api, sid, hid = session
    t = tx()
    assert api.post({"janus": "keepalive", "transaction": t}, sid, hid) == \
        {"janus": "ack", "session_id": sid, "transaction": t}


def test_create_with_requested_id(api):
    want = unique_room()
    t = tx()
    r = api.post({"janus": "create", "id": want, "transaction": t})
    assert r == {"janus": "success", "transaction": t, "data": {"id": want}}
    try:
        t = tx()
        assert_error(api.post({"janus": "create", "id": want, "transaction": t}), 468,
                     "Session ID already in use", transaction=t, session_id=want,
                     exact_keys={"janus", "session_id", "transaction", "error"})
        t = tx()
        assert_error(api.post({"janus": "create", "id": "abc", "transaction": t}), 467,
                     "Invalid element type (id should be a positive integer)")
    finally:
        api.destroy(want)


@pytest.mark.parametrize("maxev,is_array", [(None, False), (1, False), (2, True), (10, True)])
def test_long_poll_maxev_object_or_array(session, maxev, is_array):
    """GET without maxev or with maxev=1: one event object; maxev>1: an array (even of one)."""
    api, sid, hid = session
    t = tx()
    assert api.message(sid, hid, {"request": "join", "room": unique_room(), "ptype": "publisher"},
                       transaction=t)["janus"] == "ack"
    time.sleep(0.2)
    r = api.long_poll(sid, maxev=maxev)
    assert r.status_code == 200
    body = r.json()
    if is_array:
        assert isinstance(body, list) and len(body) == 1, body
        ev = body[0]
    else:
        assert isinstance(body, dict), body
        ev = body
    assert (ev["janus"], ev["transaction"], ev["sender"]) == ("event", t, hid)


def test_long_poll_maxev_batches_events(session):
    api, sid, hid = session
    ts = [tx(), tx(), tx()]
    rooms = [unique_room() for _ in ts]
    for t, room in zip(ts, rooms):
        r = api.message(sid, hid, {"request": "join", "room": room, "ptype": "publisher"}, transaction=t)
        assert r == {"janus": "ack", "session_id": sid, "transaction": t}
    got = []
    end = time.time() + 10
    while len(got) < 3 and time.time() < end:
        r = api.long_poll(sid, maxev=5)
        assert r.status_code == 200
        batch = r.json()
        assert isinstance(batch, list) and 1 <= len(batch) <= 5
        got += batch
    assert [e["transaction"] for e in got] == ts        # in order
    for e, room in zip(got, rooms):
        assert_keys(e, {"janus", "session_id", "transaction", "sender", "plugindata"}, "event")
        assert_plugin_error(plugin_data(e, sync=False), 426, f"No such room ({room})")


@pytest.mark.slow
def test_long_poll_idle_returns_keepalive_after_30s(session):
    api, sid, _ = session
    t0 = time.time()
    r = api.long_poll(sid, timeout=45)
    took = time.time() - t0
    assert r.status_code == 200
    assert r.json() == {"janus": "keepalive"}
    assert 25 <= took <= 35, took


def test_long_poll_unknown_session(api):
    r = api.long_poll(unique_room(), maxev=1, timeout=10)
    # Janus 1.1.2 answers 404 with an empty body; a 458 error object would be as good for janus.js.
    if r.status_code == 200:
        assert_error(r.json() if not isinstance(r.json(), list) else r.json()[0], 458)
    else:
        assert r.status_code == 404, (r.status_code, r.text)


# ==============================================================================================
# core errors
# ==============================================================================================

def test_invalid_json_454(api):
    r = api.post_raw("{not json")
    assert r.status_code == 200
    body = r.json()
    assert_error(body, 454, reason_prefix="JSON error: ", exact_keys={"janus", "error"})


def test_json_not_an_object_455(api):
    body = api.post_raw("[1, 2]").json()
    assert body == {"janus": "error", "error": {"code": 455, "reason": "JSON error: not an object"}}


@pytest.mark.parametrize("raw", ["42", '"str"'])
def test_json_scalar_is_invalid_json_454(api, raw):
    # jansson refuses a top-level scalar as a parse error (454), not as "not an object" (455)
    assert_error(api.post_raw(raw).json(), 454, reason_prefix="JSON error: ", exact_keys={"janus", "error"})


def test_missing_transaction_456(api):
    assert api.post({"janus": "create"}) == \
        {"janus": "error", "error": {"code": 456, "reason": "Missing mandatory element (transaction)"}}


def test_missing_janus_456(api):
    assert api.post({"transaction": "abc"}) == \
        {"janus": "error", "error": {"code": 456, "reason": "Missing mandatory element (janus)"}}


def test_wrong_types_467(api, session):
    assert api.post({"janus": 5, "transaction": "abc"}) == \
        {"janus": "error", "error": {"code": 467, "reason": "Invalid element type (janus should be a string)"}}
    assert api.post({"janus": "create", "transaction": 5}) == \
        {"janus": "error", "error": {"code": 467, "reason": "Invalid element type (transaction should be a string)"}}
    _, sid, hid = session
    t = tx()
    assert_error(api.post({"janus": "attach", "plugin": 5, "transaction": t}, sid), 467,
                 "Invalid element type (plugin should be a string)", transaction=t, session_id=sid)
    t = tx()
    assert_error(api.post({"janus": "attach", "plugin": VIDEOROOM, "opaque_id": 5, "transaction": t}, sid),
                 467, "Invalid element type (opaque_id should be a string)", transaction=t, session_id=sid)
    t = tx()
    assert_error(api.post({"janus": "message", "body": "x", "transaction": t}, sid, hid), 467,
                 "Invalid element type (body should be an object)", transaction=t, session_id=sid,
                 exact_keys={"janus", "session_id", "transaction", "error"})


def test_missing_elements_456(session):
    api, sid, hid = session
    t = tx()
    assert_error(api.post({"janus": "attach", "transaction": t}, sid), 456,
                 "Missing mandatory element (plugin)", transaction=t, session_id=sid)
    t = tx()
    assert_error(api.post({"janus": "message", "transaction": t}, sid, hid), 456,
                 "Missing mandatory element (body)", transaction=t, session_id=sid)
    t = tx()
    assert_error(api.post({"janus": "trickle", "transaction": t}, sid, hid), 456,
                 "Missing mandatory element (candidate|candidates)", transaction=t, session_id=sid)


def test_trickle_with_both_candidate_and_candidates(session):
    api, sid, hid = session
    t = tx()
    assert_error(api.post({"janus": "trickle", "candidate": CANDIDATE, "candidates": [], "transaction": t},
                          sid, hid), 454, "Can't have both candidate and candidates",
                 transaction=t, session_id=sid)


def test_jsep_errors(session):
    api, sid, hid = session
    t = tx()
    assert_error(api.post({"janus": "message", "body": {"request": "list"}, "jsep": "x", "transaction": t},
                          sid, hid), 455, "Invalid jsep object", transaction=t, session_id=sid)
    t = tx()
    assert_error(api.post({"janus": "message", "body": {"request": "list"}, "jsep": {"type": "offer"},
                           "transaction": t}, sid, hid), 456,
                 "JSEP error: missing mandatory element (sdp)", transaction=t, session_id=sid)


def test_unknown_request_at_root_is_457(api):
    t = tx()
    assert api.post({"janus": "bogus", "transaction": t}) == \
        {"janus": "error", "transaction": t, "error": {"code": 457, "reason": "Unhandled request 'bogus' at this path"}}


def test_unknown_request_at_session_and_handle_is_453(session):
    api, sid, hid = session
    for path in ((sid,), (sid, hid)):
        t = tx()
        assert api.post({"janus": "bogus", "transaction": t}, *path) == \
            {"janus": "error", "session_id": sid, "transaction": t,
             "error": {"code": 453, "reason": "Unknown request 'bogus'"}}


@pytest.mark.parametrize("req", ["attach", "keepalive", "message", "destroy", "detach", "trickle", "claim"])
def test_request_not_allowed_at_root_457(api, req):
    t = tx()
    assert api.post({"janus": req, "transaction": t, "plugin": VIDEOROOM, "body": {}}) == \
        {"janus": "error", "transaction": t,
         "error": {"code": 457, "reason": f"Unhandled request '{req}' at this path"}}


def test_requests_not_allowed_at_session_or_handle_path_457(session):
    api, sid, hid = session
    cases = [((sid,), "message"), ((sid,), "trickle"), ((sid,), "detach"), ((sid,), "hangup"),
             ((sid, hid), "attach"), ((sid, hid), "destroy")]
    for path, req in cases:
        t = tx()
        r = api.post({"janus": req, "transaction": t, "plugin": VIDEOROOM, "body": {}}, *path)
        assert r == {"janus": "error", "session_id": sid, "transaction": t,
                     "error": {"code": 457, "reason": f"Unhandled request '{req}' at this path"}}, (path, req, r)


def test_non_numeric_session_path_is_457(api):
    t = tx()
    r = api.post({"janus": "keepalive", "transaction": t}, "abc")
    assert_error(r, 457, "Unhandled request 'keepalive' at this path", transaction=t)


def test_unknown_session_458(api):
    t = tx()
    assert api.post({"janus": "keepalive", "transaction": t}, 123456) == \
        {"janus": "error", "session_id": 123456, "transaction": t,
         "error": {"code": 458, "reason": "No such session 123456"}}
    t = tx()
    assert_error(api.post({"janus": "attach", "plugin": VIDEOROOM, "transaction": t}, 123456), 458,
                 "No such session 123456", transaction=t, session_id=123456)
    t = tx()
    assert_error(api.post({"janus": "message", "body": {}, "transaction": t}, 123456, 789), 458,
                 "No such session 123456", transaction=t, session_id=123456)


def test_unknown_handle_459(session):
    api, sid, _ = session
    t = tx()
    assert api.post({"janus": "message", "body": {"request": "list"}, "transaction": t}, sid, 999) == \
        {"janus": "error", "session_id": sid, "transaction": t,
         "error": {"code": 459, "reason": f"No such handle 999 in session {sid}"}}


def test_unknown_plugin_460(session):
    api, sid, _ = session
    t = tx()
    assert api.post({"janus": "attach", "plugin": "janus.plugin.nope", "transaction": t}, sid) == \
        {"janus": "error", "session_id": sid, "transaction": t,
         "error": {"code": 460, "reason": "No such plugin 'janus.plugin.nope'"}}


def test_cors_preflight_and_headers(server):
    origin = "http://127.0.0.1:1"
    r = requests.options(server.janus_url, timeout=10, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert r.status_code in (200, 204)
    assert r.headers.get("Access-Control-Allow-Origin") in ("*", origin)
    assert "POST" in r.headers.get("Access-Control-Allow-Methods", "")
    assert "content-type" in r.headers.get("Access-Control-Allow-Headers", "").lower()
    r = requests.post(server.janus_url, data=json.dumps({"janus": "ping", "transaction": "c"}),
                      headers={"Origin": origin}, timeout=10)
    assert r.headers.get("Access-Control-Allow-Origin") in ("*", origin)


def test_content_type_not_required(server):
    r = requests.post(server.janus_url, data=json.dumps({"janus": "ping", "transaction": "c"}),
                      headers={"Content-Type": "text/plain"}, timeout=10)
    assert r.json() == {"janus": "pong", "transaction": "c"}


def test_big_valid_body_accepted_below_cap(api):
    """~900 KiB of JSON is still a normal request (Janus has no cap; Confab caps at 1 MiB)."""
    t = tx()
    body = json.dumps({"janus": "ping", "transaction": t, "pad": "a" * (900 * 1024)})
    assert api.post_raw(body).json() == {"janus": "pong", "transaction": t}


@pytest.mark.confab_only
def test_body_over_1mib_is_refused_and_server_survives(server, api):
    body = json.dumps({"janus": "ping", "transaction": "big", "pad": "a" * (2 * 1024 * 1024)})
    try:
        r = api.post_raw(body)
    except requests.ConnectionError:
        r = None   # closing the connection is an acceptable refusal
    if r is not None:
        if r.status_code == 200:
            assert r.json().get("janus") == "error", r.text[:200]
        else:
            assert r.status_code in (400, 413), r.status_code
    # still serving
    assert api.post({"janus": "ping", "transaction": "after"}) == {"janus": "pong", "transaction": "after"}
    assert server.alive()


# ==============================================================================================
# api_secret / token auth
# ==============================================================================================

def test_api_secret(server_factory):
    srv = server_factory(api_secret="s3cret")
    anon = JanusHTTP(srv.janus_url)
    check_info(anon.info(), api_secret=True)
    # ping and info need no secret
    assert anon.post({"janus": "ping", "transaction": "p"}) == {"janus": "pong", "transaction": "p"}
    assert anon.post({"janus": "info", "transaction": "i"})["janus"] == "server_info"
    # create: missing / wrong
    for extra in ({}, {"apisecret": "wrong"}):
        t = tx()
        assert anon.post({"janus": "create", "transaction": t, **extra}) == \
            {"janus": "error", "transaction": t, "error": {"code": 403, "reason": UNAUTHORIZED}}
    # path errors and parse errors come before the auth check
    assert_error(anon.post({"janus": "bogus", "transaction": "b"}), 457)
    assert_error(anon.post_raw("{bad").json(), 454)
    assert_error(anon.post({"janus": "create"}), 456)

    api = JanusHTTP(srv.janus_url, apisecret="s3cret")
    sid = api.create()
    # session-level requests need it too (and auth is checked before the session lookup)
    for path in ((sid,), (unique_room(),)):
        t = tx()
        assert anon.post({"janus": "keepalive", "transaction": t}, *path) == \
            {"janus": "error", "session_id": path[0], "transaction": t, "error": {"code": 403, "reason": UNAUTHORIZED}}
    t = tx()
    assert_error(anon.post({"janus": "attach", "plugin": VIDEOROOM, "transaction": t}, sid), 403, UNAUTHORIZED,
                 transaction=t, session_id=sid)
    hid = api.attach(sid)
    assert_error(anon.post({"janus": "message", "body": {"request": "list"}, "transaction": "m"}, sid, hid),
                 403, UNAUTHORIZED)
    assert api.vr(sid, hid, {"request": "exists", "room": 1234})["exists"] is True
    # long poll: apisecret as a query parameter
    r = JanusHTTP(srv.janus_url).long_poll(sid, maxev=1, timeout=10)
    assert r.status_code == 403
    r = JanusHTTP(srv.janus_url).long_poll(sid, maxev=1, timeout=10, params={"apisecret": "wrong"})
    assert r.status_code == 403
    t = tx()
    assert api.message(sid, hid, {"request": "join", "room": 1234, "ptype": "publisher"}, transaction=t)["janus"] == "ack"
    evs = api.events(sid, 1)
    assert evs[0]["transaction"] == t
    assert api.destroy(sid)["janus"] == "success"


def test_stored_token_auth(server_factory):
    srv = server_factory(token_auth=True)
    adm = JanusAdmin(srv.admin_url, srv.admin_secret)
    anon = JanusHTTP(srv.janus_url)
    check_info(anon.info(), auth_token=True)
    for extra in ({}, {"token": "not-a-token"}):
        t = tx()
        assert anon.post({"janus": "create", "transaction": t, **extra}) == \
            {"janus": "error", "transaction": t, "error": {"code": 403, "reason": UNAUTHORIZED}}
    assert adm.request("add_token", token="tok-a")["janus"] == "success"
    api = JanusHTTP(srv.janus_url, token="tok-a")
    sid = api.create()
    hid = api.attach(sid)
    assert api.vr(sid, hid, {"request": "exists", "room": 1234})["exists"] is True
    t = tx()
    assert_error(anon.post({"janus": "keepalive", "transaction": t}, sid), 403, UNAUTHORIZED,
                 transaction=t, session_id=sid)
    # a token whose plugin list lacks the VideoRoom cannot attach it
    assert adm.request("add_token", token="tok-b", plugins=[VIDEOROOM])["janus"] == "success"
    r = adm.request("disallow_token", token="tok-b", plugins=[VIDEOROOM])
    assert r["janus"] == "success" and r["data"] == {"plugins": []}, r
    b = JanusHTTP(srv.janus_url, token="tok-b")
    sid_b = b.create()
    t = tx()
    assert b.post({"janus": "attach", "plugin": VIDEOROOM, "transaction": t}, sid_b) == \
        {"janus": "error", "session_id": sid_b, "transaction": t,
         "error": {"code": 405, "reason": f"Provided token can't access plugin '{VIDEOROOM}'"}}
    # removed token: refused again
    assert adm.request("remove_token", token="tok-a")["janus"] == "success"
    t = tx()
    assert api.post({"janus": "create", "transaction": t}) == \
        {"janus": "error", "transaction": t, "error": {"code": 403, "reason": UNAUTHORIZED}}


def test_api_secret_or_token_either_suffices(server_factory):
    """With both api_secret and token_auth on, Janus accepts a request carrying either one."""
    srv = server_factory(api_secret="s3cret", token_auth=True)
    check_info(JanusHTTP(srv.janus_url).info(), api_secret=True, auth_token=True)
    adm = JanusAdmin(srv.admin_url, srv.admin_secret)
    assert adm.request("add_token", token="tok")["janus"] == "success"
    anon = JanusHTTP(srv.janus_url)
    assert_error(anon.post({"janus": "create", "transaction": "x"}), 403, UNAUTHORIZED)
    assert anon.post({"janus": "create", "transaction": "x", "apisecret": "s3cret"})["janus"] == "success"
    assert anon.post({"janus": "create", "transaction": "x", "token": "tok"})["janus"] == "success"
    assert_error(anon.post({"janus": "create", "transaction": "x", "token": "nope", "apisecret": "nope"}),
                 403, UNAUTHORIZED)


def test_signed_token_auth(server_factory):
    srv = server_factory(token_auth=True, token_auth_secret="hmac-key")
    anon = JanusHTTP(srv.janus_url)
    check_info(anon.info(), auth_token=True)
    good = signed_token("hmac-key", plugins=(VIDEOROOM,))
    for bad in (None, "garbage", signed_token("other-key"), signed_token("hmac-key", expires_in=-60)):
        t = tx()
        body = {"janus": "create", "transaction": t}
        if bad is not None:
            body["token"] = bad
        assert anon.post(body) == {"janus": "error", "transaction": t,
                                   "error": {"code": 403, "reason": UNAUTHORIZED}}, bad
    api = JanusHTTP(srv.janus_url, token=good)
    sid = api.create()
    hid = api.attach(sid)
    assert api.vr(sid, hid, {"request": "exists", "room": 1234})["exists"] is True
    other = signed_token("hmac-key", plugins=("janus.plugin.echotest",))
    t = tx()
    assert api.post({"janus": "attach", "plugin": VIDEOROOM, "transaction": t, "token": other}, sid) == \
        {"janus": "error", "session_id": sid, "transaction": t,
         "error": {"code": 405, "reason": f"Provided token can't access plugin '{VIDEOROOM}'"}}
    # stored-token admin requests are refused in signed-token mode
    adm = JanusAdmin(srv.admin_url, srv.admin_secret)
    r = adm.request("add_token", token="x")
    assert_error(r, 490, "Stored-Token based authentication disabled")


# ==============================================================================================
# VideoRoom room management
# ==============================================================================================

def test_videoroom_create_edit_destroy(session):
    api, sid, hid = session
    room = unique_room()
    data = api.vr(sid, hid, {"request": "create", "room": room, "description": "Test room", "secret": "s3",
                             "publishers": 4, "bitrate": 64000, "fir_freq": 5, "is_private": False})
    assert data == {"videoroom": "created", "room": room, "permanent": False}
    # listed with the values we gave
    entry = [r for r in api.vr(sid, hid, {"request": "list"})["list"] if r["room"] == room]
    assert len(entry) == 1
    assert_keys(entry[0], ROOM_LIST_KEYS, "list entry")
    e = entry[0]
    assert (e["description"], e["max_publishers"], e["bitrate"], e["fir_freq"], e["num_participants"]) == \
        ("Test room", 4, 64000, 5, 0)
    assert (e["pin_required"], e["is_private"], e["audiocodec"], e["videocodec"]) == (False, False, "opus", "vp8")
    assert api.vr(sid, hid, {"request": "exists", "room": room}) == \
        {"videoroom": "success", "room": room, "exists": True}
    # 427: exists
    assert_plugin_error(api.vr(sid, hid, {"request": "create", "room": room}), 427, f"Room {room} already exists")
    # edit
    assert_plugin_error(api.vr(sid, hid, {"request": "edit", "room": room, "new_description": "x"}), 429,
                        "Missing mandatory element (secret)")
    assert_plugin_error(api.vr(sid, hid, {"request": "edit", "room": room, "secret": "wrong",
                                          "new_description": "x"}), 433, "Unauthorized (wrong secret)")
    assert_plugin_error(api.vr(sid, hid, {"request": "edit", "room": room, "secret": "s3", "new_publishers": "x"}),
                        430, "Invalid element type (new_publishers should be a positive integer)")
    assert api.vr(sid, hid, {"request": "edit", "room": room, "secret": "s3", "new_description": "Edited",
                             "new_publishers": 9, "new_bitrate": 32000}) == \
        {"videoroom": "edited", "room": room, "permanent": False}
    e = [r for r in api.vr(sid, hid, {"request": "list"})["list"] if r["room"] == room][0]
    # Janus never lets a non-zero room bitrate go below 64000 (on create and on edit)
    assert (e["description"], e["max_publishers"], e["bitrate"]) == ("Edited", 9, 64000)
    api.vr(sid, hid, {"request": "edit", "room": room, "secret": "s3", "new_bitrate": 256000})
    e = [r for r in api.vr(sid, hid, {"request": "list"})["list"] if r["room"] == room][0]
    assert e["bitrate"] == 256000
    # new_secret replaces the secret
    assert api.vr(sid, hid, {"request": "edit", "room": room, "secret": "s3", "new_secret": "s4"})["videoroom"] == "edited"
    assert_plugin_error(api.vr(sid, hid, {"request": "edit", "room": room, "secret": "s3"}), 433,
                        "Unauthorized (wrong secret)")
    api.vr(sid, hid, {"request": "edit", "room": room, "secret": "s4", "new_secret": "s3"})
    # destroy
    assert_plugin_error(api.vr(sid, hid, {"request": "destroy", "room": room}), 429,
                        "Missing mandatory element (secret)")
    assert_plugin_error(api.vr(sid, hid, {"request": "destroy", "room": room, "secret": "bad"}), 433,
                        "Unauthorized (wrong secret)")
    assert api.vr(sid, hid, {"request": "destroy", "room": room, "secret": "s3"}) == \
        {"videoroom": "destroyed", "room": room, "permanent": False}
    assert api.vr(sid, hid, {"request": "exists", "room": room})["exists"] is False
    assert_plugin_error(api.vr(sid, hid, {"request": "destroy", "room": room, "secret": "s3"}), 426,
                        f"No such room ({room})")
    assert room not in [r["room"] for r in api.vr(sid, hid, {"request": "list"})["list"]]


def test_videoroom_create_without_room_picks_an_id(session):
    api, sid, hid = session
    data = api.vr(sid, hid, {"request": "create", "description": "auto"})
    assert_keys(data, {"videoroom", "room", "permanent"}, "created")
    assert data["videoroom"] == "created" and data["permanent"] is False
    assert isinstance(data["room"], int) and data["room"] > 0
    e = [r for r in api.vr(sid, hid, {"request": "list"})["list"] if r["room"] == data["room"]]
    assert e and e[0]["description"] == "auto"
    # a room created without a secret can be destroyed without one
    assert api.vr(sid, hid, {"request": "destroy", "room": data["room"]})["videoroom"] == "destroyed"


def test_videoroom_default_description(session):
    api, sid, hid = session
    room = unique_room()
    api.vr(sid, hid, {"request": "create", "room": room})
    e = [r for r in api.vr(sid, hid, {"request": "list"})["list"] if r["room"] == room][0]
    assert e["description"] == f"Room {room}"
    assert (e["max_publishers"], e["bitrate"], e["fir_freq"]) == (3, 0, 0)
    api.vr(sid, hid, {"request": "destroy", "room": room})
    room = unique_room()
    api.vr(sid, hid, {"request": "create", "room": room, "bitrate": 32000})
    e = [r for r in api.vr(sid, hid, {"request": "list"})["list"] if r["room"] == room][0]
    assert e["bitrate"] == 64000, "a non-zero bitrate below 64000 is raised to 64000"
    api.vr(sid, hid, {"request": "destroy", "room": room})


def test_videoroom_private_room_hidden_from_list(session):
    api, sid, hid = session
    room = unique_room()
    api.vr(sid, hid, {"request": "create", "room": room, "is_private": True})
    assert room not in [r["room"] for r in api.vr(sid, hid, {"request": "list"})["list"]]
    assert api.vr(sid, hid, {"request": "exists", "room": room})["exists"] is True
    api.vr(sid, hid, {"request": "destroy", "room": room})


def test_videoroom_pin_room(session):
    api, sid, hid = session
    room = unique_room()
    api.vr(sid, hid, {"request": "create", "room": room, "pin": "1111", "notify_joining": True})
    e = [r for r in api.vr(sid, hid, {"request": "list"})["list"] if r["room"] == room][0]
    assert e["pin_required"] is True and e["notify_joining"] is True
    h2 = api.attach(sid)
    t = tx()
    api.message(sid, h2, {"request": "join", "room": room, "ptype": "publisher"}, transaction=t)
    ev = api.events(sid, 1)[0]
    assert ev["transaction"] == t
    assert_plugin_error(plugin_data(ev, sync=False), 429, "Missing mandatory element (pin)")
    t = tx()
    api.message(sid, h2, {"request": "join", "room": room, "ptype": "publisher", "pin": "1111"}, transaction=t)
    joined = plugin_data(api.events(sid, 1)[0], sync=False)
    # notify_joining rooms add "attendees"
    assert_keys(joined, {"videoroom", "room", "description", "id", "private_id", "publishers", "attendees"}, "joined")
    # listparticipants: no "display" key when none was given
    parts = api.vr(sid, hid, {"request": "listparticipants", "room": room})["participants"]
    assert parts == [{"id": joined["id"], "publisher": False}]
    # destroying the room tells the participant
    assert api.vr(sid, hid, {"request": "destroy", "room": room})["videoroom"] == "destroyed"
    ev = api.events(sid, 1)[0]
    assert ev == {"janus": "event", "session_id": sid, "sender": h2,
                  "plugindata": {"plugin": VIDEOROOM, "data": {"videoroom": "destroyed", "room": room}}}


@pytest.mark.parametrize("body,code,error", [
    ({"request": "exists"}, 429, "Missing mandatory element (room)"),
    ({"request": "exists", "room": "1234"}, 430, "Invalid element type (room should be a positive integer)"),
    ({"request": "create", "room": "abc"}, 430, "Invalid element type (room should be a positive integer)"),
    ({"request": "create", "room": -5}, 430, "Invalid element type (room should be a positive integer)"),
    ({"request": "create", "room": 1234}, 427, "Room 1234 already exists"),
    ({"request": "create", "description": 5}, 430, "Invalid element type (description should be a string)"),
    ({"request": "destroy"}, 429, "Missing mandatory element (room)"),
    ({"request": "destroy", "room": "x"}, 430, "Invalid element type (room should be a positive integer)"),
    ({"request": "destroy", "room": 1234, "secret": "definitely-wrong"}, 433, "Unauthorized (wrong secret)"),
    ({"request": "destroy", "room": 987654321987, "secret": "x"}, 426, "No such room (987654321987)"),
    ({"request": "edit", "room": 987654321987, "secret": "x"}, 426, "No such room (987654321987)"),
    ({"request": "listparticipants", "room": 987654321987}, 426, "No such room (987654321987)"),
    ({"request": "nonsense"}, 423, "Unknown request 'nonsense'"),
    ({}, 429, "Missing mandatory element (request)"),
    ({"request": 5}, 430, "Invalid element type (request should be a string)"),
])
def test_videoroom_errors(session, body, code, error):
    api, sid, hid = session
    t = tx()
    r = api.message(sid, hid, body, transaction=t)
    assert_keys(r, {"janus", "session_id", "transaction", "sender", "plugindata"}, "plugin error reply")
    assert (r["janus"], r["session_id"], r["transaction"], r["sender"]) == ("success", sid, t, hid)
    assert_plugin_error(plugin_data(r), code, error)


def test_videoroom_async_error_event(session):
    """An async request (join) that fails: ack, then the error as an event."""
    api, sid, hid = session
    room = unique_room()
    t = tx()
    assert api.message(sid, hid, {"request": "join", "room": room, "ptype": "publisher"}, transaction=t) == \
        {"janus": "ack", "session_id": sid, "transaction": t}
    ev = api.events(sid, 1)[0]
    assert ev == {"janus": "event", "session_id": sid, "transaction": t, "sender": hid,
                  "plugindata": {"plugin": VIDEOROOM, "data": {"videoroom": "event", "error_code": 426,
                                                               "error": f"No such room ({room})"}}}
