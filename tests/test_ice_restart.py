"""ICE restart mid-call, end to end: Chromium with stock janus.js (`createOffer({iceRestart: true})`
sent with the EchoTest request) restarts ICE during a running call; the server answers with new
credentials, media keeps flowing, and the Admin API's handle_info shows the new ufrags in both SDPs.

Runs against Confab in both ICE modes (ICE-lite on the shared port, full ICE on libnice, the latter
with and without full trickle) and against Janus 1.1.2 (CONFAB_TARGET=janus; one mode). aiortc is
not used: it cannot restart ICE.
"""
from __future__ import annotations

import re
import time

import pytest
import requests

import echo_browser as eb
import harness
from test_echotest_browser import check_call, driver, echo_page  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

MODES = {"mux": dict(ice_mode="mux"), "full": dict(ice_mode="full"),
         "full-trickle": dict(ice_mode="full", full_trickle=True)}


@pytest.fixture(scope="module", params=list(MODES))
def restart_srv(request):
    if harness.target() == "janus" and request.param != "full":
        pytest.skip("Janus has one ICE mode (full; its trickle mode is covered by test_full_trickle.py)")
    srv = harness.start_server(harness.ServerOptions(media=True, **MODES[request.param]))
    yield srv
    alive, tail = srv.alive(), srv.log_tail()
    srv.stop()
    assert alive, f"server under test died during the test\n--- log tail ---\n{tail}"


def ufrag(sdp: str) -> str:
    found = set(re.findall(r"^a=ice-ufrag:(\S+)\s*$", sdp, re.M))
    assert len(found) == 1, f"expected one ufrag in\n{sdp}"
    return found.pop()


def handle_info(srv, session_id: int, handle_id: int) -> dict:
    r = requests.post(f"{srv.admin_url}/{session_id}/{handle_id}", timeout=5,
                      json={"janus": "handle_info", "transaction": "restart", "admin_secret": srv.admin_secret})
    body = r.json()
    assert body.get("janus") == "success", body
    return body["info"]


def test_ice_restart_mid_call_keeps_media_and_shows_the_new_ufrags(restart_srv, driver, echo_page):  # noqa: F811
    b = eb.EchoBrowser(driver, echo_page)
    started = b.start(restart_srv.janus_url)
    try:
        check_call(b, restart_srv)
        sid, hid = started["sessionId"], started["handleId"]
        before = handle_info(restart_srv, sid, hid)
        server_ufrag, browser_ufrag = ufrag(before["sdps"]["local"]), ufrag(before["sdps"]["remote"])

        new_browser_ufrag = b.restart_ice()
        assert new_browser_ufrag != browser_ufrag
        end = time.time() + 15
        while time.time() < end and b.state()["steps"].count("answered") < 2:
            time.sleep(0.1)
        state = b.state()
        assert state["steps"].count("answered") == 2 and state["error"] is None, f"{state}\n{b.log()}"
        assert [j["type"] for j in state["jseps"]] == ["answer", "answer"], state["jseps"]
        new_server_ufrag = ufrag(state["jseps"][1]["sdp"])
        assert new_server_ufrag != server_ufrag, "the server kept its ICE credentials on an ICE restart"

        # The new credentials are in use: the PeerConnection stays connected and media keeps coming.
        time.sleep(2)
        b.assert_frames_rising(seconds=2.5, min_new=15)
        st = b.stats()
        assert st["pcState"] == "connected", st
        assert st["pair"] and st["pair"]["remote"]["address"] == "127.0.0.1", st

        after = handle_info(restart_srv, sid, hid)
        assert ufrag(after["sdps"]["remote"]) == new_browser_ufrag, after["sdps"]
        assert ufrag(after["sdps"]["local"]) == new_server_ufrag, after["sdps"]
        assert after["flags"]["ready"] is True, after["flags"]
        full = restart_srv.is_janus or restart_srv.options.ice_mode == "full"
        assert after["ice-mode"] == ("full" if full else "lite"), after["ice-mode"]
        # One webrtcup, no hangup: the restart did not end the PeerConnection.
        state = b.state()
        assert state["webrtcState"] == [{"on": True, "reason": None}], state["webrtcState"]
        print(f"\n[{harness.target()} {restart_srv.options.ice_mode}] ufrags server {server_ufrag} -> "
              f"{new_server_ufrag}, browser {browser_ufrag} -> {new_browser_ufrag}; pair {st['pair']}")
    finally:
        b.destroy()
