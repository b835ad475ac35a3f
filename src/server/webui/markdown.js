// longctx web UI: Markdown rendering of model output, safely. The model's text is untrusted:
//  1. marked.js (Debian's libjs-marked, when the build embedded it) renders with raw HTML escaped,
//     or, without it, our own small renderer (paragraphs, code fences, inline code, bold/italic,
//     lists, headings, quotes, links) escapes everything before it adds markup;
//  2. whatever either produced goes through a whitelist sanitizer (tags, attributes, link schemes)
//     inside an inert <template> before it reaches the page;
//  3. code blocks are highlighted by highlight.js (libjs-highlight.js) when present, from their text
//     (loaded on first use).

const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function escapeHtml(s) { return String(s).replace(/[&<>"']/g, (c) => ESC[c]); }

// ---- 1a. marked.js, with raw HTML turned into visible text ----
let markedReady = false;
function markedRender(text) {
  const m = window.marked;
  if (!markedReady) {
    // html(): block and inline HTML of the source; marked < 13 passes a string, later a token.
    m.use({ renderer: { html(t) { return escapeHtml(typeof t === 'string' ? t : (t.raw ?? t.text ?? '')); } } });
    m.setOptions({ gfm: true, breaks: true, headerIds: false, mangle: false });
    markedReady = true;
  }
  return m.parse(text);
}

// ---- 1b. the fallback renderer ----
function safeUrl(url) {
  return /^(https?:\/\/|mailto:)/i.test(url) ? url : null;
}

// Inline markup over one line of source. Everything is escaped first; code spans are set aside
// so their text gets no other markup.
function inline(src) {
  const codes = [];
  let s = escapeHtml(src.replace(/\u0000/g, '\uFFFD')).replace(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g, (_, _t, code) => {
    codes.push(`<code>${code.trim() || code}</code>`);
    return `\u0000${codes.length - 1}\u0000`;
  });
  s = s.replace(/\[([^\]\n]+)\]\(([^)\s]+)\)/g, (all, label, url) => {
    const u = safeUrl(url.replace(/&amp;/g, '&'));
    return u ? `<a href="${escapeHtml(u)}">${label}</a>` : all;
  });
  s = s.replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, '<strong>$1</strong>')
       .replace(/(^|\W)__(?=\S)([\s\S]*?\S)__(?!\w)/g, '$1<strong>$2</strong>')
       .replace(/(^|[^*\w])\*(?=\S)([^*]*?\S)\*(?!\*)/g, '$1<em>$2</em>')
       .replace(/(^|\W)_(?=\S)([^_]*?\S)_(?!\w)/g, '$1<em>$2</em>')
       .replace(/~~(?=\S)([\s\S]*?\S)~~/g, '<del>$1</del>');
  return s.replace(/\u0000(\d+)\u0000/g, (_, i) => codes[+i]);
}

const LIST_RE = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;

function fallbackRender(text) {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const out = [];
  let para = [];
  const flush = () => {
    if (para.length) out.push(`<p>${para.map(inline).join('<br>')}</p>`);
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    let m;
    if ((m = /^\s{0,3}(`{3,}|~{3,})\s*([\w+#.-]*)/.exec(line))) {  // code fence (maybe unclosed)
      flush();
      const fence = m[1];
      const body = [];
      for (i++; i < lines.length; i++) {
        const close = new RegExp(`^\\s{0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
        if (close.test(lines[i])) break;
        body.push(lines[i]);
      }
      const cls = m[2] ? ` class="language-${escapeHtml(m[2])}"` : '';
      out.push(`<pre><code${cls}>${escapeHtml(body.join('\n'))}</code></pre>`);
    } else if (/^\s*$/.test(line)) {
      flush();
    } else if ((m = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line))) {
      flush();
      out.push(`<h${m[1].length}>${inline(m[2])}</h${m[1].length}>`);
    } else if (/^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) {
      flush();
      out.push('<hr>');
    } else if (/^\s{0,3}>/.test(line)) {
      flush();
      const quoted = [];
      for (; i < lines.length && /^\s{0,3}>/.test(lines[i]); i++) quoted.push(lines[i].replace(/^\s{0,3}>\s?/, ''));
      i--;
      out.push(`<blockquote>${fallbackRender(quoted.join('\n'))}</blockquote>`);
    } else if ((m = LIST_RE.exec(line))) {
      flush();
      const ordered = /\d/.test(m[2]);
      const start = ordered ? parseInt(m[2], 10) : 1;
      const items = [];
      for (; i < lines.length; i++) {
        const lm = LIST_RE.exec(lines[i]);
        if (lm && /\d/.test(lm[2]) === ordered) items.push([lm[3]]);
        else if (items.length && /^\s+\S/.test(lines[i])) items[items.length - 1].push(lines[i].trim());
        else break;
      }
      i--;
      const tag = ordered ? 'ol' : 'ul';
      const attr = ordered && start !== 1 ? ` start="${start}"` : '';
      out.push(`<${tag}${attr}>${items.map((it) => `<li>${it.map(inline).join('<br>')}</li>`).join('')}</${tag}>`);
    } else {
      para.push(line);
    }
  }
  flush();
  return out.join('\n');
}

// ---- 2. the sanitizer ----
const KEEP = new Set(['P', 'BR', 'HR', 'H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'STRONG', 'B', 'EM', 'I',
  'DEL', 'S', 'CODE', 'PRE', 'BLOCKQUOTE', 'UL', 'OL', 'LI', 'A', 'TABLE', 'THEAD', 'TBODY', 'TR',
  'TH', 'TD', 'SPAN', 'SUP', 'SUB', 'INPUT', 'KBD']);
const DROP = new Set(['SCRIPT', 'STYLE', 'IFRAME', 'OBJECT', 'EMBED', 'TEMPLATE', 'NOSCRIPT', 'SVG',
  'MATH', 'TEXTAREA', 'SELECT', 'BUTTON', 'FORM', 'LINK', 'META', 'TITLE', 'HEAD', 'BASE', 'FRAME',
  'FRAMESET', 'AUDIO', 'VIDEO', 'SOURCE', 'CANVAS', 'DIALOG']);

function cleanNode(node) {
  for (const child of [...node.childNodes]) {
    if (child.nodeType === Node.TEXT_NODE) continue;
    if (child.nodeType !== Node.ELEMENT_NODE) { child.remove(); continue; }
    const tag = child.tagName.toUpperCase();
    if (DROP.has(tag) || (tag === 'INPUT' && child.getAttribute('type') !== 'checkbox')) {
      child.remove();
      continue;
    }
    if (tag === 'IMG') {  // never load anything: an image becomes its description
      const alt = child.getAttribute('alt') || '';
      child.replaceWith(document.createTextNode(`[image${alt ? ': ' + alt : ''}]`));
      continue;
    }
    if (!KEEP.has(tag)) {  // unknown element: keep its content only
      cleanNode(child);
      child.replaceWith(...child.childNodes);
      continue;
    }
    for (const a of [...child.attributes]) {
      const name = a.name.toLowerCase();
      const v = a.value;
      const ok = (tag === 'A' && name === 'href' && safeUrl(v)) ||
                 (tag === 'A' && name === 'title') ||
                 ((tag === 'CODE' || tag === 'SPAN') && name === 'class' && /^[\w -]*$/.test(v)) ||
                 (tag === 'OL' && name === 'start' && /^\d+$/.test(v)) ||
                 ((tag === 'TH' || tag === 'TD') && name === 'align' && /^(left|right|center)$/.test(v)) ||
                 (tag === 'INPUT' && (name === 'type' || name === 'checked' || name === 'disabled'));
      if (!ok) child.removeAttribute(a.name);
    }
    if (tag === 'A') {
      child.setAttribute('target', '_blank');
      child.setAttribute('rel', 'noopener noreferrer nofollow');
    }
    if (tag === 'INPUT') child.setAttribute('disabled', '');
    cleanNode(child);
  }
}

function sanitize(html) {
  const tpl = document.createElement('template');  // inert: nothing runs or loads in it
  tpl.innerHTML = html;
  cleanNode(tpl.content);
  return tpl.content;
}

// ---- 3. code blocks ----
// highlight.js (846 KB for every language) loads only once a code block shows up, so it never
// delays the page; the blocks on the page are highlighted when it arrives.
let hljsState = 'none';  // none | loading | done
function loadHighlighter() {
  if (hljsState !== 'none' || window.hljs) return;
  hljsState = 'loading';
  const script = document.createElement('script');
  script.src = new URL('highlight.min.js', import.meta.url).href;  // beside this file: ui/
  script.onload = () => {
    hljsState = 'done';
    for (const code of document.querySelectorAll('.content.md pre code:not([data-hl])')) {
      highlight(code, !code.closest('.streaming'));
    }
  };
  script.onerror = () => { hljsState = 'done'; script.dataset.failed = '1'; };  // not embedded: plain code
  document.head.append(script);
}

function highlight(code, final) {
  const hljs = window.hljs;
  if (!hljs) { loadHighlighter(); return; }
  if (code.dataset.hl) return;
  const lang = (/(?:^|\s)language-([\w+#.-]+)/.exec(code.className) || [])[1];
  const known = lang && hljs.getLanguage && hljs.getLanguage(lang);
  // While streaming only blocks of a known language; automatic detection once at the end.
  if (!known && (!final || code.textContent.length > 5000)) return;
  if (!known) code.className = '';  // an unknown language name: let it detect
  try {
    if (hljs.highlightElement) hljs.highlightElement(code); else hljs.highlightBlock(code);
    code.dataset.hl = '1';
  } catch { /* leave it plain */ }
}

function decorateCode(root, final) {
  for (const pre of root.querySelectorAll('pre')) {
    const code = pre.querySelector('code');
    if (code) highlight(code, final);
    const btn = document.createElement('button');
    btn.type = 'button';
    btn.className = 'copy-code';
    btn.textContent = 'Copy';
    btn.addEventListener('click', () => {
      navigator.clipboard?.writeText((code || pre).textContent).then(
        () => { btn.textContent = 'Copied'; setTimeout(() => { btn.textContent = 'Copy'; }, 1200); },
        () => { btn.textContent = 'Copy failed'; });
    });
    pre.prepend(btn);
  }
}

export const usingMarked = () => typeof window.marked?.parse === 'function';

// Renders `text` (Markdown from the model or the user) into `el`, replacing its content.
// final: the text is complete (code blocks may then be auto-detected for highlighting).
export function renderMarkdown(el, text, final = true) {
  let html;
  try {
    html = usingMarked() ? markedRender(text) : fallbackRender(text);
  } catch {
    html = fallbackRender(text);
  }
  const frag = sanitize(html);
  decorateCode(frag, final);
  el.replaceChildren(frag);
}

// For tests and curious users: the fallback renderer on its own (string in, sanitized HTML out).
export function renderFallbackHtml(text) {
  const div = document.createElement('div');
  div.replaceChildren(sanitize(fallbackRender(text)));
  return div.innerHTML;
}
