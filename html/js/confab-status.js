// Confab server status: fills any element marked [data-confab-status] from
// GET <httpURL>/info (Janus "server_info") and window.confabConfig (written by /config.js).
// ES module, no dependencies. Server data only ever reaches the page through textContent.

const DEFAULT_API = 'janus';   // next to the page, so it also works under a path prefix
const TIMEOUT_MS = 6000;

/** The client configuration from /config.js, or an empty object. Never throws. */
export function readConfig() {
  const raw = globalThis.confabConfig;
  if (!raw || typeof raw !== 'object') return {};
  const text = (value) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);
  return {
    httpURL: text(raw.httpURL),
    wsURL: text(raw.wsURL),
    serverName: text(raw.serverName),
    iceServers: Array.isArray(raw.iceServers) ? raw.iceServers.filter((s) => s && typeof s === 'object') : undefined,
  };
}

/** The URLs worth trying for server info: the configured API first, then the default path. */
export function infoURLs(config = readConfig()) {
  const urls = [];
  if (config.httpURL) {
    try {
      const base = new URL(config.httpURL, location.href);
      if (base.protocol === 'http:' || base.protocol === 'https:') {
        urls.push(base.href.replace(/\/+$/, '') + '/info');
      }
    } catch { /* not a URL: ignore */ }
  }
  const fallback = new URL(`${DEFAULT_API}/info`, document.baseURI).href;
  if (!urls.includes(fallback)) urls.push(fallback);
  return urls;
}

/** GET the Janus server_info object; throws with a readable message when every URL fails. */
export async function fetchServerInfo(urls = infoURLs()) {
  let lastError = new Error('no URL to try');
  for (const url of urls) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    try {
      const response = await fetch(url, {
        headers: { Accept: 'application/json' },
        cache: 'no-store',
        signal: controller.signal,
      });
      if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}`);
      const info = await response.json();
      if (!info || typeof info !== 'object') throw new Error(`${url} did not return a JSON object`);
      return { url, info };
    } catch (error) {
      lastError = error.name === 'AbortError' ? new Error(`${url} did not answer in time`) : error;
    } finally {
      clearTimeout(timer);
    }
  }
  throw lastError;
}

// ---- rendering ----

const str = (value) => (typeof value === 'string' || typeof value === 'number' ? String(value) : undefined);

function setField(root, name, value, { code = false } = {}) {
  const node = root.querySelector(`[data-field="${name}"]`);
  if (!node) return;
  node.replaceChildren();
  if (value instanceof Node) {
    node.append(value);
  } else if (code && value) {
    const el = document.createElement('code');
    el.textContent = value;
    node.append(el);
  } else {
    node.textContent = value ?? '—';
  }
}

function renderModules(root, name, modules, emptyText = 'None reported') {
  const list = root.querySelector(`[data-list="${name}"]`);
  if (!list) return;
  list.replaceChildren();
  const entries = modules && typeof modules === 'object' ? Object.entries(modules) : [];
  if (entries.length === 0) {
    const li = document.createElement('li');
    li.className = 'muted';
    li.textContent = emptyText;
    list.append(li);
    return;
  }
  entries.sort(([a], [b]) => a.localeCompare(b));
  for (const [id, details] of entries) {
    const info = details && typeof details === 'object' ? details : {};
    const li = document.createElement('li');
    const label = document.createElement('span');
    const title = document.createElement('span');
    title.className = 'module-name';
    title.textContent = str(info.name) ?? id;
    const ident = document.createElement('span');
    ident.className = 'module-id';
    ident.textContent = id;
    label.append(title, ident);
    li.append(label);
    const version = str(info.version_string) ?? str(info.version);
    if (version) {
      const v = document.createElement('span');
      v.className = 'module-version';
      v.textContent = `v${version}`;
      li.append(v);
    }
    list.append(li);
  }
}

/** ICE server URLs only: usernames and credentials are deliberately left out. */
function iceSummary(iceServers) {
  if (!iceServers) return 'Not provided';
  const urls = iceServers.flatMap((s) => (Array.isArray(s.urls) ? s.urls : [s.urls ?? s.url])).filter((u) => typeof u === 'string');
  if (urls.length === 0) return 'None (host candidates only)';
  const list = document.createElement('ul');
  list.className = 'ice-list';
  for (const url of urls) {
    const li = document.createElement('li');
    const code = document.createElement('code');
    code.textContent = url;
    li.append(code);
    list.append(li);
  }
  return list;
}

function setSummary(root, state, text) {
  const dot = root.querySelector('.status__dot');
  if (dot) dot.dataset.state = state;
  const label = root.querySelector('[data-status-text]');
  if (label) label.textContent = text;
}

function renderConfig(root, config) {
  setField(root, 'httpURL', config.httpURL ?? 'Not provided', { code: Boolean(config.httpURL) });
  setField(root, 'wsURL', config.wsURL ?? 'Not provided', { code: Boolean(config.wsURL) });
  setField(root, 'iceServers', iceSummary(config.iceServers));
}

function renderInfo(root, info, config) {
  const version = str(info.version_string) ?? str(info.version);
  setField(root, 'name', str(info.name));
  setField(root, 'version', version);
  setField(root, 'server-name', str(info['server-name']) ?? config.serverName);
  const timeout = Number(info['session-timeout']);
  setField(root, 'session-timeout', Number.isFinite(timeout) && timeout > 0 ? `${timeout} s` : timeout === 0 ? 'Never' : undefined);
  const auth = [];
  if (info.api_secret === true) auth.push('API secret');
  if (info.auth_token === true) auth.push('auth token');
  setField(root, 'auth', auth.length ? `Requires ${auth.join(' and ')}` : 'Open');
  renderModules(root, 'plugins', info.plugins);
  renderModules(root, 'transports', info.transports);
}

/** Refresh one status box. Resolves once it shows either the data or the error. */
export async function refreshStatus(root) {
  const button = root.querySelector('[data-status-refresh]');
  if (button) button.disabled = true;
  root.setAttribute('aria-busy', 'true');
  setSummary(root, 'pending', 'Checking the server…');
  const config = readConfig();
  renderConfig(root, config);
  try {
    const { info } = await fetchServerInfo(infoURLs(config));
    renderInfo(root, info, config);
    const name = str(info['server-name']) ?? config.serverName ?? str(info.name) ?? 'The server';
    const plugins = info.plugins && typeof info.plugins === 'object' ? Object.keys(info.plugins).length : 0;
    const configNote = globalThis.confabConfig ? '' : ' (client configuration missing)';
    setSummary(root, configNote ? 'warn' : 'ok',
      `${name} is up — ${plugins} plugin${plugins === 1 ? '' : 's'} loaded${configNote}. Checked at ${new Date().toLocaleTimeString()}.`);
  } catch (error) {
    setSummary(root, 'bad', `The server did not answer: ${error.message}`);
    renderModules(root, 'plugins', null, 'Unavailable');
    renderModules(root, 'transports', null, 'Unavailable');
  } finally {
    root.removeAttribute('aria-busy');
    if (button) button.disabled = false;
  }
}

function start() {
  for (const root of document.querySelectorAll('[data-confab-status]')) {
    root.querySelector('[data-status-refresh]')?.addEventListener('click', () => refreshStatus(root));
    refreshStatus(root);
  }
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', start, { once: true });
} else {
  start();
}
