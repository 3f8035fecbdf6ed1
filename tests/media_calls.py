"""Many sequential EchoTest calls, half of them ended by SIGKILLing the peer, and what the server
process holds before and after (threads, fds, RSS, open PeerConnections).

Shared by tests/test_media_lifecycle.py (20 calls, asserted) and scripts/bench_media_calls.py
(N calls, printed). Every call: WebSocket signalling, attach echotest, offer/answer, wait until the
echoed audio and video decode with the right content (a moving bar, a loud tone), then end it:
- "close": aiortc in this process closes its PeerConnection (DTLS close_notify) → hangup
  "DTLS alert" expected within 10 s, then the session is destroyed;
- "kill": the peer is tests/media_peers.py in a subprocess, SIGKILLed once media flows (its
  sockets vanish: no alert, no hangup request) → the server must notice by itself (Confab:
  consent freshness, 30 s). The test does not wait: the next call starts at once and a watcher
  task collects the `hangup` (and its delay) in the background, then destroys the session.
The subprocess for the next killed call is started one call ahead, so its aiortc import overlaps.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import statistics
import sys
import time
import urllib.request
from typing import Optional

import media_peers as mp

HERE = os.path.dirname(os.path.abspath(__file__))
PEER_SCRIPT = os.path.join(HERE, "media_peers.py")


# ----------------------------------------------------------------------------------------------
# process figures
# ----------------------------------------------------------------------------------------------

def process_figures(pid: int) -> dict:
    """threads, open fds, RSS (KiB) of a process, from /proc."""
    threads = len(os.listdir(f"/proc/{pid}/task"))
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return {"threads": threads, "fds": fds, "rss_kib": rss}


def peerconnections(srv) -> Optional[int]:
    """confab_media_peerconnections from /metrics (None for Janus)."""
    if srv.is_janus:
        return None
    url = srv.admin_url.rsplit("/", 1)[0] + "/metrics"
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    m = re.search(r"^confab_media_peerconnections(?:\{[^}]*\})?\s+([0-9.eE+-]+)$", text, re.M)
    return int(float(m.group(1))) if m else 0


def metric_counters(srv) -> dict:
    if srv.is_janus:
        return {}
    url = srv.admin_url.rsplit("/", 1)[0] + "/metrics"
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    return {m.group(1): int(float(m.group(2))) for m in
            re.finditer(r"^confab_media_(\w+?)_total(?:\{[^}]*\})?\s+([0-9.eE+-]+)$", text, re.M)}


async def settle(srv, baseline: dict, timeout: float) -> tuple[dict, Optional[int]]:
    """Polls until threads, fds (and the PeerConnection gauge) are back at the baseline, or the
    timeout passes; returns the last figures."""
    end = time.time() + timeout
    while True:
        now = process_figures(srv.proc.pid)
        pcs = await asyncio.to_thread(peerconnections, srv)
        back = (now["threads"] <= baseline["threads"] and now["fds"] <= baseline["fds"]
                and (pcs is None or pcs == baseline.get("peerconnections", 0)))
        if back or time.time() >= end:
            return now, pcs
        await asyncio.sleep(0.5)


# ----------------------------------------------------------------------------------------------
# one call
# ----------------------------------------------------------------------------------------------

async def _line(proc, timeout: float) -> dict:
    raw = await asyncio.wait_for(proc.stdout.readline(), timeout)
    if not raw:
        raise AssertionError("peer subprocess ended early")
    return json.loads(raw)


async def spawn_peer():
    return await asyncio.create_subprocess_exec(sys.executable, PEER_SCRIPT, stdin=asyncio.subprocess.PIPE,
                                                stdout=asyncio.subprocess.PIPE)


async def closed_call(srv, index: int, video: int, audio: int) -> dict:
    sig = mp.WsSignalling(srv.ws_url)
    peer = mp.EchoPeer()
    t0 = time.time()
    try:
        await sig.start()
        call = await mp.start_echo_call(sig, peer)
        hid = call["handle_id"]
        await peer.wait_media(video_frames=video, audio_frames=audio, timeout=20)
        media_at = time.time() - t0
        assert peer.content_ok(), f"call {index}: {peer.stats.summary()}"
        await peer.close()
        closed = time.time()
        hang = await sig.wait_event(mp.is_ev("hangup", hid), 10, f"hangup of closed call {index}")
        return {"index": index, "how": "close", "media_after": round(media_at, 2),
                "hangup_after": round(sig.received_at(hang) - closed, 3), "reason": hang.get("reason")}
    finally:
        await peer.close()
        await sig.close()


async def killed_call(srv, index: int, proc, video: int, audio: int, hangup_deadline: float,
                      watchers: list) -> dict:
    """Media to the subprocess peer, SIGKILL, and a background watcher for the hangup."""
    sig = mp.WsSignalling(srv.ws_url)
    t0 = time.time()
    handed_off = False
    try:
        await sig.start()
        hid = await sig.attach(mp.ECHOTEST, opaque_id=f"lifecycle-{index}")
        offer = (await _line(proc, 30))["offer"]
        _, ev = await sig.echo_request(hid, {"audio": True, "video": True}, offer)
        assert "jsep" in ev, mp.strip_sdp(ev)
        proc.stdin.write((json.dumps({"answer": ev["jsep"]}) + "\n").encode())
        await proc.stdin.drain()
        end = time.time() + 20
        while True:
            st = await _line(proc, 5)
            if st["video"] >= video and st["audio"] >= audio and st["content_ok"]:
                break
            assert time.time() < end, f"call {index}: media did not flow to the subprocess peer: {st}"
        media_at = time.time() - t0
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        killed = time.time()
        result = {"index": index, "how": "kill", "media_after": round(media_at, 2)}

        async def watch() -> None:
            try:
                hang = await sig.wait_event(mp.is_ev("hangup", hid), hangup_deadline,
                                            f"hangup of killed call {index}")
                result["hangup_after"] = round(sig.received_at(hang) - killed, 2)
                result["reason"] = hang.get("reason")
            except AssertionError as e:
                result["error"] = str(e)[:300]
            finally:
                await sig.close()

        watchers.append(asyncio.ensure_future(watch()))
        handed_off = True
        return result
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        if not handed_off:
            await sig.close()


# ----------------------------------------------------------------------------------------------
# the run
# ----------------------------------------------------------------------------------------------

async def run_calls(srv, calls: int, *, kill_every: int = 2, video: int = 10, audio: int = 20,
                    hangup_deadline: float = 35.0, settle_timeout: float = 15.0,
                    progress=None) -> dict:
    """`calls` sequential calls; call i is killed when i % kill_every == 0 (kill_every=2: every
    other one, starting with a kill). One closed warm-up call first (lazy one-time allocations
    are not leaks), then the baseline. Returns the figures."""
    pid = srv.proc.pid
    await closed_call(srv, -1, video, audio)
    await asyncio.sleep(1.5)
    base, pcs = await settle(srv, {"threads": 10**6, "fds": 10**6}, 0)
    baseline = {**base, "peerconnections": pcs}
    counters0 = await asyncio.to_thread(metric_counters, srv)

    results: list[dict] = []
    watchers: list[asyncio.Task] = []
    peak = dict(base)
    kinds = ["kill" if kill_every and i % kill_every == 0 else "close" for i in range(calls)]
    upcoming = None      # the next killed call's subprocess, started one call ahead
    if "kill" in kinds:
        upcoming = asyncio.ensure_future(spawn_peer())
    t0 = time.time()
    try:
        for i, kind in enumerate(kinds):
            if kind == "kill":
                proc = await upcoming
                upcoming = asyncio.ensure_future(spawn_peer()) if "kill" in kinds[i + 1:] else None
                results.append(await killed_call(srv, i, proc, video, audio, hangup_deadline, watchers))
            else:
                results.append(await closed_call(srv, i, video, audio))
            fig = process_figures(pid)
            for k in peak:
                peak[k] = max(peak[k], fig[k])
            if progress:
                progress(i, results[-1], fig)
        calls_done = time.time()
        await asyncio.gather(*watchers)
    finally:
        if upcoming is not None:
            proc = await upcoming
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        for w in watchers:
            w.cancel()
    all_hung_up = time.time()
    after, pcs_after = await settle(srv, baseline, settle_timeout)
    counters1 = await asyncio.to_thread(metric_counters, srv)

    killed = [r for r in results if r["how"] == "kill"]
    closed = [r for r in results if r["how"] == "close"]
    delays = [r["hangup_after"] for r in killed if "hangup_after" in r]
    return {
        "calls": calls, "killed": len(killed), "closed": len(closed),
        "baseline": baseline, "after": {**after, "peerconnections": pcs_after}, "peak": peak,
        "rss_growth_kib": after["rss_kib"] - baseline["rss_kib"],
        "calls_seconds": round(calls_done - t0, 1),
        "calls_per_s": round(calls / (calls_done - t0), 2),
        "total_seconds": round(all_hung_up - t0, 1),
        "media_after_s": {"median": round(statistics.median(r["media_after"] for r in results), 2),
                          "max": max(r["media_after"] for r in results)},
        "killed_hangup_after_s": ({"min": min(delays), "median": round(statistics.median(delays), 2), "max": max(delays)}
                                  if delays else None),
        "killed_hangup_reasons": sorted({r.get("reason") for r in killed if "reason" in r}),
        "closed_hangup_reasons": sorted({r.get("reason") for r in closed}),
        "hangup_errors": [r["error"] for r in killed if "error" in r],
        "opened_delta": counters1.get("peerconnections_opened", 0) - counters0.get("peerconnections_opened", 0),
        "closed_delta": counters1.get("peerconnections_closed", 0) - counters0.get("peerconnections_closed", 0),
        "results": results,
    }
