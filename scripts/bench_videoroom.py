#!/usr/bin/env python3
"""Confab vs Debian's Janus 1.1.2 on the same VideoRoom load, side by side.

For each subscriber count S (10 publishers x S subscribers each by default) and each repeat,
runs confab-load against Confab and against Janus (alternating, so machine drift hits both
alike), each server started fresh on loopback by tests/harness.py, and records the figures of
confab-load's RESULT line. Prints a table of medians (CPU µs per forwarded packet, loss, p99
latency, forwarded packets/s, peak RSS) and writes BENCH-videoroom.csv and, when matplotlib is
available, BENCH-videoroom.png.

    sudo unshare --net -- bash -c 'ip link set lo up && python3 scripts/bench_videoroom.py'
    python3 scripts/bench_videoroom.py --publishers 3 --subscribers 3,6 --repeats 1 --seconds 10   # quick
    python3 scripts/bench_videoroom.py --ice-mode full --servers confab ...   # Confab with full ICE on libnice

Loopback only. The load tool runs on the same machine, so on a small box its own CPU use
competes with the server's; the per-packet CPU figure counts the server process only.
"""
from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

FIELDS = ("pps", "loss_pct", "p50_ms", "p99_ms", "cpu_us_per_packet", "cpu_pct", "peak_rss_mib", "server_fds",
          "server_drops", "other_drops")


def receive_buffer_errors() -> int:
    """UDP datagrams the kernel dropped in this namespace because a socket's receive buffer was full."""
    rows = [line.split() for line in Path("/proc/net/snmp").read_text().splitlines() if line.startswith("Udp:")]
    return int(rows[1][rows[0].index("RcvbufErrors")])


def socket_drops(pid: int) -> int:
    """Datagrams dropped on the UDP sockets process `pid` holds (the last column of /proc/net/udp{,6})."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    total = 0
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                total += int(fields[-1])
    return total


def run_once(target: str, load_bin: str, publishers: int, subscribers: int, seconds: float) -> dict:
    os.environ["CONFAB_TARGET"] = target
    import harness  # imported late: it reads CONFAB_TARGET when starting a server
    srv = harness.start_server(harness.ServerOptions(media=True, session_timeout=120))
    errors_before = receive_buffer_errors()
    try:
        out = subprocess.run([load_bin, "--url", srv.janus_url, "--pid", str(srv.proc.pid), "-p", str(publishers),
                              "-s", str(subscribers), "--seconds", str(seconds), "--settle", "3"],
                             capture_output=True, text=True, timeout=1800)
        # Where loss happened: on the server's own sockets (it fell behind reading), or elsewhere —
        # the load tool's subscriber sockets (the generator fell behind on this shared machine).
        server_drops = socket_drops(srv.proc.pid)
        all_drops = receive_buffer_errors() - errors_before
    finally:
        srv.stop()
    line = next((l for l in out.stdout.splitlines() if l.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"{target} P={publishers} S={subscribers}: no RESULT\n{out.stdout}\n{out.stderr[-2000:]}")
    figures = dict(kv.split("=", 1) for kv in line.split()[1:])
    figures["server_drops"] = server_drops
    figures["other_drops"] = max(0, all_drops - server_drops)
    return {k: float(figures[k]) for k in FIELDS if k in figures}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--publishers", type=int, default=10)
    p.add_argument("--subscribers", default="9,20,30,40,50", help="comma-separated subscribers per publisher")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--load", default=str(REPO / ".build/release/confab-load"), help="confab-load binary")
    p.add_argument("--out", default=str(REPO / "benchmarks" / "BENCH-videoroom"))
    p.add_argument("--ice-mode", choices=("mux", "full"), default="mux",
                   help="Confab's media.ice_mode: ICE-lite on one port (mux) or full ICE on libnice (Janus is always full)")
    p.add_argument("--servers", default="confab,janus",
                   help="comma-separated: which servers to run (e.g. only confab for the full-ICE table)")
    args = p.parse_args()
    servers = tuple(args.servers.split(","))
    os.environ["CONFAB_ICE_MODE"] = args.ice_mode

    # The release build is what people run; the harness defaults to the debug one for tests.
    os.environ.setdefault("CONFAB_BIN", str(REPO / ".build/release/confab"))
    rows = []
    for subscribers in [int(s) for s in args.subscribers.split(",")]:
        samples = {server: [] for server in servers}
        for repeat in range(args.repeats):
            for target in (servers if repeat % 2 == 0 else tuple(reversed(servers))):
                result = run_once(target, args.load, args.publishers, subscribers, args.seconds)
                samples[target].append(result)
                print(f"  {target:6} P={args.publishers} S={subscribers} #{repeat + 1}: {result}", file=sys.stderr)
                with open(f"{args.out}-runs.csv", "a") as log:  # every run, as it ends
                    log.write(",".join([target, str(args.publishers), str(subscribers), str(repeat + 1)] +
                                       [str(result.get(k, "")) for k in FIELDS]) + "\n")
        for target, runs in samples.items():
            row = {"server": target, "publishers": args.publishers, "subscribers": subscribers}
            for field in FIELDS:
                values = [r[field] for r in runs if field in r]
                row[field] = statistics.median(values) if values else float("nan")
            rows.append(row)

    print(f"{'server':7} {'P':>3} {'S':>3} {'pkts/s':>9} {'µs CPU/pkt':>11} {'loss %':>7} {'p99 ms':>8} {'RSS MiB':>8} {'fds':>5}"
          f" {'drops: server':>13} {'other':>8}")
    for r in rows:
        print(f"{r['server']:7} {r['publishers']:3d} {r['subscribers']:3d} {r['pps']:9.0f} {r['cpu_us_per_packet']:11.2f} "
              f"{r['loss_pct']:7.3f} {r['p99_ms']:8.2f} {r['peak_rss_mib']:8.1f} {r['server_fds']:5.0f}"
              f" {r['server_drops']:13.0f} {r['other_drops']:8.0f}")
    with open(f"{args.out}.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot (pip install matplotlib)", file=sys.stderr)
        return
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for ax, field, title in zip(axes, ("cpu_us_per_packet", "loss_pct", "p99_ms"),
                                ("server CPU µs per forwarded packet", "loss %", "p99 latency ms")):
        for target in servers:
            xs = [r["subscribers"] for r in rows if r["server"] == target]
            ys = [r[field] for r in rows if r["server"] == target]
            ax.plot(xs, ys, marker="o", label=target)
        ax.set_xlabel(f"subscribers per publisher ({args.publishers} publishers)")
        ax.set_title(title)
        ax.legend()
    fig.tight_layout()
    fig.savefig(f"{args.out}.png", dpi=100)
    print(f"wrote {args.out}.csv and {args.out}.png", file=sys.stderr)


if __name__ == "__main__":
    main()
