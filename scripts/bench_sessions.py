#!/usr/bin/env python3
"""Signalling benchmark for Confab's Janus HTTP API (Python 3.11, stdlib only).

Default mode ("hold"):
  1. starts Confab with a throw-away config on free loopback ports (or attaches to a running
     server with --url/--pid),
  2. creates N sessions (POST /janus {"janus":"create"}) over a pool of keep-alive connections,
  3. keeps one long poll (GET /janus/<id>?maxev=1) per session outstanding at all times, each on
     its own connection (re-issued whenever it returns {"janus":"keepalive"} after 30 s),
  4. for a steady window sends keepalives (POST /janus/<id> {"janus":"keepalive"}) for random
     sessions from C keep-alive connections, one request at a time each, timing every round trip,
  5. samples the server's RSS and CPU time, prints a table and a `RESULT ...` line,
  6. destroys every session, checks with the Admin API's list_sessions that none is left,
     reports the RSS afterwards and stops the server.

--cycles M mode: M create/destroy cycles over keep-alive connections, printing the server's RSS
at the start, every 1000 cycles and at the end (leak check), then a `RESULT ...` line.

Everything talks to 127.0.0.1 only (unless --url says otherwise). The client is a single Python
process, so on a small box it may be the bottleneck: its CPU time is reported next to the
server's so readers can judge.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
NOFILE_WANTED = 65536
MIB = 1024 * 1024


# --------------------------------------------------------------------------------------------
# Minimal HTTP/1.1 client: keep-alive, Content-Length bodies (chunked tolerated), one request
# at a time per connection.
# --------------------------------------------------------------------------------------------

class HTTPError(Exception):
    pass


class Conn:
    __slots__ = ("host", "port", "reader", "writer", "hostline", "reconnects")

    def __init__(self, host: str, port: int):
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.hostline = f"Host: {host}:{port}\r\n".encode()
        self.reconnects = 0

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        if self.writer is not None:
            try:
                self.writer.close()
            except Exception:
                pass
        self.reader = self.writer = None

    def post_head(self, path: str, length: int) -> bytes:
        return (f"POST {path} HTTP/1.1\r\n".encode() + self.hostline
                + b"Content-Type: application/json\r\nContent-Length: " + str(length).encode()
                + b"\r\n\r\n")

    def get_head(self, path: str) -> bytes:
        return f"GET {path} HTTP/1.1\r\n".encode() + self.hostline + b"\r\n"

    async def roundtrip(self, data: bytes) -> tuple[int, bytes]:
        """Sends one complete request (head + body) and reads the response.
        Reconnects once if the server closed an idle keep-alive connection."""
        for attempt in (0, 1):
            if self.writer is None:
                await self.connect()
            try:
                self.writer.write(data)
                return await self._read_response()
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt:
                    raise
                self.reconnects += 1
        raise AssertionError("unreachable")

    async def _read_response(self) -> tuple[int, bytes]:
        reader = self.reader
        head = await reader.readuntil(b"\r\n\r\n")
        # "HTTP/1.1 200 OK\r\n..."
        status = int(head[9:12])
        lower = head.lower()
        i = lower.find(b"\r\ncontent-length:")
        if i >= 0:
            j = lower.index(b"\r\n", i + 17)
            body = await reader.readexactly(int(lower[i + 17:j]))
        elif b"\r\ntransfer-encoding: chunked" in lower:
            parts = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    break
                parts.append(await reader.readexactly(size))
                await reader.readexactly(2)
            body = b"".join(parts)
        else:
            raise HTTPError("response without Content-Length: " + head[:200].decode(errors="replace"))
        if b"\r\nconnection: close" in lower:
            self.close()
        return status, body

    async def post_json(self, path: str, body: bytes) -> tuple[int, bytes]:
        return await self.roundtrip(self.post_head(path, len(body)) + body)


# --------------------------------------------------------------------------------------------
# Server process: start / attach, RSS and CPU sampling
# --------------------------------------------------------------------------------------------

def raise_nofile(wanted: int = NOFILE_WANTED) -> tuple[int, int]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), max(hard, wanted)))
    except (ValueError, OSError):
        # Not privileged: go as high as the hard limit allows.
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def read_cpu_s(pid: int) -> float:
    """utime + stime of the server process (all threads), in seconds."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read()
    fields = data[data.rindex(b")") + 2:].split()
    # fields[0] is field 3 (state); utime/stime are fields 14/15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def read_threads(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"Threads:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def count_fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def host_cpu_s() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole host, summed over all cores, from /proc/stat."""
    with open("/proc/stat", "rb") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    total = sum(v[:8])
    return (total - idle) / CLK_TCK, total / CLK_TCK


def client_cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Server:
    """A Confab started by us (stopped at the end) or one we attached to."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.proc: subprocess.Popen | None = None
        self.tmpdir: tempfile.TemporaryDirectory | None = None
        self.pid = 0
        self.host = "127.0.0.1"
        self.port = 0
        self.path = "/janus"
        self.admin: tuple[str, int, str] | None = None
        self.admin_secret = args.admin_secret
        self.binary = ""

    def start(self) -> None:
        a = self.args
        if a.url:
            u = urllib.parse.urlsplit(a.url)
            self.host, self.port = u.hostname or "127.0.0.1", u.port or 80
            self.path = u.path.rstrip("/") or "/janus"
            if not a.pid:
                sys.exit("--url needs --pid (the server's process id, for RSS/CPU sampling)")
            self.pid = a.pid
            if a.admin_url:
                au = urllib.parse.urlsplit(a.admin_url)
                self.admin = (au.hostname or "127.0.0.1", au.port or 80, au.path.rstrip("/") or "/admin")
            self.binary = f"(attached, pid {self.pid})"
            return
        binary = Path(a.bin) if a.bin else default_binary()
        if not binary.exists():
            sys.exit(f"no server binary at {binary}")
        self.binary = f"{binary} (built {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(binary.stat().st_mtime))})"
        http, ws, admin = free_port(), free_port(), free_port()
        while len({http, ws, admin}) < 3:
            ws, admin = free_port(), free_port()
        self.tmpdir = tempfile.TemporaryDirectory(prefix="confab-bench-")
        cfg = Path(self.tmpdir.name) / "bench.cfg"
        cfg.write_text(
            f'general: {{ session_timeout = 120; log_level = "{a.log_level}"; }};\n'
            f'http: {{ bind = "127.0.0.1"; port = {http}; }};\n'
            f'websockets: {{ bind = "127.0.0.1"; port = {ws}; }};\n'
            f'admin: {{ bind = "127.0.0.1"; port = {admin}; secret = "{self.admin_secret}"; }};\n'
            'turn: { enabled = false; };\n'
            'site: { enabled = false; };\n')
        self.port = http
        self.admin = ("127.0.0.1", admin, "/admin")
        log = open(Path(self.tmpdir.name) / "confab.log", "wb")

        def preexec() -> None:
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE_WANTED, NOFILE_WANTED))
            except (ValueError, OSError):
                _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
                resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            os.setsid()

        self.proc = subprocess.Popen([str(binary), "--config", str(cfg)], cwd=self.tmpdir.name,
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                     preexec_fn=preexec)
        self.pid = self.proc.pid
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", http), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            self.stop()
            sys.exit("server did not start listening within 30 s")

    def nofile(self) -> str:
        try:
            for line in open(f"/proc/{self.pid}/limits"):
                if line.startswith("Max open files"):
                    return line.split()[3]
        except OSError:
            pass
        return "?"

    def log_tail(self, n: int = 20) -> str:
        if not self.tmpdir:
            return ""
        try:
            lines = (Path(self.tmpdir.name) / "confab.log").read_text(errors="replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.tmpdir:
            self.tmpdir.cleanup()


def default_binary() -> Path:
    release = ROOT / ".build" / "release" / "confab"
    return release if release.exists() else ROOT / ".build" / "debug" / "confab"


class RSSSampler:
    """Samples VmRSS every `interval` seconds; keeps the overall peak and per-phase peaks."""

    def __init__(self, pid: int, interval: float = 0.25):
        self.pid = pid
        self.interval = interval
        self.peak_kib = 0
        self.phase = "start"
        self.phase_peak: dict[str, int] = {}
        self.last_kib = 0
        self._task: asyncio.Task | None = None

    def sample(self) -> int:
        kib = read_rss_kib(self.pid)
        self.last_kib = kib
        self.peak_kib = max(self.peak_kib, kib)
        self.phase_peak[self.phase] = max(self.phase_peak.get(self.phase, 0), kib)
        return kib

    def set_phase(self, phase: str) -> None:
        self.phase = phase
        self.sample()

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass


async def settled_rss_kib(pid: int, seconds: float = 2.0) -> int:
    """RSS after letting the server settle for `seconds` (the last of a few samples)."""
    end = time.monotonic() + seconds
    kib = read_rss_kib(pid)
    while time.monotonic() < end:
        await asyncio.sleep(0.25)
        kib = read_rss_kib(pid)
    return kib


def mib(kib: int) -> float:
    return kib / 1024


class Progress:
    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def show(self, text: str, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < (0.25 if self.tty else 2.0):
            return
        self.last = now
        if self.tty:
            sys.stderr.write("\r\033[K" + text)
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def done(self, text: str) -> None:
        if self.tty:
            sys.stderr.write("\r\033[K" + text + "\n")
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()


def percentile(sorted_ns: list[int], p: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    if not sorted_ns:
        return float("nan")
    k = max(0, min(len(sorted_ns) - 1, int(round(p / 100 * len(sorted_ns) + 0.5)) - 1))
    return sorted_ns[k] / 1e6


async def admin_list_sessions(server: Server) -> list[int] | None:
    if server.admin is None:
        return None
    host, port, path = server.admin
    conn = Conn(host, port)
    body = json.dumps({"janus": "list_sessions", "transaction": "t",
                       "admin_secret": server.admin_secret}).encode()
    try:
        status, reply = await conn.post_json(path, body)
    finally:
        conn.close()
    msg = json.loads(reply)
    if msg.get("janus") != "success":
        raise HTTPError(f"list_sessions failed: {reply[:200]!r}")
    return msg["sessions"]


# --------------------------------------------------------------------------------------------
# Hold mode: N sessions + N long polls + keepalive traffic
# --------------------------------------------------------------------------------------------

class Hold:
    def __init__(self, args: argparse.Namespace, server: Server, rss: RSSSampler):
        self.a = args
        self.s = server
        self.rss = rss
        self.ids: list[int] = []
        self.stopping = False
        self.poll_tasks: list[asyncio.Task] = []
        self.polls_open = 0          # long-poll connections currently connected
        self.polls_outstanding = 0   # long polls sent and not yet answered
        self.poll_keepalives = 0     # long polls answered with {"janus":"keepalive"} (re-issued)
        self.poll_events = 0         # long polls answered with an event
        self.poll_errors = 0
        self.poll_error_sample = ""
        self.poll_min_outstanding_in_window: int | None = None
        self.connect_sem = asyncio.Semaphore(args.connect_parallel)
        self.errors = 0            # keepalives not acked
        self.create_errors = 0
        self.destroy_errors = 0
        self.reconnects = 0
        self.ka_heads: list[bytes] = []
        self.poll_returns: list[int] | None = None   # when long polls came back, during the window
        self.starts: list[int] = []                   # send time of each acked keepalive
        self.error_sample = ""

    # ---- create ----

    async def create_worker(self, counter: list[int], progress: Progress) -> None:
        conn = Conn(self.s.host, self.s.port)
        head_path = self.s.path
        try:
            while counter[0] < self.a.sessions:
                counter[0] += 1
                n = counter[0]
                body = b'{"janus":"create","transaction":"c%d"}' % n
                status, reply = await conn.post_json(head_path, body)
                msg = json.loads(reply)
                if msg.get("janus") != "success":
                    self.create_errors += 1
                    self.error_sample = self.error_sample or reply[:200].decode(errors="replace")
                    continue
                sid = msg["data"]["id"]
                self.ids.append(sid)
                if not self.a.no_longpolls:
                    self.poll_tasks.append(asyncio.get_running_loop().create_task(self.long_poll(sid)))
                progress.show(f"  creating: {len(self.ids)}/{self.a.sessions} sessions, "
                              f"{self.polls_outstanding} long polls outstanding, "
                              f"RSS {mib(self.rss.last_kib):.1f} MiB")
        finally:
            conn.close()

    # ---- long polls ----

    async def long_poll(self, sid: int) -> None:
        conn = Conn(self.s.host, self.s.port)
        request = conn.get_head(f"{self.s.path}/{sid}?maxev=1")
        try:
            async with self.connect_sem:
                await conn.connect()
        except OSError as e:
            self.poll_errors += 1
            self.poll_error_sample = self.poll_error_sample or f"connect: {e}"
            return
        self.polls_open += 1
        try:
            while not self.stopping:
                self.polls_outstanding += 1
                try:
                    status, body = await conn.roundtrip(request)
                finally:
                    self.polls_outstanding -= 1
                    if self.poll_min_outstanding_in_window is not None:
                        self.poll_min_outstanding_in_window = min(
                            self.poll_min_outstanding_in_window, self.polls_outstanding)
                if self.stopping:
                    break
                if body == b'{"janus":"keepalive"}' or b'"janus":"keepalive"' in body:
                    self.poll_keepalives += 1
                    if self.poll_returns is not None:
                        self.poll_returns.append(time.perf_counter_ns())
                    continue
                msg = json.loads(body)
                if msg.get("janus") == "error":
                    self.poll_errors += 1
                    self.poll_error_sample = self.poll_error_sample or body[:200].decode(errors="replace")
                    break
                self.poll_events += 1
        except (OSError, asyncio.IncompleteReadError, HTTPError, ValueError) as e:
            if not self.stopping:
                self.poll_errors += 1
                self.poll_error_sample = self.poll_error_sample or f"{type(e).__name__}: {e}"
        finally:
            self.polls_open -= 1
            conn.close()

    # ---- keepalives ----

    async def keepalive_worker(self, wid: int, deadline_ns: int, samples: list[int], rng: random.Random) -> None:
        conn = Conn(self.s.host, self.s.port)
        await conn.connect()
        ids = self.ids
        heads = self.ka_heads
        n = 0
        perf = time.perf_counter_ns
        append = samples.append
        append_start = self.starts.append
        choice = rng.randrange
        count = len(ids)
        # --rate: open-loop pacing, each connection sends every `interval` ns (0 = back to back).
        interval = int(self.a.concurrency * 1e9 / self.a.rate) if self.a.rate > 0 else 0
        next_ns = perf() + rng.randrange(interval) if interval else 0
        try:
            while True:
                if interval:
                    now = perf()
                    if next_ns > now:
                        await asyncio.sleep((next_ns - now) / 1e9)
                    next_ns += interval
                t0 = perf()
                if t0 >= deadline_ns:
                    break
                n += 1
                i = choice(count)
                body = b'{"janus":"keepalive","transaction":"k%d.%d"}' % (wid, n)
                data = heads[i] + str(len(body)).encode() + b"\r\n\r\n" + body
                status, reply = await conn.roundtrip(data)
                t1 = perf()
                if b'"janus":"ack"' in reply:
                    append(t1 - t0)
                    append_start(t0)
                else:
                    self.errors += 1
                    self.error_sample = self.error_sample or reply[:200].decode(errors="replace")
        finally:
            self.reconnects += conn.reconnects
            conn.close()

    # ---- destroy ----

    async def destroy_worker(self, queue: list[int], progress: Progress, done: list[int]) -> None:
        conn = Conn(self.s.host, self.s.port)
        try:
            while queue:
                sid = queue.pop()
                body = b'{"janus":"destroy","transaction":"d%d"}' % sid
                status, reply = await conn.post_json(f"{self.s.path}/{sid}", body)
                if b'"janus":"success"' not in reply:
                    self.destroy_errors += 1
                    self.error_sample = self.error_sample or reply[:200].decode(errors="replace")
                done[0] += 1
                progress.show(f"  destroying: {done[0]}/{len(self.ids)}, "
                              f"{self.polls_open} long-poll connections open")
        finally:
            conn.close()

    async def run(self) -> int:
        a, s, pid = self.a, self.s, self.s.pid
        progress = Progress()
        cpu_start = read_cpu_s(pid)
        rss_start = read_rss_kib(pid)

        # 1. create sessions, each starting its long poll on its own connection
        self.rss.set_phase("ramp")
        t_ramp = time.perf_counter()
        counter = [0]
        await asyncio.gather(*(self.create_worker(counter, progress) for _ in range(a.create_conns)))
        create_s = time.perf_counter() - t_ramp
        wait_until = time.monotonic() + 60
        while (not a.no_longpolls and self.polls_outstanding + self.poll_errors < len(self.ids)) and time.monotonic() < wait_until:
            progress.show(f"  created {len(self.ids)}; waiting for long polls: "
                          f"{self.polls_outstanding}/{len(self.ids)} outstanding")
            await asyncio.sleep(0.05)
        ramp_s = time.perf_counter() - t_ramp
        progress.done(f"  created {len(self.ids)} sessions in {create_s:.1f} s "
                      f"({len(self.ids) / create_s:.0f}/s); {self.polls_outstanding} long polls outstanding "
                      f"after {ramp_s:.1f} s")
        await asyncio.sleep(1.0)
        rss_ramp = read_rss_kib(pid)
        fds_ramp = count_fds(pid)

        # 2. steady window of keepalives
        self.rss.set_phase("window")
        self.ka_heads = [b"POST " + f"{s.path}/{sid}".encode() + b" HTTP/1.1\r\nHost: "
                         + f"{s.host}:{s.port}".encode()
                         + b"\r\nContent-Type: application/json\r\nContent-Length: " for sid in self.ids]
        self.reconnects = 0
        samples: list[int] = []
        rng = random.Random(a.seed)
        ka_before = self.poll_keepalives
        self.poll_min_outstanding_in_window = self.polls_outstanding
        sys.stderr.write(f"  keepalive window: {a.duration:.0f} s over {a.concurrency} connections ...\n")
        self.poll_returns = []
        cpu0, ccpu0, t0 = read_cpu_s(pid), client_cpu_s(), time.perf_counter()
        t0_ns = time.perf_counter_ns()
        host0 = host_cpu_s()
        deadline_ns = time.perf_counter_ns() + int(a.duration * 1e9)
        workers = [asyncio.get_running_loop().create_task(self.keepalive_worker(w, deadline_ns, samples, rng))
                   for w in range(a.concurrency)]

        async def window_progress() -> None:
            while True:
                await asyncio.sleep(1.0)
                el = time.perf_counter() - t0
                progress.show(f"  window {el:4.0f}/{a.duration:.0f} s: {len(samples)} keepalives "
                              f"({len(samples) / el:.0f}/s), {self.polls_outstanding} long polls outstanding, "
                              f"RSS {mib(self.rss.last_kib):.1f} MiB")
        wp = asyncio.get_running_loop().create_task(window_progress())
        await asyncio.gather(*workers)
        wp.cancel()
        elapsed = time.perf_counter() - t0
        cpu_window = read_cpu_s(pid) - cpu0
        ccpu_window = client_cpu_s() - ccpu0
        host1 = host_cpu_s()
        host_busy = host1[0] - host0[0]
        other_cpu = max(0.0, host_busy - cpu_window - ccpu_window)
        window_min_polls = self.poll_min_outstanding_in_window
        self.poll_min_outstanding_in_window = None
        reissued = self.poll_keepalives - ka_before
        polls_at_end = self.polls_outstanding
        polls_open_end = self.polls_open
        progress.done(f"  window done: {len(samples)} keepalives in {elapsed:.1f} s")
        rss_window_peak = self.rss.phase_peak.get("window", 0)
        self.rss.set_phase("idle")
        rss_idle = await settled_rss_kib(pid, 2.0)

        timeline = per_second(t0_ns, self.starts, samples, self.poll_returns)
        self.poll_returns = None
        quiet = sorted(x for sec in timeline if sec[3] == 0 for x in sec[4])
        busy = sorted(x for sec in timeline if sec[3] > 0 for x in sec[4])
        samples.sort()
        n_ok = len(samples)
        rate = n_ok / elapsed if elapsed > 0 else 0.0
        p50, p90, p99 = (percentile(samples, p) for p in (50, 90, 99))
        pmax = samples[-1] / 1e6 if samples else float("nan")
        mean = sum(samples) / n_ok / 1e6 if n_ok else float("nan")
        rss_peak = self.rss.peak_kib

        # 3. destroy everything, check nothing is left
        self.rss.set_phase("destroy")
        self.stopping = True
        self.destroy_errors = 0
        queue = list(self.ids)
        done = [0]
        t_d = time.perf_counter()
        await asyncio.gather(*(self.destroy_worker(queue, progress, done) for _ in range(a.create_conns)))
        destroy_s = time.perf_counter() - t_d
        _, pending = await asyncio.wait(self.poll_tasks, timeout=40) if self.poll_tasks else (None, set())
        for t in pending:
            t.cancel()
        progress.done(f"  destroyed {done[0]} sessions in {destroy_s:.1f} s; "
                      f"{len(pending)} long polls had to be cancelled")
        self.rss.set_phase("after")
        left = await admin_list_sessions(s)
        rss_after = await settled_rss_kib(pid, 3.0)
        fds_after = count_fds(pid)
        cpu_total = read_cpu_s(pid) - cpu_start

        # 4. report
        ok = (n_ok > 0 and self.errors == 0 and self.create_errors == 0 and self.poll_errors == 0 and self.destroy_errors == 0
              and (left is None or len(left) == 0))
        rows = [
            ("server binary", s.binary),
            ("server nofile limit / threads", f"{s.nofile()} / {read_threads(pid)}"),
            ("sessions created", f"{len(self.ids)} (errors {self.create_errors})"),
            ("create rate", f"{len(self.ids) / create_s:.0f}/s over {a.create_conns} connections"),
            ("long polls outstanding (end of window)", f"{polls_at_end} on {polls_open_end} connections"),
            ("long polls outstanding (min in window)", f"{window_min_polls}"),
            ("long polls re-issued in window (30 s keepalive)", f"{reissued}"),
            ("long-poll errors", f"{self.poll_errors} {self.poll_error_sample}".rstrip()),
            ("server fds with N sessions", f"{fds_ramp}"),
            ("keepalive window", f"{elapsed:.1f} s, {a.concurrency} connections, 1 request in flight each, "
                                 + (f"paced at {a.rate:.0f}/s" if a.rate > 0 else "unpaced (closed loop)")),
            ("keepalives acked", f"{n_ok} ({rate:.0f}/s), errors {self.errors}, reconnects {self.reconnects}"),
            ("keepalive RTT p50 / p90 / p99 / max", f"{p50:.3f} / {p90:.3f} / {p99:.3f} / {pmax:.3f} ms"),
            ("keepalive RTT mean", f"{mean:.3f} ms"),
            ("  p50 / p99 in seconds without long-poll returns",
             f"{percentile(quiet, 50):.3f} / {percentile(quiet, 99):.3f} ms "
             f"({sum(1 for sec in timeline if sec[3] == 0)} s, {len(quiet)} keepalives)"),
            ("  p50 / p99 in seconds with long-poll returns",
             f"{percentile(busy, 50):.3f} / {percentile(busy, 99):.3f} ms "
             f"({sum(1 for sec in timeline if sec[3] > 0)} s, {len(busy)} keepalives)"),
            ("  per second: keepalives / p99 ms / long polls returned",
             "  ".join(f"{n}/{p:.1f}/{r}" for _, n, p, r, _ in timeline)),
            ("server RSS at start", f"{mib(rss_start):.1f} MiB"),
            ("server RSS after ramp (N sessions, idle)", f"{mib(rss_ramp):.1f} MiB"),
            ("server RSS peak in window", f"{mib(rss_window_peak):.1f} MiB"),
            ("server RSS peak overall", f"{mib(rss_peak):.1f} MiB"),
            ("server RSS after window (idle, settled)", f"{mib(rss_idle):.1f} MiB"),
            ("server CPU in window", f"{cpu_window:.2f} s ({100 * cpu_window / elapsed:.0f}% of a core)"),
            ("client CPU in window", f"{ccpu_window:.2f} s ({100 * ccpu_window / elapsed:.0f}% of a core)"),
            ("other processes' CPU in window", f"{other_cpu:.2f} s ({100 * other_cpu / elapsed:.0f}% of a core; "
                                               f"{os.cpu_count()} cores, load avg {os.getloadavg()[0]:.2f})"),
            ("server CPU whole run", f"{cpu_total:.2f} s"),
            ("destroy", f"{done[0]} in {destroy_s:.1f} s, errors {self.destroy_errors}"),
            ("sessions left (Admin list_sessions)", "n/a (no --admin-url)" if left is None else str(len(left))),
            ("server RSS after destroy (settled)", f"{mib(rss_after):.1f} MiB"),
            ("server fds after destroy", f"{fds_after}"),
        ]
        if self.error_sample:
            rows.append(("first error", self.error_sample))
        print_table(f"Confab signalling benchmark: {a.sessions} sessions", rows)
        print(f"RESULT sessions={len(self.ids)} longpolls={polls_at_end} keepalives={n_ok} rate={rate:.0f}/s "
              f"p50_ms={p50:.3f} p90_ms={p90:.3f} p99_ms={p99:.3f} max_ms={pmax:.3f} "
              f"rss_peak_mib={mib(rss_peak):.1f} rss_idle_mib={mib(rss_idle):.1f} cpu_s={cpu_window:.2f} "
              f"client_cpu_s={ccpu_window:.2f} other_cpu_s={other_cpu:.2f} rss_ramp_mib={mib(rss_ramp):.1f} "
              f"rss_after_destroy_mib={mib(rss_after):.1f} "
              f"sessions_left={'na' if left is None else len(left)} "
              f"errors={self.errors + self.create_errors + self.poll_errors + self.destroy_errors} ok={int(ok)}",
              flush=True)
        return 0 if ok else 1


# --------------------------------------------------------------------------------------------
# Cycles mode: create/destroy churn, RSS every 1000 cycles
# --------------------------------------------------------------------------------------------

async def run_cycles(a: argparse.Namespace, server: Server) -> int:
    pid = server.pid
    state = {"next": 0, "done": 0, "errors": 0, "sample": ""}
    marks: list[tuple[int, float, int]] = []
    t0 = time.perf_counter()
    rss0 = read_rss_kib(pid)
    cpu0, ccpu0 = read_cpu_s(pid), client_cpu_s()
    marks.append((0, 0.0, rss0))
    print(f"  cycles {0:>7}  t={0.0:6.1f} s  RSS {mib(rss0):7.1f} MiB", flush=True)
    next_mark = [a.every]
    samples: list[int] = []

    async def worker() -> None:
        conn = Conn(server.host, server.port)
        perf = time.perf_counter_ns
        try:
            while state["next"] < a.cycles:
                state["next"] += 1
                n = state["next"]
                c0 = perf()
                status, reply = await conn.post_json(server.path, b'{"janus":"create","transaction":"c%d"}' % n)
                msg = json.loads(reply)
                if msg.get("janus") != "success":
                    state["errors"] += 1
                    state["sample"] = state["sample"] or reply[:200].decode(errors="replace")
                    continue
                sid = msg["data"]["id"]
                status, reply = await conn.post_json(f"{server.path}/{sid}",
                                                     b'{"janus":"destroy","transaction":"d%d"}' % n)
                samples.append(perf() - c0)
                if b'"janus":"success"' not in reply:
                    state["errors"] += 1
                    state["sample"] = state["sample"] or reply[:200].decode(errors="replace")
                state["done"] += 1
                while state["done"] >= next_mark[0]:
                    kib = read_rss_kib(pid)
                    el = time.perf_counter() - t0
                    marks.append((next_mark[0], el, kib))
                    print(f"  cycles {next_mark[0]:>7}  t={el:6.1f} s  RSS {mib(kib):7.1f} MiB", flush=True)
                    next_mark[0] += a.every
        finally:
            conn.close()

    await asyncio.gather(*(worker() for _ in range(a.concurrency)))
    elapsed = time.perf_counter() - t0
    cpu = read_cpu_s(pid) - cpu0
    ccpu = client_cpu_s() - ccpu0
    rss_end = read_rss_kib(pid)
    left = await admin_list_sessions(server)
    rss_settled = await settled_rss_kib(pid, 3.0)
    samples.sort()
    rows = [
        ("server binary", server.binary),
        ("cycles (create + destroy)", f"{state['done']} in {elapsed:.1f} s ({state['done'] / elapsed:.0f}/s) "
                                      f"over {a.concurrency} connections, errors {state['errors']}"),
        ("cycle RTT p50 / p99 / max", f"{percentile(samples, 50):.3f} / {percentile(samples, 99):.3f} / "
                                      f"{samples[-1] / 1e6 if samples else float('nan'):.3f} ms"),
        ("server RSS at start", f"{mib(rss0):.1f} MiB"),
        ("server RSS at end", f"{mib(rss_end):.1f} MiB"),
        ("server RSS settled (3 s later)", f"{mib(rss_settled):.1f} MiB"),
        ("server RSS growth first->last 1000-mark",
         f"{mib(marks[-1][2] - marks[1][2]) if len(marks) > 2 else 0:.1f} MiB"),
        ("server CPU / client CPU", f"{cpu:.2f} s / {ccpu:.2f} s"),
        ("sessions left (Admin list_sessions)", "n/a" if left is None else str(len(left))),
    ]
    if state["sample"]:
        rows.append(("first error", state["sample"]))
    print_table(f"Confab create/destroy cycles: {a.cycles}", rows)
    ok = state["errors"] == 0 and (left is None or len(left) == 0)
    print(f"RESULT cycles={state['done']} rate={state['done'] / elapsed:.0f}/s "
          f"rss_start_mib={mib(rss0):.1f} rss_end_mib={mib(rss_end):.1f} rss_settled_mib={mib(rss_settled):.1f} "
          f"rss_marks_mib={','.join(f'{mib(k):.1f}' for _, _, k in marks)} "
          f"cpu_s={cpu:.2f} client_cpu_s={ccpu:.2f} "
          f"sessions_left={'na' if left is None else len(left)} errors={state['errors']} ok={int(ok)}",
          flush=True)
    return 0 if ok else 1


def per_second(t0_ns: int, starts: list[int], rtts: list[int], returns: list[int]
               ) -> list[tuple[int, int, float, int, list[int]]]:
    """Buckets keepalives (by send time) and long-poll returns into 1 s slots:
    (second, keepalives, p99 ms, long polls returned, the RTTs)."""
    buckets: dict[int, list[int]] = {}
    for t, r in zip(starts, rtts):
        buckets.setdefault((t - t0_ns) // 1_000_000_000, []).append(r)
    polls: dict[int, int] = {}
    for t in returns:
        sec = (t - t0_ns) // 1_000_000_000
        polls[sec] = polls.get(sec, 0) + 1
    out = []
    for sec in sorted(buckets):
        values = sorted(buckets[sec])
        out.append((sec, len(values), percentile(values, 99), polls.get(sec, 0), values))
    return out


def print_table(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    print()
    print(title)
    print("-" * len(title))
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")
    print(flush=True)


# --------------------------------------------------------------------------------------------

def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", help="server binary (default .build/release/confab if present, else .build/debug/confab)")
    p.add_argument("--url", help="attach to a running server's Janus API instead, e.g. http://127.0.0.1:8088/janus")
    p.add_argument("--pid", type=int, help="with --url: the server's pid (for RSS/CPU)")
    p.add_argument("--admin-url", help="with --url: Admin API, e.g. http://127.0.0.1:7088/admin")
    p.add_argument("--admin-secret", default="x", help="Admin API secret (default x)")
    p.add_argument("-n", "--sessions", type=int, default=10000, help="sessions to hold (default 10000)")
    p.add_argument("-c", "--concurrency", type=int, default=64,
                   help="keep-alive connections sending keepalives (or running cycles) (default 64)")
    p.add_argument("--rate", type=float, default=0,
                   help="pace keepalives at this total rate per second (open loop) instead of sending "
                        "back to back; latency then reflects the server, not queueing (default 0 = unpaced)")
    p.add_argument("-d", "--duration", type=float, default=30.0, help="keepalive window in seconds (default 30)")
    p.add_argument("--create-conns", type=int, default=16,
                   help="keep-alive connections used to create/destroy sessions (default 16)")
    p.add_argument("--connect-parallel", type=int, default=128,
                   help="long-poll connections being set up at once (the listen backlog is small; default 128)")
    p.add_argument("--no-longpolls", action="store_true",
                   help="hold the sessions without long polls (to separate per-session from per-connection memory; "
                        "sessions then live on the keepalives and session_timeout = 120 s)")
    p.add_argument("--cycles", type=int, nargs="?", const=10000, default=None,
                   help="create/destroy cycle mode: M cycles (default 10000)")
    p.add_argument("--every", type=int, default=1000, help="--cycles: print RSS every this many cycles")
    p.add_argument("--log-level", default="warning", help="server log_level when we start it (default warning)")
    p.add_argument("--seed", type=int, default=1)
    return p.parse_args()


async def amain(a: argparse.Namespace, server: Server) -> int:
    rss = RSSSampler(server.pid)
    rss.start()
    try:
        if a.cycles is not None:
            return await run_cycles(a, server)
        return await Hold(a, server, rss).run()
    finally:
        await rss.stop()


def main() -> int:
    a = parse_args()
    soft, hard = raise_nofile()
    need = (a.sessions if a.cycles is None else 0) + a.concurrency + a.create_conns + 64
    if soft < need:
        sys.exit(f"RLIMIT_NOFILE is {soft}, need about {need}")
    server = Server(a)
    server.start()
    sys.stderr.write(f"server pid {server.pid} at http://{server.host}:{server.port}{server.path} "
                     f"({server.binary}); client nofile {soft}, server nofile {server.nofile()}\n")
    try:
        return asyncio.run(amain(a, server))
    except KeyboardInterrupt:
        return 130
    finally:
        if server.proc is not None and server.proc.poll() is not None and server.proc.returncode not in (0, -15):
            sys.stderr.write(f"server exited with {server.proc.returncode}:\n{server.log_tail()}\n")
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
