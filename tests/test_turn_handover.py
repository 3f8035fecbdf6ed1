"""Confab's TURN server hands relayed clients to its own SFU inside the process (issue 6).

A client that may only use TURN (iceTransportPolicy "relay") allocates on Confab's TURN listener and
talks to Confab's media port through it. With the default peer policy (`turn.allow_peers` empty) the
allocation gets a relayed address from `turn.relay_port_range` but no socket: the TURN loop hands the
client's packets straight to the media engine, which sees them coming from the relayed address, and
what the engine sends to that address leaves as ChannelData from the TURN listener.

Checked with two independent WebRTC stacks — stock janus.js in headless Chromium and aiortc/aioice
(TURN over UDP and over TCP) — against janus.plugin.echotest, and with the demo site's meeting page:
a relay-only participant (its iceServers are Confab's own, from /config.js) and a direct one see each
other.
- media flows both ways (frames decoded, the content is ours), the selected pair is relay <-> host on
  Confab's media port;
- Confab holds no UDP socket in the relay range, and nothing in the test namespace is bound to the
  relayed port: the relay exists only inside Confab;
- the hand-over counters (`confab_media_datagrams_relayed_in/out_total`) and TURN's relayed-packet
  counters rise, in /metrics and in the Admin API's get_status (`turn`, `media`).
Confab only: Janus has no TURN server of its own.
"""
from __future__ import annotations

import asyncio
import json
import subprocess
import time
import urllib.request

import pytest

import echo_browser as eb
import harness
import media_calls
import media_peers as mp
import site_browser as sb
from janus_client import JanusAdmin

RELAY_RANGE = range(30000, 32001)  # harness.turn_config's relay_port_range


@pytest.fixture
def relay_server(server_factory):
    if harness.target() == "janus":
        pytest.skip("Confab only: Janus has no TURN server of its own")
    srv = server_factory(media=True, ice_mode="mux", turn=True, turn_allow_peers=())
    yield srv
    assert srv.alive(), f"server died during the test\n{srv.log_tail()}"


def turn_entry(srv, transport: str = "udp") -> dict:
    """The TURN iceServer /config hands pages (REST credentials), reduced to its URL for `transport`."""
    with urllib.request.urlopen(f"{srv.http_base}/config", timeout=5) as r:
        config = json.loads(r.read())
    for server in config["iceServers"]:
        urls = server["urls"] if isinstance(server["urls"], list) else [server["urls"]]
        chosen = [u for u in urls if u.startswith("turn:") and u.endswith(f"transport={transport}")]
        if chosen:
            return {"urls": chosen, "username": server["username"], "credential": server["credential"]}
    raise AssertionError(f"no TURN {transport} server in /config: {config}")


def turn_metrics(srv) -> dict:
    url = srv.admin_url.rsplit("/", 1)[0] + "/metrics"
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("confab_turn_") and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name.split("{")[0]] = int(float(value))
    return out


async def relay_only_peer(srv, transport: str):
    """An aiortc EchoTest peer that may only use Confab's TURN (over `transport`), and its signalling."""
    from aiortc import RTCConfiguration, RTCIceServer
    from aiortc.rtcconfiguration import RTCIceTransportPolicy
    entry = turn_entry(srv, transport)
    config = RTCConfiguration(iceServers=[RTCIceServer(urls=entry["urls"], username=entry["username"],
                                                       credential=entry["credential"])],
                              iceTransportPolicy=RTCIceTransportPolicy.RELAY)
    sig = mp.HttpSignalling(srv.janus_url)
    await sig.start()
    return mp.EchoPeer(configuration=config), sig


def bound_udp_ports() -> set[int]:
    """Every UDP port bound by anything in this (test) network namespace."""
    out = subprocess.run(["ss", "-uanH"], capture_output=True, text=True, check=True).stdout
    return {int(line.split()[3].rpartition(":")[2]) for line in out.splitlines() if line.strip()}


def assert_relay_held_in_process(srv, relayed_port: int) -> None:
    confab_ports = [port for _, port in mp.udp_sockets_of(srv.proc.pid)]
    assert not [p for p in confab_ports if p in RELAY_RANGE], \
        f"Confab holds a socket in the relay range: {confab_ports}"
    assert relayed_port in RELAY_RANGE, relayed_port
    assert relayed_port not in bound_udp_ports(), f"something is bound to the relayed port {relayed_port}"


def assert_handover_counted(srv, before_media: dict, before_turn: dict) -> None:
    """Over 100 datagrams handed over each way, and TURN counted them as relayed (the figures reach
    /metrics once a second, so this polls for a few seconds)."""
    end = time.time() + 6
    while True:
        media, turn = media_calls.metric_counters(srv), turn_metrics(srv)
        relayed_in = media.get("datagrams_relayed_in", 0) - before_media.get("datagrams_relayed_in", 0)
        relayed_out = media.get("datagrams_relayed_out", 0) - before_media.get("datagrams_relayed_out", 0)
        to_clients = (turn.get("confab_turn_relayed_packets_to_clients_total", 0)
                      - before_turn.get("confab_turn_relayed_packets_to_clients_total", 0))
        to_peers = (turn.get("confab_turn_relayed_packets_to_peers_total", 0)
                    - before_turn.get("confab_turn_relayed_packets_to_peers_total", 0))
        if relayed_in > 100 and relayed_out > 100 and to_clients > 100 and to_peers > 100:
            return
        assert time.time() < end, (relayed_in, relayed_out, to_clients, to_peers, media, turn)
        time.sleep(0.5)


@pytest.mark.browser
def test_chromium_relay_only_reaches_the_sfu_without_a_relay_socket(relay_server):
    srv = relay_server
    before_media, before_turn = media_calls.metric_counters(srv), turn_metrics(srv)
    with eb.page_server() as page, eb.chromium() as driver:
        b = eb.EchoBrowser(driver, page)
        b.start(srv.janus_url, rtc_config={"iceServers": [turn_entry(srv)], "iceTransportPolicy": "relay"})
        b.wait_playing(timeout=25)
        b.assert_frames_rising(seconds=2.5, min_new=15)
        st = b.stats()
        pair = st["pair"]
        assert pair and pair["local"]["type"] == "relay", f"not relayed: {pair}"
        assert pair["remote"]["type"] == "host" and pair["remote"]["address"] == "127.0.0.1", pair
        assert srv.is_media_port(pair["remote"]["port"]), pair
        assert_relay_held_in_process(srv, pair["local"]["port"])
        assert_handover_counted(srv, before_media, before_turn)
        b.hangup()
    assert "in_process=true" in srv.log_tail(200), srv.log_tail(40)


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_aiortc_relay_only_reaches_the_sfu_without_a_relay_socket(relay_server, transport):
    """aioice's TURN client (UDP, or TCP with ChannelData framing) as the only way in."""
    srv = relay_server

    async def call():
        before_media, before_turn = media_calls.metric_counters(srv), turn_metrics(srv)
        peer, sig = await relay_only_peer(srv, transport)
        try:
            offer_candidates = None
            original_offer = peer.offer

            async def offer():
                nonlocal offer_candidates
                jsep = await original_offer()
                offer_candidates = mp.sdp_candidates(jsep["sdp"])
                return jsep
            peer.offer = offer
            await mp.start_echo_call(sig, peer)
            assert offer_candidates and all(c.split()[7] == "relay" for c in offer_candidates), offer_candidates
            await peer.wait_media(video_frames=40, audio_frames=80, timeout=25)
            relayed_port = int(offer_candidates[0].split()[5])
            assert_relay_held_in_process(srv, relayed_port)
            assert_handover_counted(srv, before_media, before_turn)
            # The Admin API's get_status carries the same figures (Confab's `turn` and `media` objects).
            status = JanusAdmin(srv.admin_url, srv.admin_secret).request("get_status")["status"]
            assert status["turn"]["allocations"] >= 1, status
            assert status["turn"]["relayed_bytes_to_clients_total"] > 0, status
            assert status["media"]["datagrams_relayed_in"] > 100, status
            assert status["session_timeout"] == 60, status
        finally:
            await peer.close()
            await sig.close()

    asyncio.run(call())


def test_relay_ends_with_its_allocation(relay_server):
    """A Refresh with lifetime 0 ends the allocation: the SFU's route is gone at once (its sends to the
    relayed address stop), and the allocation's end is logged with the bytes handed over."""
    srv = relay_server

    async def call():
        peer, sig = await relay_only_peer(srv, "udp")
        try:
            await mp.start_echo_call(sig, peer)
            await peer.wait_media(video_frames=20, audio_frames=40, timeout=25)
        finally:
            await peer.pc.close()  # aioice deletes its allocations (Refresh 0) on close
            await sig.close()

    asyncio.run(call())
    end = time.time() + 10
    while time.time() < end and "turn: allocation ended" not in srv.log_tail(400):
        time.sleep(0.2)
    tail = srv.log_tail(400)
    ended = [line for line in tail.splitlines() if "turn: allocation ended" in line]
    assert ended, tail[-3000:]
    assert any("bytes_to_client=" in line and "bytes_to_client=0 " not in line for line in ended), ended
    # The metrics are published once a second: wait for the gauge, then check nothing more is relayed.
    end = time.time() + 10
    while time.time() < end and turn_metrics(srv).get("confab_turn_allocations", 0) != 0:
        time.sleep(0.2)
    before = turn_metrics(srv)
    assert before.get("confab_turn_allocations", 0) == 0, before
    time.sleep(2.5)
    after = turn_metrics(srv)
    assert before.get("confab_turn_relayed_packets_to_clients_total") == \
        after.get("confab_turn_relayed_packets_to_clients_total"), f"still relaying after the allocation ended: {after}"


# Forces iceTransportPolicy "relay" on every RTCPeerConnection the page makes, keeping the page's own
# iceServers (from /config.js), and keeps the connections for the test to read their stats.
RELAY_ONLY = r"""
(() => {
  const Native = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = class extends Native {
    constructor(config) {
      super(Object.assign({}, config || {}, { iceTransportPolicy: 'relay' }));
      window.__pcs.push(this);
    }
  };
})();
"""

SELECTED_PAIRS = r"""
const done = arguments[arguments.length - 1];
Promise.all((window.__pcs || []).filter((pc) => pc.connectionState === 'connected').map((pc) => pc.getStats()))
  .then((reports) => done(reports.map((report) => {
    const byId = {};
    report.forEach((s) => { byId[s.id] = s; });
    let pair = null;
    report.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) {
        const p = byId[s.selectedCandidatePairId];
        const l = byId[p.localCandidateId] || {}, r = byId[p.remoteCandidateId] || {};
        pair = { local: l.candidateType, localPort: l.port, relayProtocol: l.relayProtocol,
                 remote: r.candidateType, remotePort: r.port };
      }
    });
    return pair;
  })), (e) => done(String(e)));
"""


@pytest.mark.browser
def test_videoroom_relay_only_participant_through_config_js(relay_server):
    """The meeting page with Confab's own iceServers (/config.js, REST credentials): B may only use
    TURN, A connects directly; each sees the other's video, B's connections are relayed, and the
    relays exist only inside Confab."""
    from test_site_videoroom import check_sees
    srv = relay_server
    base = srv.http_base
    before_media, before_turn = media_calls.metric_counters(srv), turn_metrics(srv)
    with sb.chromium() as driver:
        tab_a = driver.current_window_handle
        driver.get(f"{base}/videoroom.html?room=1234&name=A")
        tab_b = sb.new_tab(driver)
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RELAY_ONLY})
        driver.get(f"{base}/videoroom.html?room=1234&name=B")
        try:
            assert driver.execute_script("return window.confabConfig.iceServers.length") >= 2
            for tab in (tab_a, tab_b):
                driver.switch_to.window(tab)
                sb.wait_for(driver, "return !document.getElementById('room-view').hidden", 15, "in the room")
            check_sees(driver, tab_a, "B")
            check_sees(driver, tab_b, "A")
            driver.switch_to.window(tab_b)
            pairs = driver.execute_async_script(SELECTED_PAIRS)
            assert isinstance(pairs, list) and len(pairs) >= 2, pairs   # B's publisher and subscriber
            for pair in pairs:
                assert pair and pair["local"] == "relay" and pair["remote"] == "host", pairs
                assert srv.is_media_port(pair["remotePort"]), pairs
                assert_relay_held_in_process(srv, pair["localPort"])
            assert_handover_counted(srv, before_media, before_turn)
        finally:
            for tab in driver.window_handles:
                driver.switch_to.window(tab)
                driver.get("about:blank")
