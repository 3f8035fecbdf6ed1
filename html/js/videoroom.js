// The meeting page: janus.plugin.videoroom (Janus 1.x multistream API).
// One publisher handle (camera + mic), an optional second one for screen sharing, and one
// subscriber handle whose PeerConnection carries every remote stream (`update` adds and removes).
import { connect, JanusError, loadConfig } from './janus-client.js';
import { getLocalMedia, iceFailedError, mediaError, rtcConfiguration, showError, UserFacingError } from './webrtc.js';

const VIDEOROOM = 'janus.plugin.videoroom';
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const ui = {
  error: $('error'), lobby: $('lobby'), form: $('join-form'), room: $('room'), name: $('name'), pin: $('pin'),
  pinField: $('pin-field'), joinAudio: $('join-audio'), joinVideo: $('join-video'), join: $('join'),
  roomView: $('room-view'), roomTitle: $('room-title'), count: $('room-count'), grid: $('grid'),
  audio: $('toggle-audio'), video: $('toggle-video'), screen: $('toggle-screen'), leave: $('leave'),
  copy: $('copy-link'), leftView: $('left-view'), rejoin: $('rejoin'), notices: $('notices'),
};

/** Simulcast unless `?simulcast=0` or the browser cannot. */
const SIMULCAST = params.get('simulcast') !== '0' && 'RTCRtpSender' in window;

let config;
let session;
let call = null;   // the current meeting, see join()

// ---------------------------------------------------------------------------------------------
// small UI helpers
// ---------------------------------------------------------------------------------------------

function notice(text) {
  const li = document.createElement('li');
  li.textContent = text;
  ui.notices.append(li);
  setTimeout(() => li.remove(), 5000);
}

function error(err, what) { showError(ui.error, err, what); }

function initials(name) {
  const letters = (name || '').split(/\s+/).map((w) => w.match(/[\p{L}\p{N}]/u)?.[0]).filter(Boolean);
  return letters.slice(0, 2).join('').toUpperCase() || '?';
}

function makeTile({ key, name, local = false, screen = false }) {
  const fig = document.createElement('figure');
  fig.className = `tile${screen ? ' tile--screen' : ''}`;
  fig.setAttribute('role', 'listitem');
  fig.dataset.key = key;
  fig.dataset.video = 'off';
  fig.dataset.talking = 'false';
  if (local) fig.dataset.local = 'true';
  const video = document.createElement('video');
  video.autoplay = true;
  video.playsInline = true;
  video.muted = local;
  if (local && !screen) video.classList.add('mirror');
  const avatar = document.createElement('div');
  avatar.className = 'tile__avatar';
  avatar.setAttribute('aria-hidden', 'true');
  avatar.textContent = initials(name);
  const label = document.createElement('figcaption');
  label.className = 'tile__label';
  const who = document.createElement('span');
  who.className = 'tile__name';
  who.textContent = local && !screen ? `${name} (you)` : name;
  const muted = document.createElement('span');
  muted.className = 'tile__muted';
  label.append(who, muted);
  fig.append(video, avatar, label);
  const stream = new MediaStream();
  video.srcObject = stream;
  ui.grid.append(fig);
  layout();
  return { el: fig, video, stream, label: who, muted };
}

function layout() {
  const n = ui.grid.children.length;
  ui.grid.dataset.count = String(n);
  const people = ui.grid.querySelectorAll('.tile:not(.tile--screen)').length;
  ui.count.textContent = `${people} participant${people === 1 ? '' : 's'}`;
}

function setToggle(button, on, onText, offText) {
  button.setAttribute('aria-pressed', String(on));
  button.textContent = on ? onText : offText;
}

// ---------------------------------------------------------------------------------------------
// lobby
// ---------------------------------------------------------------------------------------------

async function ensureSession() {
  if (session) return session;
  session = await connect({ config });
  session.addEventListener('disconnected', () => notice('Connection to the server lost — reconnecting…'));
  session.addEventListener('reconnected', () => notice('Reconnected.'));
  session.addEventListener('destroyed', (e) => {
    session = null;
    if (call && e.detail.error) { error(e.detail.error, 'The meeting'); endCall({ quiet: true }); }
  });
  return session;
}

async function loadRooms() {
  const wanted = params.get('room');
  ui.room.replaceChildren();
  let rooms = [];
  try {
    const s = await ensureSession();
    const h = await s.attach(VIDEOROOM, { opaqueId: 'confab-lobby' });
    try { rooms = (await h.message({ request: 'list' })).data.list ?? []; } finally { h.detach(); }
  } catch (err) {
    error(err, 'Listing the rooms');
  }
  rooms.sort((a, b) => String(a.description).localeCompare(String(b.description)));
  for (const r of rooms) {
    const opt = new Option(`${r.description || `Room ${r.room}`} — ${r.num_participants ?? 0} in the room${r.pin_required ? ' · PIN' : ''}`, String(r.room));
    opt.dataset.pin = r.pin_required ? 'true' : 'false';
    opt.dataset.description = r.description || `Room ${r.room}`;
    ui.room.append(opt);
  }
  if (wanted && !rooms.some((r) => String(r.room) === wanted)) {
    const opt = new Option(`Room ${wanted}`, wanted);
    opt.dataset.description = `Room ${wanted}`;
    ui.room.prepend(opt);
  }
  if (ui.room.options.length === 0) ui.room.append(new Option('No rooms available', ''));
  if (wanted) ui.room.value = wanted;
  syncPinField();
}

function syncPinField() {
  const opt = ui.room.selectedOptions[0];
  if (opt?.dataset.pin === 'true' || params.has('pin')) ui.pinField.hidden = false;
}

// ---------------------------------------------------------------------------------------------
// joining and publishing
// ---------------------------------------------------------------------------------------------

function roomError(err) {
  if (!(err instanceof JanusError)) return err;
  const pinMissing = err.code === 429 && /\bpin\b/i.test(err.reason);   // "Missing mandatory element (pin)"
  switch (pinMissing ? 433 : err.code) {
    case 433:
      ui.pinField.hidden = false;
      ui.pin.focus();
      return new UserFacingError(ui.pin.value ? 'Wrong PIN for this room.' : 'This room needs a PIN.', 'Enter the PIN and join again.');
    case 432: return new UserFacingError('This room is full.', 'Try again later or pick another room.');
    case 426: return new UserFacingError('This room does not exist.', 'Check the link or pick a room from the list.');
    case 425: return new UserFacingError('You are already in this room in this tab.');
    default: return err;
  }
}

async function join(event) {
  event?.preventDefault();
  error(null);
  const room = Number(ui.room.value);
  const name = ui.name.value.trim();
  if (!room) { error(new UserFacingError('Pick a room first.')); ui.room.focus(); return; }
  if (!name) { error(new UserFacingError('Enter your name so others know who you are.')); ui.name.focus(); return; }
  ui.join.disabled = true;
  const c = call = {
    room, name, pin: ui.pin.value || undefined, feeds: new Map(), mids: new Map(), names: new Map(), toSubscribe: new Set(), queue: Promise.resolve(),
    description: ui.room.selectedOptions[0]?.dataset.description ?? `Room ${room}`,
  };
  try {
    const s = await ensureSession();
    c.pub = await s.attach(VIDEOROOM, { opaqueId: 'confab-meeting' });
    c.pub.addEventListener('message', (e) => onRoomEvent(c, e.detail.data));
    c.pub.addEventListener('hangup', () => { if (call === c && !c.leaving) notice('The server closed your camera connection.'); });
    const { data } = await c.pub.message({ request: 'join', ptype: 'publisher', room, display: name, ...(c.pin ? { pin: c.pin } : {}) })
      .catch((err) => { throw roomError(err); });
    c.id = data.id;
    c.privateId = data.private_id;
    if (data.description) c.description = data.description;
    enterRoom(c);
    for (const p of data.publishers ?? []) addFeed(c, p);
    notice(`You joined ${c.description}.`);
    await publish(c);
  } catch (err) {
    if (call !== c) return;
    if (ui.roomView.hidden) {  // never got in
      error(err, 'Joining');
      await endCall({ quiet: true, toLobby: true });
    } else {
      error(err, 'Publishing your camera');
    }
  } finally {
    ui.join.disabled = false;
  }
}

function enterRoom(c) {
  ui.lobby.hidden = true;
  ui.leftView.hidden = true;
  ui.roomView.hidden = false;
  ui.roomTitle.textContent = c.description;
  document.title = `${c.description} — Confab`;
  // this tab's URL rejoins on reload; the invite keeps the room (and ?server=...) but not the name
  const here = new URL(location.href);
  here.searchParams.set('room', String(c.room));
  here.searchParams.set('name', c.name);
  here.searchParams.delete('pin');
  history.replaceState(null, '', here);
  const invite = new URL(here);
  invite.searchParams.delete('name');
  c.inviteURL = invite.href;
  c.self = makeTile({ key: 'self', name: c.name, local: true });
}

/** Camera + mic into a sendonly PeerConnection, `publish` with the offer. */
async function publish(c) {
  const wantAudio = ui.joinAudio.checked;
  const wantVideo = ui.joinVideo.checked;
  let media = { stream: new MediaStream(), audio: false, video: false };
  try {
    media = await getLocalMedia({ audio: true, video: true });
    if (media.note) notice(media.note);
  } catch (err) {
    error(err instanceof UserFacingError ? new UserFacingError(`${err.message} You joined without them: others cannot see or hear you.`, err.hint) : err);
  }
  if (call !== c) { media.stream.getTracks().forEach((t) => t.stop()); return; }
  c.stream = media.stream;
  const pc = c.pubPc = new RTCPeerConnection(rtcConfiguration(config));
  c.pub.trickleFrom(pc);
  watchIce(c, pc);
  const audioTrack = media.stream.getAudioTracks()[0];
  const videoTrack = media.stream.getVideoTracks()[0];
  c.audioTx = pc.addTransceiver(audioTrack ?? 'audio', { direction: 'sendonly', streams: [media.stream] });
  const encodings = SIMULCAST && videoTrack ? [
    { rid: 'h', maxBitrate: 900000 },
    { rid: 'm', maxBitrate: 300000, scaleResolutionDownBy: 2 },
    { rid: 'l', maxBitrate: 100000, scaleResolutionDownBy: 4 },
  ] : undefined;
  c.videoTx = pc.addTransceiver(videoTrack ?? 'video', { direction: 'sendonly', streams: [media.stream], ...(encodings ? { sendEncodings: encodings } : {}) });
  if (videoTrack) c.self.stream.addTrack(videoTrack);
  c.self.el.dataset.video = videoTrack ? 'on' : 'off';
  c.self.video.play().catch(() => {});
  setToggle(ui.audio, Boolean(audioTrack), 'Mute', 'Unmute');
  setToggle(ui.video, Boolean(videoTrack), 'Stop camera', 'Start camera');
  ui.audio.disabled = !audioTrack;
  ui.video.disabled = !media.video && !navigator.mediaDevices?.getUserMedia;
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  let jsep;
  try {
    ({ jsep } = await c.pub.message({ request: 'publish', descriptions: [{ mid: c.videoTx.mid, description: 'camera' }] }, offer));
  } catch (err) {
    if (err instanceof JanusError && err.code === 432) {   // Janus counts publishers, not people: watch only
      pc.close();
      media.stream.getTracks().forEach((t) => t.stop());
      c.self.el.dataset.video = 'off';
      ui.audio.disabled = true;
      ui.video.disabled = true;
      throw new UserFacingError('This room already has as many cameras and microphones as it allows.',
        'You can watch and listen; others cannot see or hear you until someone leaves.');
    }
    throw err;
  }
  if (call !== c) return;
  await pc.setRemoteDescription(jsep);
  if (!wantAudio && audioTrack) await toggleAudio();
  if (!wantVideo && videoTrack) await toggleVideo();
}

function watchIce(c, pc) {
  pc.addEventListener('connectionstatechange', () => {
    if (call !== c) return;
    if (pc.connectionState === 'failed') error(iceFailedError());
    if (pc.connectionState === 'disconnected') notice('Media connection interrupted — waiting for it to recover…');
  });
}

// ---------------------------------------------------------------------------------------------
// room events
// ---------------------------------------------------------------------------------------------

function onRoomEvent(c, data) {
  if (call !== c) return;
  if (Array.isArray(data.publishers)) for (const p of data.publishers) addFeed(c, p);
  if (data.videoroom === 'talking' || data.videoroom === 'stopped-talking') {
    const feed = c.feeds.get(data.id);
    const tile = feed?.tile ?? (data.id === c.id ? c.self : undefined);
    if (feed) feed.serverTalking = true;   // the room sends talking events: trust them over local levels
    if (tile) tile.el.dataset.talking = String(data.videoroom === 'talking');
  }
  const gone = data.leaving ?? data.unpublished ?? data.kicked;
  if (gone !== undefined && gone !== 'ok') {
    if (gone === c.id) { notice('You were removed from the room.'); endCall({ quiet: true }); return; }
    const feed = c.feeds.get(gone);
    removeFeed(c, gone);
    const name = c.names.get(gone);
    if ((data.leaving !== undefined || data.kicked !== undefined) && name && !(feed?.screen)) {
      c.names.delete(gone);
      notice(`${name} left.`);
    }
  }
  if (data.videoroom === 'destroyed') { error(new UserFacingError('The room was closed.')); endCall({ quiet: true }); }
}

function isScreen(p) { return (p.streams ?? []).some((s) => s.type === 'video' && s.description === 'screen'); }

function addFeed(c, p) {
  if (p.id === c.id || p.id === c.screenShare?.id || p.dummy) return;
  const known = c.feeds.get(p.id);
  if (known) { known.streams = p.streams ?? known.streams; return; }
  const screen = isScreen(p);
  const feed = { id: p.id, display: p.display || 'Guest', streams: p.streams ?? [], screen };
  feed.tile = makeTile({ key: String(p.id), name: screen ? `${feed.display}` : feed.display, screen });
  feed.tile.el.dataset.feed = String(p.id);
  if (!screen) {
    if (!c.names.has(p.id)) notice(`${feed.display} joined.`);
    c.names.set(p.id, feed.display);
  }
  c.feeds.set(p.id, feed);
  observeTile(c, feed);
  // feeds announced together are subscribed to with one request
  c.toSubscribe.add(p.id);
  if (c.toSubscribe.size === 1) {
    schedule(c, () => {
      const ids = [...c.toSubscribe];
      c.toSubscribe.clear();
      return subscribe(c, ids, []);
    });
  }
}

function removeFeed(c, id) {
  const feed = c.feeds.get(id);
  if (!feed) return;
  c.feeds.delete(id);
  feed.observer?.disconnect();
  feed.tile.el.remove();
  layout();
  for (const [mid, feedId] of c.mids) if (feedId === id) c.mids.delete(mid);
}

// ---------------------------------------------------------------------------------------------
// subscribing: one handle, one PeerConnection, renegotiated one step at a time
// ---------------------------------------------------------------------------------------------

function schedule(c, task) {
  c.queue = c.queue.then(() => (call === c ? task() : undefined)).catch((err) => { if (call === c) error(err, 'Receiving the others'); });
  return c.queue;
}

async function subscribe(c, add, remove) {
  add = add.filter((id) => c.feeds.has(id));
  if (add.length === 0 && remove.length === 0) return;
  if (!c.sub) {
    const sub = c.sub = await session.attach(VIDEOROOM, { opaqueId: 'confab-meeting' });
    sub.addEventListener('message', (e) => {
      if (e.detail.jsep) schedule(c, () => answer(c, e.detail.data, e.detail.jsep));  // renegotiation from the server
    });
    const { data, jsep } = await sub.message({ request: 'join', ptype: 'subscriber', room: c.room, private_id: c.privateId,
      streams: add.map((feed) => ({ feed })), ...(c.pin ? { pin: c.pin } : {}) });
    await answer(c, data, jsep);
    return;
  }
  const { data, jsep } = await c.sub.message({ request: 'update',   // Janus refuses empty lists (430)
    ...(add.length ? { subscribe: add.map((feed) => ({ feed })) } : {}),
    ...(remove.length ? { unsubscribe: remove.map((feed) => ({ feed })) } : {}) });
  if (jsep) await answer(c, data, jsep);
}

async function answer(c, data, offer) {
  if (Array.isArray(data?.streams)) {
    c.mids.clear();
    for (const s of data.streams) if (s.feed_id !== undefined && s.active !== false) c.mids.set(s.mid, s.feed_id);
  }
  if (!c.subPc) {
    const pc = c.subPc = new RTCPeerConnection(rtcConfiguration(config));
    c.sub.trickleFrom(pc);
    watchIce(c, pc);
    pc.addEventListener('track', (e) => onRemoteTrack(c, e.transceiver.mid, e.track));
    c.statsTimer = setInterval(() => remoteActivity(c), 1000);
  }
  await c.subPc.setRemoteDescription(offer);
  const ans = await c.subPc.createAnswer();
  await c.subPc.setLocalDescription(ans);
  await c.sub.message({ request: 'start' }, ans);
}

function onRemoteTrack(c, mid, track) {
  const feed = c.feeds.get(c.mids.get(mid));
  if (!feed) return;
  const { stream, video } = feed.tile;
  for (const t of stream.getTracks()) if (t.kind === track.kind) stream.removeTrack(t);
  stream.addTrack(track);
  feed[`${track.kind}Mid`] = mid;
  video.play().catch(() => {});
  if (track.kind === 'video') chooseLayer(c, feed);
}

/**
 * Once a second: which tiles show moving video (decoded frames rising), which are talking
 * (audio level), so the grid reacts when someone stops their camera or speaks — in any room.
 */
async function remoteActivity(c) {
  if (call !== c || !c.subPc) return;
  let report;
  try { report = await c.subPc.getStats(); } catch { return; }
  const byMid = new Map();
  report.forEach((s) => { if (s.type === 'inbound-rtp' && s.mid !== undefined) byMid.set(s.mid, s); });
  for (const feed of c.feeds.values()) {
    const v = byMid.get(feed.videoMid);
    const frames = v?.framesDecoded ?? 0;
    const moving = frames > (feed.lastFrames ?? 0);
    feed.stillFor = moving ? 0 : (feed.stillFor ?? 0) + 1;
    feed.lastFrames = frames;
    const on = frames > 0 && feed.stillFor < 2;
    feed.tile.el.dataset.video = on ? 'on' : 'off';
    feed.tile.el.dataset.frames = String(frames);
    const a = byMid.get(feed.audioMid);
    if (a && feed.serverTalking === undefined) feed.tile.el.dataset.talking = String((a.audioLevel ?? 0) > 0.05);
  }
}

/** Simulcast: ask for the layer that fits the tile (0 = smallest), again whenever its size changes. */
function chooseLayer(c, feed) {
  const width = feed.tile.el.clientWidth * (window.devicePixelRatio || 1);
  const substream = width < 400 ? 0 : width < 800 ? 1 : 2;
  const simulcast = feed.streams.some((s) => s.type === 'video' && s.simulcast);
  if (!simulcast || !feed.videoMid || substream === feed.substream || !c.sub) return;
  feed.substream = substream;
  schedule(c, () => c.sub.message({ request: 'configure', streams: [{ mid: feed.videoMid, substream }] }));
}

function observeTile(c, feed) {
  if (!('ResizeObserver' in window)) return;
  feed.observer = new ResizeObserver(() => chooseLayer(c, feed));
  feed.observer.observe(feed.tile.el);
}

// ---------------------------------------------------------------------------------------------
// controls
// ---------------------------------------------------------------------------------------------

async function toggleAudio() {
  const c = call;
  const track = c?.stream?.getAudioTracks()[0];
  if (!track) return;
  track.enabled = !track.enabled;
  setToggle(ui.audio, track.enabled, 'Mute', 'Unmute');
  c.self.muted.textContent = track.enabled ? '' : ' · muted';
  try { await c.pub.message({ request: 'configure', streams: [{ mid: c.audioTx.mid, send: track.enabled }] }); } catch { /* local mute still holds */ }
}

async function toggleVideo() {
  const c = call;
  if (!c?.videoTx) return;
  const current = c.stream.getVideoTracks()[0];
  if (current) {  // camera off: stop it (the light goes out) and send nothing
    current.stop();
    c.stream.removeTrack(current);
    c.self.stream.removeTrack(current);
    await c.videoTx.sender.replaceTrack(null);
    c.self.el.dataset.video = 'off';
    setToggle(ui.video, false, 'Stop camera', 'Start camera');
    c.pub.message({ request: 'configure', streams: [{ mid: c.videoTx.mid, send: false }] }).catch(() => {});
    return;
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 720 } } });
    const track = stream.getVideoTracks()[0];
    c.stream.addTrack(track);
    c.self.stream.addTrack(track);
    await c.videoTx.sender.replaceTrack(track);
    c.self.el.dataset.video = 'on';
    setToggle(ui.video, true, 'Stop camera', 'Start camera');
    await c.pub.message({ request: 'configure', streams: [{ mid: c.videoTx.mid, send: true, keyframe: true }] });
  } catch (err) {
    error(err instanceof JanusError ? err : mediaError(err), 'Starting the camera');
  }
}

async function toggleScreen() {
  const c = call;
  if (!c) return;
  if (c.screenShare) { stopScreen(c); return; }
  if (!navigator.mediaDevices?.getDisplayMedia) {
    error(new UserFacingError('This browser cannot share the screen.'));
    return;
  }
  let stream;
  try { stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false }); } catch (err) {
    if (err.name !== 'NotAllowedError') error(mediaError(err), 'Sharing the screen');
    return;
  }
  const share = c.screenShare = { stream };
  setToggle(ui.screen, true, 'Stop sharing', 'Share screen');
  const track = stream.getVideoTracks()[0];
  track.addEventListener('ended', () => { if (c.screenShare === share) stopScreen(c); });
  try {
    share.handle = await session.attach(VIDEOROOM, { opaqueId: 'confab-meeting-screen' });
    const { data } = await share.handle.message({ request: 'join', ptype: 'publisher', room: c.room,
      display: `${c.name} (screen)`, ...(c.pin ? { pin: c.pin } : {}) });
    share.id = data.id;
    const pc = share.pc = new RTCPeerConnection(rtcConfiguration(config));
    share.handle.trickleFrom(pc);
    const tx = pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const { jsep } = await share.handle.message({ request: 'publish', descriptions: [{ mid: tx.mid, description: 'screen' }] }, offer);
    await pc.setRemoteDescription(jsep);
    share.tile = makeTile({ key: 'screen', name: 'Your screen', local: true, screen: true });
    share.tile.stream.addTrack(track);
    share.tile.el.dataset.video = 'on';
    notice('You are sharing your screen.');
  } catch (err) {
    error(err, 'Sharing the screen');
    stopScreen(c);
  }
}

function stopScreen(c) {
  const share = c.screenShare;
  if (!share) return;
  c.screenShare = null;
  share.stream.getTracks().forEach((t) => t.stop());
  share.pc?.close();
  share.tile?.el.remove();
  layout();
  if (share.handle) share.handle.message({ request: 'leave' }).catch(() => {}).finally(() => share.handle.detach());
  setToggle(ui.screen, false, 'Stop sharing', 'Share screen');
}

async function endCall({ quiet = false, toLobby = false } = {}) {
  const c = call;
  if (!c) return;
  c.leaving = true;
  call = null;
  clearInterval(c.statsTimer);
  stopScreen(c);
  for (const feed of c.feeds.values()) feed.observer?.disconnect();
  c.stream?.getTracks().forEach((t) => t.stop());
  c.pubPc?.close();
  c.subPc?.close();
  if (c.pub && !c.pub.detached) {
    try { await c.pub.message({ request: 'leave' }); } catch { /* gone already */ }
    c.pub.detach();
  }
  c.sub?.detach();
  ui.grid.replaceChildren();
  layout();
  ui.roomView.hidden = true;
  document.title = 'Meeting — Confab';
  if (toLobby) { ui.lobby.hidden = false; return; }
  ui.leftView.hidden = false;
  if (!quiet) notice('You left the meeting.');
}

// ---------------------------------------------------------------------------------------------

ui.form.addEventListener('submit', join);
ui.room.addEventListener('change', syncPinField);
ui.audio.addEventListener('click', toggleAudio);
ui.video.addEventListener('click', toggleVideo);
ui.screen.addEventListener('click', toggleScreen);
// Phones' browsers cannot share the screen: no button rather than one that only says so.
ui.screen.hidden = !navigator.mediaDevices?.getDisplayMedia;
ui.leave.addEventListener('click', () => endCall());
ui.rejoin.addEventListener('click', () => { ui.leftView.hidden = true; join(); });
ui.copy.addEventListener('click', async () => {
  try { await navigator.clipboard.writeText(call?.inviteURL ?? location.href); notice('Invite link copied.'); } catch {
    notice(`Invite link: ${call?.inviteURL ?? location.href}`);
  }
});
window.addEventListener('pagehide', () => { if (call) endCall({ quiet: true }); session?.destroy(); });

async function init() {
  try { config = await loadConfig(); } catch (err) { error(err, 'Loading the configuration'); return; }
  if (params.get('name')) ui.name.value = params.get('name');
  else ui.name.value = localStorage.getItem('confab.name') ?? '';
  if (params.get('pin')) ui.pin.value = params.get('pin');
  ui.name.addEventListener('change', () => { try { localStorage.setItem('confab.name', ui.name.value.trim()); } catch { /* private mode */ } });
  await loadRooms();
  if (params.get('room') && params.get('name')) join();
  else (ui.name.value ? ui.room : ui.name).focus();
}

init();
