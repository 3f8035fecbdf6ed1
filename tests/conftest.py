"""Fixtures: a Janus-API server under test on free loopback ports.

CONFAB_TARGET=confab (default) runs /work/main/.build/debug/confab (or $CONFAB_BIN);
CONFAB_TARGET=janus runs Debian's real Janus 1.1.2 with a private config folder, as the reference.
See tests/README.md.
"""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import harness  # noqa: E402
from harness import ServerOptions  # noqa: E402
from janus_client import JanusAdmin, JanusHTTP  # noqa: E402

TARGET = harness.target()


def pytest_configure(config):
    config.addinivalue_line("markers", "confab_only: behaviour Janus 1.1.2 does not have; "
                                       "skipped when CONFAB_TARGET=janus")
    config.addinivalue_line("markers", "slow: takes more than ~20 s")
    config.addinivalue_line("markers", "browser: needs headless Chromium + chromedriver")
    harness.ensure_loopback_up()


def pytest_report_header(config):
    if TARGET == "janus":
        return "server under test: real Janus (CONFAB_TARGET=janus)"
    return f"server under test: Confab ({os.environ.get('CONFAB_BIN', harness.REPO / '.build/debug/confab')})"


def pytest_collection_modifyitems(config, items):
    if TARGET == "janus":
        skip = pytest.mark.skip(reason="Confab-only behaviour; Janus 1.1.2 does not have it")
        for item in items:
            if "confab_only" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def target() -> str:
    return TARGET


@pytest.fixture(scope="session")
def _shared_server():
    holder = {"srv": harness.start_server(ServerOptions())}
    yield holder
    holder["srv"].stop()


@pytest.fixture
def server(_shared_server):
    """The shared default server (session_timeout=60, no api_secret, no token auth).

    Restarted if a previous test killed it; each test fails if the server died during it."""
    srv = _shared_server["srv"]
    if not srv.alive():
        srv.stop()
        srv = _shared_server["srv"] = harness.start_server(ServerOptions())
    yield srv
    assert srv.alive(), f"server under test died during the test\n--- log tail ---\n{srv.log_tail()}"


@pytest.fixture
def server_factory():
    """server_factory(api_secret=..., token_auth=..., token_auth_secret=..., session_timeout=...)
    starts a private server with those overrides; all are stopped after the test."""
    started = []

    def make(**overrides):
        srv = harness.start_server(ServerOptions(**overrides))
        started.append(srv)
        return srv

    yield make
    died = [s for s in started if not s.alive()]
    for s in started:
        s.stop()
    assert not died, "server under test died during the test\n" + "\n".join(s.log_tail() for s in died)


@pytest.fixture
def api(server) -> JanusHTTP:
    return JanusHTTP(server.janus_url)


@pytest.fixture
def admin(server) -> JanusAdmin:
    return JanusAdmin(server.admin_url, server.admin_secret)


@pytest.fixture
def session(api):
    """A session with one VideoRoom handle: (api, session_id, handle_id). Destroyed afterwards."""
    sid = api.create()
    hid = api.attach(sid, opaque_id="confab-tests")
    yield api, sid, hid
    try:
        api.destroy(sid)
    except Exception:  # noqa: BLE001 - best effort
        pass
