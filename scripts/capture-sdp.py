#!/usr/bin/env python3
"""Captures real SDP offers and answers for the SDP negotiation tests.

Regenerates Tests/SDPTests/CapturedSDPs.swift, which embeds each SDP as a Swift string literal:
the test target declares no resources (Package.swift is left alone), so tests cannot read files,
and loose .sdp files inside the target would make SwiftPM warn about unhandled files on every
build. `--sdp-dir DIR` also writes the raw captures (CRLF, byte for byte) as DIR/<name>.sdp.

Sources:
  * headless Debian `chromium` through selenium/chromedriver (apt-get install -y chromium
    chromium-driver; pip install selenium): an audio+video+data-channel offer with fake camera
    and microphone tracks, a simulcast offer (three rids), and an answer to a Janus-style offer;
  * aiortc (pip install aiortc): an audio+video offer and an answer to the same Janus-style offer.
  * headless Firefox ESR (apt-get install -y firefox-esr), no webdriver: a local page runs the
    same capture code and POSTs each SDP back (fake media through profile preferences): an
    audio+video+data-channel offer, a simulcast offer and an answer to the Janus-style offer.

Network: everything stays on loopback. As root, the script re-runs itself inside a private
network namespace whose only interface is `lo` (`unshare --net`, like scripts/run-tests-netns.sh),
so nothing can reach another address whatever the browser tries. No STUN/TURN servers are given
to either stack (aiortc would otherwise default to a public STUN server). In that namespace
aioice would find no address at all (it skips 127.0.0.1), so it is told to use 127.0.0.1.

    python3 scripts/capture-sdp.py            # capture everything, rewrite the fixtures
    python3 scripts/capture-sdp.py --no-netns # e.g. when not root; still loopback-only flags
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SWIFT_OUT = REPO / "Tests" / "SDPTests" / "CapturedSDPs.swift"
CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")
NETNS_MARK = "CAPTURE_SDP_IN_NETNS"

CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    # Real (loopback) addresses instead of mDNS names, and no mDNS multicast.
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    # Keep the browser off the network: no updates, sync, safe browsing, DNS.
    "--no-first-run", "--no-default-browser-check", "--disable-component-update",
    "--disable-background-networking", "--disable-sync", "--disable-client-side-phishing-detection",
    "--disable-domain-reliability", "--metrics-recording-only", "--no-pings",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]

# What Confab will send a subscriber, shaped like a Janus VideoRoom subscriber offer: ICE-lite,
# actpass, one codec per section (+ RTX), sendonly, ssrcs, a loopback host candidate.
JANUS_STYLE_OFFER = "\r\n".join([
    "v=0",
    "o=- 1733923311828147 1 IN IP4 127.0.0.1",
    "s=VideoRoom 1234",
    "t=0 0",
    "a=group:BUNDLE 0 1",
    "a=ice-lite",
    "a=msid-semantic: WMS *",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111",
    "c=IN IP4 127.0.0.1",
    "a=sendonly",
    "a=mid:0",
    "a=rtcp-mux",
    "a=ice-ufrag:Cnfb",
    "a=ice-pwd:8c4Ue0wq1HkP3rXy7Lz2Ab",
    "a=ice-options:trickle",
    "a=fingerprint:sha-256 4F:6A:0B:93:C1:7E:22:D8:5A:E4:10:B6:39:CF:84:71:"
    "0D:EA:52:96:3B:C8:11:7F:A5:40:DE:26:98:6C:F3:1B",
    "a=setup:actpass",
    "a=rtpmap:111 opus/48000/2",
    "a=fmtp:111 minptime=10;useinbandfec=1",
    "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=extmap:2 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "a=msid:confab-1 confab-1-audio",
    "a=ssrc:2421815010 cname:confab",
    "a=ssrc:2421815010 msid:confab-1 confab-1-audio",
    "a=candidate:1 1 udp 2015363327 127.0.0.1 10000 typ host",
    "a=end-of-candidates",
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97",
    "c=IN IP4 127.0.0.1",
    "a=sendonly",
    "a=mid:1",
    "a=rtcp-mux",
    "a=rtcp-rsize",
    "a=ice-ufrag:Cnfb",
    "a=ice-pwd:8c4Ue0wq1HkP3rXy7Lz2Ab",
    "a=ice-options:trickle",
    "a=fingerprint:sha-256 4F:6A:0B:93:C1:7E:22:D8:5A:E4:10:B6:39:CF:84:71:"
    "0D:EA:52:96:3B:C8:11:7F:A5:40:DE:26:98:6C:F3:1B",
    "a=setup:actpass",
    "a=rtpmap:96 VP8/90000",
    "a=rtcp-fb:96 ccm fir",
    "a=rtcp-fb:96 nack",
    "a=rtcp-fb:96 nack pli",
    "a=rtcp-fb:96 goog-remb",
    "a=rtcp-fb:96 transport-cc",
    "a=rtpmap:97 rtx/90000",
    "a=fmtp:97 apt=96",
    "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
    "a=extmap:4 urn:3gpp:video-orientation",
    "a=msid:confab-1 confab-1-video",
    "a=ssrc-group:FID 3165913373 1194472447",
    "a=ssrc:3165913373 cname:confab",
    "a=ssrc:3165913373 msid:confab-1 confab-1-video",
    "a=ssrc:1194472447 cname:confab",
    "a=ssrc:1194472447 msid:confab-1 confab-1-video",
    "a=candidate:1 1 udp 2015363327 127.0.0.1 10000 typ host",
    "a=end-of-candidates",
    "",
])

# Runs in the page: builds a peer connection, makes an offer (or answers `remoteOffer`) and
# returns the local description once ICE gathering completes.
CHROMIUM_JS = r"""
const [variant, remoteOffer, done] = arguments;
(async () => {
  const pc = new RTCPeerConnection({iceServers: []});
  const gathered = new Promise(resolve => {
    if (pc.iceGatheringState === 'complete') resolve();
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') resolve();
    });
  });
  if (variant === 'answer') {
    await pc.setRemoteDescription({type: 'offer', sdp: remoteOffer});
    await pc.setLocalDescription(await pc.createAnswer());
  } else {
    const stream = await navigator.mediaDevices.getUserMedia({audio: true, video: true});
    pc.addTransceiver(stream.getAudioTracks()[0], {direction: 'sendrecv', streams: [stream]});
    const video = {direction: 'sendrecv', streams: [stream]};
    if (variant === 'simulcast') {
      video.direction = 'sendonly';
      video.sendEncodings = [
        {rid: 'q', scaleResolutionDownBy: 4.0, maxBitrate: 150000},
        {rid: 'h', scaleResolutionDownBy: 2.0, maxBitrate: 500000},
        {rid: 'f', maxBitrate: 1500000},
      ];
    } else {
      pc.createDataChannel('confab');
    }
    pc.addTransceiver(stream.getVideoTracks()[0], video);
    await pc.setLocalDescription(await pc.createOffer());
  }
  await Promise.race([gathered, new Promise(r => setTimeout(r, 10000))]);
  const sdp = pc.localDescription.sdp;
  pc.close();
  done({sdp});
})().catch(e => done({error: String(e)}));
"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve_blank_page() -> tuple[http.server.ThreadingHTTPServer, str]:
    """getUserMedia needs a secure context; http://127.0.0.1 is one, about:blank and data: are not."""
    root = Path("/tmp/capture-sdp-page")
    root.mkdir(exist_ok=True)
    (root / "index.html").write_text("<!doctype html><title>capture-sdp</title>\n")
    handler = functools.partial(_QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}/index.html"


FIREFOX = os.environ.get("FIREFOX_BIN", "/usr/bin/firefox-esr")

# Profile preferences: fake camera/microphone without prompts, loopback candidates, and nothing
# that phones home (the namespace has no route out anyway).
FIREFOX_PREFS = {
    "media.navigator.streams.fake": True, "media.navigator.permission.disabled": True,
    "media.peerconnection.ice.loopback": True, "media.peerconnection.ice.obfuscate_host_addresses": False,
    "app.update.enabled": False, "app.update.auto": False, "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore", "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.healthreport.uploadEnabled": False, "toolkit.telemetry.enabled": False,
    "network.captive-portal-service.enabled": False, "network.connectivity-service.enabled": False,
    "browser.safebrowsing.malware.enabled": False, "browser.safebrowsing.phishing.enabled": False,
    "extensions.update.enabled": False, "browser.region.network.url": "", "browser.search.geoip.url": "",
}


def capture_firefox() -> tuple[dict[str, str], str]:
    """Firefox has no webdriver here: the page captures and POSTs {name, sdp} back to us."""
    import json
    import tempfile
    import time

    results: dict[str, str] = {}
    variants = [("firefox-offer", "plain"), ("firefox-simulcast-offer", "simulcast"), ("firefox-answer", "answer")]
    body = CHROMIUM_JS.replace("const [variant, remoteOffer, done] = arguments;", "")
    page = ("<!doctype html><title>capture-sdp</title><script>\n"
            "async function capture(variant, remoteOffer) { return await new Promise(done => {\n" + body + "\n}); }\n"
            f"const offer = {json.dumps(JANUS_STYLE_OFFER)};\n"
            f"(async () => {{ for (const [name, variant] of {json.dumps(variants)}) {{\n"
            "  const result = await capture(variant, offer);\n"
            "  await fetch('/result', {method: 'POST', body: JSON.stringify({name, ...result})});\n"
            "} })();\n</script>\n")

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(page.encode())

        def do_POST(self):
            data = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            results[data["name"]] = data.get("sdp") or f"ERROR {data.get('error')}"
            self.send_response(204)
            self.end_headers()

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    profile = Path(tempfile.mkdtemp(prefix="capture-sdp-firefox-"))
    (profile / "user.js").write_text("".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n"
                                             for k, v in FIREFOX_PREFS.items()))
    browser = subprocess.Popen([FIREFOX, "--headless", "--no-remote", "--profile", str(profile),
                                f"http://127.0.0.1:{httpd.server_address[1]}/"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 90
        while len(results) < len(variants) and time.time() < deadline:
            time.sleep(0.2)
    finally:
        browser.terminate()
        browser.wait(timeout=20)
        httpd.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
    missing = [name for name, _ in variants if not results.get(name, "").startswith("v=0")]
    if missing:
        raise RuntimeError(f"firefox captured nothing for {missing}: {results}")
    version = subprocess.run([FIREFOX, "--version"], capture_output=True, text=True).stdout.strip()
    return {name: results[name] for name, _ in variants}, version or "Firefox ESR"


def capture_chromium() -> tuple[dict[str, str], str]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_AVOID_STATS", "true")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    httpd, url = serve_blank_page()
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    try:
        driver.set_script_timeout(30)
        driver.get(url)
        captured = {}
        for name, variant in [("chromium-offer", "plain"), ("chromium-simulcast-offer", "simulcast"),
                              ("chromium-answer", "answer")]:
            result = driver.execute_async_script(CHROMIUM_JS, variant, JANUS_STYLE_OFFER)
            if "error" in result:
                raise RuntimeError(f"chromium {variant}: {result['error']}")
            captured[name] = result["sdp"]
        return captured, f"Chromium {driver.capabilities.get('browserVersion', '?')}"
    finally:
        driver.quit()
        httpd.shutdown()


async def _aiortc_description(answer_to: str | None) -> str:
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
    from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

    # iceServers=[]: aiortc falls back to a public STUN server when given None.
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        if answer_to is None:
            pc.addTrack(AudioStreamTrack())
            pc.addTrack(VideoStreamTrack())
            await pc.setLocalDescription(await pc.createOffer())
        else:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=answer_to, type="offer"))
            await pc.setLocalDescription(await pc.createAnswer())
        return pc.localDescription.sdp
    finally:
        await pc.close()


def capture_aiortc() -> tuple[dict[str, str], str]:
    import aioice.ice
    import aiortc

    # aioice never offers 127.0.0.1; inside the loopback-only namespace that leaves no candidate.
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"] if use_ipv4 else []
    offer = asyncio.run(_aiortc_description(None))
    answer = asyncio.run(_aiortc_description(JANUS_STYLE_OFFER))
    return {"aiortc-offer": offer, "aiortc-answer": answer}, f"aiortc {aiortc.__version__}"


def swift_name(name: str) -> str:
    head, *rest = name.split("-")
    return head + "".join(part.capitalize() for part in rest)


def swift_source(captures: dict[str, str], sources: list[str]) -> str:
    lines = [
        "// Generated by scripts/capture-sdp.py -- do not edit; re-run the script instead.",
        f"// Captured from: {'; '.join(sources)}; janus-style-offer is the script's hand-written input.",
        "// Embedded as string literals because the test target declares no resources (Package.swift is",
        "// deliberately unchanged); `capture-sdp.py --sdp-dir DIR` writes the raw .sdp files too.",
        "// Literals use LF line endings; Fixtures.crlf(_:) restores the captured CRLF.",
        "",
        "enum CapturedSDPs {",
    ]
    for name, sdp in captures.items():
        lines.append(f"    /// {name}.sdp")
        lines.append(f"    static let {swift_name(name)} = #\"\"\"")
        lines.extend(f"    {line}" if line else "" for line in sdp.replace("\r\n", "\n").split("\n"))
        lines.append("    \"\"\"#")
        lines.append("")
    lines.append(f"    static let all: [(name: String, sdp: String)] = [")
    lines.extend(f"        (\"{name}\", {swift_name(name)})," for name in captures)
    lines.append("    ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_outputs(captures: dict[str, str], sources: list[str], sdp_dir: Path | None) -> None:
    if sdp_dir is not None:
        sdp_dir.mkdir(parents=True, exist_ok=True)
        for name, sdp in captures.items():
            (sdp_dir / f"{name}.sdp").write_bytes(sdp.encode())
            print(f"wrote {sdp_dir / f'{name}.sdp'} ({len(sdp.splitlines())} lines)")
    SWIFT_OUT.write_text(swift_source(captures, sources))
    print(f"wrote {SWIFT_OUT.relative_to(REPO)}")


def reexec_in_netns() -> int:
    """Runs this script again inside a new network namespace with only loopback up."""
    env = dict(os.environ, **{NETNS_MARK: "1"})
    command = 'ip link set lo up && exec "$0" "$@"'
    return subprocess.call(["unshare", "--net", "--", "bash", "-c", command, sys.executable, *sys.argv], env=env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-netns", action="store_true", help="do not isolate the run in a network namespace")
    parser.add_argument("--sdp-dir", type=Path, help="also write the raw captures as DIR/<name>.sdp")
    args = parser.parse_args()
    if not args.no_netns and os.environ.get(NETNS_MARK) != "1":
        if os.geteuid() != 0 or shutil.which("unshare") is None:
            sys.exit("needs root and unshare for the loopback-only namespace; use --no-netns to skip it")
        return reexec_in_netns()
    for tool in (CHROMIUM, CHROMEDRIVER):
        if not os.access(tool, os.X_OK):
            sys.exit(f"{tool} missing: apt-get install -y chromium chromium-driver")

    chromium, chromium_version = capture_chromium()
    firefox, firefox_version = capture_firefox()
    aiortc, aiortc_version = capture_aiortc()
    # The hand-written offer the answers respond to, kept next to them for the tests.
    janus = {"janus-style-offer": JANUS_STYLE_OFFER}
    write_outputs(chromium | firefox | aiortc | janus, [chromium_version, firefox_version, aiortc_version],
                  args.sdp_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
