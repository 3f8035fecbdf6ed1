"""Session timeout (session_timeout = 3 s): Janus checks every ~2 s, so a silent session is gone
after 3-6 s. Over WebSocket the client gets {"janus":"timeout","session_id":N}; over HTTP a waiting
long poll returns that event; afterwards the session and its handles are gone (458)."""
from __future__ import annotations

import asyncio
import time

import pytest

from janus_client import JanusAdmin, JanusHTTP, JanusWS, assert_error, run, tx

TIMEOUT = 3
GRACE = 8   # latest time (after the last activity) at which the session must be gone


@pytest.fixture
def short(server_factory):
    return server_factory(session_timeout=TIMEOUT)


def test_info_reports_timeout(short):
    assert JanusHTTP(short.janus_url).info()["session-timeout"] == TIMEOUT


def test_ws_timeout_event(short):
    adm = JanusAdmin(short.admin_url, short.admin_secret)

    async def body():
        c = await JanusWS.connect(short.ws_url)
        try:
            sid = await c.create()
            hid = await c.attach(sid)
            assert adm.handles(sid) == [hid]
            t0 = time.time()
            ev = await c.wait_for(lambda m: m.get("janus") == "timeout", timeout=GRACE + 2)
            took = time.time() - t0
            assert ev == {"janus": "timeout", "session_id": sid}
            assert TIMEOUT - 0.5 <= took <= GRACE, took
            # session and handle are gone
            assert sid not in adm.sessions()
            t = tx()
            assert_error(adm.request("list_handles", sid, transaction=t), 458, f"No such session {sid}")
            t = tx()
            r = await c.call({"janus": "message", "session_id": sid, "handle_id": hid, "body": {"request": "list"},
                              "transaction": t})
            assert r == {"janus": "error", "session_id": sid, "transaction": t,
                         "error": {"code": 458, "reason": f"No such session {sid}"}}
            # the socket itself stays open and usable
            assert (await c.call({"janus": "ping"}))["janus"] == "pong"
            assert isinstance(await c.create(), int)
        finally:
            await c.close()
    run(body())


def test_ws_keepalive_prevents_timeout(short):
    async def body():
        c = await JanusWS.connect(short.ws_url)
        try:
            sid = await c.create()
            end = time.time() + 2 * TIMEOUT + 2
            while time.time() < end:
                t = tx()
                r = await c.call({"janus": "keepalive", "session_id": sid, "transaction": t}, skip_ack=False)
                assert r == {"janus": "ack", "session_id": sid, "transaction": t}
                await asyncio.sleep(1)
            assert not [m for m in c.inbox if m.get("janus") == "timeout"], c.inbox
        finally:
            await c.close()
    run(body())


def test_http_long_poll_gets_timeout_event(short):
    api = JanusHTTP(short.janus_url)
    adm = JanusAdmin(short.admin_url, short.admin_secret)
    sid = api.create()
    hid = api.attach(sid)
    t0 = time.time()
    r = api.long_poll(sid, maxev=10, timeout=GRACE + 30)
    took = time.time() - t0
    # Janus: the waiting long poll returns [{"janus":"timeout","session_id":N}] (a long poll is
    # not activity). A 404 / 458 for a session that is already gone would also do for janus.js.
    if r.status_code == 200:
        body = r.json()
        assert body == [{"janus": "timeout", "session_id": sid}], body
    else:
        assert r.status_code == 404, (r.status_code, r.text)
    assert took <= GRACE, took
    assert sid not in adm.sessions()
    t = tx()
    assert_error(api.post({"janus": "keepalive", "transaction": t}, sid), 458, f"No such session {sid}",
                 transaction=t, session_id=sid)
    assert_error(api.message(sid, hid, {"request": "list"}), 458, f"No such session {sid}")


def test_http_session_without_long_poll_disappears(short):
    api = JanusHTTP(short.janus_url)
    adm = JanusAdmin(short.admin_url, short.admin_secret)
    sid = api.create()
    hid = api.attach(sid)
    end = time.time() + GRACE
    while time.time() < end and sid in adm.sessions():
        time.sleep(0.25)
    assert sid not in adm.sessions()
    assert_error(api.message(sid, hid, {"request": "list"}), 458, f"No such session {sid}")


def test_http_keepalive_prevents_timeout(short):
    api = JanusHTTP(short.janus_url)
    sid = api.create()
    for _ in range(6):
        time.sleep(1.5)
        t = tx()
        assert api.post({"janus": "keepalive", "transaction": t}, sid) == \
            {"janus": "ack", "session_id": sid, "transaction": t}
    assert api.destroy(sid)["janus"] == "success"


def test_admin_set_session_timeout_applies(server_factory):
    srv = server_factory(session_timeout=60)
    api = JanusHTTP(srv.janus_url)
    adm = JanusAdmin(srv.admin_url, srv.admin_secret)
    assert adm.request("set_session_timeout", timeout=TIMEOUT)["timeout"] == TIMEOUT
    sid = api.create()
    end = time.time() + GRACE
    while time.time() < end and sid in adm.sessions():
        time.sleep(0.25)
    assert sid not in adm.sessions()
