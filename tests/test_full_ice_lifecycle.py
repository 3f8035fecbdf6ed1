"""Full ICE (libnice) over 100 calls, half of the peers SIGKILLed mid-call: every agent, its
sockets and GLib sources and the threads are freed — threads, fds and PeerConnections back at the
baseline, RSS growth under the limit (the issue's "counts stable over 100 calls"; the 20-call
version runs in test_full_ice.py and test_media_lifecycle.py). Slow: about 5 minutes.
"""
from __future__ import annotations

import pytest

import harness
import test_media_lifecycle as lifecycle

pytestmark = [pytest.mark.slow, pytest.mark.confab_only]  # Janus has one mode; its 20 calls are enough

CALLS = 100


def test_full_ice_hundred_calls_half_killed_leave_nothing_behind(record_property):
    srv = harness.start_server(harness.ServerOptions(media=True, ice_mode="full"))
    try:
        lifecycle.check_calls_leave_nothing_behind(srv, record_property, CALLS, timeout=1500)
        assert srv.alive(), srv.log_tail()
    finally:
        srv.stop()
