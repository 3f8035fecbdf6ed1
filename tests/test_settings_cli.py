"""The settings file from the command line: `--check-config`, `--config`, exit status 2 with
`file:line: message` on bad values, and environment overrides. Confab only."""
from __future__ import annotations

import os
import subprocess

import pytest
import requests

import harness

pytestmark = pytest.mark.confab_only


def confab(*args: str, env: dict | None = None, timeout: float = 20) -> subprocess.CompletedProcess:
    binary = os.environ.get("CONFAB_BIN", str(harness.REPO / ".build" / "debug" / "confab"))
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def test_shipped_confab_cfg_is_valid():
    r = confab("--check-config", str(harness.REPO / "confab.cfg"))
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("text,expected", [
    ("http: { port = 70000; };\n", "bad.cfg:1: http.port must be 1..65535, got 70000"),
    ("general: {\n  session_timeout = \"long\";\n};\n",
     "bad.cfg:2: general.session_timeout must be an integer, got a string"),
    ("http: { port = 8088; };\nhttp2: { x = 1; };\n", "bad.cfg:2: unknown key http2"),
    ("media: { ice_mode = \"lite\"; };\n", "bad.cfg:1: media.ice_mode"),
    ("http: { port = ; };\n", "bad.cfg:1:"),
])
def test_bad_settings_exit_2_with_file_line_key(tmp_path, text, expected):
    bad = tmp_path / "bad.cfg"
    bad.write_text(text)
    for flag in ("--check-config", "--config"):
        r = subprocess.run([os.environ.get("CONFAB_BIN", str(harness.REPO / ".build" / "debug" / "confab")),
                            flag, "bad.cfg"], cwd=tmp_path, capture_output=True, text=True, timeout=20)
        assert r.returncode == 2, (flag, r.returncode, r.stderr)
        assert expected in r.stderr, (flag, r.stderr)


def test_bad_environment_override_exits_2(tmp_path):
    good = tmp_path / "good.cfg"
    good.write_text("turn: { enabled = false; };\n")
    r = confab("--check-config", str(good), env={"CONFAB_HTTP_PORT": "x"})
    assert r.returncode == 2
    assert "CONFAB_HTTP_PORT: http.port" in r.stderr


def test_environment_override_is_applied(tmp_path):
    """CONFAB_PUBLIC_URL overrides the file; a bad value in the file still fails first."""
    cfg = tmp_path / "c.cfg"
    cfg.write_text('general: { public_url = "http://a.example"; };\nmedia: { nat_1_1_mapping = "auto"; };\n')
    assert confab("--check-config", str(cfg)).returncode == 0
    r = confab("--check-config", str(cfg), env={"CONFAB_PUBLIC_URL": "not a url"})
    assert r.returncode == 2
    assert "CONFAB_PUBLIC_URL" in r.stderr, r.stderr
