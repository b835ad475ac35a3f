// longctx web UI: the chat page. Conversations live in localStorage; replies stream from
// POST /v1/chat/completions (SSE) with a Stop button; user messages can be edited and resent,
// the last reply regenerated; Qwen3's thinking shows in a collapsed <details>; a prefill progress
// bar follows prompt_progress; settings per conversation (or saved as the defaults). The context
// gauge is gauge.js, server access api.js, safe Markdown markdown.js, conversations remembered by
// the server (serve --memory: the toggle, compaction status, the facts panel) memory.js.
import * as api from './api.js';
import * as gauge from './gauge.js';
import { renderMarkdown } from './markdown.js';
import * as memory from './memory.js';

const { $, el, fmt } = gauge;

// ---------------------------------------------------------------- state and storage
const STORE = 'longctx.conversations';
const CURRENT = 'longctx.current';
const DEFAULTS = 'longctx.defaults';
const FACTORY = {
  system: '', temperature: '', top_p: '', top_k: '', max_tokens: '', thinking: true,
  remember: true,  // remembered on the server when it has memory (serve --memory)
};

function load(key, fallback) {
  try { return JSON.parse(localStorage.getItem(key)) ?? fallback; } catch { return fallback; }
}

const state = {
  convs: load(STORE, []),                        // newest first
  currentId: localStorage.getItem(CURRENT),
  defaults: { ...FACTORY, ...load(DEFAULTS, {}) },
  // memory: the plan's figures (/props "memory"); convMemory: /props "conversation_memory".
  server: { model: '', nCtx: 0, slots: 0, memory: null, convMemory: null, ok: false },
  active: null,       // the running generation: { conv, msg, controller, t0, tFirst, tLast, ... }
  draftTokens: 0,     // tokens of the text in the composer
  systemTokens: 0,    // tokens of the current conversation's system prompt
};
const views = new WeakMap();  // message object -> its DOM elements

function save() {
  try {
    localStorage.setItem(STORE, JSON.stringify(state.convs));
    localStorage.setItem(CURRENT, state.currentId || '');
  } catch (e) {
    showBanner(`Could not save the conversations in this browser: ${e.message}`);
  }
}

function newConversation() {
  const conv = {
    id: `c${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`,
    title: 'New conversation', titleSet: false, created: Date.now(), updated: Date.now(),
    messages: [], settings: { ...state.defaults }, last: null,
  };
  state.convs.unshift(conv);
  state.currentId = conv.id;
  save();
  return conv;
}

function current() {
  return state.convs.find((c) => c.id === state.currentId) || state.convs[0] || newConversation();
}

const settingsOf = (conv) => ({ ...FACTORY, ...conv.settings });
// Whether the server remembers this conversation: it has memory and the conversation's toggle is
// on. The conversation's name on the server is the page's id of it.
const remembered = (conv) => !!(state.server.convMemory && state.server.convMemory.enabled &&
  settingsOf(conv).remember);

// ---------------------------------------------------------------- small UI helpers
function button(text, cls, onClick, title) {
  const b = el('button', `btn ${cls || ''}`.trim(), text);
  b.type = 'button';
  if (title) b.title = title;
  b.addEventListener('click', onClick);
  return b;
}

function showBanner(text) {
  const b = $('banner');
  b.textContent = text;
  b.hidden = !text;
}

const atBottom = () => {
  const box = $('messages');
  return box.scrollHeight - box.scrollTop - box.clientHeight < 60;
};
const scrollDown = () => { const box = $('messages'); box.scrollTop = box.scrollHeight; };

// ---------------------------------------------------------------- API key prompt
let keyPromise = null;  // one dialog at a time; concurrent 401s share it
function promptKey(message, hadKey) {
  if (keyPromise) return keyPromise;
  const dlg = $('key-dialog');
  $('key-message').textContent = hadKey
    ? `The server refused the key (${message}). Enter the right one.`
    : 'This server requires an API key.';
  $('key-input').value = '';
  keyPromise = new Promise((resolve) => {
    const done = () => {
      dlg.removeEventListener('close', done);
      const key = $('key-input').value.trim();
      keyPromise = null;
      resolve(dlg.returnValue === 'ok' && key ? key : null);
      updateKeyState();
    };
    dlg.addEventListener('close', done);
    dlg.returnValue = '';
    dlg.showModal();
    $('key-input').focus();
  });
  return keyPromise;
}

function updateKeyState() {
  $('key-state').textContent = api.getKey()
    ? 'A key is stored in this browser and sent with every request.'
    : 'No key stored (the server asks for one if it needs it).';
}

// ---------------------------------------------------------------- conversation list
function renderConvList() {
  const ul = $('conv-list');
  ul.replaceChildren();
  for (const c of state.convs) {
    const li = el('li', `conv${c.id === state.currentId ? ' active' : ''}`);
    li.dataset.id = c.id;
    const open = el('button', 'conv-title', c.title);
    open.type = 'button';
    open.title = c.title;
    open.addEventListener('click', () => selectConversation(c.id));
    const rename = button('✎', 'icon small conv-rename', () => startRename(li, c), 'Rename');
    const del = button('✕', 'icon small conv-delete', () => deleteConversation(c), 'Delete');
    li.append(open, rename, del);
    ul.append(li);
  }
}

function startRename(li, conv) {
  const input = el('input', 'conv-rename-input');
  input.value = conv.title;
  li.replaceChildren(input);
  input.focus();
  input.select();
  let finished = false;
  const finish = (keep) => {
    if (finished) return;
    finished = true;
    const t = input.value.trim();
    if (keep && t) { conv.title = t; conv.titleSet = true; save(); }
    renderConvList();
  };
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') finish(true);
    if (e.key === 'Escape') finish(false);
  });
  input.addEventListener('blur', () => finish(true));
}

function deleteConversation(conv) {
  const onServer = remembered(conv);
  if (!confirm(`Delete "${conv.title}"?${onServer ? ' (Also what the server remembers of it.)' : ''}`)) return;
  if (state.active && state.active.conv === conv) state.active.controller.abort();
  if (onServer) {
    memory.forget(conv.id).catch((e) => {
      if (!(e instanceof api.ApiError && e.status === 404)) showBanner(`The server kept the conversation: ${e.message}`);
    });
  }
  state.convs = state.convs.filter((c) => c !== conv);
  if (state.currentId === conv.id) state.currentId = state.convs[0]?.id || null;
  save();
  showConversation();
}

function selectConversation(id) {
  state.currentId = id;
  save();
  showConversation();
  document.body.classList.remove('sidebar-open');
  $('scrim').hidden = true;
}

// Everything that depends on the current conversation.
function showConversation() {
  current();
  renderConvList();
  renderMessages();
  fillSettings();
  refreshSystemTokens();
  renderGauge();
  showMemoryUi();
}

// ---------------------------------------------------------------- messages
function renderMessages() {
  const box = $('messages');
  box.replaceChildren();
  const conv = current();
  if (!conv.messages.length) {
    box.append(el('div', 'empty',
      'Send a message to start. The bar above shows how much of the context (n_ctx) each part of ' +
      'the conversation takes, how much was reused from the cache, and how fast the model ran.'));
  }
  conv.messages.forEach((m, i) => {
    const v = messageView(conv, m, i);
    box.append(v.el);
    updateMessage(m, !(state.active && state.active.msg === m));
  });
  scrollDown();
}

// Builds the elements of one message once; updateMessage() fills them.
function messageView(conv, m, index) {
  const v = {};
  v.el = el('article', `msg ${m.role}`);
  v.el.dataset.index = index;
  const head = el('div', 'msg-head');
  head.append(el('span', 'role', m.role === 'user' ? 'You' : 'Assistant'));
  v.stats = el('span', 'msg-stats');
  head.append(v.stats);
  v.tools = el('span', 'msg-tools');
  head.append(v.tools);
  v.el.append(head);
  if (m.role === 'assistant') {
    v.progress = el('div', 'prefill');
    v.progress.hidden = true;
    v.progressBar = el('div', 'prefill-bar');
    v.progressFill = el('div', 'prefill-fill');
    v.progressBar.append(v.progressFill);
    v.progressLabel = el('span', 'prefill-label');
    v.progress.append(v.progressBar, v.progressLabel);
    v.compacting = el('div', 'compacting', 'compacting: writing the summary…');
    v.compacting.hidden = true;
    v.thinking = el('details', 'thinking');  // collapsed unless the user opens it
    v.thinking.hidden = true;
    v.summary = el('summary', '', 'Thinking…');
    v.reasoning = el('div', 'reasoning');
    v.thinking.append(v.summary, v.reasoning);
    v.el.append(v.compacting, v.progress, v.thinking);
  }
  v.content = el('div', m.role === 'user' ? 'content plain' : 'content md');
  v.error = el('div', 'msg-error');
  v.error.hidden = true;
  v.el.append(v.content, v.error);
  views.set(m, v);
  return v;
}

function toolsFor(conv, m, v) {
  v.tools.replaceChildren();
  const busy = !!state.active;
  const i = conv.messages.indexOf(m);
  if (m.role === 'user' && !busy) {
    v.tools.append(button('Edit', 'small edit', () => startEdit(conv, m), 'Edit and resend (drops what follows)'));
  }
  if (m.role === 'assistant' && !busy) {
    if (m.content) {
      v.tools.append(button('Copy', 'small copy', (e) => {
        navigator.clipboard?.writeText(m.content).then(() => { e.target.textContent = 'Copied'; });
      }));
    }
    if (i === conv.messages.length - 1) {
      v.tools.append(button('Regenerate', 'small regenerate', () => regenerate(conv), 'Generate this reply again'));
    }
  }
}

// Fills a message's elements from the message (final: the text is complete).
function updateMessage(m, final) {
  const v = views.get(m);
  if (!v) return;
  const conv = current();
  if (m.role === 'user') {
    v.content.textContent = m.content;
  } else {
    const a = state.active && state.active.msg === m ? state.active : null;
    if (m.reasoning) {
      v.thinking.hidden = false;
      v.reasoning.textContent = m.reasoning;
      const thinkingNow = a && !m.content;
      v.summary.textContent = thinkingNow ? 'Thinking…'
        : m.thinkSeconds ? `Thinking (${m.thinkSeconds.toFixed(1)} s)` : 'Thinking';
    }
    if (m.content) renderMarkdown(v.content, m.content, final);
    else v.content.replaceChildren(a && !m.reasoning ? el('span', 'waiting', '…') : '');
    // A remembered conversation's summary being written before the prompt (polled).
    v.compacting.hidden = !(a && !a.tFirst && a.compacting);
    // Prefill progress: while prompt_progress chunks come and no token yet.
    const p = a && !a.tFirst && a.progress;
    v.progress.hidden = !p;
    if (p) {
      const f = p.total > 0 ? p.processed / p.total : 0;
      v.progressFill.style.width = `${(100 * f).toFixed(1)}%`;
      v.progressLabel.textContent = `Prefill ${fmt(p.processed)} / ${fmt(p.total)} tokens (${(100 * f).toFixed(0)}%)`;
    }
    v.stats.textContent = a ? 'generating…' : statsText(m);
    v.el.classList.toggle('streaming', !!a);
  }
  v.error.hidden = !m.error;
  v.error.textContent = m.error || '';
  toolsFor(conv, m, v);
}

function statsText(m) {
  const parts = [];
  if (m.usage) parts.push(`${fmt(m.usage.completion_tokens)} tokens`);
  if (m.decodeTps) parts.push(`${m.decodeTps.toFixed(1)} t/s`);
  if (m.compacted) parts.push(`earlier turns summarised (summary v${m.compacted})`);
  if (m.stopped) parts.push('stopped');
  else if (m.finish === 'length') parts.push('max tokens reached');
  return parts.join(' · ');
}

// ---------------------------------------------------------------- edit / regenerate / send
function startEdit(conv, m) {
  const v = views.get(m);
  const box = el('div', 'edit-box');
  const ta = el('textarea', 'edit-input');
  ta.value = m.content;
  ta.rows = Math.min(12, Math.max(3, m.content.split('\n').length + 1));
  const resend = () => {
    const text = ta.value.trim();
    if (!text || state.active) return;
    conv.messages.splice(conv.messages.indexOf(m));  // this message and everything after it
    conv.messages.push({ role: 'user', content: text });
    generate(conv);
  };
  ta.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); resend(); }
    if (e.key === 'Escape') renderMessages();
  });
  box.append(ta, el('div', 'row end'));
  box.lastChild.append(button('Cancel', 'edit-cancel', () => renderMessages()),
    button('Send', 'primary edit-send', resend));
  v.content.replaceChildren(box);
  v.tools.replaceChildren();
  ta.focus();
}

function regenerate(conv) {
  if (state.active) return;
  const last = conv.messages[conv.messages.length - 1];
  if (last && last.role === 'assistant') conv.messages.pop();
  generate(conv);
}

function send(text) {
  if (state.active || !text) return;
  const conv = current();
  conv.messages.push({ role: 'user', content: text });
  if (!conv.titleSet && conv.messages.length === 1) conv.title = text.replace(/\s+/g, ' ').slice(0, 48);
  $('input').value = '';
  state.draftTokens = 0;
  $('draft-tokens').textContent = '';
  generate(conv);
}

// What the server gets: the system prompt, then the turns (assistant turns that produced no
// text, e.g. an error, are left out; thinking is not sent back, as Qwen3's template drops it).
function requestMessages(conv, upTo) {
  const s = settingsOf(conv);
  const out = s.system ? [{ role: 'system', content: s.system }] : [];
  for (const m of conv.messages.slice(0, upTo)) {
    if (m.role === 'assistant' && !m.content) continue;
    out.push({ role: m.role, content: m.content });
  }
  return out;
}

function requestBody(conv, messages) {
  const s = settingsOf(conv);
  const body = {
    messages, stream: true, stream_options: { include_usage: true }, return_progress: true,
    chat_template_kwargs: { enable_thinking: !!s.thinking },
  };
  if (state.server.model) body.model = state.server.model;
  // The server holds the conversation; the whole history still goes with each request
  // ("history": "full"), so the server keeps exactly the page's turns: an edit or a regeneration
  // replaces the stored turns from the first one that differs, the first message included.
  if (remembered(conv)) {
    body.conversation = conv.id;
    body.history = 'full';
  }
  const num = (k, name, int) => {
    const v = String(s[k] ?? '').trim();
    if (v !== '' && Number.isFinite(+v)) body[name] = int ? Math.round(+v) : +v;
  };
  num('temperature', 'temperature');
  num('top_p', 'top_p');
  num('top_k', 'top_k', true);
  num('max_tokens', 'max_tokens', true);
  return body;
}

async function generate(conv) {
  const msg = { role: 'assistant', content: '', reasoning: '' };
  const sent = requestMessages(conv, conv.messages.length);
  conv.messages.push(msg);
  conv.updated = Date.now();
  // Most recently used conversation first.
  state.convs = [conv, ...state.convs.filter((c) => c !== conv)];
  const remember = remembered(conv);
  const a = {
    conv, msg, sent, controller: new AbortController(), t0: performance.now(), tFirst: 0, tLast: 0,
    progress: null, timer: 0, lastRender: 0, gap: 16, compacting: false,
  };
  state.active = a;
  setBusy(true);
  if (conv === current()) renderMessages();
  renderConvList();
  let stopPoll = () => {};
  try {
    if (remember) {
      stopPoll = memory.pollCompacting(conv.id, () => state.active === a && !a.tFirst, (on) => {
        if (a.compacting !== on) { a.compacting = on; scheduleRender(a); }
      });
    }
    await api.streamChat(requestBody(conv, sent), a.controller.signal, (ev) => onChunk(a, ev),
      () => scheduleRender(a));
  } catch (e) {
    if (e.name === 'AbortError') msg.stopped = true;
    else msg.error = describeError(e, conv);
  }
  stopPoll();
  a.compacting = false;
  clearTimeout(a.timer);
  a.tEnd = performance.now();
  finishStats(a);
  if (msg.memory && msg.memory.compaction) msg.compacted = msg.memory.compaction.summary_version;
  state.active = null;
  setBusy(false);
  updateMessage(msg, true);
  if (conv === current()) renderMessages();
  save();
  if (msg.usage && msg.memory) {  // the server assembled the prompt: its report has the parts
    conv.last = gauge.memoryParts(msg, state.server.nCtx);
    delete msg.memory;  // kept in conv.last only
  } else if (msg.usage) {
    try {
      conv.last = await gauge.measureParts(sent, msg, state.server.nCtx);
    } catch (e) {
      showBanner(`Could not count tokens: ${e.message}`);
    }
  }
  save();
  renderGauge();
  if (conv === current() && !$('facts-panel').hidden) refreshFacts();  // new summary, facts
}

// One SSE chunk of the stream.
function onChunk(a, ev) {
  const now = performance.now();
  if (ev.prompt_progress) a.progress = ev.prompt_progress;
  const ch = Array.isArray(ev.choices) ? ev.choices[0] : null;
  if (ch) {
    const d = ch.delta || {};
    if (d.reasoning_content) {
      a.msg.reasoning += d.reasoning_content;
      if (!a.tFirst) a.tFirst = now;
      a.tLast = now;
    }
    if (d.content) {
      if (a.msg.reasoning && !a.msg.content) a.msg.thinkSeconds = (now - (a.tFirst || now)) / 1000;
      a.msg.content += d.content;
      if (!a.tFirst) a.tFirst = now;
      a.tLast = now;
    }
    if (ch.finish_reason) a.msg.finish = ch.finish_reason;
  }
  if (ev.usage) a.msg.usage = ev.usage;
  if (ev.memory) a.msg.memory = ev.memory;  // serve --memory's report, a chunk before [DONE]
  if (ev.timings || ev.usage?.timings) a.msg.timings = ev.timings || ev.usage.timings;
}

// Renders at most every `gap` ms (more when rendering is slow, e.g. a long Markdown reply).
function scheduleRender(a) {
  if (a.timer || state.active !== a) return;
  const wait = Math.max(0, a.lastRender + a.gap - performance.now());
  a.timer = setTimeout(() => {
    a.timer = 0;
    if (state.active !== a) return;
    const stick = atBottom();
    const t = performance.now();
    updateMessage(a.msg, false);
    a.lastRender = performance.now();
    a.gap = Math.min(400, Math.max(16, 4 * (a.lastRender - t)));
    if (stick) scrollDown();
  }, wait);
}

function finishStats(a) {
  const m = a.msg;
  const u = m.usage;
  const t = m.timings;
  if (t && Number.isFinite(t.predicted_per_second)) {  // the server's own timings
    m.prefillTps = t.prompt_per_second;
    m.decodeTps = t.predicted_per_second;
    m.speedSource = 'server';
  } else if (u && a.tFirst) {  // measured here: first token for the prefill, then the decode
    const cached = u.prompt_tokens_details?.cached_tokens || 0;
    const pre = (a.tFirst - a.t0) / 1000;
    const dec = (a.tLast - a.tFirst) / 1000;
    m.prefillTps = pre > 0 ? (u.prompt_tokens - cached) / pre : null;
    m.decodeTps = dec > 0 && u.completion_tokens > 1 ? (u.completion_tokens - 1) / dec : null;
    m.speedSource = 'browser';
  }
}

function describeError(e, conv) {
  if (e instanceof api.ApiError) {
    if (e.type === 'exceed_context_size_error') {
      const d = e.detail;
      conv.last = { overflow: true, prompt: d.n_prompt_tokens, nCtx: d.n_ctx };
      return `The conversation no longer fits the context: the prompt is ${fmt(d.n_prompt_tokens)} ` +
        `tokens, the context holds ${fmt(d.n_ctx)}. Shorten the message or the system prompt, edit ` +
        `an earlier message, or start a new conversation. (${e.message})`;
    }
    if (e.status === 401) return `API key needed: ${e.message}`;
    return `Error${e.status ? ` ${e.status}` : ''}: ${e.message}`;
  }
  return `Cannot reach the server${api.apiBase ? ` at ${api.apiBase}` : ''}: ${e.message}`;
}

function setBusy(busy) {
  $('send').hidden = busy;
  $('stop').hidden = !busy;
  $('stop').disabled = !busy;
  document.body.classList.toggle('busy', busy);
}

const renderGauge = () => {
  gauge.renderGauge(current().last, state.server.nCtx, state.systemTokens, state.draftTokens);
  gauge.renderConvMemory(current().last);
};
const renderMemory = () => gauge.renderMemory(state.server.memory, state.server.ok);

let sysTimer = 0;
function refreshSystemTokens() {
  clearTimeout(sysTimer);
  sysTimer = setTimeout(async () => {
    try { state.systemTokens = await api.countTokens(settingsOf(current()).system); } catch { state.systemTokens = 0; }
    renderGauge();
  }, 250);
}

let draftTimer = 0;
function onDraftInput() {
  clearTimeout(draftTimer);
  draftTimer = setTimeout(async () => {
    const text = $('input').value;
    try { state.draftTokens = text.trim() ? await api.countTokens(text) : 0; } catch { return; }
    $('draft-tokens').textContent = state.draftTokens ? `${fmt(state.draftTokens)} tokens` : '';
    renderGauge();
  }, 300);
}

// ---------------------------------------------------------------- settings panel
const FIELDS = [['set-system', 'system'], ['set-temperature', 'temperature'], ['set-top-p', 'top_p'],
  ['set-top-k', 'top_k'], ['set-max-tokens', 'max_tokens']];

function fillSettings() {
  const s = settingsOf(current());
  for (const [id, k] of FIELDS) $(id).value = s[k] ?? '';
  $('set-thinking').checked = !!s.thinking;
  $('set-remember').checked = !!s.remember;
}

// ---------------------------------------------------------------- memory on the server
// The toggle (settings), the Facts button and panel follow the server and the conversation.
function showMemoryUi() {
  const on = !!(state.server.convMemory && state.server.convMemory.enabled);
  $('memory-settings').hidden = !on;
  $('sidebar-foot').textContent = on
    ? 'Conversations are stored in this browser; remembered ones on the server too.'
    : 'Conversations are stored in this browser only.';
  const conv = current();
  $('toggle-facts').hidden = !remembered(conv);
  if (!remembered(conv)) showPanel('facts-panel', false);
  else if (!$('facts-panel').hidden) refreshFacts();
}

const refreshFacts = () => memory.renderFacts(remembered(current()) ? current().id : null);

// Opens or closes one of the side panels (settings, facts); one at a time.
function showPanel(id, open) {
  for (const [panel, btn] of [['settings', 'toggle-settings'], ['facts-panel', 'toggle-facts']]) {
    const o = panel === id ? open : (open ? false : !$(panel).hidden);
    $(panel).hidden = !o;
    $(btn).setAttribute('aria-expanded', String(o));
  }
  if (id === 'facts-panel' && open) refreshFacts();
}

function bindSettings() {
  for (const [id, k] of FIELDS) {
    $(id).addEventListener('input', () => {
      const conv = current();
      conv.settings = { ...settingsOf(conv), [k]: $(id).value };
      save();
      if (k === 'system') refreshSystemTokens();
    });
  }
  $('set-thinking').addEventListener('change', () => {
    const conv = current();
    conv.settings = { ...settingsOf(conv), thinking: $('set-thinking').checked };
    save();
  });
  $('set-remember').addEventListener('change', () => {
    const conv = current();
    conv.settings = { ...settingsOf(conv), remember: $('set-remember').checked };
    save();
    showMemoryUi();
  });
  $('save-defaults').addEventListener('click', () => {
    state.defaults = settingsOf(current());
    localStorage.setItem(DEFAULTS, JSON.stringify(state.defaults));
    $('save-defaults').textContent = 'Saved';
    setTimeout(() => { $('save-defaults').textContent = 'Save as default for new conversations'; }, 1200);
  });
  $('reset-settings').addEventListener('click', () => {
    current().settings = { ...state.defaults };
    save();
    fillSettings();
    refreshSystemTokens();
    showMemoryUi();
  });
  $('toggle-settings').addEventListener('click', () => showPanel('settings', $('settings').hidden));
  $('close-settings').addEventListener('click', () => showPanel('settings', false));
  $('toggle-facts').addEventListener('click', () => showPanel('facts-panel', $('facts-panel').hidden));
  $('close-facts').addEventListener('click', () => showPanel('facts-panel', false));
  memory.bindFacts(() => (remembered(current()) ? current().id : null));
  $('change-key').addEventListener('click', async () => {
    const k = await promptKey('', false);
    if (k) { api.setKey(k); updateKeyState(); connect(); }
  });
  $('forget-key').addEventListener('click', () => { api.setKey(''); updateKeyState(); });
}

// ---------------------------------------------------------------- start-up
let connectTimer = 0;
async function connect() {
  // /v1/models needs no key: the model's name shows while the page may still ask for one.
  try {
    const models = await api.getJson('/v1/models');
    const m = models.data && models.data[0];
    if (m) {
      state.server.model = m.id;
      $('model-name').textContent = m.id;
      if (m.meta && m.meta.n_ctx) state.server.nCtx = m.meta.n_ctx;
    }
  } catch { /* /props below says what is wrong */ }
  try {
    const props = await api.getJson('/props');
    state.server.nCtx = props.n_ctx ?? props.default_generation_settings?.n_ctx ?? state.server.nCtx;
    state.server.slots = props.total_slots ?? 0;
    state.server.memory = props.memory ?? null;
    state.server.convMemory = props.conversation_memory ?? null;
    state.server.model = state.server.model || props.model_alias || '';
    state.server.ok = true;
    $('model-name').textContent = state.server.model || 'model';
    $('model-info').textContent = `context ${fmt(state.server.nCtx)} tokens per sequence · ` +
      `${fmt(state.server.slots)} sequence${state.server.slots === 1 ? '' : 's'}`;
    $('model-info').dataset.nCtx = state.server.nCtx;
    showBanner('');
    refreshSystemTokens();
  } catch (e) {
    if (!state.server.model) $('model-name').textContent = 'not connected';
    if (e instanceof api.ApiError && e.status === 401) {
      showBanner('This server needs an API key: set one under Settings.');
    } else {  // down, or restarting and still loading its model (503): try again shortly
      showBanner(`Cannot reach the server${api.apiBase ? ` at ${api.apiBase}` : ''}: ${e.message}. Retrying…`);
      clearTimeout(connectTimer);
      connectTimer = setTimeout(connect, 2000);
    }
  }
  renderMemory();
  renderGauge();
  showMemoryUi();
}

function init() {
  api.setKeyPrompt(promptKey);
  $('key-cancel').addEventListener('click', () => $('key-dialog').close('cancel'));
  $('new-conv').addEventListener('click', () => {
    const c = current();
    if (c.messages.length || state.active) newConversation();
    showConversation();
    $('input').focus();
  });
  $('toggle-sidebar').addEventListener('click', () => {
    const narrow = window.matchMedia('(max-width: 820px)').matches;
    if (narrow) {
      const open = !document.body.classList.contains('sidebar-open');
      document.body.classList.toggle('sidebar-open', open);
      $('scrim').hidden = !open;
    } else {
      document.body.classList.toggle('sidebar-hidden');
    }
  });
  $('scrim').addEventListener('click', () => {
    document.body.classList.remove('sidebar-open');
    $('scrim').hidden = true;
  });
  $('composer').addEventListener('submit', (e) => {
    e.preventDefault();
    send($('input').value.trim());
  });
  $('input').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send($('input').value.trim());
    }
  });
  $('input').addEventListener('input', onDraftInput);
  $('context-toggle').addEventListener('click', () => {
    const open = $('context').classList.toggle('expanded');
    $('context-toggle').setAttribute('aria-expanded', String(open));
  });
  $('stop').addEventListener('click', () => { if (state.active) state.active.controller.abort(); });
  bindSettings();
  updateKeyState();
  // A conversation left mid-reply by a reload: keep its text, mark it stopped.
  for (const c of state.convs) {
    for (const m of c.messages) if (m.role === 'assistant' && !m.usage && !m.error && !m.stopped && !m.finish) m.stopped = true;
  }
  showConversation();
  setBusy(false);
  connect();
  document.body.dataset.ready = '1';
}

init();
