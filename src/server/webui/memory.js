// longctx web UI: conversations remembered by the server (`serve --memory DB`, docs/MEMORY.md).
// A remembered conversation's requests carry "conversation": its id, with the whole history as
// always (the server recognises the turns it holds); while the first token is awaited the page
// polls GET /v1/conversations/ID for "compacting" (a summary being written); the facts panel
// lists, pins, adds and removes the conversation's facts (/v1/conversations/ID/facts).
import * as api from './api.js';
import { $, el } from './gauge.js';

const path = (id) => `/v1/conversations/${encodeURIComponent(id)}`;

// The stored conversation without its turns (?from=0&to=0), or null when the server has none.
export async function conversation(id, withFirstTurn = false) {
  try {
    return await api.getJson(`${path(id)}?from=0&to=${withFirstTurn ? 1 : 0}`);
  } catch (e) {
    if (e instanceof api.ApiError && e.status === 404) return null;
    throw e;
  }
}

export const facts = async (id) => (await api.getJson(`${path(id)}/facts`)).data || [];
export const addFact = (id, text) => api.postJson(`${path(id)}/facts`, { text });
export const pinFact = (id, factId) => api.postJson(`${path(id)}/facts/${factId}`, { status: 'pinned' });
export const removeFact = (id, factId) => api.deleteJson(`${path(id)}/facts/${factId}`);
export const forget = (id) => api.deleteJson(path(id));

// Polls "compacting" about once a second while `waiting()` holds; onChange(bool) on each answer.
export function pollCompacting(id, waiting, onChange) {
  let timer = 0;
  const tick = async () => {
    if (!waiting()) return;
    try {
      const c = await conversation(id);
      if (waiting()) onChange(!!(c && c.compacting));
    } catch { /* the next poll tries again */ }
    if (waiting()) timer = setTimeout(tick, 1000);
  };
  timer = setTimeout(tick, 300);
  return () => clearTimeout(timer);
}

// ---------------------------------------------------------------- the facts panel
// Fills #facts-panel for the conversation `id` (null: the current one is not remembered).
export async function renderFacts(id) {
  const list = $('facts-list');
  const note = $('facts-state');
  const summary = $('facts-summary');
  const form = $('fact-form');
  list.replaceChildren();
  summary.replaceChildren();
  if (!id) {
    note.textContent = 'This conversation is not remembered on the server (Settings → Memory).';
    form.hidden = true;
    return;
  }
  let conv;
  let all;
  try {
    conv = await conversation(id);
    all = conv ? await facts(id) : [];
  } catch (e) {
    note.textContent = `Could not read the server's memory: ${e.message}`;
    return;
  }
  form.hidden = !conv;
  if (!conv) {
    note.textContent = 'Nothing stored yet: the server starts remembering with the first message.';
    return;
  }
  const pinned = all.filter((f) => f.status === 'pinned').length;
  note.textContent = `${conv.turns} turns stored · ${pinned} pinned fact${pinned === 1 ? '' : 's'}` +
    (all.length > pinned ? ` · ${all.length - pinned} proposed by the summary` : '') +
    '. Pinned facts are in every prompt; proposed ones only once pinned.';
  for (const f of all) {
    const li = el('li', `fact ${f.status}`);
    li.dataset.id = f.id;
    li.dataset.status = f.status;
    const text = el('span', 'fact-text', f.text);
    const meta = el('span', 'fact-meta', `${f.status}${f.source === 'summary' ? ' by the summary' : ''}` +
      (f.tokens ? ` · ${f.tokens} tokens` : ''));
    const tools = el('span', 'fact-tools');
    const act = (label, cls, fn, title) => {
      const b = el('button', `btn small ${cls}`, label);
      b.type = 'button';
      b.title = title;
      b.addEventListener('click', async () => {
        b.disabled = true;
        try { await fn(); } catch (e) { note.textContent = `Error: ${e.message}`; }
        renderFacts(id);
      });
      tools.append(b);
    };
    if (f.status === 'proposed') act('Pin', 'fact-pin', () => pinFact(id, f.id), 'Put this fact in every prompt');
    act('Remove', 'fact-remove', () => removeFact(id, f.id), 'Forget this fact');
    li.append(text, meta, tools);
    list.append(li);
  }
  if (!all.length) list.append(el('li', 'hint', 'No facts yet.'));
  if (conv.summary && conv.summary.text) {
    const d = el('details', 'summary-text');
    d.append(el('summary', '', `Summary v${conv.summary.version} (turns 0–${conv.summary.covers[1]}, ` +
      `${conv.summary.tokens} tokens)`), el('div', '', conv.summary.text));
    summary.append(d);
  }
}

// Wires the add-fact form; current() returns the remembered conversation's id or null.
export function bindFacts(current) {
  $('fact-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const id = current();
    const text = $('fact-input').value.trim();
    if (!id || !text) return;
    try {
      await addFact(id, text);
      $('fact-input').value = '';
    } catch (err) {
      $('facts-state').textContent = `Error: ${err.message}`;
      return;
    }
    renderFacts(id);
  });
}
