"""WebRTC peers and Janus signalling for the EchoTest media tests (aiortc as an independent stack).

- `EchoPeer`: an aiortc RTCPeerConnection that sends a 440 Hz sine (Opus) and a moving white bar
  on grey (VP8, 320x240) and decodes what comes back, counting frames and checking the content.
- `HttpSignalling` / `WsSignalling`: the Janus API over HTTP (a long-poll thread collects every
  event) or over a WebSocket (a reader task collects every pushed message), both with keepalives.
- `media_server()`: one server per test run started with `ServerOptions(media=True)` (Confab: a
  free `media.udp_port`; Janus: EchoTest plugin loaded), stopped when pytest ends.
- Run as a script (`python3 tests/media_peers.py`) it is a peer in a subprocess that the test can
  SIGKILL mid-call: it prints `{"offer": sdp}`, reads `{"answer": sdp}` on stdin and then prints
  `{"video": n, "audio": m}` once a second.

Everything stays on 127.0.0.1: aiortc gathers only a 127.0.0.1 host candidate, uses no STUN
server, and candidates the server announces on other addresses are dropped before use.
"""
from __future__ import annotations

import asyncio
import fractions
import json
import math
import os
import sys
import threading
import time
from typing import Any, Callable, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import requests  # noqa: E402

import harness  # noqa: E402
from janus_client import JanusHTTP, tx  # noqa: E402

ECHOTEST = "janus.plugin.echotest"
WIDTH, HEIGHT = 320, 240
BAR = 40            # width of the moving bar, pixels
BAR_STEP = 4        # pixels the bar moves per frame
SAMPLE_RATE = 48000
TONE_HZ = 440
LOOPBACK_ADDRS = ("127.0.0.1", "::1")


# ----------------------------------------------------------------------------------------------
# aiortc on loopback only
# ----------------------------------------------------------------------------------------------

def _loopback_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    # aioice's own version skips 127.0.0.1 and offers every other interface: the opposite of what
    # a loopback-only test needs.
    return ["127.0.0.1"] if use_ipv4 else []


def _patch_aioice() -> None:
    import aioice.ice
    aioice.ice.get_host_addresses = _loopback_host_addresses


def loopback_only_sdp(sdp: str) -> str:
    """Drop a=candidate lines for addresses other than 127.0.0.1 / ::1."""
    out = []
    for line in sdp.splitlines():
        if line.startswith("a=candidate:"):
            parts = line.split()
            if len(parts) > 4 and parts[4] not in LOOPBACK_ADDRS:
                continue
        out.append(line)
    return "\r\n".join(out) + "\r\n"


def sdp_candidates(sdp: str) -> list[str]:
    return [line[2:] for line in sdp.splitlines() if line.startswith("a=candidate:")]


# ----------------------------------------------------------------------------------------------
# tracks
# ----------------------------------------------------------------------------------------------

def _tracks():
    from aiortc import AudioStreamTrack, VideoStreamTrack
    from av import AudioFrame, VideoFrame

    class SineAudioTrack(AudioStreamTrack):
        """48 kHz mono s16, 20 ms frames of a 440 Hz sine at about -10 dBFS."""
        kind = "audio"

        def __init__(self):
            super().__init__()
            self._start: Optional[float] = None
            self._ts = 0

        async def recv(self):
            n = int(SAMPLE_RATE * 0.02)
            if self._start is None:
                self._start = time.time()
            else:
                self._ts += n
                wait = self._start + self._ts / SAMPLE_RATE - time.time()
                if wait > 0:
                    await asyncio.sleep(wait)
            t = (np.arange(n) + self._ts) / SAMPLE_RATE
            pcm = (10000 * np.sin(2 * math.pi * TONE_HZ * t)).astype(np.int16)
            frame = AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
            frame.pts = self._ts
            frame.sample_rate = SAMPLE_RATE
            frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
            return frame

    class PatternVideoTrack(VideoStreamTrack):
        """320x240 grey frames with a white vertical bar moving BAR_STEP pixels per frame."""
        kind = "video"

        def __init__(self):
            super().__init__()
            self.count = 0

        async def recv(self):
            pts, time_base = await self.next_timestamp()
            img = np.full((HEIGHT * 3 // 2, WIDTH), 128, dtype=np.uint8)  # I420: Y, then U, V
            x = (self.count * BAR_STEP) % (WIDTH - BAR)
            img[:HEIGHT, x:x + BAR] = 235
            self.count += 1
            frame = VideoFrame.from_ndarray(img, format="yuv420p")
            frame.pts = pts
            frame.time_base = time_base
            return frame

    return SineAudioTrack, PatternVideoTrack


class ReceiveStats:
    """What came back: frame counts, sizes, bar positions and audio loudness."""

    def __init__(self):
        self.video_frames = 0
        self.audio_frames = 0
        self.video_sizes: set[tuple[int, int]] = set()
        self.recent_sizes: list[tuple[int, int]] = []   # (width, height) of the last 50 frames
        self.bar_positions: list[int] = []       # argmax column of decoded frames (last 200)
        self.bar_contrast: list[float] = []      # brightest column mean minus the frame mean
        self.audio_rms: list[float] = []         # per decoded audio frame (last 200)
        self.audio_rates: set[int] = set()
        self.first_video_at: Optional[float] = None
        self.first_audio_at: Optional[float] = None

    def on_video(self, frame) -> None:
        self.video_frames += 1
        if self.first_video_at is None:
            self.first_video_at = time.time()
        self.video_sizes.add((frame.width, frame.height))
        self.recent_sizes = (self.recent_sizes + [(frame.width, frame.height)])[-50:]
        y = frame.to_ndarray(format="gray").astype(np.float32)
        cols = y.mean(axis=0)
        self.bar_positions = (self.bar_positions + [int(cols.argmax())])[-200:]
        self.bar_contrast = (self.bar_contrast + [float(cols.max() - y.mean())])[-200:]

    def on_audio(self, frame) -> None:
        self.audio_frames += 1
        if self.first_audio_at is None:
            self.first_audio_at = time.time()
        self.audio_rates.add(frame.sample_rate)
        pcm = frame.to_ndarray().astype(np.float64)
        self.audio_rms = (self.audio_rms + [float(np.sqrt((pcm ** 2).mean()))])[-200:]

    def summary(self) -> dict:
        return {"video_frames": self.video_frames, "audio_frames": self.audio_frames,
                "video_sizes": sorted(self.video_sizes),
                "distinct_bar_positions": len(set(self.bar_positions)),
                "max_bar_contrast": max(self.bar_contrast, default=0.0),
                "max_audio_rms": max(self.audio_rms, default=0.0),
                "audio_rates": sorted(self.audio_rates)}


class ReceiveHooks:
    """What a peer's video receivers see, for the NACK tests: losses on arrival, the sequence
    numbers that arrive, NACKs held back. Set up before the remote description is applied; the
    hooks go in once the server's SDP (offer or answer) names the payload types."""

    def drop_video(self, fraction: float) -> None:
        """Lose `fraction` of the video packets as they arrive, before SRTP (as a lossy network
        would; each sequence number at most once, so a retransmission gets through); call before
        `answer` / `accept`. Counts what was lost (`dropped`), what came again (`repaired`, plain or as RTX)
        and the NACKs sent (`nacks_sent`), and how many packets came as RTX (`rtx_received`)."""
        import random
        self._drop_fraction = fraction
        self._random = random.Random(5)
        self.dropped: set[int] = set()
        self.repaired: set[int] = set()
        self.nacks_sent = 0
        self.rtx_received = 0

    def check_losses_repaired(self) -> None:
        """After `drop_video` and a few seconds of video: the losses were NACKed and most of them
        repaired, each repair an RTX packet."""
        assert len(self.dropped) >= 10 and self.nacks_sent > 0, (len(self.dropped), self.nacks_sent)
        assert len(self.repaired) >= 0.6 * len(self.dropped), (
            f"{len(self.repaired)} of {len(self.dropped)} lost packets repaired ({self.nacks_sent} NACKs)")
        assert self.rtx_received >= len(self.repaired), (
            f"{len(self.repaired)} repairs but {self.rtx_received} RTX packets")

    def _make_lossy(self, receiver, video_payload_types: set[int], rtx_payload_types: set[int]) -> None:
        ice = receiver.transport.transport
        recv, handle, send_nack = ice._recv, receiver._handle_rtp_packet, receiver._send_rtcp_nack
        seen: set[int] = set()

        async def lossy_recv():
            while True:
                data = await recv()
                if not (len(data) >= 12 and 127 < data[0] < 192 and not 192 <= data[1] <= 223
                        and data[1] & 0x7F in video_payload_types):
                    return data
                seq = int.from_bytes(data[2:4], "big")
                if seq not in seen and self._random.random() < self._drop_fraction:
                    seen.add(seq)
                    self.dropped.add(seq)
                    continue
                seen.add(seq)
                return data

        async def counting(packet, arrival_time_ms):
            seq = packet.sequence_number
            if packet.payload_type in rtx_payload_types and len(packet.payload) >= 2:
                seq = int.from_bytes(packet.payload[:2], "big")
                self.rtx_received += 1
            if seq in self.dropped:
                self.repaired.add(seq)
            await handle(packet, arrival_time_ms)

        async def counted_nack(media_ssrc, lost):
            self.nacks_sent += 1
            await send_nack(media_ssrc, lost)

        ice._recv = lossy_recv
        receiver._handle_rtp_packet = counting
        receiver._send_rtcp_nack = counted_nack

    def watch_video(self) -> None:
        """Record the sequence numbers of the video packets that arrive (`video_sequences`, an
        RTX packet counting as the one it carries), how many came as RTX (`rtx_received`) and,
        per packet, (sequence number, first bytes of the payload) in `video_heads` (an RTX
        packet's are those of the packet it carries: codec payload headers, e.g. VP8's picture
        ID); call before `answer` / `accept`."""
        self._watch_video = True
        self.video_sequences: list[int] = []
        self.video_heads: list[tuple[int, bytes]] = []
        self.rtx_received = 0

    def _watch(self, receiver, rtx_payload_types: set[int]) -> None:
        handle = receiver._handle_rtp_packet

        async def watched(packet, arrival_time_ms):
            seq, head = packet.sequence_number, bytes(packet.payload[:16])
            if packet.payload_type in rtx_payload_types and len(packet.payload) >= 2:
                seq, head = int.from_bytes(packet.payload[:2], "big"), bytes(packet.payload[2:18])
                self.rtx_received += 1
            self.video_sequences.append(seq)
            self.video_heads.append((seq, head))
            await handle(packet, arrival_time_ms)
        receiver._handle_rtp_packet = watched

    def mute_nacks(self) -> None:
        """Never send the NACKs aiortc's receivers want to send (they are only counted in
        `nacks_muted`): what still gets repaired was asked for by someone else. Call before the
        remote description is applied."""
        self._mute_nacks = True
        self.nacks_muted = 0

    def _mute(self, receiver) -> None:
        async def muted(media_ssrc, lost):
            self.nacks_muted += 1
        receiver._send_rtcp_nack = muted

    def _hook_video_receivers(self, server_sdp: str) -> None:
        """Installs the hooks asked for on every video receiver (once), with the video and RTX
        payload types of the server's SDP."""
        import re
        lossy = getattr(self, "_drop_fraction", 0) and not getattr(self, "_lossy_done", False)
        watch = getattr(self, "_watch_video", False) and not getattr(self, "_watch_done", False)
        mute = getattr(self, "_mute_nacks", False) and not getattr(self, "_mute_done", False)
        if not (lossy or watch or mute):
            return
        self._lossy_done = self._watch_done = self._mute_done = True
        video_section = server_sdp.split("m=video", 1)[1].split("\nm=", 1)[0]
        rtx = {int(pt) for pt in re.findall(r"a=rtpmap:(\d+) rtx/", video_section)}
        video = {int(pt) for pt in re.findall(r"a=rtpmap:(\d+) ", video_section)} - rtx
        for transceiver in self.pc.getTransceivers():
            if transceiver.kind == "video":
                if lossy:
                    self._make_lossy(transceiver.receiver, video, rtx)
                if watch:
                    self._watch(transceiver.receiver, rtx)
                if mute:
                    self._mute(transceiver.receiver)


class EchoPeer(ReceiveHooks):
    """aiortc peer: sends audio + video, decodes what the server sends back."""

    def __init__(self, audio: bool = True, video: bool = True, configuration=None):
        """`configuration`: an aiortc RTCConfiguration (e.g. a TURN server, relay only); none by default."""
        _patch_aioice()
        from aiortc import RTCConfiguration, RTCPeerConnection
        SineAudioTrack, PatternVideoTrack = _tracks()
        self.pc = RTCPeerConnection(configuration or RTCConfiguration(iceServers=[]))
        self.stats = ReceiveStats()
        self.remote_kinds: list[str] = []
        self._tasks: list[asyncio.Task] = []
        self.connection_states: list[str] = []
        # RTCP feedback the server sent to our senders: (time, kind, "pli"/"fir"/"remb", value)
        self.rtcp_feedback: list[tuple[float, str, str, int]] = []
        if audio:
            self._watch_rtcp(self.pc.addTrack(SineAudioTrack()), "audio")
        if video:
            self.video_track = PatternVideoTrack()
            self._watch_rtcp(self.pc.addTrack(self.video_track), "video")

        @self.pc.on("track")
        def on_track(track):
            self.remote_kinds.append(track.kind)
            self._tasks.append(asyncio.ensure_future(self._consume(track)))

        @self.pc.on("connectionstatechange")
        def on_state():
            self.connection_states.append(self.pc.connectionState)

    def _watch_rtcp(self, sender, kind: str) -> None:
        """Record PLI / FIR / REMB reaching one of our RTCRtpSenders (then let aiortc act on it)."""
        from aiortc.rtp import (RTCP_PSFB_APP, RTCP_PSFB_FIR, RTCP_PSFB_PLI, RtcpPsfbPacket,
                                unpack_remb_fci)
        handle = sender._handle_rtcp_packet

        async def watched(packet):
            if isinstance(packet, RtcpPsfbPacket):
                if packet.fmt == RTCP_PSFB_PLI:
                    self.rtcp_feedback.append((time.time(), kind, "pli", packet.media_ssrc))
                elif packet.fmt == RTCP_PSFB_FIR:
                    self.rtcp_feedback.append((time.time(), kind, "fir", packet.media_ssrc))
                elif packet.fmt == RTCP_PSFB_APP:
                    try:
                        bitrate, _ = unpack_remb_fci(packet.fci)
                        self.rtcp_feedback.append((time.time(), kind, "remb", bitrate))
                    except ValueError:
                        pass
            await handle(packet)
        sender._handle_rtcp_packet = watched

    def feedback(self, what: str, since: float = 0.0) -> list:
        return [f for f in self.rtcp_feedback if f[2] == what and f[0] >= since]

    async def _consume(self, track) -> None:
        from aiortc.mediastreams import MediaStreamError
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if track.kind == "video":
                self.stats.on_video(frame)
            else:
                self.stats.on_audio(frame)

    async def offer(self) -> dict:
        """A complete (non-trickle) offer with only the 127.0.0.1 host candidate."""
        await self.pc.setLocalDescription(await self.pc.createOffer())
        sdp = loopback_only_sdp(self.pc.localDescription.sdp)
        return {"type": "offer", "sdp": sdp, "trickle": False}

    async def accept(self, jsep: dict) -> None:
        from aiortc import RTCSessionDescription
        assert jsep.get("type") == "answer", f"expected an answer jsep, got {jsep!r}"
        await self.pc.setRemoteDescription(
            RTCSessionDescription(sdp=loopback_only_sdp(jsep["sdp"]), type="answer"))
        if getattr(self, "_send_drop", None) is not None and not getattr(self, "_send_lossy_done", False):
            self._send_lossy_done = True
            self._make_send_lossy(jsep["sdp"])
        self._hook_video_receivers(jsep["sdp"])

    def drop_sent_video(self, fraction: float) -> None:
        """Lose `fraction` of the video packets this peer sends, after aiortc kept them for
        retransmission and before SRTP (a lossy uplink; each sequence number at most once, so a
        retransmission gets through); call before `accept`. Counts what was lost
        (`sent_dropped`), what the server's NACKs asked for (`nacked`) and which lost packets
        were resent because of them (`resent`). With 0, nothing is lost and NACKs are only counted."""
        import random
        self._send_drop = fraction
        self._send_random = random.Random(7)
        self.sent_dropped: set[int] = set()
        self.nacked: set[int] = set()
        self.resent: set[int] = set()

    def _make_send_lossy(self, answer_sdp: str) -> None:
        import re
        video_section = answer_sdp.split("m=video", 1)[1].split("\nm=", 1)[0]
        rtx = {int(pt) for pt in re.findall(r"a=rtpmap:(\d+) rtx/", video_section)}
        video = {int(pt) for pt in re.findall(r"a=rtpmap:(\d+) ", video_section)} - rtx
        sender = next(t.sender for t in self.pc.getTransceivers() if t.kind == "video")
        transport, send, retransmit = sender.transport, sender.transport._send_rtp, sender._retransmit
        seen: set[int] = set()

        async def lossy_send(data: bytes) -> None:
            if (len(data) >= 12 and not 192 <= data[1] <= 223 and data[1] & 0x7F in video
                    and int.from_bytes(data[8:12], "big") == sender._ssrc):
                seq = int.from_bytes(data[2:4], "big")
                if seq not in seen:
                    seen.add(seq)
                    if self._send_random.random() < self._send_drop:
                        self.sent_dropped.add(seq)
                        return
            await send(data)

        async def counted_retransmit(seq: int) -> None:
            self.nacked.add(seq)
            if seq in self.sent_dropped:
                self.resent.add(seq)
            await retransmit(seq)

        transport._send_rtp = lossy_send
        sender._retransmit = counted_retransmit

    async def wait_media(self, video_frames: int = 30, audio_frames: int = 50,
                         timeout: float = 20.0) -> ReceiveStats:
        """Wait until that many frames were decoded, and the content is really ours."""
        end = time.time() + timeout
        while time.time() < end:
            s = self.stats
            if (s.video_frames >= video_frames and s.audio_frames >= audio_frames
                    and self.content_ok()):
                return s
            await asyncio.sleep(0.1)
        raise AssertionError(f"media did not come back within {timeout}s: {self.stats.summary()} "
                             f"(remote tracks {self.remote_kinds}, states {self.connection_states})")

    def content_ok(self) -> bool:
        s = self.stats
        video_ok = (not s.video_frames) or (
            len(set(s.bar_positions)) >= 5 and max(s.bar_contrast, default=0) > 40)
        audio_ok = (not s.audio_frames) or max(s.audio_rms, default=0) > 1000
        return video_ok and audio_ok

    async def close(self) -> None:
        await self.pc.close()
        for t in self._tasks:
            t.cancel()


class SubscriberPeer(ReceiveHooks):
    """aiortc peer that only receives: answers a server's offer (VideoRoom subscriber) and decodes
    every track it gets, per track kind (stats) and per mid (stats_by_mid)."""

    def __init__(self):
        _patch_aioice()
        from aiortc import RTCConfiguration, RTCPeerConnection
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.stats = ReceiveStats()
        self.stats_by_mid: dict[str, ReceiveStats] = {}
        self.remote_kinds: list[str] = []
        self._tasks: list[asyncio.Task] = []
        self.connection_states: list[str] = []

        @self.pc.on("track")
        def on_track(track):
            self.remote_kinds.append(track.kind)
            mid = next((t.mid for t in self.pc.getTransceivers() if t.receiver.track is track), None)
            per_mid = self.stats_by_mid.setdefault(str(mid), ReceiveStats())
            self._tasks.append(asyncio.ensure_future(self._consume(track, per_mid)))

        @self.pc.on("connectionstatechange")
        def on_state():
            self.connection_states.append(self.pc.connectionState)

    async def _consume(self, track, per_mid: ReceiveStats) -> None:
        from aiortc.mediastreams import MediaStreamError
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            for stats in (self.stats, per_mid):
                (stats.on_video if track.kind == "video" else stats.on_audio)(frame)

    async def answer(self, jsep: dict) -> dict:
        """The answer (complete, 127.0.0.1 only) to the server's offer jsep."""
        from aiortc import RTCSessionDescription
        assert jsep.get("type") == "offer", f"expected an offer jsep, got {jsep!r}"
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=loopback_only_sdp(jsep["sdp"]), type="offer"))
        self._hook_video_receivers(jsep["sdp"])
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return {"type": "answer", "sdp": loopback_only_sdp(self.pc.localDescription.sdp)}

    async def wait_media(self, video_frames: int = 30, audio_frames: int = 50,
                         timeout: float = 20.0) -> ReceiveStats:
        end = time.time() + timeout
        while time.time() < end:
            s = self.stats
            if s.video_frames >= video_frames and s.audio_frames >= audio_frames:
                return s
            await asyncio.sleep(0.1)
        raise AssertionError(f"media did not arrive within {timeout}s: {self.stats.summary()} "
                             f"(remote tracks {self.remote_kinds}, states {self.connection_states})")

    async def close(self) -> None:
        await self.pc.close()
        for t in self._tasks:
            t.cancel()


# ----------------------------------------------------------------------------------------------
# Janus signalling (HTTP long poll / WebSocket), both with every event recorded
# ----------------------------------------------------------------------------------------------

class Signalling:
    """Common part: `events` holds every event received, `times` when each arrived."""

    keepalive_every = 15.0

    def __init__(self):
        self.events: list[dict] = []
        self.times: list[float] = []
        self._taken: set[int] = set()
        self.session_id: Optional[int] = None

    def _record(self, ev: dict) -> None:
        self.times.append(time.time())
        self.events.append(ev)

    def received_at(self, ev: dict) -> float:
        for i, e in enumerate(self.events):
            if e is ev:
                return self.times[i]
        raise KeyError("not a received event")

    async def wait_event(self, pred: Callable[[dict], bool], timeout: float = 15.0,
                         what: str = "event") -> dict:
        """The first not yet returned event matching pred (waits for it)."""
        end = time.time() + timeout
        while True:
            for i, ev in enumerate(list(self.events)):
                if i not in self._taken and pred(ev):
                    self._taken.add(i)
                    return ev
            if time.time() >= end:
                raise AssertionError(f"no {what} within {timeout}s; events so far:\n"
                                     + "\n".join(json.dumps(strip_sdp(e)) for e in self.events))
            await asyncio.sleep(0.05)

    def seen(self, pred: Callable[[dict], bool]) -> list[dict]:
        return [e for e in self.events if pred(e)]

    async def attach(self, plugin: str = ECHOTEST, **fields) -> int:
        r = await self.request({"janus": "attach", "plugin": plugin, **fields})
        assert r.get("janus") == "success", r
        return r["data"]["id"]

    async def message(self, handle_id: int, body: dict, jsep: Optional[dict] = None) -> dict:
        msg: dict[str, Any] = {"janus": "message", "handle_id": handle_id, "body": body}
        if jsep is not None:
            msg["jsep"] = jsep
        return await self.request(msg)

    async def echo_request(self, handle_id: int, body: dict, jsep: Optional[dict] = None,
                           timeout: float = 15.0) -> tuple[dict, dict]:
        """EchoTest requests are asynchronous: ack, then an event with the same transaction."""
        t = tx()
        msg: dict[str, Any] = {"janus": "message", "handle_id": handle_id, "body": body,
                               "transaction": t}
        if jsep is not None:
            msg["jsep"] = jsep
        ack = await self.request(msg)
        ev = await self.wait_event(lambda e: e.get("janus") == "event" and e.get("transaction") == t,
                                   timeout, what=f"echotest event for {body}")
        return ack, ev

    async def hangup(self, handle_id: int) -> dict:
        return await self.request({"janus": "hangup", "handle_id": handle_id})


class HttpSignalling(Signalling):
    def __init__(self, base_url: str):
        super().__init__()
        self.api = JanusHTTP(base_url)        # requests (one Session per thread)
        self._poll_api = JanusHTTP(base_url)  # the long-poll thread's own
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.poll_errors: list[str] = []

    async def start(self) -> int:
        r = await self.request({"janus": "create"})
        assert r.get("janus") == "success", r
        self.session_id = r["data"]["id"]
        for fn in (self._poll_loop, self._keepalive_loop):
            th = threading.Thread(target=fn, daemon=True)
            th.start()
            self._threads.append(th)
        return self.session_id

    async def request(self, msg: dict) -> dict:
        msg = dict(msg)
        msg.setdefault("transaction", tx())
        handle_id = msg.pop("handle_id", None)
        sid = self.session_id if msg["janus"] != "create" else None
        return await asyncio.to_thread(self.api.post, msg, sid, handle_id)

    def _poll_loop(self) -> None:
        while not self._stop.is_set():
            try:
                r = self._poll_api.long_poll(self.session_id, maxev=10, timeout=40)
            except requests.RequestException as e:
                if not self._stop.is_set():
                    self.poll_errors.append(repr(e))
                    time.sleep(0.2)
                continue
            if r.status_code != 200:
                if not self._stop.is_set():
                    self.poll_errors.append(f"HTTP {r.status_code}")
                return
            body = r.json()
            for ev in body if isinstance(body, list) else [body]:
                if ev.get("janus") != "keepalive":
                    self._record(ev)

    def _keepalive_loop(self) -> None:
        while not self._stop.wait(self.keepalive_every):
            try:
                self.api.request("keepalive", self.session_id)
            except Exception:  # noqa: BLE001 - next round
                pass

    async def close(self) -> None:
        self._stop.set()
        if self.session_id is not None:
            try:
                await asyncio.to_thread(self.api.destroy, self.session_id)
            except Exception:  # noqa: BLE001 - best effort
                pass


class WsSignalling(Signalling):
    def __init__(self, ws_url: str):
        super().__init__()
        self.url = ws_url
        self.ws = None
        self._replies: list[dict] = []
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> int:
        import websockets
        self.ws = await websockets.connect(self.url, subprotocols=["janus-protocol"],
                                           open_timeout=10, max_size=None)
        self._tasks.append(asyncio.ensure_future(self._reader()))
        r = await self.request({"janus": "create"})
        assert r.get("janus") == "success", r
        self.session_id = r["data"]["id"]
        self._tasks.append(asyncio.ensure_future(self._keepalive()))
        return self.session_id

    async def _reader(self) -> None:
        try:
            async for raw in self.ws:
                m = json.loads(raw)
                if m.get("janus") in ("success", "error", "ack"):
                    self._replies.append(m)
                else:
                    self._record(m)
        except Exception:  # noqa: BLE001 - socket closed
            pass

    async def _keepalive(self) -> None:
        while True:
            await asyncio.sleep(self.keepalive_every)
            await self.ws.send(json.dumps({"janus": "keepalive", "session_id": self.session_id,
                                           "transaction": tx()}))

    async def request(self, msg: dict, timeout: float = 10.0) -> dict:
        msg = dict(msg)
        t = msg.setdefault("transaction", tx())
        if msg["janus"] != "create":
            msg["session_id"] = self.session_id
        await self.ws.send(json.dumps(msg))
        end = time.time() + timeout
        while time.time() < end:
            for i, m in enumerate(self._replies):
                if m.get("transaction") == t:
                    return self._replies.pop(i)
            await asyncio.sleep(0.02)
        raise AssertionError(f"no reply to {msg['janus']} within {timeout}s")

    async def close(self) -> None:
        if self.ws is not None and self.session_id is not None:
            try:
                await self.request({"janus": "destroy"}, timeout=5)
            except Exception:  # noqa: BLE001 - best effort
                pass
        for t in self._tasks:
            t.cancel()
        if self.ws is not None:
            await self.ws.close()


def strip_sdp(ev: dict) -> dict:
    """An event without the SDP text (for messages and reports)."""
    ev = dict(ev)
    if isinstance(ev.get("jsep"), dict) and "sdp" in ev["jsep"]:
        ev["jsep"] = {**ev["jsep"], "sdp": f"<{len(ev['jsep']['sdp'])} chars>"}
    return ev


def is_ev(kind: str, handle_id: Optional[int] = None) -> Callable[[dict], bool]:
    return lambda e: e.get("janus") == kind and (handle_id is None or e.get("sender") == handle_id)


# ----------------------------------------------------------------------------------------------
# one echo call, start to media
# ----------------------------------------------------------------------------------------------

async def start_echo_call(sig: Signalling, peer: EchoPeer, body: Optional[dict] = None) -> dict:
    """attach echotest, send the offer with {"audio":true,"video":true}, apply the answer.
    Returns {"handle_id", "ack", "event"} (event = the echotest result event carrying the jsep)."""
    handle_id = await sig.attach(ECHOTEST, opaque_id="confab-echotest-" + tx())
    jsep = await peer.offer()
    ack, ev = await sig.echo_request(handle_id, body or {"audio": True, "video": True}, jsep)
    assert ack.get("janus") == "ack", f"expected ack for the offer, got {ack!r}"
    assert "jsep" in ev, f"echotest event without an answer: {strip_sdp(ev)}"
    await peer.accept(ev["jsep"])
    return {"handle_id": handle_id, "ack": ack, "event": ev}


def check_uplink_nacked(peer: "EchoPeer", who: str) -> None:
    """After `drop_sent_video`: the server asked for (almost) every packet the peer's uplink lost,
    and hardly for any that arrived."""
    dropped, resent, nacked = peer.sent_dropped, peer.resent, peer.nacked
    assert len(dropped) >= 10, len(dropped)
    assert len(resent) >= 0.8 * len(dropped), (
        f"the server asked for {len(resent)} of the {len(dropped)} packets the {who} lost")
    assert len(nacked - dropped) <= 0.1 * len(nacked), f"NACKs for packets never lost: {sorted(nacked - dropped)}"


def open_gaps(sequences: list[int], settle: int = 50) -> tuple[list[int], int]:
    """The gaps that stayed open in a stream's sequence numbers (in arrival order, from the first
    one): (the numbers missing, how many were due). The last `settle` packets are left aside:
    their repairs may still be on their way."""
    assert len(sequences) > 100, len(sequences)
    first = sequences[0]
    received = {(s - first) % 65536 for s in sequences if (s - first) % 65536 < 32768}
    top = max(received) - settle
    return [n for n in range(top) if n not in received], top


# ----------------------------------------------------------------------------------------------
# the media-enabled server, one per run
# ----------------------------------------------------------------------------------------------

_media_server: dict = {}


def media_server(config) -> "harness.Server":
    """The run's media-enabled server (started on first use, stopped at the end of the run,
    restarted if it died)."""
    srv = _media_server.get("srv")
    if srv is not None and srv.alive():
        return srv
    if srv is not None:
        srv.stop()
    srv = harness.start_server(harness.ServerOptions(media=True))
    _media_server["srv"] = srv
    if not _media_server.get("cleanup"):
        _media_server["cleanup"] = True

        def _stop():
            s = _media_server.pop("srv", None)
            if s is not None:
                s.stop()
            _media_server.pop("cleanup", None)
        config.add_cleanup(_stop)
    return srv


def udp_sockets_of(pid: int) -> list[tuple[str, int]]:
    """(local address, port) of every UDP socket the process holds, from `ss -uanp`."""
    import subprocess
    out = subprocess.run(["ss", "-uanpH"], capture_output=True, text=True, check=True).stdout
    socks = []
    for line in out.splitlines():
        if f"pid={pid}," not in line:
            continue
        local = line.split()[3]                     # State Recv-Q Send-Q Local Peer Process
        addr, _, port = local.rpartition(":")
        socks.append((addr, int(port)))
    return socks


# ----------------------------------------------------------------------------------------------
# subprocess peer (killed mid-call by the hangup test)
# ----------------------------------------------------------------------------------------------

async def _subprocess_peer() -> None:
    peer = EchoPeer()
    loop = asyncio.get_running_loop()
    print(json.dumps({"offer": await peer.offer()}), flush=True)
    line = await loop.run_in_executor(None, sys.stdin.readline)
    await peer.accept(json.loads(line)["answer"])
    while True:
        await asyncio.sleep(0.5)
        print(json.dumps({"video": peer.stats.video_frames, "audio": peer.stats.audio_frames,
                          "content_ok": peer.content_ok()}), flush=True)


if __name__ == "__main__":
    asyncio.run(_subprocess_peer())
