#!/usr/bin/env python3
"""Benchmark: N sequential EchoTest calls (aiortc), every other peer SIGKILLed mid-call.

Prints the server's threads / open fds / RSS before and after (and the peak), calls per second,
how long each call took to echo media, and how long the server took to hang up on the killed
peers (Confab: RFC 7675 consent, 30 s). A benchmark, not a test: nothing is asserted, but a
call that fails to echo stops the run. Same machinery as tests/test_media_lifecycle.py
(tests/media_calls.py); the server is started like the tests start it (tests/harness.py:
CONFAB_BIN, CONFAB_TARGET=janus for the reference).

    unshare --net -- bash -c 'ip link set lo up && scripts/bench_media_calls.py -n 100'
    scripts/bench_media_calls.py -n 40 --kill-every 0        # no kills: only closed calls
    scripts/bench_media_calls.py --json                       # the figures as one JSON object
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

import harness  # noqa: E402
import media_calls as mc  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--calls", type=int, default=100)
    ap.add_argument("--kill-every", type=int, default=2,
                    help="call i is SIGKILLed when i %% K == 0 (2: every other one; 0: never)")
    ap.add_argument("--hangup-deadline", type=float, default=None,
                    help="seconds to wait for a killed peer's hangup (default 35, Janus 62)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON only")
    ap.add_argument("--quiet", action="store_true", help="no per-call lines")
    args = ap.parse_args()

    srv = harness.start_server(harness.ServerOptions(media=True))
    deadline = args.hangup_deadline or (62.0 if srv.is_janus else 35.0)

    def progress(i, result, fig):
        if not args.quiet and not args.json:
            print(f"call {i:4d} {result['how']:5s} media after {result['media_after']:5.2f} s   "
                  f"threads {fig['threads']:3d}  fds {fig['fds']:4d}  RSS {fig['rss_kib'] / 1024:7.1f} MiB",
                  flush=True)

    try:
        report = asyncio.run(mc.run_calls(srv, args.calls, kill_every=args.kill_every,
                                          hangup_deadline=deadline, progress=progress))
    finally:
        alive = srv.alive()
        srv.stop()
    report["server_alive"] = alive
    if args.json:
        print(json.dumps({k: v for k, v in report.items() if k != "results"}))
        return
    b, a, p = report["baseline"], report["after"], report["peak"]
    print(f"\n{srv.target}: {report['calls']} calls ({report['killed']} killed, {report['closed']} closed)")
    print(f"  calls/s            {report['calls_per_s']}  ({report['calls_seconds']} s for the calls, "
          f"{report['total_seconds']} s until every hangup)")
    print(f"  media echoed after median {report['media_after_s']['median']} s, max {report['media_after_s']['max']} s")
    print(f"  threads            {b['threads']} -> {a['threads']}  (peak {p['threads']})")
    print(f"  open fds           {b['fds']} -> {a['fds']}  (peak {p['fds']})")
    print(f"  RSS                {b['rss_kib'] / 1024:.1f} MiB -> {a['rss_kib'] / 1024:.1f} MiB "
          f"({report['rss_growth_kib'] / 1024:+.1f} MiB, peak {p['rss_kib'] / 1024:.1f} MiB)")
    if a.get("peerconnections") is not None:
        print(f"  PeerConnections    {b['peerconnections']} -> {a['peerconnections']}  "
              f"(opened +{report['opened_delta']}, closed +{report['closed_delta']})")
    if report["killed_hangup_after_s"]:
        d = report["killed_hangup_after_s"]
        print(f"  killed → hangup    min {d['min']} s, median {d['median']} s, max {d['max']} s "
              f"({', '.join(report['killed_hangup_reasons'])})")
    if report["hangup_errors"]:
        print(f"  MISSING HANGUPS    {len(report['hangup_errors'])}: {report['hangup_errors'][:3]}")
    print(f"  closed → hangup    reasons {report['closed_hangup_reasons']}")
    print(f"  server alive       {alive}")


if __name__ == "__main__":
    main()
