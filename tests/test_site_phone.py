"""The meeting page on a phone: Chromium emulating a 390x844 portrait phone with a touch screen
(mobile viewport, touch events, an Android user agent, no getDisplayMedia as on Android) joins from a shared link, with a desktop
tab in the same room.

Asserted on the phone: it joins and plays the other person's video; the page fits the portrait
screen (no sideways scrolling, every call control fully on screen and big enough to tap, the
remote tile no wider than the screen, no Share screen button); taps (real touch events through the DevTools protocol, no
mouse) on the controls work: Mute marks the phone's own tile muted, Stop camera turns the phone's
tile at the desktop into the avatar (the configure reached the server and the other side), Leave
leaves. Runs against Confab and against Janus (the page only speaks the Janus API).
"""
from __future__ import annotations

import pytest

import harness
import media_peers as mp
import site_browser as sb
from test_site_videoroom import TILE, check_sees

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True}
PHONE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/130.0.0.0 Mobile Safari/537.36")
# Apple's and Google's guidance for touch targets is 44-48 CSS px; 40 is the floor checked here.
MIN_TAP = 40

CONTROLS = r"""
return ['toggle-audio', 'toggle-video', 'toggle-screen', 'leave'].map((id) => {
  const el = document.getElementById(id);
  if (!el || el.hidden || getComputedStyle(el).display === 'none') return {id, shown: false};
  const r = el.getBoundingClientRect();
  return {id, shown: true, left: r.left, top: r.top, right: r.right, bottom: r.bottom,
          width: r.width, height: r.height, vw: innerWidth, vh: innerHeight};
});
"""


@pytest.fixture(scope="module")
def media_srv(request):
    srv = mp.media_server(request.config)
    yield srv
    assert srv.alive(), f"server under test died during the test\n--- log tail ---\n{srv.log_tail()}"


def become_phone(driver) -> None:
    """Turns the current tab into a touch-screen phone before the page loads."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
    driver.execute_cdp_cmd("Emulation.setUserAgentOverride", {"userAgent": PHONE_UA, "platform": "Android"})
    # Chrome on Android has no getDisplayMedia
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                           {"source": "delete MediaDevices.prototype.getDisplayMedia;"})


def tap(driver, element_id: str) -> None:
    """A finger tap in the middle of the element: touchStart + touchEnd, as a phone sends them."""
    box = driver.execute_script(
        "const r = document.getElementById(arguments[0]).getBoundingClientRect();"
        " return {x: r.left + r.width / 2, y: r.top + r.height / 2};", element_id)
    point = [{"x": box["x"], "y": box["y"], "radiusX": 4, "radiusY": 4, "force": 1, "id": 1}]
    driver.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": point})
    driver.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_phone_joins_fits_the_screen_and_works_by_touch(media_srv):
    with sb.site(media_srv) as base, sb.chromium() as driver:
        desk = driver.current_window_handle
        driver.get(f"{base}/videoroom.html?room=1234&name=Desk")
        phone = sb.new_tab(driver)
        become_phone(driver)
        driver.get(f"{base}/videoroom.html?room=1234&name=Phone")
        try:
            for tab in (desk, phone):
                driver.switch_to.window(tab)
                sb.wait_for(driver, "return !document.getElementById('room-view').hidden", 15, "in the room")
            driver.switch_to.window(phone)
            assert driver.execute_script("return matchMedia('(pointer: coarse)').matches && 'ontouchstart' in window"), \
                "the phone tab has no touch screen"
            assert driver.execute_script("return innerWidth") == PHONE["width"]
            check_sees(driver, phone, "Desk")
            check_sees(driver, desk, "Phone")

            # portrait layout: nothing sideways, controls on screen and big enough for a thumb
            driver.switch_to.window(phone)
            assert driver.execute_script("return document.documentElement.scrollWidth <= innerWidth + 1"), \
                "the meeting page scrolls sideways on a phone"
            controls = driver.execute_script(CONTROLS)
            shown = {c["id"] for c in controls if c["shown"]}
            assert shown == {"toggle-audio", "toggle-video", "leave"}, \
                f"a phone shows Mute, Stop camera and Leave, and no Share screen: {controls}"
            for c in controls:
                if not c["shown"]:
                    continue
                assert c["left"] >= 0 and c["right"] <= c["vw"] + 0.5, f"{c['id']} off screen sideways: {c}"
                assert c["top"] >= 0 and c["bottom"] <= c["vh"] + 0.5, f"{c['id']} below the fold: {c}"
                assert c["height"] >= MIN_TAP and c["width"] >= MIN_TAP, f"{c['id']} too small to tap: {c}"
            tile_width = driver.execute_script(TILE + " return t.getBoundingClientRect().width;", "Desk")
            assert 0 < tile_width <= PHONE["width"], tile_width

            # touch: mute, stop the camera (seen at the desktop), leave
            tap(driver, "toggle-audio")
            sb.wait_for(driver, "return document.getElementById('toggle-audio').getAttribute('aria-pressed')", 5,
                        "Mute tapped", pred=lambda v: v == "false")
            assert "muted" in driver.execute_script(
                "return document.querySelector('#grid .tile[data-local] .tile__muted').textContent")
            tap(driver, "toggle-video")
            sb.wait_for(driver, "return document.getElementById('toggle-video').getAttribute('aria-pressed')", 5,
                        "Stop camera tapped", pred=lambda v: v == "false")
            driver.switch_to.window(desk)
            sb.wait_for(driver, TILE + " return t && t.dataset.video;", 10, "Phone's tile without video at Desk",
                        "Phone", pred=lambda v: v == "off")
            driver.switch_to.window(phone)
            tap(driver, "leave")
            sb.wait_for(driver, "return !document.getElementById('left-view').hidden", 10, "Phone left")
            driver.switch_to.window(desk)
            sb.wait_for(driver, "return [...document.querySelectorAll('#grid .tile .tile__name')].map((e) => e.textContent);",
                        10, "Desk's grid without Phone", pred=lambda names: names == ["Desk (you)"])
            print(f"\n[{harness.target()}] phone controls: {controls}")
        finally:
            for tab in driver.window_handles:
                driver.switch_to.window(tab)
                driver.get("about:blank")
