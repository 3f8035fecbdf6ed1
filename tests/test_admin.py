"""Admin API (HTTP POST on the admin port, path /admin), shapes recorded from Janus 1.1.2."""
from __future__ import annotations

import pytest
import requests

from janus_client import UNAUTHORIZED, VIDEOROOM, JanusAdmin, JanusHTTP, assert_error, assert_keys, tx

HANDLE_INFO_KEYS = {"session_id", "session_last_activity", "session_timeout", "session_transport",
                    "handle_id", "opaque_id", "created", "current_time", "plugin", "plugin_specific",
                    "flags", "sdps"}


def test_info_and_ping_need_no_secret(server, admin):
    t = tx()
    r = admin.request("info", secret=None, transaction=t)
    assert r["janus"] == "server_info" and r["transaction"] == t
    assert r["session-timeout"] == 60
    assert VIDEOROOM in r["plugins"]
    t = tx()
    assert admin.request("ping", secret=None, transaction=t) == {"janus": "pong", "transaction": t}


@pytest.mark.parametrize("secret", [None, "wrong"])
def test_wrong_or_missing_admin_secret_403(admin, secret):
    for req in ("list_sessions", "set_log_level", "bogus"):
        t = tx()
        assert admin.request(req, secret=secret, transaction=t, level=4) == \
            {"janus": "error", "transaction": t, "error": {"code": 403, "reason": UNAUTHORIZED}}


def test_wrong_admin_secret_on_session_path_403(api, admin):
    sid = api.create()
    try:
        t = tx()
        assert admin.request("list_handles", sid, secret="wrong", transaction=t) == \
            {"janus": "error", "session_id": sid, "transaction": t, "error": {"code": 403, "reason": UNAUTHORIZED}}
    finally:
        api.destroy(sid)


def test_admin_parse_errors(server, admin):
    r = requests.post(server.admin_url, data="{bad", timeout=10)
    assert r.status_code == 200
    assert_error(r.json(), 454, reason_prefix="JSON error: ", exact_keys={"janus", "error"})
    assert admin.post({"janus": "list_sessions", "admin_secret": server.admin_secret}) == \
        {"janus": "error", "error": {"code": 456, "reason": "Missing mandatory element (transaction)"}}


def test_unknown_admin_request_457(admin):
    for req in ("bogus", "create", "list_handles", "destroy_session", "handle_info"):
        t = tx()
        assert admin.request(req, transaction=t) == \
            {"janus": "error", "transaction": t,
             "error": {"code": 457, "reason": f"Unhandled request '{req}' at this path"}}


def test_list_sessions_and_handles(api, admin):
    sid = api.create()
    h1 = api.attach(sid, opaque_id="adm-1")
    h2 = api.attach(sid)
    try:
        t = tx()
        r = admin.request("list_sessions", transaction=t)
        assert_keys(r, {"janus", "transaction", "sessions"}, "list_sessions")
        assert r["janus"] == "success" and r["transaction"] == t
        assert sid in r["sessions"] and all(isinstance(s, int) for s in r["sessions"])
        t = tx()
        r = admin.request("list_handles", sid, transaction=t)
        assert_keys(r, {"janus", "session_id", "transaction", "handles"}, "list_handles")
        assert (r["janus"], r["session_id"], r["transaction"]) == ("success", sid, t)
        assert sorted(r["handles"]) == sorted([h1, h2])
        t = tx()
        assert admin.request("list_handles", 123, transaction=t) == \
            {"janus": "error", "session_id": 123, "transaction": t,
             "error": {"code": 458, "reason": "No such session 123"}}
        # detached handles disappear from the list
        api.request("detach", sid, h2)
        assert admin.handles(sid) == [h1]
    finally:
        api.destroy(sid)
    assert sid not in admin.sessions()


def test_handle_info(api, admin):
    sid = api.create()
    hid = api.attach(sid, opaque_id="adm-opaque")
    try:
        t = tx()
        r = admin.request("handle_info", sid, hid, transaction=t)
        assert_keys(r, {"janus", "session_id", "transaction", "handle_id", "info"}, "handle_info")
        assert (r["janus"], r["session_id"], r["transaction"], r["handle_id"]) == ("success", sid, t, hid)
        info = r["info"]
        missing = HANDLE_INFO_KEYS - set(info)
        assert not missing, f"handle_info.info lacks {sorted(missing)}"
        assert (info["session_id"], info["handle_id"], info["opaque_id"], info["plugin"]) == \
            (sid, hid, "adm-opaque", VIDEOROOM)
        assert info["session_timeout"] == 60
        assert isinstance(info["session_transport"], str)
        for k in ("session_last_activity", "created", "current_time"):
            assert isinstance(info[k], int), (k, info[k])
        assert info["created"] <= info["current_time"]
        for k in ("plugin_specific", "flags", "sdps"):
            assert isinstance(info[k], dict), (k, info[k])
        t = tx()
        assert admin.request("handle_info", sid, 123, transaction=t) == \
            {"janus": "error", "session_id": sid, "transaction": t,
             "error": {"code": 459, "reason": f"No such handle 123 in session {sid}"}}
        t = tx()
        assert admin.request("handle_info", sid, transaction=t) == \
            {"janus": "error", "session_id": sid, "transaction": t,
             "error": {"code": 457, "reason": "Unhandled request 'handle_info' at this path"}}
    finally:
        api.destroy(sid)


def test_handle_info_without_opaque_id_has_no_opaque_key(api, admin):
    sid = api.create()
    hid = api.attach(sid)
    try:
        info = admin.request("handle_info", sid, hid)["info"]
        assert "opaque_id" not in info
    finally:
        api.destroy(sid)


def test_destroy_session(api, admin):
    sid = api.create()
    hid = api.attach(sid)
    t = tx()
    assert admin.request("destroy_session", sid, transaction=t) == \
        {"janus": "success", "session_id": sid, "transaction": t}
    assert sid not in admin.sessions()
    t = tx()
    assert_error(api.post({"janus": "keepalive", "transaction": t}, sid), 458, f"No such session {sid}")
    assert_error(api.message(sid, hid, {"request": "list"}), 458, f"No such session {sid}")
    t = tx()
    assert admin.request("destroy_session", sid, transaction=t) == \
        {"janus": "error", "session_id": sid, "transaction": t,
         "error": {"code": 458, "reason": f"No such session {sid}"}}


def test_set_session_timeout(server, api, admin):
    sid = api.create()
    hid = api.attach(sid)
    try:
        t = tx()
        assert admin.request("set_session_timeout", timeout=120, transaction=t) == \
            {"janus": "success", "transaction": t, "timeout": 120}
        assert api.info()["session-timeout"] == 120
        assert admin.request("handle_info", sid, hid)["info"]["session_timeout"] == 120
        t = tx()
        assert admin.request("set_session_timeout", transaction=t) == \
            {"janus": "error", "transaction": t, "error": {"code": 456, "reason": "Missing mandatory element (timeout)"}}
        for bad in ("x", -1):
            t = tx()
            assert admin.request("set_session_timeout", timeout=bad, transaction=t) == \
                {"janus": "error", "transaction": t,
                 "error": {"code": 467, "reason": "Invalid element type (timeout should be a positive integer)"}}
    finally:
        admin.request("set_session_timeout", timeout=60)
        api.destroy(sid)
    assert api.info()["session-timeout"] == 60


def test_set_log_level(admin):
    try:
        t = tx()
        assert admin.request("set_log_level", level=5, transaction=t) == \
            {"janus": "success", "transaction": t, "level": 5}
        t = tx()
        assert admin.request("set_log_level", level=99, transaction=t) == \
            {"janus": "error", "transaction": t,
             "error": {"code": 467, "reason": "Invalid element type (level should be between 0 and 7)"}}
        t = tx()
        assert admin.request("set_log_level", level="x", transaction=t) == \
            {"janus": "error", "transaction": t,
             "error": {"code": 467, "reason": "Invalid element type (level should be a positive integer)"}}
        t = tx()
        assert admin.request("set_log_level", transaction=t) == \
            {"janus": "error", "transaction": t, "error": {"code": 456, "reason": "Missing mandatory element (level)"}}
    finally:
        assert admin.request("set_log_level", level=4)["level"] == 4


def test_token_requests_refused_without_stored_token_auth(admin):
    for req in ("add_token", "list_tokens", "remove_token", "allow_token", "disallow_token"):
        t = tx()
        assert admin.request(req, token="x", plugins=[VIDEOROOM], transaction=t) == \
            {"janus": "error", "transaction": t,
             "error": {"code": 490, "reason": "Stored-Token based authentication disabled"}}, req


def test_tokens(server_factory):
    srv = server_factory(token_auth=True)
    adm = JanusAdmin(srv.admin_url, srv.admin_secret)
    t = tx()
    assert adm.request("add_token", transaction=t) == \
        {"janus": "error", "transaction": t, "error": {"code": 456, "reason": "Missing mandatory element (token)"}}
    # without a plugin list a token gets every plugin the server has loaded (in any order)
    every = sorted(JanusHTTP(srv.janus_url).info()["plugins"])
    t = tx()
    r = adm.request("add_token", token="tok-1", transaction=t)
    assert r["janus"] == "success" and r["transaction"] == t, r
    assert sorted(r["data"]["plugins"]) == every, r
    t = tx()
    assert adm.request("add_token", token="tok-2", plugins=[VIDEOROOM], transaction=t) == \
        {"janus": "success", "transaction": t, "data": {"plugins": [VIDEOROOM]}}
    # unknown plugins are dropped from the list
    t = tx()
    assert adm.request("add_token", token="tok-3", plugins=["janus.plugin.nope"], transaction=t) == \
        {"janus": "success", "transaction": t, "data": {"plugins": []}}
    t = tx()
    r = adm.request("list_tokens", transaction=t)
    assert_keys(r, {"janus", "transaction", "data"}, "list_tokens")
    assert r["janus"] == "success" and r["transaction"] == t
    assert_keys(r["data"], {"tokens"}, "list_tokens.data")
    for entry in r["data"]["tokens"]:
        assert_keys(entry, {"token", "allowed_plugins"}, "token entry")
    got = {e["token"]: e["allowed_plugins"] for e in r["data"]["tokens"]}
    # Janus 1.1.2 lists only tokens that can access at least one plugin
    assert {k: sorted(v) for k, v in got.items()} == {"tok-1": every, "tok-2": [VIDEOROOM]}
    # allow / disallow
    t = tx()
    assert adm.request("allow_token", token="tok-3", plugins=[VIDEOROOM], transaction=t) == \
        {"janus": "success", "transaction": t, "data": {"plugins": [VIDEOROOM]}}
    got = {e["token"]: e["allowed_plugins"] for e in adm.request("list_tokens")["data"]["tokens"]}
    assert {k: sorted(v) for k, v in got.items()} == {"tok-1": every, "tok-2": [VIDEOROOM], "tok-3": [VIDEOROOM]}
    t = tx()
    assert adm.request("disallow_token", token="tok-3", plugins=[VIDEOROOM], transaction=t) == \
        {"janus": "success", "transaction": t, "data": {"plugins": []}}
    # a token without plugins cannot attach
    api3 = JanusHTTP(srv.janus_url, token="tok-3")
    sid3 = api3.create()
    t = tx()
    assert api3.post({"janus": "attach", "plugin": VIDEOROOM, "transaction": t}, sid3) == \
        {"janus": "error", "session_id": sid3, "transaction": t,
         "error": {"code": 405, "reason": f"Provided token can't access plugin '{VIDEOROOM}'"}}
    # token request errors
    t = tx()
    assert adm.request("allow_token", token="nope", plugins=[VIDEOROOM], transaction=t) == \
        {"janus": "error", "transaction": t, "error": {"code": 470, "reason": "Token nope not found"}}
    t = tx()
    assert adm.request("allow_token", token="tok-3", transaction=t) == \
        {"janus": "error", "transaction": t,
         "error": {"code": 467, "reason": "Invalid element type (plugins should be a non-empty array)"}}
    t = tx()
    assert adm.request("allow_token", token="tok-3", plugins=["janus.plugin.nope"], transaction=t) == \
        {"janus": "error", "transaction": t,
         "error": {"code": 467, "reason": "Invalid element type (some of the provided plugins are invalid)"}}
    t = tx()
    assert adm.request("add_token", token="tok-4", plugins="x", transaction=t) == \
        {"janus": "error", "transaction": t,
         "error": {"code": 467, "reason": "Invalid element type (plugins should be an array)"}}
    t = tx()
    assert adm.request("add_token", token=5, transaction=t) == \
        {"janus": "error", "transaction": t,
         "error": {"code": 467, "reason": "Invalid element type (token should be a string)"}}
    # the token works on the Janus API
    api = JanusHTTP(srv.janus_url, token="tok-1")
    sid = api.create()
    api.attach(sid)
    # remove
    t = tx()
    assert adm.request("remove_token", token="tok-1", transaction=t) == {"janus": "success", "transaction": t}
    t = tx()
    assert adm.request("remove_token", token="tok-1", transaction=t) == \
        {"janus": "error", "transaction": t, "error": {"code": 490, "reason": "Error removing token"}}
    t = tx()
    assert adm.request("remove_token", transaction=t) == \
        {"janus": "error", "transaction": t, "error": {"code": 456, "reason": "Missing mandatory element (token)"}}
    got = {e["token"] for e in adm.request("list_tokens")["data"]["tokens"]}
    assert got == {"tok-2"}
    assert_error(api.post({"janus": "create", "transaction": "x"}), 403, UNAUTHORIZED)


def test_admin_secret_from_config(server_factory):
    srv = server_factory(admin_secret="other-secret")
    adm = JanusAdmin(srv.admin_url, "other-secret")
    assert adm.request("list_sessions")["janus"] == "success"
    assert_error(JanusAdmin(srv.admin_url, "adminpw").request("list_sessions"), 403, UNAUTHORIZED)


@pytest.mark.confab_only
def test_metrics_endpoint(server, api):
    sid = api.create()
    try:
        r = requests.get(f"http://127.0.0.1:{server.admin_port}/metrics", timeout=10)
        assert r.status_code == 200
        assert r.headers.get("Content-Type", "").startswith("text/plain")
        assert "# TYPE" in r.text
    finally:
        api.destroy(sid)


@pytest.mark.confab_only
def test_config_js_served(server):
    r = requests.get(f"{server.http_base}/config.js", timeout=10)
    assert r.status_code == 200
    assert "javascript" in r.headers.get("Content-Type", "")
    assert r.text.strip()
