#!/usr/bin/env python3
"""Headless-Chromium test of the longctx web UI (src/server/webui/, docs/WEBUI.md).

Starts `longctx serve` on 127.0.0.1 (a free port, an API key) over a tiny random-weight model
made with `longctx synth` (real tokenizer; its chat template opens the think block when thinking
is on, as Qwen3's thinking-only models do, so reasoning streams), drives the page with Selenium
and checks behaviour: the API-key prompt, streaming, the context gauge against the server's own
counters (/metrics, /tokenize, /props), edit, regenerate, thinking, Stop (and /slots after it),
conversations, safe Markdown and a narrow window. Then a second server with --memory on a
temporary database: the "Remember on the server" toggle (the conversation field), the gauge of
the memory report's sections, a compaction, regenerate and edit matched by the server, the facts
panel.

  LONGCTX_BIN=build/src/longctx python3 tests/webui/test_webui.py            # UI served by longctx
  python3 tests/webui/test_webui.py --bin build/src/longctx --mode dev        # UI from the source
                                                                              # tree (http.server + ?api=)
  ... --screenshot                                                            # also docs/webui.png
  ... --no-memory                                                             # skip the --memory server

Needs: pip install -r tests/webui/requirements.txt; apt-get install chromium chromium-driver.
Exit codes: 0 passed, 1 failed, 77 skipped (no selenium / chromium / chromedriver) unless
LONGCTX_REQUIRE_WEBUI=1, when a missing tool is a failure.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
WEBUI_SRC = os.path.join(REPO, 'src', 'server', 'webui')
API_KEY = 'webui-test-key'
VENDOR = {  # Debian's packaged copies, served in dev mode as the build embeds them
    'marked.min.js': ['/usr/share/javascript/marked/marked.min.js', '/usr/share/javascript/marked/marked.js'],
    'highlight.min.js': ['/usr/share/javascript/highlight.js/highlight.min.js'],
}


def skip_or_fail(why):
    if os.environ.get('LONGCTX_REQUIRE_WEBUI') == '1':
        print(f'test_webui: FAILED: {why} (LONGCTX_REQUIRE_WEBUI=1)')
        sys.exit(1)
    print(f'test_webui: SKIPPED: {why}')
    sys.exit(77)


def find_tool(env, names):
    if os.environ.get(env):
        return os.environ[env] if os.path.exists(os.environ[env]) else None
    for n in names:
        p = shutil.which(n)
        if p:
            return p
    return None


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ the server
class Server:
    """`longctx serve` in a process group of its own; URL parsed from its stderr."""

    def __init__(self, binary, model, workdir, cors, memory_db=None):
        cmd = [binary, 'serve', '-m', model, '--host', '127.0.0.1', '--port', '0',
               '--ctx', '4096', '--api-key', API_KEY, '--alias', 'tiny-webui',
               '--threads', '1']  # leave the other cores to the browser
        if cors:
            cmd += ['--cors-origins', '*']
        if memory_db:
            cmd += ['--memory', memory_db]
        self.log_path = os.path.join(workdir, 'server-memory.log' if memory_db else 'server.log')
        self.log = open(self.log_path, 'w')
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.PIPE, text=True,
                                     start_new_session=True)
        self.url = None
        got = threading.Event()

        def pump():  # copy stderr to the log; note the URL line
            for line in self.proc.stderr:
                self.log.write(line)
                self.log.flush()
                m = re.search(r'http://127\.0\.0\.1:(\d+)', line)
                if m and not self.url:
                    self.url = f'http://127.0.0.1:{m.group(1)}'
                    got.set()
            got.set()

        threading.Thread(target=pump, daemon=True).start()
        if not got.wait(60) or not self.url:
            self.stop()
            raise RuntimeError('longctx serve did not start: ' + open(self.log_path).read()[-2000:])

    def call(self, method, path, body=None, key=API_KEY):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header('Content-Type', 'application/json')
        if key:
            req.add_header('Authorization', 'Bearer ' + key)
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read().decode()
            return json.loads(raw) if r.headers.get('Content-Type', '').startswith('application/json') else raw

    def stream_has_timings(self):
        """Whether the usage chunk of a stream carries llama-server's `timings`."""
        body = {'messages': [{'role': 'user', 'content': 'hi'}], 'max_tokens': 1, 'stream': True,
                'stream_options': {'include_usage': True}}
        req = urllib.request.Request(self.url + '/v1/chat/completions', data=json.dumps(body).encode(),
                                     headers={'Content-Type': 'application/json',
                                              'Authorization': 'Bearer ' + API_KEY})
        with urllib.request.urlopen(req, timeout=30) as r:
            return any(line.startswith(b'data: {') and b'"timings"' in line for line in r)

    def metrics(self):
        out = {}
        for line in self.call('GET', '/metrics').splitlines():
            m = re.match(r'longctx:(\w+) ([-+0-9.eE]+)$', line)
            if m:
                out[m.group(1)] = float(m.group(2))
        return out

    def ntokens(self, text):
        return len(self.call('POST', '/tokenize', {'content': text})['tokens']) if text else 0

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def make_model(binary, workdir):
    """A tiny random model whose template opens <think> when thinking is on (reasoning streams)."""
    src = os.environ.get('LONGCTX_TOKENIZER_DIR', os.path.join(REPO, 'data', 'qwen3-tokenizer'))
    tok = os.path.join(workdir, 'tokenizer')
    os.makedirs(tok)
    for f in os.listdir(src):
        if f.startswith('tokenizer.json'):
            os.symlink(os.path.join(src, f), os.path.join(tok, f))
    cfg = json.load(open(os.path.join(src, 'tokenizer_config.json')))
    t = cfg['chat_template']
    closed = "{{- '<think>\\n\\n</think>\\n\\n' }}"
    at = t.find(closed)
    end = t.find('{%- endif %}', at)
    if at < 0 or end < 0:
        raise RuntimeError('unexpected Qwen3 chat template: cannot make it open the think block')
    cfg['chat_template'] = t[:end] + "{%- else %}\n        {{- '<think>\\n' }}\n    " + t[end:]
    json.dump(cfg, open(os.path.join(tok, 'tokenizer_config.json'), 'w'))
    model = os.path.join(workdir, 'tiny.gguf')
    subprocess.run([binary, 'synth', '--shape', 'qwen3-tiny', '--type', 'q8_0', '--tokenizer', tok,
                    '-o', model, '-q'], check=True, timeout=120)
    return model


def dev_site(workdir, vendor=True):
    """The UI's source files laid out as the server serves them (index.html, ui/...)."""
    site = os.path.join(workdir, 'site')
    os.makedirs(os.path.join(site, 'ui'))
    for f in os.listdir(WEBUI_SRC):
        dst = os.path.join(site, f) if f == 'index.html' else os.path.join(site, 'ui', f)
        shutil.copy(os.path.join(WEBUI_SRC, f), dst)
    for name, paths in VENDOR.items() if vendor else []:
        for p in paths:
            if os.path.exists(p):
                shutil.copy(p, os.path.join(site, 'ui', name))
                break
    return site


# ------------------------------------------------------------------ the browser
class Page:
    def __init__(self, chromium, chromedriver, url):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        opts = webdriver.ChromeOptions()
        opts.binary_location = chromium
        for a in ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
                  '--window-size=1280,800', '--force-device-scale-factor=1', '--no-first-run',
                  '--disable-extensions', '--disable-background-networking', '--lang=en-US']:
            opts.add_argument(a)
        opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
        # The browser's profile and its temporary files (Chromium leaves a singleton-socket
        # directory in TMPDIR per run) go into one directory that close() removes.
        self.scratch = tempfile.mkdtemp(prefix='longctx-webui-')
        opts.add_argument('--user-data-dir=' + os.path.join(self.scratch, 'profile'))
        env = dict(os.environ, TMPDIR=self.scratch)
        self.d = webdriver.Chrome(service=Service(executable_path=chromedriver, env=env),
                                  options=opts)
        self.d.set_window_size(1280, 800)
        self.url = url
        self.console = []

    def js(self, script, *args):
        return self.d.execute_script(script, *args)

    def q(self, css):
        from selenium.webdriver.common.by import By
        return self.d.find_element(By.CSS_SELECTOR, css)

    def qa(self, css):
        from selenium.webdriver.common.by import By
        return self.d.find_elements(By.CSS_SELECTOR, css)

    def wait(self, fn, timeout=20, what='condition'):
        end = time.time() + timeout
        last = None
        while time.time() < end:
            try:
                v = fn()
                if v:
                    return v
            except Exception as e:  # element not there yet, stale, ...
                last = e
            time.sleep(0.05)
        raise AssertionError(f'timed out after {timeout} s waiting for {what}' + (f' ({last})' if last else ''))

    def busy(self):
        return self.js("return document.body.classList.contains('busy')")

    def set_field(self, elem_id, value):
        from selenium.webdriver.common.keys import Keys
        e = self.q('#' + elem_id)
        e.click()
        e.send_keys(Keys.CONTROL, 'a')
        e.send_keys(Keys.DELETE)
        if value != '':
            e.send_keys(str(value))

    def settings(self, **kv):
        """Sets fields of the settings panel (opened and closed around it)."""
        self.q('#toggle-settings').click()
        self.wait(lambda: self.q('#settings').is_displayed(), what='settings panel')
        for k, v in kv.items():
            if k == 'thinking':
                box = self.q('#set-thinking')
                if box.is_selected() != v:
                    box.click()
            else:
                self.set_field('set-' + k.replace('_', '-'), v)
        self.q('#toggle-settings').click()

    def send(self, text):
        from selenium.webdriver.common.keys import Keys
        box = self.q('#input')
        box.click()
        box.send_keys(text)
        box.send_keys(Keys.ENTER)

    def wait_reply_done(self, timeout=60):
        self.wait(lambda: not self.busy() and self.q('#send').is_displayed(), timeout, 'the reply to finish')

    def last_assistant(self):
        return self.qa('.msg.assistant')[-1]

    def text_of(self, elem):
        return self.js('return arguments[0].textContent', elem)

    def gauge(self):
        """The gauge's figures: n_ctx, used, and tokens of each part."""
        return self.js("""
            const g = document.getElementById('gauge');
            const parts = {};
            for (const s of g.querySelectorAll('.seg')) parts[s.dataset.part] = +s.dataset.tokens;
            const c = document.getElementById('cache-stats');
            return {nCtx: +g.dataset.nCtx, used: +g.dataset.used, parts,
                    cached: c.dataset.cached === undefined ? null : +c.dataset.cached,
                    prefilled: c.dataset.prefilled === undefined ? null : +c.dataset.prefilled,
                    total: document.getElementById('gauge-total').textContent,
                    speed: document.getElementById('speed-stats').textContent};""")

    def collect_console(self):
        try:
            self.console += self.d.get_log('browser')
        except Exception:
            pass

    def close(self):
        self.collect_console()
        try:
            self.d.quit()
        finally:
            shutil.rmtree(self.scratch, ignore_errors=True)


# ------------------------------------------------------------------ the checks
def check_api_key(p, s):
    """A server with --api-key: the page asks for the key, refuses a wrong one, then works."""
    p.d.get(p.url)
    p.wait(lambda: p.js("return document.getElementById('key-dialog').open"), 15, 'the API key dialog')
    p.q('#key-input').send_keys('wrong-key')
    p.q('#key-ok').click()
    p.wait(lambda: p.js("return document.getElementById('key-dialog').open") and
           'refused' in p.q('#key-message').text, 10, 'the dialog again after a wrong key')
    p.q('#key-input').send_keys(API_KEY)
    p.q('#key-ok').click()
    p.wait(lambda: not p.js("return document.getElementById('key-dialog').open"), 10, 'the dialog to close')
    p.wait(lambda: p.q('#model-name').text == 'tiny-webui', 10, 'the model name')
    assert p.js("return localStorage.getItem('longctx.apiKey')") == API_KEY, 'key not stored'
    props = s.call('GET', '/props')
    n_ctx = props.get('n_ctx', props['default_generation_settings']['n_ctx'])
    assert int(p.q('#model-info').get_attribute('data-n-ctx')) == n_ctx, 'n_ctx differs from /props'
    p.wait(lambda: p.gauge()['nCtx'] == n_ctx, 5, 'the gauge n_ctx = /props n_ctx')
    assert p.q('#memory').text.strip(), 'no memory line'
    if 'memory' in props:  # figures from the server's plan
        assert 'weights' in p.q('#memory').text and 'KV cache' in p.q('#memory').text


def check_stream_and_gauge(p, s):
    """Streamed text appears incrementally; the gauge matches the server's own counters."""
    system = 'You are a terse assistant. Answer in one line.'
    p.settings(system=system, max_tokens=160, thinking=False)
    p.js("""
        window.__obs = [];
        const box = document.getElementById('messages');
        new MutationObserver(() => {
            const a = box.querySelectorAll('.msg.assistant');
            if (!a.length) return;
            const last = a[a.length - 1];
            window.__obs.push([last.querySelector('.content').textContent.length,
                               last.querySelector('.msg-stats').textContent]);
        }).observe(box, {childList: true, subtree: true, characterData: true});""")
    timings = s.stream_has_timings()
    before = s.metrics()
    message = 'Hello! Please tell me a short story about a lighthouse.'
    p.send(message)
    p.wait(lambda: p.busy(), 5, 'streaming to start')
    p.wait_reply_done()
    obs = p.js('return window.__obs')
    final = p.text_of(p.last_assistant().find_element('css selector', '.content'))
    streaming_lengths = {n for n, st in obs if st == 'generating…' and n > 0}
    assert len(final) > 0, 'no reply text'
    assert len(streaming_lengths) >= 2, f'text did not grow while streaming: {sorted(streaming_lengths)[:10]}'
    assert max(streaming_lengths) <= len(final)
    stats = p.last_assistant().find_element('css selector', '.msg-stats').text
    assert 'tokens' in stats, f'reply stats missing: {stats!r}'
    after = s.metrics()
    prompt = round(after['prompt_tokens_total'] - before['prompt_tokens_total'])
    completion = round(after['tokens_predicted_total'] - before['tokens_predicted_total'])
    cached = round(after['prompt_tokens_cached_total'] - before['prompt_tokens_cached_total'])
    assert after['requests_total'] - before['requests_total'] == 1
    g = p.wait(lambda: (lambda g: g if g['parts'].get('reply') else None)(p.gauge()), 10, 'the gauge')
    assert g['used'] == prompt + completion, f"gauge used {g['used']} != {prompt} + {completion}"
    assert sum(g['parts'].values()) == g['used'], f"parts {g['parts']} do not sum to {g['used']}"
    assert g['parts']['reply'] == completion
    assert g['parts']['system'] == s.ntokens(system), 'system prompt tokens'
    assert g['parts']['latest'] == s.ntokens(message), 'new message tokens'
    assert g['parts']['history'] == 0
    assert g['cached'] == cached and g['prefilled'] == prompt - cached, f"cache {g['cached']} vs {cached}"
    assert f'{prompt + completion:,}' in g['total'], g['total']
    assert 't/s' in g['speed'], f"no speed: {g['speed']!r}"
    # The server's own timings when it sends them, else the browser's measurement.
    assert ('server timings' if timings else 'measured in the browser') in g['speed'], g['speed']
    labels = p.q('#gauge-legend').text
    for word in ('System prompt', 'Earlier conversation', 'New message', 'Reply', 'Free', '%'):
        assert word in labels, f'legend lacks {word!r}: {labels!r}'


def check_regenerate(p, s):
    """Regenerate replaces the last reply; the same prompt comes from the cache."""
    old = p.last_assistant()
    before = s.metrics()
    p.last_assistant().find_element('css selector', 'button.regenerate').click()
    p.wait(lambda: p.busy() or s.metrics()['requests_total'] > before['requests_total'], 10, 'regeneration')
    p.wait_reply_done()
    assert len(p.qa('.msg.assistant')) == 1 and len(p.qa('.msg.user')) == 1, 'regenerate added messages'
    new = p.last_assistant()
    assert new != old, 'the reply element was not replaced'
    assert p.text_of(new.find_element('css selector', '.content')), 'regenerated reply is empty'
    after = s.metrics()
    assert after['requests_total'] - before['requests_total'] == 1
    cached = round(after['prompt_tokens_cached_total'] - before['prompt_tokens_cached_total'])
    g = p.wait(lambda: (lambda g: g if g['cached'] == cached else None)(p.gauge()), 10, 'the gauge cache figures')
    assert cached > 0, 'the resent prompt was not reused from the cache'
    assert 'reused from the cache' in p.q('#cache-stats').text


def check_edit(p, s):
    """Editing the user message drops what followed and produces a new reply."""
    p.q('.msg.user button.edit').click()
    box = p.wait(lambda: p.q('.msg.user textarea.edit-input'), 5, 'the edit box')
    box.clear()
    edited = 'Edited question: what is a context window?'
    box.send_keys(edited)
    before = s.metrics()
    p.q('.msg.user button.edit-send').click()
    p.wait(lambda: s.metrics()['requests_total'] > before['requests_total'] or p.busy(), 10, 'the resend')
    p.wait_reply_done()
    users = p.qa('.msg.user')
    assert len(users) == 1 and len(p.qa('.msg.assistant')) == 1, 'edit did not drop the old turn'
    assert p.text_of(users[0].find_element('css selector', '.content')) == edited
    assert p.text_of(p.last_assistant().find_element('css selector', '.content')), 'no new reply'
    g = p.wait(lambda: (lambda g: g if g['parts'].get('latest') == s.ntokens(edited) else None)(p.gauge()),
               10, 'the gauge of the edited message')
    # A second turn: the first exchange now counts as earlier conversation.
    p.send('And a follow-up.')
    p.wait_reply_done()
    g = p.wait(lambda: (lambda g: g if g['parts'].get('history') else None)(p.gauge()), 10, 'history tokens')
    stored = p.js("return JSON.parse(localStorage.getItem('longctx.conversations'))")
    first_reply = [c for c in stored if c['id'] == p.js("return localStorage.getItem('longctx.current')")][0]['messages'][1]['content']
    assert g['parts']['history'] == s.ntokens(edited) + s.ntokens(first_reply), g['parts']


def check_thinking(p, s):
    """Thinking on: reasoning streams into a collapsed <details> that can be expanded."""
    p.q('#new-conv').click()
    p.wait(lambda: not p.qa('.msg'), 5, 'an empty conversation')
    p.settings(thinking=True, max_tokens=24)
    p.send('Think about prime numbers.')
    p.wait_reply_done()
    det = p.last_assistant().find_element('css selector', 'details.thinking')
    assert det.is_displayed(), 'no thinking block'
    assert not p.js('return arguments[0].open', det), 'thinking is not collapsed'
    assert p.text_of(det.find_element('css selector', '.reasoning')).strip(), 'thinking block is empty'
    det.find_element('css selector', 'summary').click()
    assert p.js('return arguments[0].open', det), 'thinking does not expand'
    assert det.find_element('css selector', '.reasoning').is_displayed()


def check_stop(p, s):
    """Stop ends the stream at once, frees the server's sequence, and the page works on."""
    p.settings(thinking=False, max_tokens=4000)
    p.send('Write a very long essay.')
    p.wait(lambda: len(p.text_of(p.last_assistant().find_element('css selector', '.content'))) > 20,
           20, 'streamed text before Stop')
    assert p.busy() and p.q('#stop').is_displayed()
    t0 = time.time()
    p.q('#stop').click()
    p.wait(lambda: not p.busy() and p.q('#send').is_displayed(), 3, 'the page to leave streaming')
    ended = time.time() - t0
    assert ended < 2.0, f'Stop took {ended:.2f} s'
    assert 'stopped' in p.last_assistant().find_element('css selector', '.msg-stats').text
    p.wait(lambda: not any(x['is_processing'] for x in s.call('GET', '/slots')), 5,
           'no sequence processing on the server after Stop')
    n_before = len(p.text_of(p.last_assistant().find_element('css selector', '.content')))
    time.sleep(0.3)
    assert len(p.text_of(p.last_assistant().find_element('css selector', '.content'))) == n_before, \
        'text still grows after Stop'
    # Usable again: a short message goes through.
    p.settings(max_tokens=8)
    p.send('Short one.')
    p.wait_reply_done()
    assert 'tokens' in p.last_assistant().find_element('css selector', '.msg-stats').text


def check_conversations(p, s):
    """Conversations persist in localStorage; rename and delete."""
    items = p.qa('#conv-list li.conv')
    assert len(items) >= 2, f'{len(items)} conversations listed'
    active = p.q('#conv-list li.conv.active')
    p.js('arguments[0].click()', active.find_element('css selector', '.conv-rename'))
    inp = p.wait(lambda: p.q('#conv-list .conv-rename-input'), 5, 'the rename box')
    from selenium.webdriver.common.keys import Keys
    inp.send_keys(Keys.CONTROL, 'a')
    inp.send_keys('Renamed chat' + Keys.ENTER)
    p.wait(lambda: p.q('#conv-list li.conv.active .conv-title').text == 'Renamed chat', 5, 'the new title')
    n_msgs = len(p.qa('.msg'))
    p.d.refresh()
    p.wait(lambda: p.js("return document.body.dataset.ready === '1'"), 10, 'the reload')
    p.wait(lambda: p.q('#conv-list li.conv.active .conv-title').text == 'Renamed chat', 5, 'the title after reload')
    assert len(p.qa('.msg')) == n_msgs, 'messages lost on reload'
    n = len(p.qa('#conv-list li.conv'))
    p.js('arguments[0].click()', p.q('#conv-list li.conv.active .conv-delete'))
    p.d.switch_to.alert.accept()
    p.wait(lambda: len(p.qa('#conv-list li.conv')) == n - 1, 5, 'the conversation to go')


def check_markdown_safety(p, s):
    """Model text is rendered as Markdown and never as HTML (marked.js path and fallback)."""
    r = p.d.execute_async_script("""
        const done = arguments[arguments.length - 1];
        // What a rendering holds: every element's tag, the links, attributes named on*.
        const facts = (root) => {
            const els = [...root.querySelectorAll('*')];
            return {tags: [...new Set(els.map((e) => e.tagName.toLowerCase()))],
                    hrefs: [...root.querySelectorAll('a')].map((a) => a.getAttribute('href')),
                    on: els.flatMap((e) => [...e.attributes].map((a) => a.name)).filter((n) => n.startsWith('on')),
                    text: root.textContent, html: root.innerHTML};
        };
        import(new URL('ui/markdown.js', document.baseURI).href).then((md) => {
            const evil = 'Hi **bold** and `x<y`\\n\\n<img src=x onerror="window.__pwned=1">' +
                '<script>window.__pwned=2</script>\\n\\n[link](javascript:window.__pwned=3) ' +
                '[ok](https://example.org)\\n\\n- one\\n- two\\n\\n```js\\nlet a = "<b>";\\n```\\n\\n' +
                '<a href="javascript:alert(1)" onclick="x()">raw</a><iframe src="x"></iframe>';
            const div = document.createElement('div');
            md.renderMarkdown(div, evil, true);
            const fb = document.implementation.createHTMLDocument('').createElement('div');  // inert
            fb.innerHTML = md.renderFallbackHtml(evil);
            // highlight.js loads on the first code block (when the build embedded it).
            const t0 = Date.now();
            const poll = () => {
                const s = [...document.scripts].find((x) => x.src.endsWith('highlight.min.js'));
                if (!window.hljs && Date.now() - t0 < 8000 && !(s && s.dataset.failed)) {
                    return setTimeout(poll, 50);
                }
                const again = document.createElement('div');
                md.renderMarkdown(again, evil, true);
                done({marked: md.usingMarked(), main: facts(div), fallback: facts(fb),
                      hljs: !!window.hljs, highlighted: !!again.querySelector('code[data-hl] .hljs-keyword'),
                      pwned: window.__pwned || 0});
            };
            poll();
        }, (e) => done({error: String(e)}));""")
    assert 'error' not in r, r
    print(f"    Markdown by {'marked.js' if r['marked'] else 'the UI own renderer'}, code "
          f"{'highlighted by highlight.js' if r['hljs'] else 'plain (no highlight.js)'}")
    assert r['highlighted'] == r['hljs'], 'highlight.js loaded but the code block is not highlighted'
    for which in ('main', 'fallback'):
        f = r[which]
        bad = {'img', 'script', 'iframe'} & set(f['tags'])
        assert not bad, f"{which}: {bad} in {f['html']}"
        assert f['hrefs'] == [None, 'https://example.org'] or f['hrefs'] == ['https://example.org'], \
            f"{which}: links {f['hrefs']}"
        assert not f['on'], f"{which}: event handler attributes {f['on']}"
        for tag in ('strong', 'code', 'li', 'pre'):
            assert tag in f['tags'], f"{which}: no <{tag}> in {f['html']}"
        assert '<script>window.__pwned=2</script>' in f['text'], f'{which}: raw HTML not shown as text'
    assert r['pwned'] == 0


def check_prefill_and_overflow(p, s):
    """A long prompt shows the prefill progress bar; one longer than n_ctx shows the error."""
    from selenium.webdriver.common.keys import Keys
    p.q('#new-conv').click()
    p.wait(lambda: not p.qa('.msg'), 5, 'an empty conversation')
    p.settings(system='', thinking=False, max_tokens=4)

    def type_long(text):  # typing 15k characters key by key would take long: set, then Enter
        p.js("const t = document.getElementById('input'); t.value = arguments[0];"
             "t.dispatchEvent(new Event('input'));", text)
        p.q('#input').send_keys(Keys.END, Keys.ENTER)
    p.js("""
        window.__prefill = [];
        const box = document.getElementById('messages');
        new MutationObserver(() => {
            const bar = box.querySelector('.msg.assistant.streaming .prefill');
            if (bar && !bar.hidden) window.__prefill.push(bar.querySelector('.prefill-label').textContent);
        }).observe(box, {childList: true, subtree: true, characterData: true, attributes: true});""")
    type_long('lorem ipsum dolor sit amet ' * 600)  # ~3000 tokens: prefilled in 512-token chunks
    p.wait_reply_done()
    labels = p.js('return window.__prefill')
    assert labels and all(l.startswith('Prefill ') for l in labels), f'no prefill progress shown: {labels}'
    assert not p.last_assistant().find_element('css selector', '.prefill').is_displayed()
    # Now more than the context holds: HTTP 400 exceed_context_size_error, shown in the page.
    type_long('lorem ipsum dolor sit amet ' * 900)
    err = p.wait(lambda: (lambda e: e if e.is_displayed() else None)(
        p.last_assistant().find_element('css selector', '.msg-error')), 15, 'the context error')
    p.wait_reply_done()
    assert 'no longer fits the context' in err.text and '4,096' in err.text, err.text
    assert 'overflow' in p.q('#gauge').get_attribute('class')
    assert 'do not fit' in p.q('#gauge-total').text, p.q('#gauge-total').text


def check_narrow(p, s):
    """A narrow window: the sidebar slides in on demand; the composer and gauge stay usable."""
    p.d.set_window_size(420, 800)
    try:
        p.wait(lambda: p.js("return document.getElementById('sidebar').getBoundingClientRect().right <= 1"),
               5, 'the sidebar off screen')
        assert p.q('#input').is_displayed() and p.q('#gauge').is_displayed()
        w = p.js('return document.documentElement.scrollWidth')
        assert w <= 425, f'page wider than the window: {w}'
        legend = lambda: p.q('#gauge-legend .legend-item').is_displayed()  # noqa: E731
        p.wait(lambda: not legend(), 5, 'the gauge details folded')
        p.q('#context-toggle').click()
        p.wait(legend, 5, 'the gauge details to unfold')
        p.q('#toggle-sidebar').click()
        p.wait(lambda: p.js("return document.getElementById('sidebar').getBoundingClientRect().left >= 0"),
               5, 'the sidebar to slide in')
        p.js("document.getElementById('scrim').click()")
        p.wait(lambda: p.js("return document.getElementById('sidebar').getBoundingClientRect().right <= 1"),
               5, 'the sidebar to slide out')
    finally:
        p.d.set_window_size(1280, 800)


# ------------------------------------------------------------------ serve --memory
RECORD_REQUESTS = """
    window.__chat = [];
    if (!window.__recording) {  // the chat requests' bodies from now on, in window.__chat
        window.__recording = true;
        const f = window.fetch;
        window.fetch = function (url, opts) {
            if (String(url).endsWith('/v1/chat/completions') && opts && opts.body) window.__chat.push(JSON.parse(opts.body));
            return f.apply(this, arguments);
        };
    }"""


def current_conv(p):
    return p.js("return localStorage.getItem('longctx.current')")


def check_no_memory_ui(p, s):
    """A server without --memory: no toggle, no Facts button, no conversation field sent."""
    props = s.call('GET', '/props')
    assert props.get('conversation_memory', {}).get('enabled') is False, props.get('conversation_memory')
    p.q('#new-conv').click()
    p.wait(lambda: not p.qa('.msg'), 5, 'an empty conversation')
    assert not p.q('#toggle-facts').is_displayed(), 'Facts button without server memory'
    p.q('#toggle-settings').click()
    assert not p.q('#memory-settings').is_displayed(), 'memory toggle without server memory'
    p.q('#toggle-settings').click()
    p.js(RECORD_REQUESTS)
    p.settings(max_tokens=4, thinking=False)
    p.send('No memory here.')
    p.wait_reply_done()
    bodies = p.js('return window.__chat')
    assert len(bodies) == 1 and 'conversation' not in bodies[0], bodies
    assert not p.q('#conv-memory').is_displayed()
    assert 'history' in p.gauge()['parts'], p.gauge()['parts']


def open_page(p, url):
    """Loads the page at url; answers the key dialog (a new origin has no stored key)."""
    p.url = url
    p.d.get(url)
    p.wait(lambda: p.js("return document.body.dataset.ready === '1'"), 15, 'the page')
    try:
        p.wait(lambda: p.js("return document.getElementById('key-dialog').open") or
               p.q('#model-name').text == 'tiny-webui', 10, 'the key dialog or the model name')
    except AssertionError:
        pass
    if p.js("return document.getElementById('key-dialog').open"):
        p.q('#key-input').send_keys(API_KEY)
        p.q('#key-ok').click()
    p.wait(lambda: p.q('#model-name').text == 'tiny-webui', 10, 'the model name')


def reply_to(p, s, action):
    """Runs action (a click that sends) and waits until the server finished a request more and
    the page is idle (a tiny model may answer before a poll sees the page busy)."""
    before = s.metrics()['requests_total']
    action()
    p.wait(lambda: s.metrics()['requests_total'] > before, 30, 'the request to finish')
    p.wait_reply_done()


def stored(s, conv):
    return s.call('GET', f'/v1/conversations/{conv}?from=0&to=1000')


def check_memory_toggle(p, s):
    """--memory: the toggle is on for a new conversation and each request names the conversation
    (with the whole history); the server stores exactly the page's turns."""
    props = s.call('GET', '/props')
    cm = props['conversation_memory']
    assert cm['enabled'] is True and cm['budgets']['reply'] > 0, cm
    p.q('#new-conv').click()
    p.wait(lambda: not p.qa('.msg'), 5, 'an empty conversation')
    p.wait(lambda: p.q('#toggle-facts').is_displayed(), 5, 'the Facts button')
    p.q('#toggle-settings').click()
    assert p.q('#memory-settings').is_displayed() and p.q('#set-remember').is_selected(), 'toggle not on'
    p.q('#toggle-settings').click()
    p.js(RECORD_REQUESTS)
    system = 'You are a careful assistant with a long memory.'
    p.settings(system=system, max_tokens=16, thinking=False)
    conv = current_conv(p)
    p.send('My sister Anna lives in Kazan and has a cat called Pushok.')
    p.wait_reply_done()
    p.send('What is the weather like there in March?')
    p.wait_reply_done()
    bodies = p.js('return window.__chat')
    assert [b.get('conversation') for b in bodies] == [conv, conv], bodies
    assert [m['role'] for m in bodies[1]['messages']] == ['system', 'user', 'assistant', 'user'], bodies[1]
    st = stored(s, conv)
    page = [(m['role'], m['content']) for m in
            p.js("return JSON.parse(localStorage.getItem('longctx.conversations'))"
                 ".find((c) => c.id === arguments[0]).messages", conv)]
    assert st['turns'] == 4 and st['system'] == system, st
    assert [(m['role'], m['content'].strip()) for m in st['messages']] == [(r, c.strip()) for r, c in page], \
        (st['messages'], page)


def check_memory_gauge(p, s):
    """After a reply the gauge shows the memory report's sections, the reply reserve, reuse,
    the window, the summary and recall, matching the server's report and counters."""
    conv = current_conv(p)
    before = s.metrics()
    p.send('And does Pushok like the snow?')
    p.wait_reply_done()
    after = s.metrics()
    prompt = round(after['prompt_tokens_total'] - before['prompt_tokens_total'])
    completion = round(after['tokens_predicted_total'] - before['tokens_predicted_total'])
    rep = stored(s, conv)['last_report']
    assert rep['turn'] == 4 and rep['prompt_tokens'] == prompt, rep
    g = p.wait(lambda: (lambda g: g if 'recent' in g['parts'] and g['parts'].get('reply') else None)(p.gauge()),
               10, 'the memory gauge')
    sec = rep['sections']
    for part, key in [('system', 'system'), ('facts', 'facts'), ('summary', 'summary'), ('recent', 'recent'),
                      ('recall', 'recall'), ('latest', 'message')]:
        assert g['parts'][part] == sec[key], f'{part}: gauge {g["parts"][part]} != report {sec[key]}'
    assert sec['recent'] > 0 and sec['message'] == s.ntokens('And does Pushok like the snow?') + 5, sec
    assert g['parts']['reply'] == completion
    assert g['used'] == prompt + completion, f"gauge used {g['used']} != {prompt} + {completion}"
    assert g['parts']['reserve'] == rep['ctx'] - rep['budget'] - completion, g['parts']
    assert g['cached'] == rep['reused'] and g['prefilled'] == rep['prefilled'], (g, rep)
    assert rep['reused'] > 0, 'the remembered prompt was not reused from the cache'
    legend = p.q('#gauge-legend').text
    for word in ('Pinned facts', 'Summary', 'Recent turns', 'Recalled turns', 'New message', 'Reply reserve'):
        assert word in legend, f'legend lacks {word!r}: {legend!r}'
    info = p.q('#conv-memory').text
    for word in ('window: turns 0–3 (4)', 'no summary yet', '0 turns summarised', '0 recalled'):
        assert word in info, f'memory line lacks {word!r}: {info!r}'
    assert f"reused {rep['reused']:,} / prefilled {rep['prefilled']:,} tokens" in p.q('#cache-stats').text


def check_memory_regenerate_edit(p, s):
    """Regenerate and edit in a remembered conversation: the server replaces the turns, so its
    copy stays the page's (the first turn too, which the page starts again on the server)."""
    conv = current_conv(p)

    def same():
        st = stored(s, conv)
        page = p.js("return JSON.parse(localStorage.getItem('longctx.conversations'))"
                    ".find((c) => c.id === arguments[0]).messages.map((m) => [m.role, m.content.trim()])", conv)
        return [[m['role'], m['content'].strip()] for m in st['messages']] == page
    reply_to(p, s, lambda: p.last_assistant().find_element('css selector', 'button.regenerate').click())
    assert stored(s, conv)['turns'] == 6 and same(), 'regenerate: the server differs from the page'
    users = p.qa('.msg.user')
    users[1].find_element('css selector', 'button.edit').click()
    box = p.wait(lambda: p.q('.msg.user textarea.edit-input'), 5, 'the edit box')
    box.clear()
    box.send_keys('What is the weather like there in May?')
    reply_to(p, s, lambda: p.q('.msg.user button.edit-send').click())
    assert stored(s, conv)['turns'] == 4 and same(), 'edit: the server differs from the page'
    # The first message edited: the server's conversation starts again, pinned facts kept.
    s.call('POST', f'/v1/conversations/{conv}/facts', {'text': 'Anna prefers tea.'})
    p.qa('.msg.user')[0].find_element('css selector', 'button.edit').click()
    box = p.wait(lambda: p.q('.msg.user textarea.edit-input'), 5, 'the edit box')
    box.clear()
    box.send_keys('My brother Ivan lives in Omsk.')
    reply_to(p, s, lambda: p.q('.msg.user button.edit-send').click())
    p.wait(lambda: same(), 5, 'the server to hold the edited first turn only')
    assert [f['text'] for f in stored(s, conv)['facts']] == ['Anna prefers tea.'], stored(s, conv)['facts']
    s.call('DELETE', f"/v1/conversations/{conv}/facts/{stored(s, conv)['facts'][0]['id']}")


def check_memory_facts(p, s):
    """The facts panel lists the conversation's facts, pins a new one (then in the prompt's facts
    section) and removes it."""
    conv = current_conv(p)
    p.q('#toggle-facts').click()
    p.wait(lambda: p.q('#facts-panel').is_displayed(), 5, 'the facts panel')
    p.wait(lambda: 'turns stored' in p.q('#facts-state').text, 5, 'the facts state')
    assert not p.qa('#facts-list li.fact'), 'facts before any was added'
    fact = 'Anna is allergic to nuts.'
    p.q('#fact-input').send_keys(fact)
    p.q('#fact-add').click()
    li = p.wait(lambda: p.qa('#facts-list li.fact'), 5, 'the new fact')[0]
    assert p.text_of(li.find_element('css selector', '.fact-text')) == fact
    assert li.get_attribute('data-status') == 'pinned'
    on_server = s.call('GET', f'/v1/conversations/{conv}/facts')['data']
    assert [(f['text'], f['status']) for f in on_server] == [(fact, 'pinned')], on_server
    p.send('What should I cook for Anna?')
    p.wait_reply_done()
    g = p.wait(lambda: (lambda g: g if g['parts'].get('facts') else None)(p.gauge()), 10, 'the facts section')
    assert g['parts']['facts'] == stored(s, conv)['last_report']['sections']['facts'] > 0
    p.wait(lambda: p.qa('#facts-list li.fact .fact-remove'), 5, 'the refreshed facts list')[0].click()
    p.wait(lambda: not p.qa('#facts-list li.fact'), 5, 'the fact to go')
    assert s.call('GET', f'/v1/conversations/{conv}/facts')['data'] == []
    p.q('#close-facts').click()
    assert not p.q('#facts-panel').is_displayed()


def check_memory_compaction(p, s):
    """Two long messages outgrow the window: the server summarises the first turns before
    answering; the page polls and shows "compacting" meanwhile, then the summary in the gauge."""
    p.q('#new-conv').click()
    p.wait(lambda: not p.qa('.msg'), 5, 'an empty conversation')
    p.settings(system='', max_tokens=8, thinking=False)
    conv = current_conv(p)
    from selenium.webdriver.common.keys import Keys

    def type_long(text):
        p.js("const t = document.getElementById('input'); t.value = arguments[0];"
             "t.dispatchEvent(new Event('input'));", text)
        p.q('#input').send_keys(Keys.END, Keys.ENTER)
    p.js("""
        window.__compacting = 0;
        const box = document.getElementById('messages');
        new MutationObserver(() => {
            const c = box.querySelector('.msg.assistant.streaming .compacting');
            if (c && !c.hidden) window.__compacting++;
        }).observe(box, {childList: true, subtree: true, attributes: true});""")
    type_long('The lighthouse keeper counted ships every night. ' * 160)  # ~1.4k tokens
    p.wait_reply_done()
    type_long('The harbour master wrote down every name in a book. ' * 160)
    p.wait_reply_done(120)
    rep = stored(s, conv)['last_report']
    c = rep['compaction']
    assert c and rep['summary'] and rep['summary']['version'] == 1, rep
    seen = p.js('return window.__compacting')
    print(f"    compaction of turns {c['turns']} took {c['seconds']:.1f} s; 'compacting' shown: {bool(seen)}")
    if c['seconds'] > 1.5:
        assert seen, 'the compaction ran without "compacting" shown'
    info = p.wait(lambda: (lambda t: t if 'compaction' in t else None)(p.q('#conv-memory').text), 10,
                  'the compaction in the memory line')
    assert f"summary v1 (turns 0–{rep['summary']['covers'][1]})" in info, info
    assert f"{rep['turns']['summarized']} turns summarised" in info, info
    g = p.gauge()
    assert g['parts']['summary'] == rep['sections']['summary'] > 0, (g, rep['sections'])
    assert 'summarised (summary v1)' in p.last_assistant().find_element('css selector', '.msg-stats').text


def check_memory_compacting_shown(p, s):
    """The page polls GET /v1/conversations/ID while it waits for the first token and shows
    "compacting" while the answer says so. A real compaction of the tiny model can end before the
    first poll, so here the chat request is held back 2.5 s and the poll's answer says true."""
    p.q('#new-conv').click()
    p.wait(lambda: not p.qa('.msg'), 5, 'an empty conversation')
    p.settings(max_tokens=8, thinking=False)
    conv = current_conv(p)
    p.js("""
        window.__polls = 0;
        window.__fetchBefore = window.fetch;
        const real = window.fetch;
        window.fetch = function (url, opts) {
            const u = String(url);
            if (u.includes('/v1/conversations/') && u.endsWith('?from=0&to=0')) {
                window.__polls++;
                return Promise.resolve(new Response(JSON.stringify({compacting: true}),
                    {status: 200, headers: {'Content-Type': 'application/json'}}));
            }
            if (u.endsWith('/v1/chat/completions')) {
                return new Promise((r) => setTimeout(r, 2500)).then(() => real.apply(this, arguments));
            }
            return real.apply(this, arguments);
        };""")
    try:
        p.send('Hello again.')
        ind = p.wait(lambda: (lambda e: e if e.is_displayed() else None)(
            p.last_assistant().find_element('css selector', '.compacting')), 3, 'the compacting line')
        assert ind.text == 'compacting: writing the summary…', ind.text
        p.wait_reply_done()
        assert not p.last_assistant().find_element('css selector', '.compacting').is_displayed()
        polls = p.js('return window.__polls')
        assert 2 <= polls <= 4, f'{polls} polls in 2.5 s'
    finally:
        p.js('window.fetch = window.__fetchBefore')
    assert stored(s, conv)['turns'] == 2


def check_memory_toggle_off(p, s):
    """The toggle off: requests are ordinary again (no conversation field, the classic gauge)."""
    p.q('#new-conv').click()
    p.wait(lambda: not p.qa('.msg'), 5, 'an empty conversation')
    p.js(RECORD_REQUESTS)
    p.settings(max_tokens=8, thinking=False)
    p.q('#toggle-settings').click()
    p.q('#set-remember').click()
    p.q('#toggle-settings').click()
    assert not p.q('#toggle-facts').is_displayed()
    p.send('Forget me.')
    p.wait_reply_done()
    bodies = p.js('return window.__chat')
    assert len(bodies) == 1 and 'conversation' not in bodies[0], bodies
    p.wait(lambda: 'history' in p.gauge()['parts'], 10, 'the classic gauge')
    assert not p.q('#conv-memory').is_displayed()
    conv = current_conv(p)
    assert all(c['id'] != conv for c in s.call('GET', '/v1/conversations')['data'])


def screenshot(p, s, path):
    """docs/webui.png: a conversation with a system prompt, thinking and two turns at 1280x800
    (on the --memory server when there is one: remembered, with a pinned fact, the facts open)."""
    p.q('#new-conv').click()
    system = ('You are a helpful assistant for long documents. Quote the passages you rely on, '
              'say which section they come from, and keep answers short. ') * 40  # ~1k tokens: visible
    p.js("const t = document.getElementById('set-system'); t.value = arguments[0];"
         "t.dispatchEvent(new Event('input'));", system)
    p.settings(thinking=True, max_tokens=48)
    p.send('Explain what a KV cache is, briefly.')
    p.wait_reply_done()
    remembered = s.call('GET', '/props').get('conversation_memory', {}).get('enabled')
    if remembered:  # serve --memory: a pinned fact, and the facts panel open
        s.call('POST', f'/v1/conversations/{current_conv(p)}/facts',
               {'text': 'The user reads long technical documents and prefers short answers.'})
    p.settings(thinking=False, max_tokens=64)
    p.send('Thanks. And what does the context gauge above show?')
    p.wait_reply_done()
    if remembered:
        p.q('#toggle-facts').click()
        p.wait(lambda: p.qa('#facts-list li.fact'), 5, 'the facts panel')
    p.js("document.querySelector('.msg.assistant details.thinking').open = true")
    p.q('#input').send_keys('Draft of a next question…')
    time.sleep(0.8)  # the draft's token count
    p.d.set_window_size(1280, 800)
    inner = p.js('return [window.innerWidth, window.innerHeight]')
    p.d.set_window_size(1280 + 1280 - inner[0], 800 + 800 - inner[1])  # viewport of 1280x800
    os.makedirs(os.path.dirname(path), exist_ok=True)
    p.d.save_screenshot(path)
    print(f'  screenshot: {path}')


# ------------------------------------------------------------------ main
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--bin', default=os.environ.get('LONGCTX_BIN', os.path.join(REPO, 'build', 'src', 'longctx')))
    ap.add_argument('--mode', choices=['embedded', 'dev'], default=os.environ.get('LONGCTX_WEBUI_MODE', 'embedded'),
                    help='embedded: the page from longctx itself (GET /); dev: from src/server/webui via '
                         'python -m http.server and ?api= (CORS)')
    ap.add_argument('--screenshot', nargs='?', const=os.path.join(REPO, 'docs', 'webui.png'), default=None,
                    help='save a 1280x800 screenshot (default path docs/webui.png)')
    ap.add_argument('--no-vendor', action='store_true',
                    help='dev mode without marked.js / highlight.js: the UI\'s own Markdown renderer')
    ap.add_argument('--keep', action='store_true', help='keep the temporary folder (server log)')
    ap.add_argument('--no-memory', action='store_true',
                    help='skip the checks against a second server with --memory')
    args = ap.parse_args()

    try:
        import selenium  # noqa: F401
    except ImportError:
        skip_or_fail('the selenium Python package is not installed (tests/webui/requirements.txt)')
    chromium = find_tool('LONGCTX_CHROMIUM', ['chromium', 'chromium-browser', 'google-chrome'])
    driver = find_tool('LONGCTX_CHROMEDRIVER', ['chromedriver', 'chromium-driver'])
    if not chromium or not driver:
        skip_or_fail('chromium / chromedriver not found (apt-get install chromium chromium-driver)')
    if not os.access(args.bin, os.X_OK):
        print(f'test_webui: FAILED: no longctx binary at {args.bin} (set LONGCTX_BIN or --bin)')
        return 1

    t_start = time.time()
    work = tempfile.mkdtemp(prefix='longctx-webui-')
    server = mserver = site = page = None
    passed, failed = [], []

    def run(checks, srv, stop_at=None):
        for check in checks:
            t0 = time.time()
            try:
                check(page, srv)
                passed.append(check.__name__)
                print(f'  PASS {check.__name__} ({time.time() - t0:.1f} s)')
            except Exception as e:
                failed.append(check.__name__)
                print(f'  FAIL {check.__name__}: {e}')
                traceback.print_exc()
                if check is stop_at:  # nothing else can work without it
                    return False
        return True
    try:
        model = make_model(args.bin, work)
        server = Server(args.bin, model, work, cors=(args.mode == 'dev'))
        if args.mode == 'dev':
            port = free_port()
            site = subprocess.Popen([sys.executable, '-m', 'http.server', str(port), '--bind', '127.0.0.1',
                                     '--directory', dev_site(work, not args.no_vendor)], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True)
            page_url = lambda srv: f'http://127.0.0.1:{port}/?api={srv.url}'  # noqa: E731
            url = page_url(server)
            end = time.time() + 10
            while time.time() < end:
                try:
                    urllib.request.urlopen(f'http://127.0.0.1:{port}/', timeout=2).read()
                    break
                except (urllib.error.URLError, ConnectionError):
                    time.sleep(0.1)
        else:
            page_url = lambda srv: srv.url + '/'  # noqa: E731
            url = page_url(server)
            try:
                r = urllib.request.urlopen(url, timeout=10)
                ctype = r.headers.get('Content-Type', '')
                assert ctype.startswith('text/html'), f'GET / is {ctype}'
                assert r.headers.get('Cache-Control') == 'no-cache'
            except (urllib.error.HTTPError, AssertionError) as e:
                print(f'test_webui: FAILED: the server does not serve the UI at / ({e}); '
                      'use --mode dev with a server that lacks it')
                return 1
        page = Page(chromium, driver, url)
        print(f'test_webui: {args.mode} mode, page {url}')
        checks = [check_api_key, check_stream_and_gauge, check_regenerate, check_edit, check_thinking,
                  check_stop, check_prefill_and_overflow, check_markdown_safety, check_conversations,
                  check_narrow, check_no_memory_ui]
        ok = run(checks, server, stop_at=check_api_key)
        if ok and not args.no_memory:
            # A second server with --memory on a temporary database; the same page moves to it.
            mserver = Server(args.bin, model, work, cors=(args.mode == 'dev'),
                             memory_db=os.path.join(work, 'memory.db'))
            print(f'  --memory server {mserver.url}')
            page.collect_console()
            open_page(page, page_url(mserver))
            run([check_memory_toggle, check_memory_gauge, check_memory_regenerate_edit, check_memory_facts,
                 check_memory_compaction, check_memory_compacting_shown, check_memory_toggle_off], mserver)
        if args.screenshot and not failed:
            screenshot(page, mserver or server, args.screenshot)
        page.collect_console()
        errors = [e['message'] for e in page.console if e.get('level') == 'SEVERE' and
                  'Failed to load resource' not in e['message']]
        if errors:
            failed.append('console')
            print('  FAIL console errors:\n    ' + '\n    '.join(errors[:10]))
        else:
            passed.append('console')
    except Exception as e:
        failed.append('setup')
        print(f'  FAIL setup: {e}')
        traceback.print_exc()
    finally:
        if page:
            page.close()
        if site:
            os.killpg(site.pid, signal.SIGTERM)
            site.wait()
        for srv in (server, mserver):
            if srv:
                srv.stop()
                if failed:
                    print(f'--- {os.path.basename(srv.log_path)} (tail) ---\n' + open(srv.log_path).read()[-3000:])
        if args.keep:
            print(f'kept {work}')
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f'test_webui: {time.time() - t_start:.1f} s')
    print(f'{len(passed)} passed, {len(failed)} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
