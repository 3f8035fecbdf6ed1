// The device and network test page: camera + microphone → janus.plugin.echotest → back.
import { connect, loadConfig } from './janus-client.js';
import { candidateLabel, connectionStats, getLocalMedia, iceFailedError, rtcConfiguration, showError } from './webrtc.js';

const $ = (id) => document.getElementById(id);
const diag = (name, value, state) => {
  const el = document.querySelector(`[data-diag="${name}"]`);
  el.textContent = value;
  if (state) el.dataset.state = state;
};

const ui = {
  start: $('start'), stop: $('stop'), audio: $('toggle-audio'), video: $('toggle-video'), bitrate: $('bitrate'),
  local: $('local-video'), remote: $('remote-video'), error: $('error'),
};

let call = null;   // {session, handle, pc, stream, timer, ...}

function setRunning(running) {
  ui.start.hidden = running;
  ui.stop.hidden = !running;
  ui.start.disabled = false;
  for (const el of [ui.audio, ui.video, ui.bitrate]) el.disabled = !running;
}

function setToggle(button, on, what) {
  button.setAttribute('aria-pressed', String(on));
  button.textContent = `${what} ${on ? 'on' : 'off'}`;
}

function fail(error, what) {
  showError(ui.error, error, what);
  diag('state', 'Failed', 'bad');
  stop();
}

async function start() {
  showError(ui.error, null);
  ui.start.disabled = true;
  diag('state', 'Starting…', 'pending');
  const c = call = { bytes: null };
  try {
    const config = await loadConfig();
    diag('devices', 'Asking for camera and microphone…');
    const media = await getLocalMedia();
    c.stream = media.stream;
    ui.local.srcObject = media.stream;
    diag('devices', [media.audio ? 'microphone' : null, media.video ? 'camera' : null].filter(Boolean).join(' + ') +
      (media.note ? ` — ${media.note}` : ''), 'ok');
    setToggle(ui.audio, media.audio, 'Microphone');
    setToggle(ui.video, media.video, 'Camera');

    diag('server', 'Connecting…');
    c.session = await connect({ config });
    if (call !== c) return;
    diag('server', c.session.transport === 'websocket' ? config.wsURL : config.httpURL, 'ok');
    diag('transport', c.session.transport === 'websocket' ? 'WebSocket' : 'HTTP long poll', 'ok');
    c.session.addEventListener('disconnected', () => diag('transport', 'Reconnecting…', 'warn'));
    c.session.addEventListener('reconnected', () => diag('transport', `${c.session.transport === 'websocket' ? 'WebSocket' : 'HTTP long poll'} (reconnected)`, 'ok'));
    c.session.addEventListener('destroyed', (e) => { if (call === c && e.detail.error) fail(e.detail.error, 'The session'); });

    c.handle = await c.session.attach('janus.plugin.echotest', { opaqueId: 'confab-echotest' });
    c.handle.addEventListener('hangup', (e) => { if (call === c) fail(new Error(`the server hung up (${e.detail.reason})`), 'The call'); });

    const pc = c.pc = new RTCPeerConnection(rtcConfiguration(config));
    c.handle.trickleFrom(pc);
    for (const track of media.stream.getTracks()) pc.addTransceiver(track, { direction: 'sendrecv', streams: [media.stream] });
    // receive video even without a camera, so the path is still tested one way
    if (!media.video) pc.addTransceiver('video', { direction: 'recvonly' });
    const remote = new MediaStream();
    ui.remote.srcObject = remote;
    pc.addEventListener('track', (e) => { remote.addTrack(e.track); ui.remote.play().catch(() => {}); });
    pc.addEventListener('connectionstatechange', () => onState(c));
    pc.addEventListener('iceconnectionstatechange', () => onState(c));

    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    diag('state', 'Negotiating…', 'pending');
    const { jsep } = await c.handle.message({ audio: media.audio, video: true, bitrate: Number(ui.bitrate.value) || 0 }, offer);
    if (!jsep) throw new Error('the server sent no SDP answer');
    await pc.setRemoteDescription(jsep);
    setRunning(true);
    c.timer = setInterval(() => updateStats(c), 1000);
  } catch (error) {
    if (call === c) fail(error, 'The test');
  }
}

function onState(c) {
  if (call !== c) return;
  const state = c.pc.connectionState ?? c.pc.iceConnectionState;
  const label = { new: 'Connecting…', connecting: 'Connecting…', connected: 'Connected', disconnected: 'Interrupted — waiting…',
    failed: 'Failed', closed: 'Closed' }[state] ?? state;
  diag('state', label, state === 'connected' ? 'ok' : state === 'failed' ? 'bad' : 'pending');
  if (state === 'failed' || c.pc.iceConnectionState === 'failed') fail(iceFailedError());
}

async function updateStats(c) {
  if (call !== c || !c.pc) return;
  let s;
  try { s = await connectionStats(c.pc); } catch { return; }
  if (call !== c) return;
  if (s.pair?.local && s.pair?.remote) {
    const { local, remote } = s.pair;
    const pairText = `${local.type} ↔ ${remote.type} · ${local.protocol?.toUpperCase()} · ${remote.address}:${remote.port}`;
    diag('pair', pairText, local.type === 'relay' || remote.type === 'relay' ? 'warn' : 'ok');
    const el = document.querySelector('[data-diag="pair"]');
    el.dataset.local = local.type;
    el.dataset.remote = remote.type;
    el.title = `Local: ${candidateLabel(local.type)}; server: ${candidateLabel(remote.type)}`;
    diag('rtt', Number.isFinite(s.pair.rtt) ? `${Math.round(s.pair.rtt * 1000)} ms` : 'measuring…');
  }
  const v = s.inbound.video;
  const a = s.inbound.audio;
  const now = performance.now();
  const kbps = (bytes, prev) => (prev && bytes !== undefined ? Math.round(((bytes - prev.bytes) * 8) / (now - prev.t)) : null);
  if (v) {
    const rate = kbps(v.bytesReceived, c.bytes?.video);
    diag('video', `${v.frameWidth ?? 0}×${v.frameHeight ?? 0}` +
      (v.framesPerSecond ? ` at ${Math.round(v.framesPerSecond)} fps` : '') +
      (rate !== null ? ` · ${rate} kbit/s` : '') + ` · ${v.framesDecoded ?? 0} frames decoded`, (v.framesDecoded ?? 0) > 0 ? 'ok' : 'pending');
    document.querySelector('[data-diag="video"]').dataset.frames = String(v.framesDecoded ?? 0);
  }
  if (a) {
    const rate = kbps(a.bytesReceived, c.bytes?.audio);
    diag('audio', `${a.packetsReceived ?? 0} packets` + (rate !== null ? ` · ${rate} kbit/s` : '') +
      (a.packetsLost ? ` · ${a.packetsLost} lost` : ''), (a.packetsReceived ?? 0) > 0 ? 'ok' : 'pending');
  }
  c.bytes = { video: v && { bytes: v.bytesReceived, t: now }, audio: a && { bytes: a.bytesReceived, t: now } };
}

function stop() {
  const c = call;
  call = null;
  if (!c) { setRunning(false); return; }
  clearInterval(c.timer);
  c.stream?.getTracks().forEach((t) => t.stop());
  c.pc?.close();
  c.session?.destroy();
  ui.local.srcObject = null;
  ui.remote.srcObject = null;
  setRunning(false);
  if (document.querySelector('[data-diag="state"]').dataset.state !== 'bad') diag('state', 'Stopped', 'idle');
}

async function toggle(kind) {
  const c = call;
  if (!c?.stream) return;
  const tracks = kind === 'audio' ? c.stream.getAudioTracks() : c.stream.getVideoTracks();
  if (tracks.length === 0) return;
  const on = !tracks[0].enabled;
  tracks.forEach((t) => { t.enabled = on; });
  setToggle(kind === 'audio' ? ui.audio : ui.video, on, kind === 'audio' ? 'Microphone' : 'Camera');
  try { await c.handle.message({ [kind]: on }); } catch (error) { showError(ui.error, error, 'Changing the echo'); }
}

ui.start.addEventListener('click', start);
ui.stop.addEventListener('click', () => { showError(ui.error, null); stop(); });
ui.audio.addEventListener('click', () => toggle('audio'));
ui.video.addEventListener('click', () => toggle('video'));
ui.bitrate.addEventListener('change', async () => {
  try { await call?.handle.message({ bitrate: Number(ui.bitrate.value) || 0 }); } catch (error) { showError(ui.error, error, 'Setting the bitrate'); }
});
window.addEventListener('pagehide', stop);

if (new URLSearchParams(location.search).has('autostart')) start();
