// longctx web UI: talking to `longctx serve` (see docs/SERVER.md and docs/WEBUI.md).
// The API base URL is the page's own origin unless ?api=http://HOST:PORT names another server
// (development: that server needs --cors-origins). The API key lives in localStorage; a 401 asks
// the user for one (through the prompt function app.js installs) and retries the request.

const params = new URLSearchParams(location.search);
export const apiBase = (params.get('api') || '').replace(/\/+$/, '');

const KEY_STORE = 'longctx.apiKey';
let askKey = null;  // async (message, hadKey) => key string, or null when the user cancels

export function setKeyPrompt(fn) { askKey = fn; }
export function getKey() { return localStorage.getItem(KEY_STORE) || ''; }
export function setKey(key) {
  if (key) localStorage.setItem(KEY_STORE, key); else localStorage.removeItem(KEY_STORE);
}

// An error of the server ({"error": {"message", "type", "code", ...}}) or of the connection.
export class ApiError extends Error {
  constructor(status, error) {
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.type = error.type || '';
    this.code = error.code;
    this.detail = error;  // the whole error object (n_prompt_tokens, n_ctx, ...)
  }
}

async function errorOf(res) {
  let body = null;
  try { body = await res.json(); } catch { /* not JSON */ }
  const e = body && typeof body.error === 'object' && body.error ? body.error
          : { message: `HTTP ${res.status} ${res.statusText}` };
  return new ApiError(res.status, e);
}

// fetch() with the key; a 401 asks for a key (again) and retries until the user cancels.
export async function request(path, opts = {}) {
  for (;;) {
    const headers = { ...(opts.headers || {}) };
    const key = getKey();
    if (key) headers.Authorization = 'Bearer ' + key;
    const res = await fetch(apiBase + path, { ...opts, headers });
    if (res.status !== 401) return res;
    const err = await errorOf(res);
    const next = askKey ? await askKey(err.message, !!key) : null;
    if (next === null || next === undefined) throw err;
    setKey(next);
  }
}

export async function getJson(path) {
  const res = await request(path);
  if (!res.ok) throw await errorOf(res);
  return res.json();
}

export async function postJson(path, body, signal) {
  const res = await request(path, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body), signal,
  });
  if (!res.ok) throw await errorOf(res);
  return res.json();
}

export async function deleteJson(path) {
  const res = await request(path, { method: 'DELETE' });
  if (!res.ok) throw await errorOf(res);
  return res.json();
}

// Tokens of a text as the model's tokenizer counts them (POST /tokenize); memoized by text.
const tokenMemo = new Map();
export async function countTokens(text) {
  if (!text) return 0;
  if (tokenMemo.has(text)) return tokenMemo.get(text);
  const r = await postJson('/tokenize', { content: text });
  const n = Array.isArray(r.tokens) ? r.tokens.length : 0;
  if (tokenMemo.size > 500) tokenMemo.clear();
  tokenMemo.set(text, n);
  return n;
}

// POST /v1/chat/completions with stream: true; calls onEvent(json) for each SSE data chunk and
// onBatch() after each network read (the caller renders then). Resolves at data: [DONE]; rejects
// with ApiError on an HTTP error, an error chunk or a stream that ends early, and with the
// AbortError of fetch when `signal` aborts (the server then cancels the generation).
export async function streamChat(body, signal, onEvent, onBatch) {
  const res = await request('/v1/chat/completions', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body), signal,
  });
  if (!res.ok) throw await errorOf(res);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  let data = [];  // the data: lines of the event being read
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      let line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line === '') {  // end of an event
        if (!data.length) continue;
        const payload = data.join('\n');
        data = [];
        if (payload === '[DONE]') { onBatch(); return; }
        let ev;
        try { ev = JSON.parse(payload); } catch { continue; }
        if (ev && ev.error) throw new ApiError(ev.error.code || 500, ev.error);
        onEvent(ev);
      } else if (line.startsWith('data:')) {
        data.push(line.slice(5).replace(/^ /, ''));
      }
      // Lines starting with ':' are keep-alives / progress comments; other fields are unused.
    }
    onBatch();
  }
  throw new ApiError(0, { message: 'the server closed the stream before its end' });
}
