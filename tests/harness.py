"""Start a Janus-API server under test (Confab, or Debian's real Janus 1.1.2) on loopback.

Used by conftest.py (pytest fixtures) and by scripts/janus-reference.sh (manual diffing).
Everything binds to 127.0.0.1 only; no traffic ever leaves loopback.

Environment:
  CONFAB_TARGET        confab (default) | janus
  CONFAB_BIN           Confab binary (default /work/main/.build/debug/confab)
  CONFAB_SITE_ROOT     site.root for Confab (default: <repo>/html)
  CONFAB_EXTRA_CONFIG  extra libconfig text appended to Confab's generated config
  JANUS_BIN            Janus binary (default /usr/bin/janus)
  CONFAB_KEEP_LOGS     if set, server log files are kept (path printed)

ServerOptions(media=True) (used by the echotest media tests) additionally enables WebRTC media:
for Confab a free UDP port is picked and `media: { udp_port = N; interfaces = ("127.0.0.1"); };`
is written to the config (Server.udp_port); for Janus the EchoTest plugin is enabled too, and
`nat.ice_keepalive_conncheck` is switched on so that a vanished peer is noticed at all
(see tests/test_echotest_hangup.py).
"""
from __future__ import annotations

import base64
import errno
import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import urllib.request
import urllib.error

REPO = Path(__file__).resolve().parent.parent
SHIM_SRC = Path("/work/shared/tools/janus_loopback_shim.c")
JANUS_LIB = Path("/usr/lib/x86_64-linux-gnu/janus")
JANUS_ETC = Path("/etc/janus")

LOOPBACK = "127.0.0.1"
DEFAULT_ADMIN_SECRET = "adminpw"


def target() -> str:
    t = os.environ.get("CONFAB_TARGET", "confab").strip().lower()
    if t not in ("confab", "janus"):
        raise SystemExit(f"CONFAB_TARGET must be 'confab' or 'janus', not {t!r}")
    return t


def ensure_loopback_up() -> None:
    """Inside a fresh `unshare --net` namespace `lo` is down and binding 127.0.0.1 fails.
    Bring it up if we can (we are root there); harmless otherwise."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((LOOPBACK, 0))
        return
    except OSError as e:
        if e.errno != errno.EADDRNOTAVAIL:
            raise
    finally:
        s.close()
    subprocess.run(["ip", "link", "set", "lo", "up"], check=False)


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (and free for UDP too, to be safe)."""
    for _ in range(50):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((LOOPBACK, 0))
        port = s.getsockname()[1]
        s.close()
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind((LOOPBACK, port))
        except OSError:
            continue
        finally:
            u.close()
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise RuntimeError("no free port")


_handed_out: set[int] = set()


def signed_token(secret: str, plugins=("janus.plugin.videoroom",), expires_in: int = 3600,
                 realm: str = "janus") -> str:
    """A Janus 1.x HMAC-SHA1 signed token: "<expiry>,<realm>,<plugin...>:<base64 sig>"."""
    expiry = int(time.time()) + expires_in
    data = ",".join([str(expiry), realm, *plugins])
    sig = base64.b64encode(hmac.new(secret.encode(), data.encode(), hashlib.sha1).digest()).decode()
    return f"{data}:{sig}"


@dataclass
class ServerOptions:
    api_secret: str = ""
    token_auth: bool = False
    token_auth_secret: str = ""
    session_timeout: int = 60
    admin_secret: str = DEFAULT_ADMIN_SECRET
    log_level: str = "info"
    reclaim_session_timeout: int = 0
    # WebRTC media (EchoTest): Confab gets `media.udp_port`, Janus loads the EchoTest plugin too.
    media: bool = False
    # Confab's ICE transport with media=True: "mux" (ICE-lite on the one UDP port, the default) or
    # "full" (libnice agents, ports from FULL_ICE_PORT_RANGE); CONFAB_ICE_MODE sets the default.
    ice_mode: str = field(default_factory=lambda: os.environ.get("CONFAB_ICE_MODE", "mux").strip().lower() or "mux")
    # More `media` settings with media=True; "{turn_port}" is replaced by Server.turn_port.
    media_extra: str = ""
    # Full trickle (media=True): Confab's media.full_trickle (with ice_mode "full": ICE-lite has no
    # gathering), Janus's nat.full_trickle. Candidates go out as `trickle` events, not in the SDP.
    full_trickle: bool = False
    # Confab's TURN server on a free loopback port (Server.turn_port), with loopback peers allowed
    # (turn.allow_peers) so coturn's turnutils_peer on 127.0.0.1 can be relayed to; () keeps Confab's
    # default peer policy. Off by default: other tests keep TURN disabled.
    turn: bool = False
    turn_users: tuple = ("alice:alicepw",)
    turn_secret: str = "turn-rest-secret"
    turn_allow_peers: tuple = ("127.0.0.0/8", "::1/128")
    turn_user_quota: int = 0
    # More `turn` settings, e.g. 'max_allocations = 3;'.
    turn_extra: str = ""


@dataclass
class Server:
    target: str
    options: ServerOptions
    http_port: int
    ws_port: int
    admin_port: int
    admin_ws_port: int
    workdir: Path
    log_path: Path
    proc: Optional[subprocess.Popen] = None
    argv: list = field(default_factory=list)
    env: dict = field(default_factory=dict)
    # Confab's media.udp_port when started with ServerOptions(media=True); None otherwise.
    udp_port: Optional[int] = None
    # Confab's turn.port (UDP and TCP) when started with ServerOptions(turn=True); None otherwise.
    turn_port: Optional[int] = None

    # --- addresses -----------------------------------------------------------------
    @property
    def http_base(self) -> str:
        return f"http://{LOOPBACK}:{self.http_port}"

    @property
    def janus_url(self) -> str:
        return f"{self.http_base}/janus"

    @property
    def ws_url(self) -> str:
        return f"ws://{LOOPBACK}:{self.ws_port}"

    @property
    def admin_url(self) -> str:
        return f"http://{LOOPBACK}:{self.admin_port}/admin"

    @property
    def admin_ws_url(self) -> str:
        # Janus: a separate admin WebSocket port. Confab: WebSocket upgrade on the admin port.
        if self.target == "janus":
            return f"ws://{LOOPBACK}:{self.admin_ws_port}"
        return f"ws://{LOOPBACK}:{self.admin_port}/admin"

    @property
    def admin_secret(self) -> str:
        return self.options.admin_secret

    def is_media_port(self, port: int) -> bool:
        """Confab's end of a media pair: media.udp_port (ICE-lite) or a port of FULL_ICE_PORT_RANGE (full ICE)."""
        if self.options.ice_mode == "full":
            lower, upper = map(int, FULL_ICE_PORT_RANGE.split("-"))
            return lower <= port <= upper
        return port == self.udp_port

    @property
    def is_janus(self) -> bool:
        return self.target == "janus"

    # --- lifecycle -------------------------------------------------------------------
    def log_tail(self, n: int = 60) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-n:])

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.target} exited with {self.proc.returncode} before answering /janus/info\n"
                    f"argv: {self.argv}\n--- log tail ---\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.janus_url}/info", timeout=1) as r:
                    body = json.loads(r.read())
                    if body.get("janus") == "server_info" and self._ports_open():
                        return
            except Exception as e:  # noqa: BLE001 - anything means "not yet"
                last = e
            time.sleep(0.1)
        raise RuntimeError(f"{self.target} did not answer {self.janus_url}/info within {timeout}s "
                           f"(last error: {last})\n--- log tail ---\n{self.log_tail()}")

    def _ports_open(self) -> bool:
        ports = [self.ws_port, self.admin_port]
        if self.is_janus:
            ports.append(self.admin_ws_port)
        for p in ports:
            try:
                socket.create_connection((LOOPBACK, p), timeout=0.5).close()
            except OSError:
                return False
        return True

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc is not None and self.proc.stdout:
            self.proc.stdout.close()
        if os.environ.get("CONFAB_KEEP_LOGS"):
            print(f"[harness] kept {self.workdir}", file=sys.stderr)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)


# ------------------------------------------------------------------------------------------
# Confab
# ------------------------------------------------------------------------------------------

# libnice agents' ports in full ICE mode: below the TURN relay range (30000-32000) and below Linux's
# ephemeral range, where free_port() finds media.udp_port.
FULL_ICE_PORT_RANGE = "20000-29999"


def _q(s: str) -> str:
    return json.dumps(s)  # libconfig strings use the same escapes as JSON for our purposes


def confab_config(opts: ServerOptions, http_port: int, ws_port: int, admin_port: int,
                  site_root: str, udp_port: Optional[int] = None, turn_port: Optional[int] = None) -> str:
    lvl = opts.log_level
    cfg = f"""general: {{ session_timeout = {opts.session_timeout}; reclaim_session_timeout = {opts.reclaim_session_timeout}; log_level = {_q(lvl)}; public_url = ""; }};
http: {{ bind = "{LOOPBACK}"; port = {http_port}; path = "/janus"; }};
websockets: {{ bind = "{LOOPBACK}"; port = {ws_port}; }};
admin: {{ bind = "{LOOPBACK}"; port = {admin_port}; path = "/admin"; secret = {_q(opts.admin_secret)}; }};
security: {{ api_secret = {_q(opts.api_secret)}; token_auth = {"true" if opts.token_auth else "false"}; token_auth_secret = {_q(opts.token_auth_secret)}; }};
site: {{ root = {_q(site_root)}; }};
{turn_config(opts, turn_port)}
# Demo room 1234 as Debian's Janus ships it (secret "adminpwd"), so both servers answer alike.
videoroom: {{ rooms = ( {{ id = 1234; description = "Demo Room"; secret = "adminpwd"; publishers = 6;
                          bitrate = 128000; fir_freq = 10; }} ); }};
"""
    if udp_port is not None:
        # All media on one UDP port; announce loopback only (the tests never leave 127.0.0.1).
        full = f' ice_mode = "full"; rtp_port_range = "{FULL_ICE_PORT_RANGE}";' if opts.ice_mode == "full" else ""
        extra = opts.media_extra.replace("{turn_port}", str(turn_port))
        if opts.full_trickle:
            extra += " full_trickle = true;"
        cfg += f'media: {{ udp_port = {udp_port}; interfaces = ("{LOOPBACK}");{full} {extra} }};\n'
    extra = os.environ.get("CONFAB_EXTRA_CONFIG", "")
    if extra:
        cfg += extra.rstrip() + "\n"
    return cfg


def turn_config(opts: ServerOptions, turn_port: Optional[int]) -> str:
    """`turn: { enabled = false; };` unless ServerOptions(turn=True) asked for the TURN server on loopback."""
    if not opts.turn or turn_port is None:
        return "turn: { enabled = false; };"
    users = ", ".join(_q(u) for u in opts.turn_users)
    # Relay ports below Linux's ephemeral range, so they never collide with media.udp_port (a free_port()).
    return (f'turn: {{ enabled = true; bind = "{LOOPBACK}"; port = {turn_port}; realm = "confab-test"; '
            f'secret = {_q(opts.turn_secret)}; users = ({users}); '
            f'allow_peers = ({", ".join(_q(p) for p in opts.turn_allow_peers)}); '
            f'user_quota = {opts.turn_user_quota}; relay_port_range = "30000-32000"; {opts.turn_extra} }};')


def start_confab(opts: ServerOptions) -> Server:
    binary = os.environ.get("CONFAB_BIN", str(REPO / ".build" / "debug" / "confab"))
    if not os.access(binary, os.X_OK):
        raise FileNotFoundError(f"Confab binary not found or not executable: {binary} "
                                f"(build it, set CONFAB_BIN, or run with CONFAB_TARGET=janus)")
    ensure_loopback_up()
    workdir = Path(tempfile.mkdtemp(prefix="confab-test-"))
    http_port, ws_port, admin_port = free_port(), free_port(), free_port()
    site_root = os.environ.get("CONFAB_SITE_ROOT", str(REPO / "html"))
    # Every Confab binds its media port; a free one per instance keeps parallel servers apart.
    udp_port = free_port()
    turn_port = free_port() if opts.turn else None
    cfg = workdir / "confab.cfg"
    cfg.write_text(confab_config(opts, http_port, ws_port, admin_port, site_root, udp_port, turn_port))
    srv = Server("confab", opts, http_port, ws_port, admin_port, admin_port, workdir,
                 workdir / "confab.log", argv=[binary, "--config", str(cfg)], udp_port=udp_port,
                 turn_port=turn_port)
    _spawn(srv)
    srv.wait_ready()
    return srv


# ------------------------------------------------------------------------------------------
# Real Janus 1.1.2 (Debian)
# ------------------------------------------------------------------------------------------

def build_shim(dest_dir: Path) -> Optional[Path]:
    if not SHIM_SRC.exists() or shutil.which("gcc") is None:
        return None
    out = dest_dir / "janus_loopback_shim.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", str(out), str(SHIM_SRC), "-ldl"],
                   check=True, capture_output=True)
    return out


def janus_configs(opts: ServerOptions, cfgdir: Path, http_port: int, ws_port: int,
                  admin_port: int, admin_ws_port: int) -> dict[str, str]:
    def plugin_list(kind: str, keep: set[str]) -> str:
        folder = JANUS_LIB / kind
        names = sorted(p.name for p in folder.glob("*.so")) if folder.exists() else []
        return ",".join(n for n in names if n not in keep)

    debug_level = {"trace": 7, "debug": 7, "verb": 5, "info": 4, "notice": 4, "warning": 3,
                   "warn": 3, "error": 2, "critical": 1, "fatal": 1}.get(opts.log_level, 4)
    general = [
        f'configs_folder = "{cfgdir}"',
        f'plugins_folder = "{JANUS_LIB / "plugins"}"',
        f'transports_folder = "{JANUS_LIB / "transports"}"',
        f'events_folder = "{JANUS_LIB / "events"}"',
        f'loggers_folder = "{JANUS_LIB / "loggers"}"',
        f"debug_level = {debug_level}",
        "debug_colors = false",
        f"admin_secret = {_q(opts.admin_secret)}",
        f"session_timeout = {opts.session_timeout}",
        f"reclaim_session_timeout = {opts.reclaim_session_timeout}",
        f'interface = "{LOOPBACK}"',
        'protected_folders = ["/bin", "/boot", "/dev", "/etc", "/lib", "/proc", "/sbin", "/sys", "/usr", "/var"]',
    ]
    if opts.api_secret:
        general.append(f"api_secret = {_q(opts.api_secret)}")
    if opts.token_auth:
        general.append("token_auth = true")
    if opts.token_auth_secret:
        general.append(f"token_auth_secret = {_q(opts.token_auth_secret)}")
    keep_plugins = {'libjanus_videoroom.so'}
    nat_extra = ""
    if opts.media:
        keep_plugins.add('libjanus_echotest.so')
        # libnice keepalive connectivity checks: without them Janus 1.1.2 never notices a peer that
        # vanished without a DTLS alert (with them: "ICE failed" after ~53 s; test_echotest_hangup.py).
        nat_extra = "\n\tice_keepalive_conncheck = true"
        if opts.full_trickle:
            nat_extra += "\n\tfull_trickle = true"
    janus_jcfg = "general: {\n\t" + "\n\t".join(general) + "\n}\n" + f"""
certificates: {{
}}
media: {{
}}
nat: {{
	nice_debug = false
	ignore_mdns = true
	ice_enforce_list = "{LOOPBACK}"{nat_extra}
}}
plugins: {{
	disable = "{plugin_list('plugins', keep_plugins)}"
}}
transports: {{
	disable = "{plugin_list('transports', {'libjanus_http.so', 'libjanus_websockets.so'})}"
}}
loggers: {{
	disable = "{plugin_list('loggers', set())}"
}}
events: {{
	broadcast = false
	disable = "{plugin_list('events', set())}"
}}
"""
    http_jcfg = f"""general: {{
	json = "indented"
	base_path = "/janus"
	http = true
	port = {http_port}
	ip = "{LOOPBACK}"
	https = false
}}
admin: {{
	admin_base_path = "/admin"
	admin_http = true
	admin_port = {admin_port}
	admin_ip = "{LOOPBACK}"
	admin_https = false
}}
cors: {{
}}
"""
    ws_jcfg = f"""general: {{
	json = "indented"
	ws = true
	ws_port = {ws_port}
	ws_ip = "{LOOPBACK}"
	wss = false
}}
admin: {{
	admin_ws = true
	admin_ws_port = {admin_ws_port}
	admin_ws_ip = "{LOOPBACK}"
	admin_wss = false
}}
cors: {{
}}
"""
    # Demo room 1234 as shipped by Debian (/etc/janus/janus.plugin.videoroom.jcfg), copied, not edited.
    src = JANUS_ETC / "janus.plugin.videoroom.jcfg"
    if src.exists():
        videoroom = src.read_text()
    else:
        videoroom = """general: {
}
room-1234: {
	description = "Demo Room"
	secret = "adminpwd"
	publishers = 6
	bitrate = 128000
	fir_freq = 10
	record = false
}
"""
    configs = {
        "janus.jcfg": janus_jcfg,
        "janus.transport.http.jcfg": http_jcfg,
        "janus.transport.websockets.jcfg": ws_jcfg,
        "janus.plugin.videoroom.jcfg": videoroom,
    }
    if opts.media:
        echo = JANUS_ETC / "janus.plugin.echotest.jcfg"
        configs["janus.plugin.echotest.jcfg"] = echo.read_text() if echo.exists() else "general: {\n}\n"
    return configs


def start_janus(opts: ServerOptions) -> Server:
    binary = os.environ.get("JANUS_BIN", shutil.which("janus") or "/usr/bin/janus")
    ensure_loopback_up()
    workdir = Path(tempfile.mkdtemp(prefix="janus-ref-"))
    cfgdir = workdir / "etc"
    cfgdir.mkdir()
    http_port, ws_port, admin_port, admin_ws_port = free_port(), free_port(), free_port(), free_port()
    for name, text in janus_configs(opts, cfgdir, http_port, ws_port, admin_port, admin_ws_port).items():
        (cfgdir / name).write_text(text)
    env = dict(os.environ)
    shim = build_shim(workdir)
    if shim is not None:
        env["LD_PRELOAD"] = str(shim)
    srv = Server("janus", opts, http_port, ws_port, admin_port, admin_ws_port, workdir,
                 workdir / "janus.log",
                 argv=[binary, "-F", str(cfgdir), "-C", str(cfgdir / "janus.jcfg")],
                 env=env)
    _spawn(srv)
    srv.wait_ready()
    return srv


def _die_with_parent() -> None:
    """preexec: SIGTERM the server if the test process dies (no orphaned servers)."""
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except Exception:  # noqa: BLE001 - best effort, Linux only
        pass


def _spawn(srv: Server) -> None:
    log = open(srv.log_path, "wb")
    srv.proc = subprocess.Popen(srv.argv, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=str(srv.workdir),
                                env=srv.env or None, start_new_session=True,
                                preexec_fn=_die_with_parent)
    log.close()


def start_server(opts: Optional[ServerOptions] = None, which: Optional[str] = None) -> Server:
    opts = opts or ServerOptions()
    which = which or target()
    return start_janus(opts) if which == "janus" else start_confab(opts)


if __name__ == "__main__":
    # Manual use: python3 tests/harness.py [janus|confab]  -> runs until Ctrl-C
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("which", nargs="?", default=None, choices=["janus", "confab"])
    ap.add_argument("--api-secret", default="")
    ap.add_argument("--token-auth", action="store_true")
    ap.add_argument("--token-auth-secret", default="")
    ap.add_argument("--session-timeout", type=int, default=60)
    ap.add_argument("--admin-secret", default=DEFAULT_ADMIN_SECRET)
    a = ap.parse_args()
    os.environ.setdefault("CONFAB_KEEP_LOGS", "1")

    def _term(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, _term)
    s = start_server(ServerOptions(api_secret=a.api_secret, token_auth=a.token_auth,
                                   token_auth_secret=a.token_auth_secret,
                                   session_timeout=a.session_timeout, admin_secret=a.admin_secret),
                     a.which)
    print(json.dumps({"target": s.target, "janus": s.janus_url, "ws": s.ws_url, "admin": s.admin_url,
                      "admin_ws": s.admin_ws_url, "admin_secret": s.admin_secret,
                      "log": str(s.log_path), "config_dir": str(s.workdir), "pid": s.proc.pid},
                     indent=2), flush=True)
    try:
        while s.alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        s.stop()
