"""The media tests in both ICE modes: ICE-lite on the one UDP port (`media.ice_mode = "mux"`, the
default) and full ICE on libnice (`media.ice_mode = "full"`, agents on ports from
harness.FULL_ICE_PORT_RANGE). Each test runs once per mode against its own Confab.

The whole media suite can run in full mode too: `CONFAB_ICE_MODE=full python3 -m pytest tests/...`
(ServerOptions.ice_mode takes its default from it). What differs by design: the answer/offer is not
`a=ice-lite` and Confab's candidates are on per-PeerConnection ports, not media.udp_port.

Recorded (full mode): aiortc (aioice, controlling) and Chromium with janus.js (trickled candidates)
both connect to a controlled libnice agent; VideoRoom subscribers connect with Confab controlling.
"""
from __future__ import annotations

import asyncio
import json
import subprocess
import time

import pytest
import requests

import harness
import media_peers as mp
import test_echotest_aiortc as echo
import test_echotest_hangup as hangup
import test_media_lifecycle as lifecycle
import test_videoroom_media as videoroom
from test_echotest_browser import check_call, driver, echo_page  # noqa: F401  (fixtures)
import echo_browser as eb

pytestmark = pytest.mark.confab_only  # Janus has one mode (full ICE)


@pytest.fixture(scope="module", params=["mux", "full"])
def mode_srv(request):
    srv = harness.start_server(harness.ServerOptions(media=True, ice_mode=request.param))
    yield srv
    alive = srv.alive()
    tail = srv.log_tail()
    srv.stop()
    assert alive, f"server under test died during the test\n--- log tail ---\n{tail}"


def run(coro, timeout: float = 90.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def test_echotest_aiortc(mode_srv):
    echo.test_echotest_aiortc_over_http(mode_srv)


async def answer_of_an_echo_call(srv) -> str:
    """The answer SDP of an aiortc EchoTest call that reached webrtcup."""
    sig = mp.HttpSignalling(srv.janus_url)
    await sig.start()
    peer = mp.EchoPeer()
    try:
        started = await mp.start_echo_call(sig, peer)
        await sig.wait_event(mp.is_ev("webrtcup", started["handle_id"]), 15, "webrtcup")
        return started["event"]["jsep"]["sdp"]
    finally:
        await peer.close()
        await sig.close()


def test_echotest_answer_follows_the_ice_mode(mode_srv):
    """ICE-lite answers say a=ice-lite with one candidate on media.udp_port; full ICE answers are
    full agents with candidates on ports of media.rtp_port_range."""
    sdp = run(answer_of_an_echo_call(mode_srv))
    candidates = [c for c in mp.sdp_candidates(sdp) if c.split()[7] == "host"]
    assert candidates, sdp
    ports = {int(c.split()[5]) for c in candidates}
    assert all(c.split()[4] == "127.0.0.1" and c.split()[7] == "host" for c in candidates), candidates
    if mode_srv.options.ice_mode == "full":
        assert "a=ice-lite" not in sdp, sdp
    else:
        assert "a=ice-lite" in sdp, sdp
    assert all(mode_srv.is_media_port(p) for p in ports), (ports, mode_srv.udp_port)


def test_libnice_is_loaded_only_for_full_ice(mode_srv):
    """libnice (and GLib, GnuTLS, libsoup... behind it) is dlopen-ed when full ICE is configured:
    an ICE-lite server, the default, never maps it (its memory and start-up work are saved)."""
    maps = open(f"/proc/{mode_srv.proc.pid}/maps").read()
    mapped = {line.split()[-1].rsplit("/", 1)[-1] for line in maps.splitlines() if "/" in line}
    nice = [name for name in mapped if name.startswith(("libnice.", "libglib-2.0.", "libgnutls."))]
    if mode_srv.options.ice_mode == "full":
        assert any(name.startswith("libnice.") for name in nice), sorted(mapped)
    else:
        assert nice == [], nice


def test_echotest_chromium_janusjs(mode_srv, driver, echo_page):  # noqa: F811
    """janus.js trickles Chromium's candidates (`trickle` requests, then `completed`)."""
    b = eb.EchoBrowser(driver, echo_page)
    b.start(mode_srv.janus_url)
    try:
        check_call(b, mode_srv)
    finally:
        b.destroy()


def test_videoroom_one_publisher_two_subscribers(mode_srv):
    videoroom.test_one_publisher_two_subscribers(mode_srv)


def test_videoroom_three_participants(mode_srv):
    videoroom.test_three_participants_each_see_the_other_two(mode_srv)


def test_full_ice_gathers_a_relayed_candidate_through_confabs_own_turn_server():
    """media.turn_server (Confab's own TURN on loopback, user alice) gives a relayed candidate
    on a port of turn.relay_port_range, and the call works. media.stun_server is accepted too; its
    server-reflexive candidate would equal the host one on loopback (libnice drops it as redundant):
    the test below puts a NAT in front to see it."""
    opts = harness.ServerOptions(
        media=True, ice_mode="full", turn=True,
        media_extra='stun_server = "127.0.0.1:{turn_port}"; turn_server = "127.0.0.1:{turn_port}"; '
                    'turn_user = "alice"; turn_password = "alicepw";')
    srv = harness.start_server(opts)
    try:
        sdp = run(answer_of_an_echo_call(srv))
        relayed = [c.split() for c in mp.sdp_candidates(sdp) if c.split()[7] == "relay"]
        assert relayed, f"no relayed candidate in the answer:\n{sdp}\n{srv.log_tail()}"
        assert all(c[4] == "127.0.0.1" and 30000 <= int(c[5]) <= 32000 for c in relayed), relayed
        echo.test_echotest_aiortc_over_http(srv)
        assert srv.alive(), srv.log_tail()
    finally:
        srv.stop()


def test_full_ice_gets_a_server_reflexive_candidate_from_confabs_own_stun_listener():
    """media.stun_server = Confab's own STUN/TURN port: libnice discovers with RFC 3489 Binding
    requests (no magic cookie) and Confab answers them with MAPPED-ADDRESS (RFC 5389 §12.2). On
    plain loopback the mapped address equals the host candidate and libnice drops it as redundant,
    so a NAT on loopback (iptables SNAT 127.0.0.1 → 127.0.0.2 for UDP to the TURN port, inside this
    run's network namespace) makes Confab see — and answer — another address, as behind a real NAT."""
    import subprocess
    srv = harness.start_server(harness.ServerOptions(
        media=True, ice_mode="full", turn=True, media_extra='stun_server = "127.0.0.1:{turn_port}";'))
    rule = ["POSTROUTING", "-t", "nat", "-o", "lo", "-s", "127.0.0.1", "-p", "udp", "--dport", str(srv.turn_port),
            "-j", "SNAT", "--to-source", "127.0.0.2"]
    try:
        if subprocess.run(["iptables", "-A", *rule], capture_output=True).returncode != 0:
            pytest.skip("needs iptables NAT (run as root inside `unshare --net`)")
        try:
            sdp = run(answer_of_an_echo_call(srv))
        finally:
            subprocess.run(["iptables", "-D", *rule], capture_output=True)
        candidates = [c.split() for c in mp.sdp_candidates(sdp)]
        hosts = {(c[4], c[5]) for c in candidates if c[7] == "host"}
        srflx = [c for c in candidates if c[7] == "srflx"]
        assert srflx, f"no server-reflexive candidate in the answer:\n{sdp}\n{srv.log_tail()}"
        for c in srflx:
            # candidate:<f> <component> udp <priority> 127.0.0.2 <port> typ srflx raddr 127.0.0.1 rport <host port>
            assert c[4] == "127.0.0.2" and c[8:10] == ["raddr", "127.0.0.1"], c
            assert ("127.0.0.1", c[11]) in hosts, (c, hosts)
        assert srv.alive(), srv.log_tail()
    finally:
        srv.stop()


CONSENT_TIMEOUT = 30.0     # MediaConfiguration.consentTimeout (RFC 7675), the same in both modes


def earliest_hangup(srv) -> float:
    """Full ICE counts from the last datagram (media arrives all the time); ICE-lite from the
    peer's last consent check, up to ~6 s (aioice's interval) before the silence began."""
    return CONSENT_TIMEOUT - (2 if srv.options.ice_mode == "full" else 7)


def test_echotest_peer_killed_mid_call_gets_hangup(mode_srv, record_property):
    """A killed peer: consent (ICE-lite: the peer's checks stop; full ICE: nothing arrives on the
    libnice agent) ends the call with a hangup event after the 30 s consent timeout, not before
    (libnice's own consent expiry, 10 s, is not used)."""
    report: dict = {}
    try:
        run(hangup.killed_peer(mode_srv, report), 120)
    finally:
        print(f"\n[{mode_srv.options.ice_mode}] vanished peer: {json.dumps(report)}")
        record_property("hangup_after", report.get("hangup_after"))
    assert report["hangup"]["reason"] == "ICE consent lost", report
    assert earliest_hangup(mode_srv) <= report["hangup_after"] <= hangup.HANGUP_DEADLINE_CONFAB, report


def _drop_media(srv, add: bool) -> None:
    """iptables DROP (inside this run's network namespace) for every UDP datagram to or from
    Confab's media ports: the peer goes silent without an ICMP error, as behind a dead link."""
    if srv.options.ice_mode == "full":
        ports = harness.FULL_ICE_PORT_RANGE.replace("-", ":")
    else:
        ports = str(srv.udp_port)
    for direction in ("--dport", "--sport"):
        rule = ["INPUT", "-p", "udp", direction, ports, "-j", "DROP"]
        done = subprocess.run(["iptables", "-I" if add else "-D", *rule], capture_output=True)
        if add and done.returncode != 0:
            pytest.skip("needs iptables (run as root inside `unshare --net`)")


async def silent_peer(srv, report: dict) -> None:
    sig = mp.HttpSignalling(srv.janus_url)
    await sig.start()
    peer = mp.EchoPeer()
    try:
        started = await mp.start_echo_call(sig, peer)
        hid = started["handle_id"]
        await sig.wait_event(mp.is_ev("webrtcup", hid), 15, "webrtcup")
        await peer.wait_media(video_frames=20, audio_frames=40, timeout=15)

        # 15 s of silence both ways: no hangup, and media flows again afterwards
        _drop_media(srv, True)
        try:
            await asyncio.sleep(15)
        finally:
            _drop_media(srv, False)
        assert not sig.seen(mp.is_ev("hangup", hid)), sig.seen(mp.is_ev("hangup", hid))
        frames = peer.stats.video_frames
        resumed = time.time()
        await peer.wait_media(video_frames=frames + 20, audio_frames=0, timeout=15)
        report["media_back_after_s"] = round(time.time() - resumed, 1)
        # ICE-lite counts consent from the peer's checks (aioice: every 4-6 s); let one arrive.
        await asyncio.sleep(7)

        # silence for good: hung up at the consent timeout
        _drop_media(srv, True)
        blocked = time.time()
        hang = await sig.wait_event(mp.is_ev("hangup", hid), CONSENT_TIMEOUT + 10, "hangup after the silence")
        report["hangup_after"] = round(sig.received_at(hang) - blocked, 1)
        report["reason"] = hang["reason"]
    finally:
        _drop_media(srv, False)
        await peer.close()
        await sig.close()


def test_fifteen_seconds_of_silence_survive_and_thirty_hang_up(mode_srv, record_property):
    """RFC 7675 in both modes: a peer cut off (iptables DROP, no ICMP) for 15 s keeps its call and
    its media comes back; cut off for good, it is hung up ("ICE consent lost") after ~30 s."""
    report: dict = {}
    try:
        run(silent_peer(mode_srv, report), 120)
    finally:
        print(f"\n[{mode_srv.options.ice_mode}] silent peer: {json.dumps(report)}")
        record_property("silence", json.dumps(report))
    assert report["reason"] == "ICE consent lost", report
    assert earliest_hangup(mode_srv) <= report["hangup_after"] <= CONSENT_TIMEOUT + 5, report


def test_full_ice_twenty_calls_half_killed_leave_nothing_behind(record_property):
    """Agents, their sockets and GLib sources and the threads are freed: the lifecycle test (10
    calls closed, 10 peers killed) against a private full-ICE server, counts back at the baseline."""
    srv = harness.start_server(harness.ServerOptions(media=True, ice_mode="full"))
    try:
        lifecycle.test_twenty_calls_half_killed_leave_nothing_behind(srv, record_property)
    finally:
        srv.stop()


def test_full_ice_tcp_chromium_connects_over_tcp_only(driver, echo_page):  # noqa: F811
    """media.ice_tcp = true (RFC 6544, libnice's ice-tcp beside ice-udp): with every UDP datagram
    to or from the full-ICE port range dropped (iptables, inside this run's namespace), Chromium's
    janus.js EchoTest still connects, over a TCP pair to one of Confab's ports, and video plays."""
    srv = harness.start_server(harness.ServerOptions(media=True, ice_mode="full", media_extra="ice_tcp = true;"))
    b = None
    try:
        assert requests.get(srv.janus_url + "/info", timeout=5).json()["ice-tcp"] is True
        _drop_media(srv, True)
        b = eb.EchoBrowser(driver, echo_page)
        b.start(srv.janus_url)
        st = b.wait_playing(timeout=30)
        b.assert_frames_rising(seconds=2.5, min_new=15)
        st = b.stats()
        pair = st["pair"]
        assert pair is not None, f"no selected candidate pair: {st}"
        assert pair["local"]["protocol"] == "tcp" and pair["remote"]["protocol"] == "tcp", pair
        assert pair["remote"]["address"] == "127.0.0.1" and srv.is_media_port(pair["remote"]["port"]), pair
        print(f"\n[full, ice_tcp] selected pair: {pair}; video {st['videoWidth']}x{st['videoHeight']}")
        assert srv.alive(), srv.log_tail()
    finally:
        if b is not None:
            b.destroy()
        _drop_media(srv, False)
        srv.stop()
