"""The demo site's meeting page (html/videoroom.html) in headless Chromium, fake camera and mic.

Two tabs open `videoroom.html?room=1234&name=A` and `...&name=B` (a shared link joins straight
away; A signals over WebSocket, B over HTTP long poll), publish through the page and subscribe to
each other with one subscriber handle each (Janus 1.x multistream API: publisher `join` +
`publish`, subscriber `join` with `streams`, `update` when someone new arrives). Asserted from the page: each shows a tile labelled with the
other's name whose <video> plays (videoWidth > 0, decoded frames rising); A's screen share (a second
publisher handle) reaches B as an extra tile that plays and goes away when A stops sharing; when A
stops its camera B's tile for A switches to the avatar; when A leaves B's grid shrinks and says so.
Three tabs join through the lobby form (screenshots); PIN rooms, a full room, a blocked camera
and the talking indicator too.
Runs against the real Janus (CONFAB_TARGET=janus) and against Confab (no xfail: Confab's VideoRoom
media — publish, subscriber update, simulcast fallback, 432 — is in).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import harness
import media_peers as mp
import site_browser as sb

pytestmark = pytest.mark.browser

@pytest.fixture(scope="module")
def media_srv(request):
    srv = mp.media_server(request.config)
    yield srv
    assert srv.alive(), f"server under test died during the test\n--- log tail ---\n{srv.log_tail()}"


@pytest.fixture(scope="module")
def base(media_srv):
    with sb.site(media_srv) as url:
        yield url


@pytest.fixture
def driver():
    with sb.chromium() as drv:
        yield drv


TILE = ("const t = [...document.querySelectorAll('#grid .tile:not([data-local])')]"
        ".find((el) => el.querySelector('.tile__name').textContent === arguments[0]);")
TILE_STATE = TILE + (" if (!t) return null; const v = t.querySelector('video');"
                     " return {video: t.dataset.video, frames: Number(t.dataset.frames || 0),"
                     " w: v.videoWidth, t: v.currentTime, paused: v.paused};")


def tile_playing(driver, name: str, timeout: float = 20) -> dict:
    return sb.wait_for(driver, TILE_STATE, timeout, f"{name}'s video playing", name,
                       pred=lambda s: s and s["w"] > 0 and s["frames"] > 0 and s["video"] == "on")


def check_sees(driver, tab: str, other: str) -> dict:
    driver.switch_to.window(tab)
    a = tile_playing(driver, other)
    time.sleep(2)
    b = driver.execute_script(TILE_STATE, other)
    assert b["frames"] - a["frames"] >= 10, f"frames from {other} not rising: {a} -> {b}"
    assert b["t"] > a["t"] and not b["paused"], (a, b)
    return b


def grid_names(driver) -> list[str]:
    return driver.execute_script(
        "return [...document.querySelectorAll('#grid .tile .tile__name')].map((e) => e.textContent);")


def test_two_people_see_each_other(driver, base, media_srv):
    tab_a = driver.current_window_handle
    driver.get(f"{base}/videoroom.html?room=1234&name=A")
    tab_b = sb.new_tab(driver)
    driver.get(f"{base}/videoroom.html?room=1234&name=B&transport=http")   # B signals over HTTP long poll
    try:
        for tab in (tab_a, tab_b):
            driver.switch_to.window(tab)
            sb.wait_for(driver, "return !document.getElementById('room-view').hidden", 15, "in the room")
        a_sees_b = check_sees(driver, tab_a, "B")
        b_sees_a = check_sees(driver, tab_b, "A")
        print(f"\n[{harness.target()}] A sees B: {a_sees_b}; B sees A: {b_sees_a}")
        for tab in (tab_a, tab_b):
            driver.switch_to.window(tab)
            assert sorted(grid_names(driver)) in (["A (you)", "B"], ["A", "B (you)"]), grid_names(driver)
            assert driver.execute_script("return document.getElementById('error').hidden"), \
                driver.execute_script("return document.getElementById('error').textContent")

        # A shares the screen: an extra feed; B gets a screen tile that plays, and loses it when A stops
        driver.switch_to.window(tab_a)
        driver.find_element("id", "toggle-screen").click()
        sb.wait_for(driver, "return document.querySelector('#grid .tile--screen[data-local] .tile__name')?.textContent",
                    10, "A's own screen tile", pred=lambda t: t == "Your screen")
        check_sees(driver, tab_b, "A (screen)")
        assert driver.execute_script("return document.querySelectorAll('#grid .tile--screen').length") == 1
        assert driver.execute_script("return document.getElementById('room-count').textContent") == "2 participants"
        driver.switch_to.window(tab_a)
        driver.find_element("id", "toggle-screen").click()
        driver.switch_to.window(tab_b)
        sb.wait_for(driver, "return document.querySelectorAll('#grid .tile--screen').length", 10,
                    "B's screen tile gone", pred=lambda n: n == 0)

        # A stops the camera: B's tile for A shows the avatar
        driver.switch_to.window(tab_a)
        driver.find_element("id", "toggle-video").click()
        driver.switch_to.window(tab_b)
        sb.wait_for(driver, TILE + " return t && t.dataset.video;", 10, "A's tile without video at B", "A",
                    pred=lambda v: v == "off")

        # A leaves: B's grid shrinks to B alone
        driver.switch_to.window(tab_a)
        driver.find_element("id", "leave").click()
        sb.wait_for(driver, "return !document.getElementById('left-view').hidden", 10, "A left")
        driver.switch_to.window(tab_b)
        sb.wait_for(driver, "return [...document.querySelectorAll('#grid .tile .tile__name')].map((e) => e.textContent);",
                    10, "B's grid without A", pred=lambda names: names == ["B (you)"])
        assert "A left." in driver.execute_script("return document.getElementById('notices').textContent")
    finally:
        for tab in driver.window_handles:
            driver.switch_to.window(tab)
            driver.get("about:blank")


ARTIFACTS = Path(os.environ.get("CONFAB_ARTIFACTS_DIR", harness.REPO / "tmp" / "artifacts"))


def join_through_lobby(driver, base: str, name: str) -> None:
    """Open the meeting page without parameters, pick room 1234, type the name, press Join."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    driver.get(f"{base}/videoroom.html")
    sb.wait_for(driver, "return [...document.getElementById('room').options].map((o) => o.value);", 15,
                "room list loaded", pred=lambda values: "1234" in values)
    Select(driver.find_element(By.ID, "room")).select_by_value("1234")
    field = driver.find_element(By.ID, "name")
    field.clear()
    field.send_keys(name)
    driver.find_element(By.ID, "join").click()
    sb.wait_for(driver, "return !document.getElementById('room-view').hidden", 15, f"{name} in the room")


def test_three_people_through_the_lobby(driver, base, media_srv):
    """Three tabs join through the lobby form; each sees two remote tiles playing; screenshots of
    the grid at desktop and phone sizes go to $CONFAB_ARTIFACTS_DIR (default tmp/artifacts);
    one leaves and the others' grids shrink."""
    names = ["Ada", "Grace", "Linus"]
    tabs = {}
    try:
        for i, name in enumerate(names):
            tabs[name] = driver.current_window_handle if i == 0 else sb.new_tab(driver)
            join_through_lobby(driver, base, name)
        for name, tab in tabs.items():
            for other in names:
                if other != name:
                    check_sees(driver, tab, other)
            assert sorted(grid_names(driver)) == sorted(f"{n} (you)" if n == name else n for n in names)
            assert driver.execute_script("return document.getElementById('error').hidden"), \
                driver.execute_script("return document.getElementById('error').textContent")
            assert driver.execute_script("return document.getElementById('room-count').textContent") == "3 participants"

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        driver.switch_to.window(tabs["Ada"])
        desktop = ARTIFACTS / f"videoroom-3-desktop-{harness.target()}.png"
        driver.save_screenshot(str(desktop))
        driver.switch_to.window(tabs["Grace"])
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
        time.sleep(1.0)
        assert driver.execute_script("return document.documentElement.scrollWidth <= innerWidth + 1"), \
            "the meeting page scrolls sideways on a phone"
        phone = ARTIFACTS / f"videoroom-3-phone-{harness.target()}.png"
        driver.save_screenshot(str(phone))
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        print(f"\n[{harness.target()}] screenshots: {desktop} {phone}")

        # Linus leaves: the others' grids shrink to two tiles
        driver.switch_to.window(tabs["Linus"])
        driver.find_element("id", "leave").click()
        for name in ("Ada", "Grace"):
            driver.switch_to.window(tabs[name])
            sb.wait_for(driver, "return document.querySelectorAll('#grid .tile').length", 10,
                        f"{name}'s grid without Linus", pred=lambda n: n == 2)
            errors = [e for e in sb.console_errors(driver) if "favicon" not in e]
            assert not errors, errors
    finally:
        for tab in driver.window_handles:
            driver.switch_to.window(tab)
            driver.get("about:blank")


def test_pin_room_errors_then_join(driver, base, media_srv):
    """A room with a PIN: the shared link without PIN says so (433 from the server) and shows the
    PIN field; a wrong PIN says "Wrong PIN"; the right one gets in. Room management only, so this
    holds for Confab as it is."""
    from janus_client import JanusHTTP, unique_room
    api = JanusHTTP(media_srv.janus_url)
    sid = api.create()
    hid = api.attach(sid)
    room = unique_room()
    created = api.vr(sid, hid, {"request": "create", "room": room, "pin": "4321", "description": "PIN room"})
    assert created.get("videoroom") == "created", created
    try:
        driver.get(f"{base}/videoroom.html?room={room}&name=Pat")
        err = sb.wait_for(driver, "const e = document.getElementById('error'); return e.hidden ? null : e.textContent;",
                          15, "an error about the PIN")
        assert "needs a PIN" in err, err
        assert driver.execute_script("return document.getElementById('pin-field').hidden") is False
        assert driver.execute_script("return document.getElementById('lobby').hidden") is False
        pin = driver.find_element("id", "pin")
        pin.send_keys("0000")
        driver.find_element("id", "join").click()
        sb.wait_for(driver, "const e = document.getElementById('error'); return e.hidden ? null : e.textContent;",
                    10, "wrong PIN message", pred=lambda t: t and "Wrong PIN" in t)
        pin.clear()
        pin.send_keys("4321")
        driver.find_element("id", "join").click()
        sb.wait_for(driver, "return !document.getElementById('room-view').hidden", 15, "in the PIN room")
        assert driver.execute_script("return document.getElementById('room-title').textContent") == "PIN room"
        driver.find_element("id", "leave").click()
        sb.wait_for(driver, "return !document.getElementById('left-view').hidden", 10, "left the PIN room")
    finally:
        api.vr(sid, hid, {"request": "destroy", "room": room})
        api.destroy(sid)
        driver.get("about:blank")


def test_camera_denied_joins_without_media(driver, base, media_srv):
    """Blocked camera and microphone: the page says so and still joins, to watch the others."""
    with sb.media_denied(driver):
        driver.get(f"{base}/videoroom.html?room=1234&name=Shy")
        sb.wait_for(driver, "return !document.getElementById('room-view').hidden", 15, "in the room")
        msg = sb.wait_for(driver, "const e = document.getElementById('error'); return e.hidden ? null : e.textContent;",
                          10, "a visible error")
    try:
        assert "access was denied" in msg and "joined without them" in msg, msg
        time.sleep(2)   # publishing the (empty) feed must not fail on top of that
        assert driver.execute_script("return document.getElementById('error').textContent") == msg
        assert driver.execute_script("return document.getElementById('toggle-audio').disabled") is True
        assert driver.execute_script("return document.querySelector('#grid .tile[data-local]').dataset.video") == "off"
    finally:
        driver.get("about:blank")


def test_full_room_watch_only(driver, base, media_srv):
    """`publishers: 1` and someone publishing in it: Janus lets the next one join but refuses the
    publish (432); the page says so and stays in the room to watch."""
    from janus_client import JanusHTTP, unique_room
    api = JanusHTTP(media_srv.janus_url)
    sid = api.create()
    hid = api.attach(sid)
    room = unique_room()
    assert api.vr(sid, hid, {"request": "create", "room": room, "publishers": 1})["videoroom"] == "created"
    tab_a = driver.current_window_handle
    try:
        driver.get(f"{base}/videoroom.html?room={room}&name=First")
        sb.wait_for(driver, "return !document.getElementById('room-view').hidden", 15, "First in the room")
        # In the room is not yet publishing: until First's publish is accepted, Second's could take the
        # only seat instead (seen on a loaded CI box). Wait until the room lists First as a publisher.
        deadline = time.time() + 15
        while not any(p.get("publisher") for p in
                      api.vr(sid, hid, {"request": "listparticipants", "room": room}).get("participants", [])):
            assert time.time() < deadline, "First never became a publisher"
            time.sleep(0.2)
        sb.new_tab(driver)
        driver.get(f"{base}/videoroom.html?room={room}&name=Second")
        msg = sb.wait_for(driver, "const e = document.getElementById('error'); return e.hidden ? null : e.textContent;",
                          15, "an error for the full room")
        assert "as many cameras and microphones as it allows" in msg and "You can watch" in msg, msg
        check_sees(driver, driver.current_window_handle, "First")
    finally:
        for tab in driver.window_handles:
            driver.switch_to.window(tab)
            driver.get("about:blank")
        driver.switch_to.window(tab_a)
        api.vr(sid, hid, {"request": "destroy", "room": room})
        api.destroy(sid)


def test_talking_indicator_from_server_events(driver, base, media_srv):
    """A room with `audiolevel_event`: the server's `talking` events light up the speaker's own tile
    (local audio levels only ever mark remote tiles, so this is the server's doing)."""
    from janus_client import JanusHTTP, unique_room
    api = JanusHTTP(media_srv.janus_url)
    sid = api.create()
    hid = api.attach(sid)
    room = unique_room()
    assert api.vr(sid, hid, {"request": "create", "room": room, "audiolevel_event": True,
                             "audio_active_packets": 5, "audio_level_average": 100})["videoroom"] == "created"
    try:
        driver.get(f"{base}/videoroom.html?room={room}&name=Talker")
        sb.wait_for(driver, "return !document.getElementById('room-view').hidden", 15, "in the room")
        sb.wait_for(driver, "return document.querySelector('#grid .tile[data-local]').dataset.talking", 15,
                    "own tile marked talking", pred=lambda v: v == "true")
    finally:
        driver.get("about:blank")
        api.vr(sid, hid, {"request": "destroy", "room": room})
        api.destroy(sid)


def test_no_camera_joins_audio_only(driver, base, media_srv):
    """No camera: the page joins with the microphone only, says so, and the others see the avatar."""
    tab_a = driver.current_window_handle
    try:
        with sb.no_camera(driver):
            driver.get(f"{base}/videoroom.html?room=1234&name=Mic%20Only")
            sb.wait_for(driver, "return !document.getElementById('room-view').hidden", 15, "in the room")
            sb.wait_for(driver, "return document.getElementById('notices').textContent", 10, "audio-only notice",
                        pred=lambda t: "microphone only" in t)
        assert driver.execute_script("return document.getElementById('error').hidden") is True
        assert driver.execute_script("return document.getElementById('toggle-audio').disabled") is False
        assert driver.execute_script("return document.querySelector('#grid .tile[data-local]').dataset.video") == "off"
        sb.new_tab(driver)
        driver.get(f"{base}/videoroom.html?room=1234&name=Viewer")
        sb.wait_for(driver, TILE + " return t && t.querySelector('.tile__avatar').textContent;", 15,
                    "Mic Only's tile with an avatar", "Mic Only", pred=lambda v: v == "MO")
        time.sleep(2.5)
        assert driver.execute_script(TILE + " return t.dataset.video;", "Mic Only") == "off"
    finally:
        for tab in driver.window_handles:
            driver.switch_to.window(tab)
            driver.get("about:blank")
        driver.switch_to.window(tab_a)


# Every server candidate the page is given points at DEAD_PORT, a free loopback port where nothing
# answers: ICE fails for real (Chromium checks, no answer, connectionState "failed"). Chromium
# ignores remote candidates on ports below 1024, so it must be a high one.
UNREACHABLE_SERVER = r"""
(() => {
  const deaden = (sdp) => sdp.replace(/^(a=candidate:\S+ \d+ udp \d+ \S+ )\d+/gim, '$1DEAD_PORT');
  const setRemote = RTCPeerConnection.prototype.setRemoteDescription;
  RTCPeerConnection.prototype.setRemoteDescription = function (desc, ...rest) {
    if (desc && desc.sdp) desc = { type: desc.type, sdp: deaden(desc.sdp) };
    return setRemote.call(this, desc, ...rest);
  };
  const addCandidate = RTCPeerConnection.prototype.addIceCandidate;
  RTCPeerConnection.prototype.addIceCandidate = function (c, ...rest) {
    if (c && c.candidate) c = { ...c.toJSON?.() ?? c, candidate: deaden('a=' + c.candidate).slice(2) };
    return addCandidate.call(this, c, ...rest);
  };
})();
"""


def test_ice_failure_shows_the_turn_hint(driver, base, media_srv):
    """When media cannot reach the server (here: every server candidate rewritten to a port where
    nothing answers), the page says the media connection failed and tells the self-hoster to
    configure TURN and the public address."""
    if media_srv.is_janus or media_srv.options.ice_mode == "full":
        pytest.skip("a full-ICE server (Janus, Confab with media.ice_mode = \"full\") checks the browser itself and is found as a peer-reflexive "
                    "candidate, so rewriting its candidates does not make ICE fail")
    source = UNREACHABLE_SERVER.replace("DEAD_PORT", str(harness.free_port()))
    script = driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": source})
    try:
        driver.get(f"{base}/videoroom.html?room=1234&name=Lost")
        sb.wait_for(driver, "return !document.getElementById('room-view').hidden", 15, "in the room")
        msg = sb.wait_for(driver, "const e = document.getElementById('error'); return e.hidden ? null : e.textContent;",
                          45, "the ICE failure message")
        assert "media connection to the server failed (ICE)" in msg, msg
        assert "TURN" in msg and "public_url" in msg, msg
    finally:
        driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]})
        driver.get("about:blank")
