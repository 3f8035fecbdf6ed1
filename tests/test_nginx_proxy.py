"""nginx in front of Confab, as the Docker bundle runs it: the templates in nginx/ rendered by
scripts/render-nginx.sh (what the official image's envsubst does), a fresh self-signed
certificate, Debian's nginx on the real ports 80/443/8089 (the suite runs in a private network
namespace, so they are free), Confab behind it on loopback.

Checks: `nginx -t`; HTTPS and the Janus API through it (443 and 8089); HTTP→HTTPS redirect;
security headers; no public Admin API or /metrics; WSS with the janus-protocol subprotocol;
an HTTPS long poll delivering a plugin event; headless Chromium running janus.js over WSS
through nginx with echoed video playing (media itself goes straight to Confab's UDP port); and two
people meeting on the videoroom page opened at https://127.0.0.1/ through nginx.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

import harness
import media_peers as mp

REPO = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
STREAM_MODULE = Path("/usr/lib/nginx/modules/ngx_stream_module.so")
HOST = "127.0.0.1"


def _require(condition: bool, why: str) -> None:
    if condition:
        return
    if os.environ.get("CONFAB_REQUIRE_ALL"):
        pytest.fail(why)
    pytest.skip(why)


def _port_free(port: int) -> bool:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((HOST, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def _self_signed(directory: Path) -> None:
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(directory / "privkey.pem"), "-out", str(directory / "fullchain.pem")],
                   check=True, capture_output=True)


def _render(out: Path, srv, turn_port: int) -> None:
    env = dict(os.environ, CONFAB_SERVER_NAME="localhost", CONFAB_UPSTREAM_HTTP=f"{HOST}:{srv.http_port}",
               CONFAB_UPSTREAM_TURN=f"{HOST}:{turn_port}", CONFAB_CERT_DIR=str(out / "certs"))
    subprocess.run([str(REPO / "scripts" / "render-nginx.sh"), str(out)], check=True, env=env)
    main = f"""load_module {STREAM_MODULE};
worker_processes 1;
pid {out}/nginx.pid;
error_log {out}/error.log info;
events {{ worker_connections 1024; }}
http {{
    access_log {out}/access.log;
    client_body_temp_path {out}/tmp-body;
    proxy_temp_path {out}/tmp-proxy;
    fastcgi_temp_path {out}/tmp-fastcgi;
    uwsgi_temp_path {out}/tmp-uwsgi;
    scgi_temp_path {out}/tmp-scgi;
    types {{ text/html html; application/javascript js; text/css css; }}
    include {out}/conf.d/*.conf;
}}
stream {{
    include {out}/stream-conf.d/*.conf;
}}
"""
    (out / "nginx.conf").write_text(main)


@pytest.fixture(scope="module")
def proxied():
    _require(os.access(NGINX, os.X_OK), "nginx not installed (apt-get install nginx)")
    _require(STREAM_MODULE.exists(), "nginx stream module missing (apt-get install libnginx-mod-stream)")
    _require(shutil.which("envsubst") is not None, "envsubst missing (apt-get install gettext-base)")
    _require(all(_port_free(p) for p in (80, 443, 8089, 5349)),
             "ports 80/443/8089/5349 busy or not bindable (run the suite in `unshare --net` as root)")
    srv = harness.start_server(harness.ServerOptions(media=True, turn=True, turn_users=("alice:alicepw",)))
    work = Path(tempfile.mkdtemp(prefix="confab-nginx-"))
    (work / "certs").mkdir()
    _self_signed(work / "certs")
    _render(work, srv, turn_port=srv.turn_port)
    check = subprocess.run([NGINX, "-t", "-c", str(work / "nginx.conf")], capture_output=True, text=True)
    assert check.returncode == 0, f"nginx -t failed:\n{check.stderr}"
    proc = subprocess.Popen([NGINX, "-c", str(work / "nginx.conf"), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 10
    while time.time() < deadline and _port_free(443):
        time.sleep(0.05)
    assert proc.poll() is None, f"nginx exited: {proc.stderr.read().decode() if proc.stderr else ''}"
    try:
        yield srv, work
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        srv.stop()
        shutil.rmtree(work, ignore_errors=True)


def _insecure() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _get(url: str, **kw):
    return urllib.request.urlopen(urllib.request.Request(url, **kw), context=_insecure(), timeout=40)


def _post(url: str, body: dict) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, context=_insecure(), timeout=10) as r:
        return json.loads(r.read())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_nginx_config_renders_and_passes_nginx_t(proxied):
    _, work = proxied
    site = (work / "conf.d" / "confab.conf").read_text()
    assert "${" not in site.replace("${CONFAB", "") and "${CONFAB" not in site, "unrendered variables"
    assert "$host" in site and "$http_upgrade" in site, "nginx's own variables must survive rendering"


def test_https_api_on_443_and_8089_and_redirect(proxied):
    srv, _ = proxied
    for port in (443, 8089):
        with _get(f"https://{HOST}:{port}/janus/info") as r:
            info = json.loads(r.read())
        assert info["janus"] == "server_info" and info["name"] == "Confab", info
    opener = urllib.request.build_opener(_NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(f"http://{HOST}/videoroom.html?room=1234", timeout=10)
    assert redirect.value.code == 301
    assert redirect.value.headers["Location"] == f"https://{HOST}/videoroom.html?room=1234"


def test_security_headers_and_no_public_admin(proxied):
    with _get(f"https://{HOST}/") as r:
        headers = r.headers
        assert r.status == 200
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    for path in ("/admin", "/admin/", "/metrics"):
        with pytest.raises(urllib.error.HTTPError) as e:
            _get(f"https://{HOST}{path}")
        assert e.value.code == 404, path


def test_wss_keeps_the_janus_subprotocol(proxied):
    import websockets

    async def scenario():
        async with websockets.connect(f"wss://{HOST}/janus", subprotocols=["janus-protocol"], ssl=_insecure()) as ws:
            assert ws.subprotocol == "janus-protocol"
            await ws.send(json.dumps({"janus": "create", "transaction": "t1"}))
            reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert reply["janus"] == "success" and reply["transaction"] == "t1", reply

    asyncio.run(scenario())


def test_https_long_poll_delivers_plugin_events(proxied):
    base = f"https://{HOST}/janus"
    session = _post(base, {"janus": "create", "transaction": "c"})["data"]["id"]
    handle = _post(f"{base}/{session}", {"janus": "attach", "plugin": mp.ECHOTEST, "transaction": "a"})["data"]["id"]
    events: list = []
    poller = threading.Thread(target=lambda: events.append(json.loads(_get(f"{base}/{session}?maxev=1").read())))
    poller.start()
    time.sleep(0.5)   # the poll is parked in Confab, through nginx
    ack = _post(f"{base}/{session}/{handle}", {"janus": "message", "body": {"audio": True}, "transaction": "m"})
    assert ack["janus"] == "ack", ack
    poller.join(15)
    assert events, "no event through the long poll"
    event = events[0][0] if isinstance(events[0], list) else events[0]
    assert event["janus"] == "event" and event["transaction"] == "m", event
    assert event["plugindata"]["data"] == {"echotest": "event", "result": "ok"}, event


@pytest.mark.browser
def test_chromium_echotest_over_wss_through_nginx(proxied):
    import echo_browser as eb
    from test_janusjs_browser import CHROMIUM_FLAGS

    CHROMIUM_FLAGS.append("--ignore-certificate-errors")
    try:
        with eb.page_server() as page, eb.chromium() as driver:
            b = eb.EchoBrowser(driver, page)
            b.start(f"wss://{HOST}/janus")
            try:
                st = b.wait_playing(timeout=25)
                b.assert_frames_rising(seconds=2.0, min_new=10)
                assert st["videoWidth"] > 0, st
            finally:
                b.destroy()
    finally:
        CHROMIUM_FLAGS.remove("--ignore-certificate-errors")


@pytest.mark.browser
def test_two_people_meet_through_nginx(proxied):
    """The self-hoster's path end to end: two people open the shared link
    https://host/videoroom.html?room=1234&name=… — the page, /config.js and the Janus API (WSS)
    all through nginx's TLS on 443, media straight to Confab's UDP port — and see each other."""
    import site_browser as sb
    from test_site_videoroom import check_sees, grid_names

    _, work = proxied
    base = f"https://{HOST}"
    with sb.chromium(extra_flags=("--ignore-certificate-errors",)) as driver:
        tab_a = driver.current_window_handle
        driver.get(f"{base}/videoroom.html?room=1234&name=Ada")
        tab_b = sb.new_tab(driver)
        driver.get(f"{base}/videoroom.html?room=1234&name=Bob")
        for tab in (tab_a, tab_b):
            driver.switch_to.window(tab)
            sb.wait_for(driver, "return !document.getElementById('room-view').hidden", 20, "in the room")
            # /config.js came through nginx, which told Confab the page is on HTTPS
            assert driver.execute_script("return window.confabConfig.wsURL") == f"wss://{HOST}/janus"
        check_sees(driver, tab_a, "Bob")
        check_sees(driver, tab_b, "Ada")
        driver.switch_to.window(tab_a)
        assert sorted(grid_names(driver)) == ["Ada (you)", "Bob"], grid_names(driver)
    access = (work / "access.log").read_text()
    assert re.search(r'"GET /videoroom\.html\?room=1234&name=Ada HTTP/[0-9.]+" 200', access), access[-2000:]
    assert '"GET /janus HTTP/1.1" 101' in access, f"no WebSocket upgrade through nginx:\n{access[-2000:]}"


def test_turn_over_tls_through_the_nginx_stream_proxy(proxied):
    """coturn's client allocates over TLS on 5349 (nginx terminates TLS, forwards the TCP stream
    to Confab's TURN listener) and relays to an echo peer without loss."""
    uclient, peer = shutil.which("turnutils_uclient"), shutil.which("turnutils_peer")
    _require(uclient is not None and peer is not None, "coturn's turnutils_* missing (apt-get install coturn)")
    peer_port = harness.free_port()
    echo = subprocess.Popen([peer, "-L", HOST, "-p", str(peer_port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        time.sleep(0.3)
        out = subprocess.run([uclient, "-t", "-S", "-c", "-e", HOST, "-r", str(peer_port), "-p", "5349",
                              "-m", "3", "-n", "100", "-l", "120", "-z", "5", "-u", "alice", "-w", "alicepw", HOST],
                             capture_output=True, text=True, timeout=120)
    finally:
        echo.terminate()
        echo.wait(timeout=5)
    text = out.stdout + out.stderr
    import re
    totals = re.search(r"tot_send_msgs=(\d+), tot_recv_msgs=(\d+)\s*$", text, re.M)
    lost = re.search(r"Total lost packets (\d+)", text)
    assert totals and lost, f"uclient over TLS did not finish:\n{text[-3000:]}"
    assert int(totals.group(1)) == 300 and int(totals.group(2)) == 300 and int(lost.group(1)) == 0, text[-2000:]
