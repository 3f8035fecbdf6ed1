"""The demo site's device test (html/echotest.html) in headless Chromium with a fake camera and mic.

The page is served by the server under test (Confab's static site; for the real Janus a Python
server with a generated /config.js, see site_browser.py) and talks to janus.plugin.echotest only
through the project's client library (html/js/janus-client.js). Asserted from what the page shows
and from the <video> element: over WebSocket and over HTTP long poll the echoed video plays
(videoWidth > 0, decoded frames rising), the diagnosis shows a host ↔ host candidate pair and a
round-trip time; a wrong API URL gives a visible "unreachable" error instead of hanging.
"""
from __future__ import annotations

import time

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


@pytest.fixture(scope="module")
def driver():
    with sb.chromium() as drv:
        yield drv


DIAG = "return document.querySelector('[data-diag=\"' + arguments[0] + '\"]')"


def remote_video(driver) -> dict:
    return driver.execute_script(
        "const v = document.getElementById('remote-video');"
        "return {w: v.videoWidth, h: v.videoHeight, t: v.currentTime, paused: v.paused,"
        " frames: v.getVideoPlaybackQuality().totalVideoFrames};")


def run_echo(driver, base: str, transport: str, srv) -> None:
    driver.get(f"{base}/echotest.html?transport={transport}")
    driver.find_element("id", "start").click()
    want = "WebSocket" if transport == "websocket" else "HTTP long poll"
    sb.wait_for(driver, DIAG + ".textContent", 15, f"signalling over {want}", "transport",
                pred=lambda v: v == want)
    sb.wait_for(driver, DIAG + ".textContent", 20, "connection state Connected", "state",
                pred=lambda v: v == "Connected")
    v = sb.wait_for(driver, "const v = document.getElementById('remote-video');"
                    "return {w: v.videoWidth, t: v.currentTime};", 20, "echoed video playing",
                    pred=lambda v: v["w"] > 0 and v["t"] > 0)
    assert v["w"] > 0
    a = int(sb.wait_for(driver, DIAG + ".dataset.frames", 10, "decoded frames shown", "video",
                        pred=lambda f: f and int(f) > 0))
    r1 = remote_video(driver)
    time.sleep(2.5)
    b = int(driver.execute_script(DIAG + ".dataset.frames", "video"))
    r2 = remote_video(driver)
    assert b - a >= 15, f"framesDecoded only rose from {a} to {b} in 2.5 s"
    assert r2["t"] > r1["t"] and not r2["paused"], (r1, r2)
    pair = sb.wait_for(driver, "const d = " + DIAG[7:] + ".dataset; return d.local ? Object.assign({}, d) : null;",
                       10, "selected candidate pair shown", "pair")
    assert pair["local"] == "host" and pair["remote"] == "host", pair
    text = driver.execute_script(DIAG + ".textContent", "pair")
    assert "127.0.0.1" in text, text
    if not srv.is_janus and srv.udp_port:
        port = int(text.rsplit(":", 1)[1].split()[0])
        assert srv.is_media_port(port), f"Confab media must be on its media port(s) (udp_port {srv.udp_port}): {text}"
    rtt = sb.wait_for(driver, DIAG + ".textContent", 10, "round trip shown", "rtt",
                      pred=lambda t: t.endswith(" ms"))
    assert driver.execute_script("return document.getElementById('error').hidden") is True
    # video off on the echo: the echoed picture stops; on again: it comes back
    driver.find_element("id", "toggle-video").click()
    assert driver.find_element("id", "toggle-video").get_attribute("aria-pressed") == "false"
    driver.find_element("id", "toggle-video").click()
    print(f"\n[{harness.target()} {transport}] pair {text}; rtt {rtt}; video {r2}")
    driver.find_element("id", "stop").click()
    sb.wait_for(driver, DIAG + ".textContent", 5, "stopped", "state", pred=lambda t: t == "Stopped")
    errors = [e for e in sb.console_errors(driver) if "favicon" not in e]
    assert not errors, errors


def test_echotest_page_over_websocket(driver, base, media_srv):
    run_echo(driver, base, "websocket", media_srv)


def test_echotest_page_over_http(driver, base, media_srv):
    run_echo(driver, base, "http", media_srv)


@pytest.mark.parametrize("scheme", ["ws", "http"])
def test_echotest_page_unreachable_server(driver, base, scheme):
    dead = f"{scheme}://127.0.0.1:{harness.free_port()}/janus"
    driver.get(f"{base}/echotest.html?server={dead}")
    driver.find_element("id", "start").click()
    msg = sb.wait_for(driver, "const e = document.getElementById('error'); return e.hidden ? null : e.textContent;",
                      15, "a visible error")
    assert "unreachable" in msg.lower() and dead in msg, msg
    assert driver.execute_script(DIAG + ".dataset.state", "state") == "bad"
    # the page is usable again: Start is back
    assert driver.find_element("id", "start").is_displayed()


def test_echotest_page_camera_denied(driver, base):
    with sb.media_denied(driver):
        driver.get(f"{base}/echotest.html")
        driver.find_element("id", "start").click()
        msg = sb.wait_for(driver, "const e = document.getElementById('error'); return e.hidden ? null : e.textContent;",
                          10, "a visible error")
    assert "access was denied" in msg and "Allow them" in msg, msg
    assert driver.execute_script(DIAG + ".dataset.state", "state") == "bad"
