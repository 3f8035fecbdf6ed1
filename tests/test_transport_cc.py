"""Transport-wide congestion control feedback toward publishers.

Chromium negotiates the transport-cc header extension and then estimates its uplink from the
receiver's transport-cc feedback (send-side BWE, GoogCC): without that feedback its estimate stays
where it started and the encoder is held there. Confab, like Janus's core, numbers nothing itself but
reports every packet's arrival back to the sender every ~100 ms.

A headless Chromium publishes a 960x540 camera into a VideoRoom room without a bitrate cap over
the test's own HTTP signalling. Asserted: the Admin API counts transport-cc feedback sent on the
publisher's PeerConnection, and Chromium's estimate (candidate-pair availableOutgoingBitrate) grows
well beyond its 300 kbps start within a few seconds, as it does against Janus.
"""
from __future__ import annotations

import asyncio
import time

import pytest

import media_peers as mp
import site_browser as sb
from janus_client import VIDEOROOM, JanusAdmin
from test_videoroom_media import create_room, data, request, run

pytestmark = pytest.mark.browser

PUBLISH = sb.publish_offer_script()
ACCEPT = sb.ACCEPT_ANSWER

ESTIMATE = r"""
const done = arguments[arguments.length - 1];
window.pc.getStats().then((report) => {
  let estimate = null, sent = 0;
  report.forEach((s) => {
    if (s.type === 'candidate-pair' && s.nominated && s.availableOutgoingBitrate !== undefined) {
      estimate = s.availableOutgoingBitrate;
    }
    if (s.type === 'outbound-rtp' && s.kind === 'video') sent = s.bytesSent;
  });
  done([estimate, sent]);
});
"""

# Chromium starts its estimate at 300 kbps; with feedback on loopback it climbs past this in seconds.
GROWN_ESTIMATE = 1_000_000


@pytest.fixture
def media_srv(request):
    srv = mp.media_server(request.config)
    yield srv
    assert srv.alive(), f"server under test died during the test\n--- log tail ---\n{srv.log_tail()}"


def test_publisher_gets_transport_cc_feedback_and_its_estimate_grows(media_srv):
    with sb.site(media_srv) as base, sb.chromium() as driver:
        driver.get(f"{base}/")
        offer_sdp = driver.execute_async_script(PUBLISH)
        assert not offer_sdp.startswith("ERROR"), offer_sdp
        assert "transport-wide-cc" in offer_sdp, "Chromium no longer offers transport-cc?"
        run(scenario(driver, offer_sdp, media_srv), timeout=90)


async def scenario(driver, offer_sdp: str, media_srv) -> None:
    sig = mp.HttpSignalling(media_srv.janus_url)
    await sig.start()
    try:
        room = await create_room(sig, videocodec="vp8", bitrate=0)
        pub = await sig.attach(VIDEOROOM)
        await request(sig, pub, {"request": "join", "room": room, "ptype": "publisher", "display": "bwe"})
        ev = await request(sig, pub, {"request": "publish"}, {"type": "offer", "sdp": mp.loopback_only_sdp(offer_sdp)})
        assert data(ev).get("configured") == "ok", ev
        answer = ev["jsep"]["sdp"]
        assert "transport-wide-cc" in answer, "the answer must keep transport-cc (transport_wide_cc_ext defaults on)"
        assert driver.execute_async_script(ACCEPT, mp.loopback_only_sdp(answer)) == "ok"
        await sig.wait_event(mp.is_ev("webrtcup", pub), 20, "publisher webrtcup")

        estimates = []
        end = time.time() + 20
        while time.time() < end:
            estimate, sent = driver.execute_async_script(ESTIMATE)
            estimates.append(estimate)
            if estimate is not None and estimate >= GROWN_ESTIMATE:
                break
            await asyncio.sleep(0.5)
        print(f"\n[{'janus' if media_srv.is_janus else 'confab'}] Chromium's estimate over time (bps): {estimates}")
        assert estimates[-1] is not None and estimates[-1] >= GROWN_ESTIMATE, \
            f"Chromium's send-side estimate did not grow: {estimates}"

        if not media_srv.is_janus:
            adm = JanusAdmin(media_srv.admin_url, media_srv.admin_secret)
            info = adm.request("handle_info", session_id=sig.session_id, handle_id=pub)["info"]
            first = info["webrtc"]["stats"]["out"]["transport_cc_feedback"]
            await asyncio.sleep(1.0)
            info = adm.request("handle_info", session_id=sig.session_id, handle_id=pub)["info"]
            later = info["webrtc"]["stats"]["out"]["transport_cc_feedback"]
            # one every ~100 ms while media flows
            assert first > 0 and 5 <= later - first <= 15, (first, later)
    finally:
        await sig.close()
