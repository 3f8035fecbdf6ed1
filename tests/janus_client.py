"""Small Janus API clients (HTTP, WebSocket, Admin) and assertion helpers for the test suite."""
from __future__ import annotations

import asyncio
import itertools
import json
import random
import string
import time
from typing import Any, Optional

import requests

VIDEOROOM = "janus.plugin.videoroom"
UNAUTHORIZED = "Unauthorized request (wrong or missing secret/token)"

_counter = itertools.count(1)


def tx() -> str:
    """A fresh transaction id (Janus clients use 12 random characters)."""
    return "".join(random.choices(string.ascii_letters + string.digits, k=8)) + str(next(_counter))


def unique_room() -> int:
    """A room id nobody else in this run uses (positive, fits in 53 bits)."""
    return random.randint(10_000_000, 2**40)


# ----------------------------------------------------------------------------------------------
# assertion helpers
# ----------------------------------------------------------------------------------------------

def keys(d: dict) -> set:
    return set(d.keys())


def assert_keys(d: dict, expected: set, where: str = "") -> None:
    assert isinstance(d, dict), f"{where}: expected an object, got {d!r}"
    assert keys(d) == set(expected), (
        f"{where}: key set differs\n  missing: {sorted(set(expected) - keys(d))}\n"
        f"  extra:   {sorted(keys(d) - set(expected))}\n  reply: {json.dumps(d)[:800]}")


def assert_error(reply: dict, code: int, reason: Optional[str] = None, *,
                 transaction: Optional[str] = None, session_id: Optional[int] = None,
                 reason_prefix: Optional[str] = None, exact_keys: Optional[set] = None) -> None:
    """A Janus core error: {"janus":"error", ["session_id"], ["transaction"], "error":{"code","reason"}}."""
    assert reply.get("janus") == "error", f"expected janus=error, got {reply!r}"
    assert isinstance(reply.get("error"), dict), reply
    assert_keys(reply["error"], {"code", "reason"}, "error object")
    assert reply["error"]["code"] == code, f"expected error code {code}, got {reply!r}"
    assert isinstance(reply["error"]["reason"], str) and reply["error"]["reason"], reply
    if reason is not None:
        assert reply["error"]["reason"] == reason, f"reason: {reply['error']['reason']!r} != {reason!r}"
    if reason_prefix is not None:
        assert reply["error"]["reason"].startswith(reason_prefix), reply
    if transaction is not None:
        assert reply.get("transaction") == transaction, reply
    if session_id is not None:
        assert reply.get("session_id") == session_id, reply
    if exact_keys is not None:
        assert_keys(reply, exact_keys, "error reply")


def plugin_data(reply: dict, *, sync: bool = True) -> dict:
    """Unwrap a plugin reply; checks the envelope shape Janus uses for plugin responses/events."""
    if sync:
        assert reply.get("janus") == "success", f"expected a synchronous plugin success, got {reply!r}"
    assert isinstance(reply.get("plugindata"), dict), reply
    assert_keys(reply["plugindata"], {"plugin", "data"}, "plugindata")
    assert reply["plugindata"]["plugin"] == VIDEOROOM, reply
    return reply["plugindata"]["data"]


def assert_plugin_error(data: dict, code: int, error: Optional[str] = None) -> None:
    """VideoRoom errors: {"videoroom":"event","error_code":N,"error":"..."} inside plugindata.data."""
    assert_keys(data, {"videoroom", "error_code", "error"}, "videoroom error")
    assert data["videoroom"] == "event", data
    assert data["error_code"] == code, f"expected videoroom error_code {code}, got {data!r}"
    assert isinstance(data["error"], str) and data["error"], data
    if error is not None:
        assert data["error"] == error, f"error: {data['error']!r} != {error!r}"


# ----------------------------------------------------------------------------------------------
# HTTP
# ----------------------------------------------------------------------------------------------

class JanusHTTP:
    def __init__(self, base_url: str, apisecret: Optional[str] = None, token: Optional[str] = None,
                 timeout: float = 10.0):
        self.base = base_url.rstrip("/")
        self.apisecret = apisecret
        self.token = token
        self.timeout = timeout
        self.http = requests.Session()

    def url(self, session_id=None, handle_id=None) -> str:
        u = self.base
        if session_id is not None:
            u += f"/{session_id}"
        if handle_id is not None:
            u += f"/{handle_id}"
        return u

    def _auth(self, body: dict) -> dict:
        body = dict(body)
        if self.apisecret is not None and "apisecret" not in body:
            body["apisecret"] = self.apisecret
        if self.token is not None and "token" not in body:
            body["token"] = self.token
        return body

    def post_raw(self, data: bytes | str, session_id=None, handle_id=None, **kw) -> requests.Response:
        return self.http.post(self.url(session_id, handle_id), data=data, timeout=self.timeout,
                              headers={"Content-Type": "application/json"}, **kw)

    def post(self, body: dict, session_id=None, handle_id=None, auth: bool = True) -> dict:
        if auth:
            body = self._auth(body)
        r = self.post_raw(json.dumps(body), session_id, handle_id)
        assert r.status_code == 200, f"HTTP {r.status_code} for {body!r}: {r.text[:300]}"
        assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
        return r.json()

    def request(self, janus: str, session_id=None, handle_id=None, **fields) -> dict:
        t = fields.pop("transaction", None) or tx()
        return self.post({"janus": janus, "transaction": t, **fields}, session_id, handle_id)

    # --- typical flows ---
    def create(self, **fields) -> int:
        r = self.request("create", **fields)
        assert r.get("janus") == "success", r
        return r["data"]["id"]

    def attach(self, session_id: int, plugin: str = VIDEOROOM, **fields) -> int:
        r = self.request("attach", session_id, plugin=plugin, **fields)
        assert r.get("janus") == "success", r
        return r["data"]["id"]

    def message(self, session_id: int, handle_id: int, body: dict, **fields) -> dict:
        return self.request("message", session_id, handle_id, body=body, **fields)

    def vr(self, session_id: int, handle_id: int, body: dict) -> dict:
        """Synchronous VideoRoom request; returns plugindata.data."""
        return plugin_data(self.message(session_id, handle_id, body))

    def destroy(self, session_id: int) -> dict:
        return self.request("destroy", session_id)

    def long_poll(self, session_id: int, maxev: Optional[int] = None, timeout: float = 40.0,
                  params: Optional[dict] = None) -> requests.Response:
        p = dict(params or {})
        if maxev is not None:
            p["maxev"] = maxev
        if self.apisecret is not None:
            p.setdefault("apisecret", self.apisecret)
        if self.token is not None:
            p.setdefault("token", self.token)
        p["rid"] = int(time.time() * 1000)
        return self.http.get(self.url(session_id), params=p, timeout=timeout)

    def events(self, session_id: int, want: int = 1, deadline: float = 15.0) -> list:
        """Long-poll until `want` events arrived (skipping the 'keepalive' a quiet poll returns)."""
        got: list = []
        end = time.time() + deadline
        while len(got) < want and time.time() < end:
            r = self.long_poll(session_id, maxev=want - len(got))
            assert r.status_code == 200, f"long poll HTTP {r.status_code}: {r.text[:200]}"
            body = r.json()
            batch = body if isinstance(body, list) else [body]
            got.extend(e for e in batch if e.get("janus") != "keepalive")
        return got

    def info(self) -> dict:
        r = self.http.get(self.base + "/info", timeout=self.timeout)
        assert r.status_code == 200, r.text
        return r.json()


class JanusAdmin:
    def __init__(self, admin_url: str, secret: Optional[str], timeout: float = 10.0):
        self.base = admin_url.rstrip("/")
        self.secret = secret
        self.timeout = timeout
        self.http = requests.Session()

    def post(self, body: dict, session_id=None, handle_id=None) -> dict:
        u = self.base
        if session_id is not None:
            u += f"/{session_id}"
        if handle_id is not None:
            u += f"/{handle_id}"
        r = self.http.post(u, data=json.dumps(body), timeout=self.timeout,
                           headers={"Content-Type": "application/json"})
        assert r.status_code == 200, f"admin HTTP {r.status_code}: {r.text[:300]}"
        return r.json()

    def request(self, janus: str, session_id=None, handle_id=None, secret: Any = ..., **fields) -> dict:
        body = {"janus": janus, "transaction": fields.pop("transaction", None) or tx(), **fields}
        s = self.secret if secret is ... else secret
        if s is not None:
            body["admin_secret"] = s
        return self.post(body, session_id, handle_id)

    def sessions(self) -> list:
        r = self.request("list_sessions")
        assert r.get("janus") == "success", r
        return r["sessions"]

    def handles(self, session_id: int) -> list:
        r = self.request("list_handles", session_id)
        assert r.get("janus") == "success", r
        return r["handles"]


# ----------------------------------------------------------------------------------------------
# WebSocket (asyncio, `websockets` package)
# ----------------------------------------------------------------------------------------------

class JanusWS:
    """Janus API over a WebSocket. Messages that are not the awaited reply are kept in `inbox`."""

    def __init__(self, ws, apisecret: Optional[str] = None, token: Optional[str] = None):
        self.ws = ws
        self.inbox: list[dict] = []
        self.apisecret = apisecret
        self.token = token

    @classmethod
    async def connect(cls, url: str, protocol: str = "janus-protocol", **kw) -> "JanusWS":
        import websockets
        ws = await websockets.connect(url, subprotocols=[protocol], open_timeout=10,
                                      max_size=None, **kw)
        return cls(ws)

    async def close(self) -> None:
        await self.ws.close()

    async def send(self, msg: dict | str) -> None:
        if isinstance(msg, dict):
            msg = dict(msg)
            if self.apisecret is not None:
                msg.setdefault("apisecret", self.apisecret)
            if self.token is not None:
                msg.setdefault("token", self.token)
            msg = json.dumps(msg)
        await self.ws.send(msg)

    async def recv(self, timeout: float = 10.0) -> dict:
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        return json.loads(raw)

    async def wait_for(self, pred, timeout: float = 10.0) -> dict:
        for i, m in enumerate(self.inbox):
            if pred(m):
                return self.inbox.pop(i)
        end = asyncio.get_event_loop().time() + timeout
        while True:
            left = end - asyncio.get_event_loop().time()
            if left <= 0:
                raise AssertionError(f"timed out waiting on WebSocket; inbox={self.inbox!r}")
            try:
                m = await self.recv(left)
            except asyncio.TimeoutError:
                raise AssertionError(f"timed out waiting on WebSocket; inbox={self.inbox!r}") from None
            if pred(m):
                return m
            self.inbox.append(m)

    async def call(self, msg: dict, timeout: float = 10.0, skip_ack: bool = True) -> dict:
        """Send a request and return its reply (by transaction). `ack`s are skipped (and kept
        in inbox) when skip_ack is set, so an async request returns its later event."""
        msg = dict(msg)
        t = msg.setdefault("transaction", tx())
        await self.send(msg)

        def match(m):
            if m.get("transaction") != t:
                return False
            if skip_ack and m.get("janus") == "ack":
                return False
            return True
        return await self.wait_for(match, timeout)

    async def create(self) -> int:
        r = await self.call({"janus": "create"})
        assert r.get("janus") == "success", r
        return r["data"]["id"]

    async def attach(self, session_id: int, plugin: str = VIDEOROOM, **fields) -> int:
        r = await self.call({"janus": "attach", "session_id": session_id, "plugin": plugin, **fields})
        assert r.get("janus") == "success", r
        return r["data"]["id"]


def run(coro, timeout: float = 60.0):
    """Run an async test body with an overall time bound."""
    return asyncio.run(asyncio.wait_for(coro, timeout))
