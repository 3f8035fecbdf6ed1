"""20 sequential echo calls, every other one ended by SIGKILLing the peer: nothing leaks.

Calls 0, 2, 4, ... : aiortc peer in a subprocess, SIGKILLed once media flows (no DTLS alert, no
hangup request); the server must hang up by itself: `hangup` within the consent timeout (Confab:
30 s RFC 7675 consent freshness, deadline 35 s; Janus 1.1.2 with `ice_keepalive_conncheck`:
~53 s, deadline 62 s — see test_echotest_hangup.py). The kills overlap: the next call starts at
once while the hangup is awaited in the background (tests/media_calls.py).
Calls 1, 3, 5, ... : aiortc closes normally → `hangup` "DTLS alert" within 10 s.

After all hangups (a closed warm-up call before the baseline, so lazy one-time allocations do
not count): the server's thread count (/proc/PID/task) and open fd count (/proc/PID/fd) are back at
(or below) the baseline, RSS grew by less than 20 MiB, and — Confab only, from /metrics — the
confab_media_peerconnections gauge is back at 0 with peerconnections_opened/_closed both +20.
"""
from __future__ import annotations

import asyncio
import json

import pytest

import harness
import media_calls as mc

pytestmark = pytest.mark.slow

CALLS = 20
RSS_GROWTH_LIMIT_KIB = 20 * 1024
HANGUP_DEADLINE_CONFAB = 35.0
HANGUP_DEADLINE_JANUS = 62.0


@pytest.fixture
def lifecycle_srv():
    """A private media server: its baseline is nobody else's calls."""
    srv = harness.start_server(harness.ServerOptions(media=True))
    yield srv
    alive = srv.alive()
    tail = srv.log_tail()
    srv.stop()
    assert alive, f"server under test died during the lifecycle test\n--- log tail ---\n{tail}"


def test_twenty_calls_half_killed_leave_nothing_behind(lifecycle_srv, record_property):
    check_calls_leave_nothing_behind(lifecycle_srv, record_property, CALLS)


def check_calls_leave_nothing_behind(srv, record_property, calls: int, timeout: float = 240) -> None:
    """`calls` echo calls, every other peer killed: hangups in time, counts back at the baseline."""
    deadline = HANGUP_DEADLINE_JANUS if srv.is_janus else HANGUP_DEADLINE_CONFAB
    report: dict = {}
    try:
        report = asyncio.run(asyncio.wait_for(
            mc.run_calls(srv, calls, kill_every=2, hangup_deadline=deadline), timeout))
    finally:
        summary = {k: v for k, v in report.items() if k != "results"}
        print(f"\n[{harness.target()}] media lifecycle: {json.dumps(summary)}")
        for k, v in summary.items():
            record_property(k, json.dumps(v))

    assert srv.alive(), srv.log_tail()
    assert not report["hangup_errors"], report["hangup_errors"]
    assert report["killed"] == calls // 2 and report["closed"] == calls - calls // 2
    delays = report["killed_hangup_after_s"]
    assert delays and delays["max"] <= deadline, delays
    assert report["closed_hangup_reasons"] == ["DTLS alert"], report["closed_hangup_reasons"]

    base, after = report["baseline"], report["after"]
    # back at (or below: a runtime may also retire an idle pool thread) the baseline
    assert after["threads"] <= base["threads"], f"threads {base['threads']} -> {after['threads']}"
    assert after["fds"] <= base["fds"], f"fds {base['fds']} -> {after['fds']}"
    assert report["rss_growth_kib"] < RSS_GROWTH_LIMIT_KIB, f"RSS grew {report['rss_growth_kib']} KiB"
    if not srv.is_janus:   # Confab-only: /metrics
        assert after["peerconnections"] == 0 == base["peerconnections"], (base, after)
        assert report["opened_delta"] == calls and report["closed_delta"] == calls, \
            (report["opened_delta"], report["closed_delta"])
