"""VideoRoom recording: publishers' streams written as .mjr files, converted by Debian's janus-pp-rec.

An aiortc publisher (440 Hz Opus tone, moving-bar VP8) publishes into a room with `record` and
`rec_dir`; its audio and video each land in an .mjr file that `janus-pp-rec` (package janus-tools)
reads and turns into .opus and .webm. `enable_recording` starts and stops recording mid-session,
`configure` with `record`/`filename` records one publisher, and with `lock_record` a publisher
cannot change its recording without the room secret. The same tests run against Janus 1.1.2
(CONFAB_TARGET=janus); file names are not compared (each server names its files its own way), the
files' headers and contents are.
"""
from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import harness
import media_peers as mp
from janus_client import VIDEOROOM, unique_room

pytestmark = pytest.mark.skipif(shutil.which("janus-pp-rec") is None, reason="needs janus-pp-rec (janus-tools)")

SECRET = "recsecret"


@pytest.fixture
def media_srv(request):
    srv = mp.media_server(request.config)
    yield srv
    assert srv.alive(), f"server under test died during the test\n--- log tail ---\n{srv.log_tail()}"


def run(coro, timeout: float = 120.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def data(ev: dict) -> dict:
    return ev["plugindata"]["data"]


async def request(sig: mp.Signalling, handle_id: int, body: dict, jsep=None) -> dict:
    ack, ev = await sig.echo_request(handle_id, body, jsep, 15.0)
    assert ack.get("janus") == "ack", ack
    return ev


async def create_room(sig: mp.Signalling, rec_dir: Path, **options) -> int:
    room = unique_room()
    h = await sig.attach(VIDEOROOM)
    r = await sig.message(h, {"request": "create", "room": room, "publishers": 6, "secret": SECRET,
                              "rec_dir": str(rec_dir), **options})
    assert data(r)["videoroom"] == "created", r
    await sig.request({"janus": "detach", "handle_id": h})
    return room


async def publish(sig: mp.Signalling, room: int, display: str, **publish_options) -> tuple[int, mp.EchoPeer]:
    peer = mp.EchoPeer()
    handle = await sig.attach(VIDEOROOM)
    joined = await request(sig, handle, {"request": "join", "room": room, "ptype": "publisher", "display": display})
    assert data(joined)["videoroom"] == "joined", joined
    ev = await request(sig, handle, {"request": "publish", "audio": True, "video": True, **publish_options},
                       await peer.offer())
    assert data(ev).get("configured") == "ok", mp.strip_sdp(ev)
    await peer.accept(ev["jsep"])
    await sig.wait_event(mp.is_ev("webrtcup", handle), 15, "publisher webrtcup")
    return handle, peer


def mjr_header(path: Path) -> dict:
    raw = path.read_bytes()
    assert raw[:8] == b"MJR00002", f"{path.name}: not an .mjr file"
    length = int.from_bytes(raw[8:10], "big")
    return json.loads(raw[10:10 + length])


def finished_recordings(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.mjr"))


def wait_for_files(folder: Path, count: int, timeout: float = 10.0) -> list[Path]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        files = finished_recordings(folder)
        if len(files) >= count and not list(folder.rglob("*.tmp")):
            return files
        time.sleep(0.2)
    raise AssertionError(f"expected {count} finished .mjr files in {folder}, got {list(folder.rglob('*'))}")


def by_type(files: list[Path]) -> dict[str, Path]:
    kinds = {mjr_header(f)["t"]: f for f in files}
    assert set(kinds) == {"a", "v"}, {f.name: mjr_header(f) for f in files}
    return kinds


def pp_rec(*args: str) -> str:
    done = subprocess.run(["janus-pp-rec", *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"janus-pp-rec {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def rtp_packets(path: Path) -> int:
    """Packets in the file, counted by the documented framing (each "MEET" record)."""
    raw = path.read_bytes()
    offset = 10 + int.from_bytes(raw[8:10], "big")
    count = 0
    while offset < len(raw):
        assert raw[offset:offset + 4] == b"MEET", f"{path.name}: bad record at {offset}"
        offset += 10 + int.from_bytes(raw[offset + 8:offset + 10], "big")
        count += 1
    assert offset == len(raw)
    return count


def check_converts(files: dict[str, Path], seconds: float, out: Path) -> dict:
    """janus-pp-rec reads both files and writes .opus / .webm; returns the packet counts."""
    audio, video = files["a"], files["v"]
    assert mjr_header(audio)["c"] == "opus" and mjr_header(video)["c"] == "vp8"
    counts = {"audio": rtp_packets(audio), "video": rtp_packets(video)}
    # Opus at 20 ms per packet; aiortc's VP8 at 30 fps, one or more packets per frame.
    assert counts["audio"] >= 0.6 * 50 * seconds, counts
    assert counts["video"] >= 0.6 * 30 * seconds * 0.5, counts
    header = pp_rec("--header", str(audio))
    assert "opus" in header.lower(), header
    # janus-pp-rec re-reads every packet ("Counted N RTP packets") and finds the picture size.
    for kind, path in (("audio", audio), ("video", video)):
        parsed = pp_rec("--parse", str(path))
        assert f"Counted {counts[kind]} RTP packets" in parsed, parsed
        if kind == "video":
            assert f"{mp.WIDTH}x{mp.HEIGHT}" in parsed, parsed
    opus, webm = out / "audio.opus", out / "video.webm"
    pp_rec(str(audio), str(opus))
    pp_rec(str(video), str(webm))
    assert opus.stat().st_size > 2000, opus.stat().st_size
    assert webm.stat().st_size > 5000, webm.stat().st_size
    return counts


def test_room_record_writes_mjr_files_that_janus_pp_rec_converts(media_srv, tmp_path):
    rec = tmp_path / "rec"

    async def scenario() -> None:
        sig = mp.HttpSignalling(media_srv.janus_url)
        await sig.start()
        peer = None
        try:
            room = await create_room(sig, rec, record=True)
            handle, peer = await publish(sig, room, "recorded")
            await asyncio.sleep(4.0)
            ev = await request(sig, handle, {"request": "leave"})
            assert data(ev).get("leaving") == "ok", ev
        finally:
            if peer is not None:
                await peer.close()
            await sig.close()

    run(scenario())
    files = by_type(wait_for_files(rec, 2))
    counts = check_converts(files, 4.0, tmp_path)
    print("packets recorded:", counts)


def test_enable_recording_starts_and_stops_mid_session(media_srv, tmp_path):
    rec = tmp_path / "rec"
    rec.mkdir()

    async def scenario() -> None:
        sig = mp.HttpSignalling(media_srv.janus_url)
        await sig.start()
        peer = None
        try:
            room = await create_room(sig, rec)
            handle, peer = await publish(sig, room, "toggled")
            await asyncio.sleep(1.0)
            assert list(rec.iterdir()) == [], "recording before it was enabled"
            admin = await sig.attach(VIDEOROOM)
            r = await sig.message(admin, {"request": "enable_recording", "room": room, "record": True})
            assert data(r) == {"videoroom": "event", "error_code": 429,
                               "error": "Missing mandatory element (secret)"}, r
            r = await sig.message(admin, {"request": "enable_recording", "room": room, "secret": SECRET,
                                          "record": True})
            assert data(r) == {"videoroom": "success", "record": True}, r
            r = await sig.message(admin, {"request": "list"})
            assert [e["record"] for e in data(r)["list"] if e["room"] == room] == [True]
            await asyncio.sleep(3.0)
            if not media_srv.is_janus:
                # Confab writes <name>.mjr.tmp and renames it once finished (Janus 1.1.2 writes .mjr at once).
                assert finished_recordings(rec) == [], "files finished while still recording"
                assert len(list(rec.glob("*.mjr.tmp"))) == 2, list(rec.iterdir())
            r = await sig.message(admin, {"request": "enable_recording", "room": room, "secret": SECRET,
                                          "record": False})
            assert data(r) == {"videoroom": "success", "record": False}, r
            files = await asyncio.to_thread(wait_for_files, rec, 2)
            # Still publishing, no longer recording: the files do not grow.
            sizes = [f.stat().st_size for f in files]
            await asyncio.sleep(1.5)
            assert [f.stat().st_size for f in files] == sizes
            assert finished_recordings(rec) == files
            await request(sig, handle, {"request": "leave"})
        finally:
            if peer is not None:
                await peer.close()
            await sig.close()

    run(scenario())
    check_converts(by_type(finished_recordings(rec)), 3.0, tmp_path)


def test_configure_record_with_filename_and_lock_record(media_srv, tmp_path):
    rec = tmp_path / "rec"
    rec.mkdir()

    async def scenario() -> None:
        sig = mp.HttpSignalling(media_srv.janus_url)
        await sig.start()
        peer = None
        try:
            room = await create_room(sig, rec, lock_record=True)
            handle, peer = await publish(sig, room, "locked")
            # lock_record: without the room secret the request succeeds but nothing is recorded.
            ev = await request(sig, handle, {"request": "configure", "record": True, "filename": "nope"})
            assert data(ev) == {"videoroom": "event", "room": room, "configured": "ok"}, ev
            await asyncio.sleep(1.5)
            assert list(rec.iterdir()) == [], "lock_record let a publisher start recording without the secret"
            ev = await request(sig, handle, {"request": "configure", "record": True, "secret": SECRET,
                                             "filename": "talk"})
            assert data(ev) == {"videoroom": "event", "room": room, "configured": "ok"}, ev
            await asyncio.sleep(3.0)
            # Stopping without the secret is refused too; with it, the files are finished.
            await request(sig, handle, {"request": "configure", "record": False})
            await asyncio.sleep(1.0)
            sizes = {f: f.stat().st_size for f in rec.iterdir()}
            assert len(sizes) == 2, sizes
            await asyncio.sleep(1.0)
            assert all(f.stat().st_size > size for f, size in sizes.items()), \
                "lock_record let a publisher stop recording without the secret"
            await request(sig, handle, {"request": "configure", "record": False, "secret": SECRET})
            files = await asyncio.to_thread(wait_for_files, rec, 2)
            assert sorted(f.name for f in files) == ["talk-audio-0.mjr", "talk-video-1.mjr"], files
            await request(sig, handle, {"request": "leave"})
        finally:
            if peer is not None:
                await peer.close()
            await sig.close()

    run(scenario())
    check_converts(by_type(finished_recordings(rec)), 3.0, tmp_path)


def test_recordings_are_finished_when_the_server_stops(tmp_path):
    """SIGTERM while a publisher is recorded: the files are complete and readable afterwards."""
    rec = tmp_path / "rec"
    srv = harness.start_server(harness.ServerOptions(media=True))
    try:
        async def scenario() -> None:
            sig = mp.HttpSignalling(srv.janus_url)
            await sig.start()
            peer = None
            try:
                room = await create_room(sig, rec, record=True)
                _, peer = await publish(sig, room, "cut off")
                await asyncio.sleep(3.0)
                srv.proc.terminate()
                await asyncio.to_thread(srv.proc.wait, 20)
            finally:
                if peer is not None:
                    await peer.close()
                await sig.close()

        run(scenario())
        assert srv.proc.returncode == 0, srv.log_tail()
        files = by_type(wait_for_files(rec, 2, timeout=2.0))
        check_converts(files, 2.5, tmp_path)
    finally:
        srv.stop()
