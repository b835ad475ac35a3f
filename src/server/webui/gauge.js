// longctx web UI: the context gauge. A bar of n_ctx (the context of one sequence) split into
// what the last request used: the system prompt, the earlier conversation, the new message (each
// counted with POST /tokenize), the chat template's own tokens (the rest of usage.prompt_tokens)
// and the reply (usage.completion_tokens), plus the draft in the composer; with cached vs
// prefilled prompt tokens, prefill / decode tokens/s, and the server's memory plan. For a
// conversation remembered by the server (serve --memory) the parts are the sections of the
// prompt the server assembled, from the response's memory report, and the reply's reserve.
import * as api from './api.js';

export const $ = (id) => document.getElementById(id);
export const fmt = (n) => (n === null || n === undefined || Number.isNaN(n) ? '–' : Math.round(n).toLocaleString('en-US'));
export const pct = (n, total) => (total > 0 ? `${((100 * n) / total).toFixed(n / total < 0.1 ? 1 : 0)}%` : '');

export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// After a reply: count the tokens of each part of what was sent (`sent`: the request's messages);
// the rest of prompt_tokens is the chat template's own tokens (role markers, the generation
// prompt). Returns the conversation's `last` record that renderGauge() draws.
export async function measureParts(sent, msg, nCtx) {
  const u = msg.usage;
  const sys = sent[0] && sent[0].role === 'system' ? sent[0].content : '';
  const turns = sys ? sent.slice(1) : sent;
  const latest = turns.length ? turns[turns.length - 1].content : '';
  const counts = await Promise.all([api.countTokens(sys), api.countTokens(latest),
    ...turns.slice(0, -1).map((m) => api.countTokens(m.content))]);
  const [system, newMsg, ...earlier] = counts;
  const history = earlier.reduce((x, y) => x + y, 0);
  return {
    prompt: u.prompt_tokens, completion: u.completion_tokens,
    cached: u.prompt_tokens_details?.cached_tokens ?? msg.timings?.cache_n ?? 0,
    system, history, latest: newMsg,
    template: Math.max(0, u.prompt_tokens - system - history - newMsg),
    prefillTps: msg.prefillTps, decodeTps: msg.decodeTps, speedSource: msg.speedSource, nCtx,
  };
}

// After a reply of a remembered conversation: the parts from the server's memory report
// (msg.memory: sections in tokens, budget = ctx - the reply's reserve); the rest of prompt_tokens
// is the chat template's own tokens.
export function memoryParts(msg, nCtx) {
  const r = msg.memory;
  const u = msg.usage;
  const s = r.sections || {};
  const n = (k) => (Number.isFinite(s[k]) ? s[k] : 0);
  const sections = n('system') + n('facts') + n('summary') + n('recent') + n('recall') + n('message');
  const reserve = Math.max(0, (r.ctx || nCtx) - (r.budget || 0));
  const cached = u.prompt_tokens_details?.cached_tokens ?? msg.timings?.cache_n ?? 0;
  return {
    memory: r, prompt: u.prompt_tokens, completion: u.completion_tokens,
    cached: Number.isFinite(r.reused) ? r.reused : cached,
    system: n('system'), facts: n('facts'), summary: n('summary'), recent: n('recent'),
    recall: n('recall'), latest: n('message'),
    template: Math.max(0, u.prompt_tokens - sections),
    reserve: Math.max(0, reserve - u.completion_tokens), reserveTotal: reserve,
    prefillTps: msg.prefillTps, decodeTps: msg.decodeTps, speedSource: msg.speedSource,
    nCtx: r.ctx || nCtx,
  };
}

const PARTS = [
  ['system', 'System prompt'], ['history', 'Earlier conversation'], ['latest', 'New message'],
  ['template', 'Chat template'], ['reply', 'Reply'], ['draft', 'Draft (not sent)'],
];
// A remembered conversation: the memory report's sections; "reserve" is what the reply left of
// the tokens kept free for it (not counted as used).
const MEMORY_PARTS = [
  ['system', 'System prompt'], ['facts', 'Pinned facts'], ['summary', 'Summary'],
  ['recent', 'Recent turns'], ['recall', 'Recalled turns'], ['latest', 'New message'],
  ['template', 'Chat template'], ['reply', 'Reply'], ['reserve', 'Reply reserve left'],
  ['draft', 'Draft (not sent)'],
];
const UNUSED = new Set(['draft', 'reserve']);

// Draws the gauge, its legend and the cache / speed line. L: the conversation's last request
// (measureParts(), or {overflow, prompt, nCtx} after a context error, or null); systemTokens and
// draftTokens: the current system prompt and composer text.
export function renderGauge(L, nCtx, systemTokens, draftTokens) {
  nCtx = nCtx || (L && L.nCtx) || 0;
  const gauge = $('gauge');
  const legend = $('gauge-legend');
  gauge.replaceChildren();
  legend.replaceChildren();
  gauge.dataset.nCtx = nCtx;
  gauge.classList.toggle('overflow', !!(L && L.overflow));
  const mem = !!(L && L.memory && !L.overflow);
  const parts = mem ? MEMORY_PARTS : PARTS;
  gauge.classList.toggle('remembered', mem);
  let sizes;
  if (L && L.overflow) {
    sizes = { latest: L.prompt };
  } else if (mem) {
    sizes = { system: L.system, facts: L.facts, summary: L.summary, recent: L.recent, recall: L.recall,
      latest: L.latest, template: L.template, reply: L.completion, reserve: L.reserve };
  } else if (L) {
    sizes = { system: L.system, history: L.history, latest: L.latest, template: L.template, reply: L.completion };
  } else {
    sizes = { system: systemTokens };
  }
  sizes.draft = draftTokens;
  const used = parts.reduce((s, [k]) => s + (UNUSED.has(k) ? 0 : sizes[k] || 0), 0);
  const held = (sizes.draft || 0) + (sizes.reserve || 0);  // not used, not free either
  gauge.dataset.used = used;
  const scale = Math.max(nCtx, used + held, 1);
  const head = el('div', 'legend-head');
  if (!nCtx) {
    head.textContent = 'Context: not known yet (waiting for the server)';
  } else if (L && L.overflow) {
    head.textContent = `Last request: ${fmt(L.prompt)} prompt tokens do not fit the context of ${fmt(nCtx)}`;
  } else if (L) {
    head.textContent = `Context: ${fmt(used)} of ${fmt(nCtx)} tokens used by the last request (${pct(used, nCtx)})` +
      (mem ? `, its prompt assembled from the server's memory` : '');
  } else {
    head.textContent = `Context: ${fmt(nCtx)} tokens per sequence`;
  }
  head.id = 'gauge-total';
  legend.append(head);
  for (const [k, label] of parts) {
    const n = sizes[k] || 0;
    if (!n && !(L && !L.overflow && k !== 'draft')) continue;
    const seg = el('div', `seg seg-${k}`);
    seg.dataset.part = k;
    seg.dataset.tokens = n;
    seg.style.width = `${(100 * n) / scale}%`;
    seg.title = `${label}: ${fmt(n)} tokens (${pct(n, nCtx)})`;
    gauge.append(seg);
    const item = el('span', 'legend-item');
    item.dataset.part = k;
    item.dataset.tokens = n;
    item.append(el('i', `swatch seg-${k}`), `${label} `, el('b', '', fmt(n)), ` · ${pct(n, nCtx)}`);
    legend.append(item);
  }
  if (nCtx) {
    const free = Math.max(0, nCtx - used - held);
    const item = el('span', 'legend-item free');
    item.dataset.part = 'free';
    item.dataset.tokens = free;
    item.append(el('i', 'swatch seg-free'), 'Free ', el('b', '', fmt(free)), ` · ${pct(free, nCtx)}`);
    legend.append(item);
  }

  // Cache reuse and speed of the last request.
  const cache = $('cache-stats');
  const speed = $('speed-stats');
  if (L && !L.overflow) {
    cache.textContent = mem
      ? `Last request: reused ${fmt(L.cached)} / prefilled ${fmt(L.prompt - L.cached)} tokens`
      : `Last request: ${fmt(L.cached)} prompt tokens reused from the cache, ` +
        `${fmt(L.prompt - L.cached)} prefilled`;
    cache.dataset.cached = L.cached;
    cache.dataset.prefilled = L.prompt - L.cached;
    const src = L.speedSource === 'server' ? 'server timings' : 'measured in the browser';
    speed.textContent = L.decodeTps || L.prefillTps
      ? `Prefill ${L.prefillTps ? L.prefillTps.toFixed(1) : '–'} t/s · decode ${L.decodeTps ? L.decodeTps.toFixed(1) : '–'} t/s (${src})`
      : '';
  } else {
    cache.textContent = '';
    speed.textContent = '';
  }
}

// The memory report's other figures under the gauge (its reuse is in the cache line): the
// window, the summary, recall, a compaction, what did not fit (L: the last request, or null).
export function renderConvMemory(L) {
  const box = $('conv-memory');
  box.replaceChildren();
  const r = L && !L.overflow ? L.memory : null;
  box.hidden = !r;
  if (!r) return;
  const item = (key, text) => {
    const s = el('span', 'mem-item', text);
    s.dataset.key = key;
    box.append(s);
    return s;
  };
  box.append(el('span', 'mem-title', 'Remembered on the server'));
  const [first, turn] = r.window || [0, r.turn];
  item('window', turn - first > 1 ? `window: turns ${first}–${turn - 1} (${turn - first})`
    : turn > first ? `window: turn ${first}` : 'window: the new message only');
  item('summary', r.summary ? `summary v${r.summary.version} (turns 0–${r.summary.covers[1]})` : 'no summary yet');
  const t = r.turns || {};
  item('summarized', `${fmt(t.summarized || 0)} turns summarised`);
  const rec = r.recalled || [];
  item('recalled', `${fmt(rec.length)} recalled` + (rec.length ? ` (turn${rec.length === 1 ? '' : 's'} ${rec.slice(0, 8).join(', ')}${rec.length > 8 ? ', …' : ''})` : ''));
  const c = r.compaction;
  if (c) {
    item('compaction', `compaction: turns ${c.turns[0]}–${c.turns[1]} (${fmt(c.tokens)} tokens) → summary ` +
      `v${c.summary_version} in ${Number(c.seconds).toFixed(1)} s` +
      (c.facts_proposed ? `, ${c.facts_proposed} fact${c.facts_proposed === 1 ? '' : 's'} proposed` : ''));
  }
  const lf = (r.left_out && r.left_out.facts) || [];
  const lr = (r.left_out && r.left_out.recall) || [];
  if (lf.length || lr.length) {
    item('left-out', `left out: ${[lf.length ? `${lf.length} fact${lf.length === 1 ? '' : 's'}` : '',
      lr.length ? `${lr.length} matching turn${lr.length === 1 ? '' : 's'}` : ''].filter(Boolean).join(', ')} (over budget)`);
  }
  if (r.error) item('error', `not stored: ${r.error}`).classList.add('error');
}

const GiB = 1024 ** 3;
const bytes = (b) => (b >= GiB ? `${(b / GiB).toFixed(2)} GiB` : `${(b / 1024 ** 2).toFixed(1)} MiB`);

// The plan's memory figures of the running model (GET /props "memory"; ok: /props answered).
export function renderMemory(m, ok) {
  const box = $('memory');
  box.replaceChildren();
  if (!m || typeof m !== 'object') {
    box.append(el('span', 'hint', ok ? 'Memory plan: not reported by this server.' : ''));
    return;
  }
  box.append(el('span', 'mem-title', 'Memory plan'));
  for (const [k, label] of [['weights_bytes', 'weights'], ['kv_bytes', 'KV cache'],
    ['compute_bytes', 'compute'], ['runtime_bytes', 'runtime']]) {
    if (Number.isFinite(m[k])) {
      const kv = k === 'kv_bytes' && m.kv_type_k ? ` (${m.kv_type_k}/${m.kv_type_v || m.kv_type_k})` : '';
      const s = el('span', 'mem-item', `${label}${kv} `);
      s.dataset.key = k;
      s.append(el('b', '', bytes(m[k])));
      box.append(s);
    }
  }
  if (Number.isFinite(m.total_bytes)) {
    const s = el('span', 'mem-item total', 'total ');
    s.append(el('b', '', bytes(m.total_bytes)));
    if (Number.isFinite(m.available_bytes) && m.available_bytes > 0) {
      s.append(` of ${bytes(m.available_bytes)} available (${pct(m.total_bytes, m.available_bytes)})`);
      const bar = el('span', 'mem-bar');
      const fill = el('span', 'mem-fill');
      fill.style.width = `${Math.min(100, (100 * m.total_bytes) / m.available_bytes)}%`;
      bar.append(fill);
      s.append(bar);
    }
    box.append(s);
  }
}
