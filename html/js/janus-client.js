// Confab's client for the Janus API: WebSocket (`janus-protocol`) with HTTP long-poll fallback.
// ES module, no dependencies, no build step.
//
//   import { connect } from './janus-client.js';
//   const session = await connect();                        // reads /config.js or /config
//   const handle = await session.attach('janus.plugin.echotest');
//   handle.addEventListener('message', (e) => console.log(e.detail.data, e.detail.jsep));
//   const { data, jsep } = await handle.message({ audio: true }, offer);   // resolves on the event
//
// Every failure is a JanusError: `code` is the Janus (core or plugin) error code, or one of the
// client codes below; `reason` is the server's text.

/** Client-side error codes (no Janus code exists for these). */
export const ClientCode = Object.freeze({
  UNREACHABLE: 'unreachable',   // no transport could reach the server
  TIMEOUT: 'timeout',           // the server did not answer a request in time
  CLOSED: 'closed',             // the session or transport went away while waiting
});

export class JanusError extends Error {
  /**
   * @param {number|string} code Janus error code (e.g. 458, or a plugin's 433) or a ClientCode
   * @param {string} reason the server's reason, or a description
   * @param {{plugin?: string, request?: string}} [where]
   */
  constructor(code, reason, { plugin, request } = {}) {
    super(`${reason}${typeof code === 'number' ? ` (${code})` : ''}`);
    this.name = 'JanusError';
    this.code = code;
    this.reason = reason;
    this.plugin = plugin;
    this.request = request;
  }
}

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

const text = (v) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

function normalizeConfig(raw, base) {
  const fallbackHTTP = new URL('janus', base).href;
  const fallbackWS = fallbackHTTP.replace(/^http/, 'ws');
  return {
    httpURL: text(raw?.httpURL) ?? fallbackHTTP,
    wsURL: text(raw?.wsURL) ?? fallbackWS,
    iceServers: Array.isArray(raw?.iceServers) ? raw.iceServers.filter((s) => s && typeof s === 'object') : [],
    serverName: text(raw?.serverName),
    fromServer: Boolean(raw),
  };
}

/**
 * Where the API is and which ICE servers to use: `window.confabConfig` (set by /config.js),
 * else GET `config` next to the page, else `janus` next to the page. `?server=URL` (ws:, wss:,
 * http:, https:) overrides the API address, for pointing a page at another server by hand.
 */
export async function loadConfig({ base = document.baseURI, search = location.search } = {}) {
  let raw = globalThis.confabConfig;
  if (!raw || typeof raw !== 'object') {
    raw = undefined;
    try {
      const response = await fetch(new URL('config', base), { cache: 'no-store', headers: { Accept: 'application/json' } });
      if (response.ok) raw = await response.json();
    } catch { /* not served: use the defaults */ }
  }
  const config = normalizeConfig(raw, base);
  const server = text(new URLSearchParams(search).get('server'));
  if (server) {
    const url = new URL(server, base);
    if (url.protocol === 'ws:' || url.protocol === 'wss:') { config.wsURL = url.href; config.httpURL = undefined; }
    else if (url.protocol === 'http:' || url.protocol === 'https:') { config.httpURL = url.href; config.wsURL = undefined; }
  }
  return config;
}

// ---------------------------------------------------------------------------------------------
// Transports: both deliver every message from the server to `onmessage`.
// ---------------------------------------------------------------------------------------------

const randomTransaction = () => {
  const bytes = crypto.getRandomValues(new Uint8Array(9));
  return btoa(String.fromCharCode(...bytes)).replace(/[+/=]/g, 'x');
};

class WebSocketTransport {
  kind = 'websocket';

  constructor(url) { this.url = url; this.onmessage = () => {}; this.onclose = () => {}; }

  /** Resolves once the socket is open; rejects after `timeoutMs` or on an error. */
  open(timeoutMs = 5000) {
    return new Promise((resolve, reject) => {
      let ws;
      try { ws = new WebSocket(this.url, 'janus-protocol'); } catch (e) {
        reject(new JanusError(ClientCode.UNREACHABLE, `Bad WebSocket URL ${this.url}: ${e.message}`));
        return;
      }
      const timer = setTimeout(() => { ws.close(); fail(); }, timeoutMs);
      const fail = () => {
        clearTimeout(timer);
        reject(new JanusError(ClientCode.UNREACHABLE, `Cannot reach the server at ${this.url}`));
      };
      ws.onerror = fail;
      ws.onclose = fail;
      ws.onopen = () => {
        clearTimeout(timer);
        this.ws = ws;
        ws.onerror = null;
        ws.onclose = (e) => { if (this.ws === ws) { this.ws = null; this.onclose(e); } };
        ws.onmessage = (e) => {
          let msg;
          try { msg = JSON.parse(e.data); } catch { return; }
          for (const m of Array.isArray(msg) ? msg : [msg]) this.onmessage(m);
        };
        resolve();
      };
    });
  }

  get connected() { return this.ws?.readyState === WebSocket.OPEN; }

  async send(msg) {
    if (!this.connected) throw new JanusError(ClientCode.CLOSED, 'The WebSocket connection is closed');
    this.ws.send(JSON.stringify(msg));
  }

  close() { const ws = this.ws; this.ws = null; ws?.close(1000); }
}

class HttpTransport {
  kind = 'http';

  constructor(url) { this.url = url.replace(/\/+$/, ''); this.onmessage = () => {}; this.onclose = () => {}; }

  /** POST to the root, the session or the handle path; the reply goes to onmessage too. */
  async send(msg) {
    let path = this.url;
    if (msg.session_id) path += `/${msg.session_id}`;
    if (msg.handle_id) path += `/${msg.handle_id}`;
    const body = { ...msg };
    delete body.session_id;
    delete body.handle_id;
    let response;
    try {
      response = await fetch(path, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
    } catch (e) {
      throw new JanusError(ClientCode.UNREACHABLE, `Cannot reach the server at ${this.url}`);
    }
    if (response.status === 404 && msg.session_id) {
      throw new JanusError(458, 'No such session', { request: msg.janus });
    }
    if (response.status === 403) throw new JanusError(403, 'Unauthorized request (wrong or missing secret/token)', { request: msg.janus });
    if (!response.ok) throw new JanusError(ClientCode.UNREACHABLE, `The server answered HTTP ${response.status} at ${path}`);
    let reply;
    try { reply = await response.json(); } catch {
      throw new JanusError(ClientCode.UNREACHABLE, `${this.url} did not answer with Janus JSON — is this the API URL?`);
    }
    this.onmessage(reply);
  }

  /** Long-poll events for a session until stop() (or the session is gone). */
  poll(sessionId, { onLost, onBlip, onRecovered }) {
    this.polling = true;
    const loop = async () => {
      let failures = 0;
      while (this.polling) {
        try {
          this.abort = new AbortController();
          const r = await fetch(`${this.url}/${sessionId}?rid=${Date.now()}&maxev=10`, { cache: 'no-store', signal: this.abort.signal });
          if (r.status === 404) { onLost(new JanusError(458, 'No such session')); return; }
          if (!r.ok) throw new Error(`HTTP ${r.status}`);
          const events = await r.json();
          if (failures) { failures = 0; onRecovered(); }
          if (!this.polling) return;
          for (const m of Array.isArray(events) ? events : [events]) this.onmessage(m);
        } catch {
          if (!this.polling) return;
          if (failures++ === 0) onBlip();
          if (failures > 15) { onLost(new JanusError(ClientCode.UNREACHABLE, 'Lost the connection to the server')); return; }
          await new Promise((res) => setTimeout(res, Math.min(500 * failures, 3000)));
        }
      }
    };
    loop();
  }

  get connected() { return true; }

  close() { this.polling = false; this.abort?.abort(); }
}

// ---------------------------------------------------------------------------------------------
// Session and handles
// ---------------------------------------------------------------------------------------------

/** `?debug` in the page URL logs every Janus message to the console. */
const DEBUG = typeof location !== 'undefined' && new URLSearchParams(location.search).has('debug');
const REQUEST_TIMEOUT_MS = 15000;
const EVENT_TIMEOUT_MS = 30000;

/**
 * One Janus session. Events (CustomEvent, `detail` as noted):
 *   'disconnected' {error}  the transport dropped; reconnecting
 *   'reconnected'            the session was claimed (WebSocket) or polling resumed (HTTP)
 *   'destroyed' {error?}     the session is gone (timeout, lost, destroy()); handles are dead
 */
export class JanusSession extends EventTarget {
  #transport;
  #pending = new Map();
  #handles = new Map();
  #keepalive = null;
  #closing = false;

  constructor(transport, config, { apisecret, token } = {}) {
    super();
    this.#transport = transport;
    this.config = config;
    this.auth = { apisecret, token };
    this.id = null;
    transport.onmessage = (msg) => this.#onMessage(msg);
    transport.onclose = () => this.#onTransportClosed();
  }

  /** 'websocket' or 'http'. */
  get transport() { return this.#transport.kind; }

  get handles() { return [...this.#handles.values()]; }

  /** Ask the server something outside the session (e.g. `info`). */
  static async request(transport, body) {
    return new Promise((resolve, reject) => {
      const transaction = randomTransaction();
      transport.onmessage = (m) => {
        if (m.transaction !== transaction) return;
        if (m.janus === 'error') reject(new JanusError(m.error?.code, m.error?.reason ?? 'error', { request: body.janus }));
        else resolve(m);
      };
      transport.send({ ...body, transaction }).catch(reject);
    });
  }

  async _create(id) {
    const reply = await this.#send({ janus: 'create', ...(id ? { id } : {}) }, { session: false });
    this.id = reply.data.id;
    this.#startKeepalive();
    if (this.#transport.kind === 'http') this.#startPolling();
    return this;
  }

  /**
   * Attach a plugin. Returns a PluginHandle.
   * @param {string} plugin e.g. 'janus.plugin.videoroom'
   */
  async attach(plugin, { opaqueId } = {}) {
    const reply = await this.#send({ janus: 'attach', plugin, ...(opaqueId ? { opaque_id: opaqueId } : {}) });
    const handle = new PluginHandle(this, reply.data.id, plugin);
    this.#handles.set(handle.id, handle);
    return handle;
  }

  /** Destroy the session (and close the transport). */
  async destroy() {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#transport.kind === 'http') this.#transport.close();   // no long poll racing the destroy
    try {
      if (this.id) await this.#send({ janus: 'destroy' }, { timeout: 3000 });
    } catch { /* gone already */ }
    this.#end();
  }

  // ---- internals used by PluginHandle ----

  /**
   * Send one request; resolves with the final reply. `ack` is final for keepalive/trickle/hangup;
   * for plugin messages an ack means "the event with this transaction follows".
   */
  _send(body, options) { return this.#send(body, options); }

  _forget(handleId) { this.#handles.delete(handleId); }

  #send(body, { session = true, handle, ackIsFinal = false, timeout = REQUEST_TIMEOUT_MS } = {}) {
    if (this.#ended && body.janus !== 'create') {
      return Promise.reject(new JanusError(ClientCode.CLOSED, 'The session is gone', { request: body.janus }));
    }
    const transaction = randomTransaction();
    const msg = { ...body, transaction };
    if (session) msg.session_id = this.id;
    if (handle) msg.handle_id = handle;
    if (this.auth.apisecret) msg.apisecret = this.auth.apisecret;
    if (this.auth.token) msg.token = this.auth.token;
    if (DEBUG) console.debug('janus →', JSON.stringify({ ...msg, jsep: msg.jsep ? { type: msg.jsep.type } : undefined }));
    return new Promise((resolve, reject) => {
      const entry = { resolve, reject, ackIsFinal, request: body.janus };
      entry.timer = setTimeout(() => {
        this.#pending.delete(transaction);
        reject(new JanusError(ClientCode.TIMEOUT, `The server did not answer '${body.janus}' in time`, { request: body.janus }));
      }, timeout);
      this.#pending.set(transaction, entry);
      this.#transport.send(msg).catch((error) => {
        clearTimeout(entry.timer);
        this.#pending.delete(transaction);
        reject(error);
      });
    });
  }

  #settle(transaction, fn) {
    const entry = this.#pending.get(transaction);
    if (!entry) return false;
    clearTimeout(entry.timer);
    this.#pending.delete(transaction);
    fn(entry);
    return true;
  }

  #onMessage(msg) {
    if (DEBUG) console.debug('janus ←', JSON.stringify(msg));
    const { janus: kind, transaction } = msg;
    const entry = transaction ? this.#pending.get(transaction) : undefined;
    if (entry) {
      if (kind === 'ack') {
        if (entry.ackIsFinal) this.#settle(transaction, (e) => e.resolve(msg));
        else {  // the plugin's event follows: wait longer for it
          clearTimeout(entry.timer);
          entry.timer = setTimeout(() => this.#settle(transaction, (e) => e.reject(
            new JanusError(ClientCode.TIMEOUT, `No answer from the plugin to '${e.request}'`, { request: e.request }))), EVENT_TIMEOUT_MS);
        }
        return;
      }
      if (kind === 'error') {
        this.#settle(transaction, (e) => e.reject(new JanusError(msg.error?.code ?? 0, msg.error?.reason ?? 'Unknown error', { request: e.request })));
        return;
      }
      if (kind === 'success' || kind === 'event') {
        const pluginError = pluginErrorOf(msg);
        this.#settle(transaction, (e) => (pluginError ? e.reject(pluginError) : e.resolve(msg)));
        return;
      }
    }
    if (kind === 'timeout') { this.#end(new JanusError(ClientCode.CLOSED, 'The session timed out')); return; }
    if (kind === 'ack' || kind === 'keepalive' || kind === 'success' || kind === 'server_info') return;
    const handle = this.#handles.get(msg.sender);
    if (handle) handle._deliver(msg);
  }

  #startKeepalive() {
    clearInterval(this.#keepalive);
    this.#keepalive = setInterval(() => {
      if (this.#transport.connected && !this.#ended) this.#send({ janus: 'keepalive' }, { ackIsFinal: true }).catch(() => {});
    }, 25000);
  }

  #startPolling() {
    this.#transport.poll(this.id, {
      onLost: (error) => this.#end(error),
      onBlip: () => this.#emit('disconnected', { error: new JanusError(ClientCode.UNREACHABLE, 'Lost the connection to the server') }),
      onRecovered: () => this.#emit('reconnected'),
    });
  }

  /** WebSocket dropped: reconnect with backoff and `claim` the session. */
  async #onTransportClosed() {
    if (this.#closing || this.#ended) return;
    for (const [transaction] of this.#pending) {
      this.#settle(transaction, (e) => e.reject(new JanusError(ClientCode.CLOSED, 'The connection to the server dropped', { request: e.request })));
    }
    this.#emit('disconnected', { error: new JanusError(ClientCode.UNREACHABLE, 'Lost the connection to the server') });
    const deadline = Date.now() + 60000;
    for (let delay = 250; Date.now() < deadline && !this.#closing; delay = Math.min(delay * 2, 4000)) {
      await new Promise((res) => setTimeout(res, delay));
      try {
        await this.#transport.open(3000);
      } catch { continue; }
      try {
        await this.#send({ janus: 'claim' });
        this.#emit('reconnected');
        return;
      } catch (error) {
        this.#end(error);
        return;
      }
    }
    this.#end(new JanusError(ClientCode.UNREACHABLE, 'Could not reconnect to the server'));
  }

  #ended = false;

  #end(error) {
    if (this.#ended) return;
    this.#ended = true;
    this.#closing = true;
    clearInterval(this.#keepalive);
    for (const [transaction] of this.#pending) {
      this.#settle(transaction, (e) => e.reject(error ?? new JanusError(ClientCode.CLOSED, 'The session was destroyed')));
    }
    for (const handle of this.#handles.values()) handle._deliver({ janus: 'detached' });
    this.#handles.clear();
    this.#transport.close();
    this.#emit('destroyed', { error });
  }

  #emit(type, detail = {}) { this.dispatchEvent(new CustomEvent(type, { detail })); }
}

/** A plugin error inside plugindata (`error_code` + `error`), as a JanusError; else undefined. */
function pluginErrorOf(msg) {
  const data = msg.plugindata?.data;
  if (data && typeof data === 'object' && (data.error_code !== undefined || data.error !== undefined)) {
    return new JanusError(data.error_code ?? 0, data.error ?? 'Plugin error', { plugin: msg.plugindata.plugin });
  }
  return undefined;
}

/**
 * One plugin handle. Events (CustomEvent):
 *   'message'  {data, jsep}  plugin events not answering one of our requests
 *   'webrtcup', 'media' {type, mid, receiving}, 'slowlink' {...}, 'hangup' {reason}, 'detached'
 */
export class PluginHandle extends EventTarget {
  constructor(session, id, plugin) {
    super();
    this.session = session;
    this.id = id;
    this.plugin = plugin;
    this.detached = false;
  }

  /**
   * Send a plugin request (with an optional jsep). Resolves with `{data, jsep}` from the plugin's
   * synchronous reply or from its event for this transaction; rejects with a JanusError carrying
   * the plugin's error_code.
   */
  async message(body, jsep) {
    const reply = await this.session._send({ janus: 'message', body, ...(jsep ? { jsep: { type: jsep.type, sdp: jsep.sdp } } : {}) },
      { handle: this.id });
    return { data: reply.plugindata?.data ?? {}, jsep: reply.jsep };
  }

  /** Send one ICE candidate (an RTCIceCandidate or its JSON); null = gathering completed. */
  trickle(candidate) {
    const c = candidate ? (candidate.toJSON ? candidate.toJSON() : candidate) : { completed: true };
    const payload = c.completed ? c : { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex };
    return this.session._send({ janus: 'trickle', candidate: payload }, { handle: this.id, ackIsFinal: true });
  }

  /** Send this PeerConnection's candidates as they come, then `completed`. */
  trickleFrom(pc) {
    pc.addEventListener('icecandidate', (e) => {
      if (this.detached) return;
      if (e.candidate && e.candidate.candidate) this.trickle(e.candidate).catch(() => {});
      else if (!e.candidate) this.trickle(null).catch(() => {});
    });
  }

  /** Ask the server to close this handle's PeerConnection. */
  hangup() { return this.session._send({ janus: 'hangup' }, { handle: this.id, ackIsFinal: true }); }

  async detach() {
    if (this.detached) return;
    try { await this.session._send({ janus: 'detach' }, { handle: this.id }); } catch { /* gone already */ }
    this._deliver({ janus: 'detached' });
  }

  _deliver(msg) {
    const emit = (type, detail = {}) => this.dispatchEvent(new CustomEvent(type, { detail }));
    switch (msg.janus) {
      case 'event': emit('message', { data: msg.plugindata?.data ?? {}, jsep: msg.jsep }); break;
      case 'webrtcup': emit('webrtcup'); break;
      case 'media': emit('media', { type: msg.type, mid: msg.mid, receiving: msg.receiving }); break;
      case 'slowlink': emit('slowlink', { uplink: msg.uplink, mid: msg.mid, media: msg.media, lost: msg.lost }); break;
      case 'hangup': emit('hangup', { reason: msg.reason }); break;
      case 'detached':
        if (this.detached) return;
        this.detached = true;
        this.session._forget(this.id);
        emit('detached');
        break;
      default: break;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Connecting
// ---------------------------------------------------------------------------------------------

/**
 * Create a session: WebSocket first, HTTP long poll if the socket cannot be opened.
 * @param {object} [options]
 * @param {object} [options.config] from loadConfig() (loaded when missing)
 * @param {'auto'|'websocket'|'http'} [options.transport] default: `?transport=` or 'auto'
 * @param {string} [options.apisecret]
 * @param {string} [options.token]
 */
export async function connect({ config, transport, apisecret, token } = {}) {
  config ??= await loadConfig();
  transport ??= new URLSearchParams(location.search).get('transport') ?? 'auto';
  if (transport === 'ws') transport = 'websocket';
  const errors = [];
  if (transport !== 'http' && config.wsURL && 'WebSocket' in globalThis) {
    const ws = new WebSocketTransport(config.wsURL);
    try {
      await ws.open();
      return await new JanusSession(ws, config, { apisecret, token })._create();
    } catch (error) {
      ws.close();
      if (transport === 'websocket' || !config.httpURL || (error instanceof JanusError && typeof error.code === 'number')) throw error;
      errors.push(error);
    }
  }
  if (transport !== 'websocket' && config.httpURL) {
    return new JanusSession(new HttpTransport(config.httpURL), config, { apisecret, token })._create();
  }
  throw errors[0] ?? new JanusError(ClientCode.UNREACHABLE, 'No API URL configured for this page');
}

/** GET <httpURL>/info (server_info), or over a short-lived WebSocket when there is no HTTP URL. */
export async function serverInfo(config) {
  config ??= await loadConfig();
  if (config.httpURL) {
    let r;
    try { r = await fetch(`${config.httpURL.replace(/\/+$/, '')}/info`, { cache: 'no-store' }); } catch {
      throw new JanusError(ClientCode.UNREACHABLE, `Cannot reach the server at ${config.httpURL}`);
    }
    if (!r.ok) throw new JanusError(ClientCode.UNREACHABLE, `The server answered HTTP ${r.status}`);
    return r.json();
  }
  const ws = new WebSocketTransport(config.wsURL);
  await ws.open();
  try { return await JanusSession.request(ws, { janus: 'info' }); } finally { ws.close(); }
}
