// WebRTC helpers shared by the pages: camera/microphone with readable errors, the selected ICE
// candidate pair from getStats(), and one place that turns any error into a sentence for people.
import { ClientCode, JanusError } from './janus-client.js';

/** An error to show as is: `message` is for people, `hint` says what to do. */
export class UserFacingError extends Error {
  constructor(message, hint, cause) {
    super(message);
    this.name = 'UserFacingError';
    this.hint = hint;
    this.cause = cause;
  }
}

const TURN_HINT = 'If you are behind a strict firewall or NAT, the server needs a TURN relay: ' +
  'enable `turn` in confab.cfg and set `general.public_url` (or `media.nat_1_1_mapping`) to the address people reach.';

/**
 * getUserMedia with a fallback to audio only when there is no camera. Resolves with
 * `{stream, audio, video}` (what was obtained); throws UserFacingError.
 */
export async function getLocalMedia({ audio = true, video = true } = {}) {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new UserFacingError('This browser cannot use a camera or microphone here.',
      'Open the page over https:// (or on localhost) in a current browser.');
  }
  const videoConstraints = video ? { width: { ideal: 1280 }, height: { ideal: 720 } } : false;
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio, video: videoConstraints });
    return { stream, audio: stream.getAudioTracks().length > 0, video: stream.getVideoTracks().length > 0 };
  } catch (error) {
    if (video && audio && (error.name === 'NotFoundError' || error.name === 'NotReadableError' || error.name === 'OverconstrainedError')) {
      try {  // no usable camera: join with the microphone only
        const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
        return { stream, audio: true, video: false, note: 'No usable camera found: continuing with the microphone only.' };
      } catch { /* report the first error */ }
    }
    throw mediaError(error);
  }
}

export function mediaError(error) {
  switch (error?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return new UserFacingError('Camera and microphone access was denied.',
        'Allow them for this site (the camera icon in the address bar) and try again.', error);
    case 'NotFoundError':
      return new UserFacingError('No camera or microphone was found.', 'Connect one and try again.', error);
    case 'NotReadableError':
      return new UserFacingError('The camera or microphone is busy or blocked by the system.',
        'Close other apps that use it and try again.', error);
    default:
      return new UserFacingError(`Could not start the camera or microphone (${error?.name ?? 'error'}).`, error?.message, error);
  }
}

/** ICE failed: the page's TURN advice. */
export function iceFailedError() {
  return new UserFacingError('The media connection to the server failed (ICE).', TURN_HINT);
}

/** Any error → {message, hint} for an alert box. */
export function describeError(error, what = 'The request') {
  if (error instanceof UserFacingError) return { message: error.message, hint: error.hint };
  if (error instanceof JanusError) {
    if (error.code === ClientCode.UNREACHABLE) {
      return { message: `The server is unreachable. ${error.reason}.`, hint: 'Check the address, that Confab is running, and any proxy in front of it.' };
    }
    if (error.code === ClientCode.TIMEOUT) return { message: `${what} timed out: ${error.reason}.`, hint: 'The server may be overloaded; try again.' };
    if (error.code === ClientCode.CLOSED) return { message: `The connection was lost: ${error.reason}.`, hint: 'Reload the page to start again.' };
    if (error.code === 403) return { message: 'The server refused access (403).', hint: 'This server requires an API secret or a token.' };
    return { message: `${what} failed: ${error.reason} (error ${error.code}).` };
  }
  return { message: `${what} failed: ${error?.message ?? error}.` };
}

/** Fill an alert element ([hidden] when empty) with an error's message and hint. */
export function showError(el, error, what) {
  if (!error) { el.hidden = true; el.replaceChildren(); return; }
  const { message, hint } = describeError(error, what);
  const strong = document.createElement('strong');
  strong.textContent = message;
  el.replaceChildren(strong);
  if (hint) {
    const p = document.createElement('span');
    p.className = 'alert__hint';
    p.textContent = ` ${hint}`;
    el.append(p);
  }
  el.hidden = false;
}

/**
 * The selected candidate pair and a few numbers from getStats():
 * `{pair: {local: {type, protocol, address, port}, remote: {...}, rtt}, inbound: {video, audio}, outbound}`.
 */
export async function connectionStats(pc) {
  const report = await pc.getStats();
  const byId = new Map();
  report.forEach((s) => byId.set(s.id, s));
  let pairStats;
  report.forEach((s) => {
    if (s.type === 'transport' && s.selectedCandidatePairId) pairStats = byId.get(s.selectedCandidatePairId);
  });
  if (!pairStats) {  // Firefox: the pair flagged selected
    report.forEach((s) => { if (s.type === 'candidate-pair' && (s.selected || (s.nominated && s.state === 'succeeded'))) pairStats ??= s; });
  }
  const cand = (id) => {
    const c = byId.get(id);
    return c ? { type: c.candidateType, protocol: c.protocol, address: c.address ?? c.ip, port: c.port, relayProtocol: c.relayProtocol } : null;
  };
  const result = { pair: null, inbound: {}, outbound: {} };
  if (pairStats) {
    result.pair = {
      local: cand(pairStats.localCandidateId),
      remote: cand(pairStats.remoteCandidateId),
      rtt: pairStats.currentRoundTripTime,
      bytesReceived: pairStats.bytesReceived,
      bytesSent: pairStats.bytesSent,
    };
  }
  report.forEach((s) => {
    const kind = s.kind ?? s.mediaType;
    if (s.type === 'inbound-rtp' && kind) {
      const prev = result.inbound[kind];
      if (!prev || (s.bytesReceived ?? 0) > (prev.bytesReceived ?? 0)) {
        result.inbound[kind] = { bytesReceived: s.bytesReceived, packetsReceived: s.packetsReceived, packetsLost: s.packetsLost,
          framesDecoded: s.framesDecoded, frameWidth: s.frameWidth, frameHeight: s.frameHeight, framesPerSecond: s.framesPerSecond,
          audioLevel: s.audioLevel, mid: s.mid, timestamp: s.timestamp };
      }
    }
    if (s.type === 'outbound-rtp' && kind) {
      const prev = result.outbound[kind] ?? { bytesSent: 0 };
      result.outbound[kind] = { bytesSent: prev.bytesSent + (s.bytesSent ?? 0), timestamp: s.timestamp };
    }
  });
  return result;
}

/** A human label for a candidate type. */
export function candidateLabel(type) {
  return { host: 'host (direct)', srflx: 'srflx (through NAT)', prflx: 'prflx (through NAT)', relay: 'relay (TURN)' }[type] ?? type ?? '?';
}

/** RTCPeerConnection configuration from the page's config (ICE servers from /config.js). */
export function rtcConfiguration(config) {
  return { iceServers: config.iceServers ?? [], bundlePolicy: 'max-bundle' };
}
