// longctx web UI: the context gauge. A bar of n_ctx (the context of one sequence) split into
// what the last request used: the system prompt, the earlier conversation, the new message (each
// counted with POST /tokenize), the chat template's own tokens (the rest of usage.prompt_tokens)
// and the reply (usage.completion_tokens), plus the draft in the composer; with cached vs
// prefilled prompt tokens, prefill / decode tokens/s, and the server's memory plan.
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

const PARTS = [
  ['system', 'System prompt'], ['history', 'Earlier conversation'], ['latest', 'New message'],
  ['template', 'Chat template'], ['reply', 'Reply'], ['draft', 'Draft (not sent)'],
];

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
  let sizes;
  if (L && L.overflow) {
    sizes = { latest: L.prompt };
  } else if (L) {
    sizes = { system: L.system, history: L.history, latest: L.latest, template: L.template, reply: L.completion };
  } else {
    sizes = { system: systemTokens };
  }
  sizes.draft = draftTokens;
  const used = PARTS.reduce((s, [k]) => s + (k === 'draft' ? 0 : sizes[k] || 0), 0);
  gauge.dataset.used = used;
  const scale = Math.max(nCtx, used + (sizes.draft || 0), 1);
  const head = el('div', 'legend-head');
  if (!nCtx) {
    head.textContent = 'Context: not known yet (waiting for the server)';
  } else if (L && L.overflow) {
    head.textContent = `Last request: ${fmt(L.prompt)} prompt tokens do not fit the context of ${fmt(nCtx)}`;
  } else if (L) {
    head.textContent = `Context: ${fmt(used)} of ${fmt(nCtx)} tokens used by the last request (${pct(used, nCtx)})`;
  } else {
    head.textContent = `Context: ${fmt(nCtx)} tokens per sequence`;
  }
  head.id = 'gauge-total';
  legend.append(head);
  for (const [k, label] of PARTS) {
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
    const free = Math.max(0, nCtx - used - (sizes.draft || 0));
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
    cache.textContent = `Last request: ${fmt(L.cached)} prompt tokens reused from the cache, ` +
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
