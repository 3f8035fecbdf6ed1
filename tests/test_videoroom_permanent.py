"""VideoRoom rooms created, edited and destroyed with "permanent": true survive a restart.

Each test restarts its own server on the same files: Janus 1.1.2 rewrites its
janus.plugin.videoroom.jcfg, Confab keeps such rooms in confab-rooms.cfg beside confab.cfg (never
rewriting confab.cfg). The replies and what a restarted server shows are the same for both
(CONFAB_TARGET=janus runs these against Janus).
"""
from __future__ import annotations

import signal
import subprocess
import time

import pytest

import harness
from janus_client import JanusHTTP, assert_plugin_error, unique_room


def restart(srv: harness.Server) -> None:
    """Stops the server and starts the same binary on the same files and ports."""
    srv.proc.send_signal(signal.SIGTERM)
    try:
        srv.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        srv.proc.kill()
        srv.proc.wait(timeout=5)
    harness._spawn(srv)
    srv.wait_ready()


def videoroom(srv: harness.Server):
    api = JanusHTTP(srv.janus_url)
    sid = api.create()
    return api, sid, api.attach(sid)


def listed(api, sid, hid, room: int) -> dict | None:
    """The room's `list` entry without the participant count, or None."""
    for entry in api.vr(sid, hid, {"request": "list"})["list"]:
        if entry["room"] == room:
            entry = dict(entry)
            entry.pop("num_participants", None)
            return entry
    return None


def test_permanent_room_survives_restart(server_factory, tmp_path):
    srv = server_factory()
    api, sid, hid = videoroom(srv)
    room = unique_room()
    created = api.vr(sid, hid, {
        "request": "create", "room": room, "permanent": True, "description": "Kept room", "secret": "s3cret",
        "pin": "4321", "publishers": 7, "bitrate": 256000, "bitrate_cap": True, "fir_freq": 3,
        "audiocodec": "opus,pcmu", "videocodec": "vp9,vp8", "notify_joining": True, "require_pvtid": True,
        "audiolevel_event": True, "audio_active_packets": 50, "audio_level_average": 40,
        "record": False, "rec_dir": str(tmp_path), "lock_record": True,
    })
    assert created == {"videoroom": "created", "room": room, "permanent": True}
    # A room that is not permanent, to tell a restart from a server that kept running.
    temporary = unique_room()
    assert api.vr(sid, hid, {"request": "create", "room": temporary})["permanent"] is False
    before = listed(api, sid, hid, room)
    assert before is not None and before["description"] == "Kept room" and before["max_publishers"] == 7

    restart(srv)
    api, sid, hid = videoroom(srv)
    assert listed(api, sid, hid, temporary) is None
    assert listed(api, sid, hid, room) == before
    # The secret and the pin came back too.
    assert_plugin_error(api.vr(sid, hid, {"request": "edit", "room": room, "secret": "wrong"}), 433,
                        "Unauthorized (wrong secret)")

    # A permanent edit persists; a plain edit after it does not.
    assert api.vr(sid, hid, {"request": "edit", "room": room, "secret": "s3cret", "new_description": "Renamed",
                             "new_publishers": 2, "new_secret": "n3w", "permanent": True}) == \
        {"videoroom": "edited", "room": room, "permanent": True}
    assert api.vr(sid, hid, {"request": "edit", "room": room, "secret": "n3w", "new_description": "Lost",
                             "new_publishers": 4})["permanent"] is False
    restart(srv)
    api, sid, hid = videoroom(srv)
    entry = listed(api, sid, hid, room)
    assert (entry["description"], entry["max_publishers"], entry["pin_required"]) == ("Renamed", 2, True)
    assert {k: v for k, v in entry.items() if k not in ("description", "max_publishers")} == \
        {k: v for k, v in before.items() if k not in ("description", "max_publishers")}
    assert_plugin_error(api.vr(sid, hid, {"request": "edit", "room": room, "secret": "s3cret"}), 433,
                        "Unauthorized (wrong secret)")

    # Destroyed permanently: gone after the restart.
    assert api.vr(sid, hid, {"request": "destroy", "room": room, "secret": "n3w", "permanent": True}) == \
        {"videoroom": "destroyed", "room": room, "permanent": True}
    restart(srv)
    api, sid, hid = videoroom(srv)
    assert listed(api, sid, hid, room) is None
    assert api.vr(sid, hid, {"request": "exists", "room": room})["exists"] is False


def test_static_room_edited_and_destroyed_permanently(server_factory):
    """Room 1234 comes from the settings file: a permanent edit, then a permanent destroy, stick."""
    srv = server_factory()
    api, sid, hid = videoroom(srv)
    assert api.vr(sid, hid, {"request": "edit", "room": 1234, "secret": "adminpwd", "new_description": "Edited demo",
                             "new_pin": "99", "permanent": True}) == \
        {"videoroom": "edited", "room": 1234, "permanent": True}
    restart(srv)
    api, sid, hid = videoroom(srv)
    entry = listed(api, sid, hid, 1234)
    assert (entry["description"], entry["pin_required"], entry["max_publishers"], entry["bitrate"]) == \
        ("Edited demo", True, 6, 128000)

    assert api.vr(sid, hid, {"request": "destroy", "room": 1234, "secret": "adminpwd", "permanent": True}) == \
        {"videoroom": "destroyed", "room": 1234, "permanent": True}
    restart(srv)
    api, sid, hid = videoroom(srv)
    assert listed(api, sid, hid, 1234) is None

    # Created again permanently under the same number: back for good.
    assert api.vr(sid, hid, {"request": "create", "room": 1234, "description": "Again", "permanent": True})["permanent"] is True
    restart(srv)
    api, sid, hid = videoroom(srv)
    assert listed(api, sid, hid, 1234)["description"] == "Again"


@pytest.mark.confab_only
def test_confab_keeps_permanent_rooms_beside_its_settings(server_factory):
    """confab.cfg is never rewritten; confab-rooms.cfg is, and a mistake in it stops the start with file:line."""
    srv = server_factory()
    settings = srv.workdir / "confab.cfg"
    original = settings.read_text()
    rooms_file = srv.workdir / "confab-rooms.cfg"
    api, sid, hid = videoroom(srv)
    room = unique_room()
    assert api.vr(sid, hid, {"request": "create", "room": room, "description": "In the rooms file",
                             "permanent": True})["permanent"] is True
    assert settings.read_text() == original
    text = rooms_file.read_text()
    assert f"id = {room}" in text.replace("L;", ";") and '"In the rooms file"' in text
    assert oct(rooms_file.stat().st_mode & 0o777) == "0o600"
    assert sorted(p.name for p in srv.workdir.iterdir() if p.name.startswith(".confab-rooms")) == []

    srv.proc.send_signal(signal.SIGTERM)
    srv.proc.wait(timeout=15)
    rooms_file.write_text(text.replace("publishers = 3;", "publishers = 0;"))
    line = next(i for i, l in enumerate(rooms_file.read_text().splitlines(), 1) if "publishers = 0;" in l)
    harness._spawn(srv)
    assert srv.proc.wait(timeout=15) == 2
    assert f"{rooms_file}:{line}: rooms[0].publishers must be > 0, got 0" in srv.log_path.read_text()
    rooms_file.write_text(text)
    harness._spawn(srv)
    srv.wait_ready()
    api, sid, hid = videoroom(srv)
    assert listed(api, sid, hid, room)["description"] == "In the rooms file"
