"""Client-level acceptance tests of `longctx serve` (scripts/pytest-server.sh runs them).

Each test module drives a real server process, started from $LONGCTX_BIN (default
build/src/longctx) on a free loopback port, with the official `openai` / `anthropic` Python
clients or raw httpx. The models are tiny random-weight GGUFs made once per session by
`longctx synth` (the real Qwen3 tokenizer, so prompts and templates are real; the text is
gibberish, so tests assert protocol and behaviour, never the words).

Helpers shared by the test modules live here too (`from conftest import ...`).
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import threading
import time
from typing import Callable, Iterator

import httpx
import openai
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
HOST = "127.0.0.1"  # loopback only, never a wildcard or outside address
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
MODEL_FILE = "tiny.gguf"  # the default model id (--alias unset: the file's name)
MOE_FILE = "moe.gguf"
# Every module's server unless it sets SERVER_ARGS: 2 sequences of 1024 tokens.
DEFAULT_ARGS = ("--ctx", "1024", "--parallel", "2")
# Qwen3's template with thinking off: no reasoning to split, so content is the raw reply.
NO_THINK = {"chat_template_kwargs": {"enable_thinking": False}}


def longctx_bin() -> str:
    b = os.environ.get("LONGCTX_BIN", str(ROOT / "build" / "src" / "longctx"))
    if not os.path.isabs(b):
        b = str(ROOT / b)
    return b


# ---- server processes -----------------------------------------------------------------------


class ServerStartError(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """One `longctx serve` process on 127.0.0.1 with its log in a file."""

    def __init__(self, model: str, args: tuple | list, workdir: pathlib.Path, name: str):
        self.model = model
        self.args = [str(a) for a in args]
        self.workdir = workdir
        self.name = name
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.log_path = workdir / f"{name}.log"
        self._log = None
        self._clients: list = []  # closed before SIGTERM: an idle keep-alive connection would
        # hold the server's shutdown for its keep-alive timeout

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def command(self, port: int) -> list[str]:
        return [longctx_bin(), "serve", "-m", self.model, "--host", HOST, "--port", str(port),
                *self.args]

    def log(self, tail: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except OSError:
            return ""

    def start(self) -> "Server":
        last = ""
        for _ in range(3):  # another process may take the free port between probe and bind
            self.port = _free_port()
            self._log = open(self.log_path, "ab")
            self.proc = subprocess.Popen(self.command(self.port), stdout=self._log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            deadline = time.monotonic() + START_TIMEOUT_S
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    if httpx.get(self.url("/health"), timeout=2).status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
                raise ServerStartError(
                    f"{self.command(self.port)}: no GET /health 200 within {START_TIMEOUT_S} s\n"
                    + self.log())
            last = self.log()
            if "bind" not in last:
                break
        raise ServerStartError(
            f"{self.command(self.port)} exited with {self.proc.returncode} before serving:\n"
            + last)

    def stop(self) -> int | None:
        """SIGTERM; the exit status (None: it had to be killed after STOP_TIMEOUT_S)."""
        if self.proc is None:
            return 0
        self.close_clients()
        rc: int | None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                rc = None
        else:
            rc = self.proc.returncode
        if self._log:
            self._log.close()
        return rc

    def close_clients(self) -> None:
        for c in self._clients:
            with contextlib.suppress(Exception):
                c.close()
        self._clients.clear()

    def client(self, **kw) -> openai.OpenAI:
        kw.setdefault("api_key", "sk-no-key")
        kw.setdefault("max_retries", 0)  # a retry would hide a 5xx or a timeout
        kw.setdefault("timeout", 120.0)
        c = openai.OpenAI(base_url=self.url("/v1"), **kw)
        self._clients.append(c)
        return c

    def http(self, **kw) -> httpx.Client:
        kw.setdefault("timeout", 120.0)
        c = httpx.Client(base_url=self.base_url, **kw)
        self._clients.append(c)
        return c

    def anthropic(self, **kw):
        import anthropic

        kw.setdefault("api_key", "sk-ant-no-key")
        kw.setdefault("max_retries", 0)
        kw.setdefault("timeout", 120.0)
        c = anthropic.Anthropic(base_url=self.base_url, **kw)
        self._clients.append(c)
        return c


@contextlib.contextmanager
def running_server(model: str, args, workdir: pathlib.Path, name: str) -> Iterator[Server]:
    """A started server; on exit SIGTERM and check that it exits with 0 in time."""
    srv = Server(model, args, workdir, name).start()
    try:
        yield srv
    finally:
        rc = srv.stop()
    if rc != 0:
        pytest.fail(f"server {srv.args} exited with {rc} after SIGTERM (None: still running after "
                    f"{STOP_TIMEOUT_S} s)\n" + srv.log(), pytrace=False)


def run_serve(model: str, args, timeout: float = 20.0) -> subprocess.CompletedProcess:
    """`longctx serve` run to its end (for arguments it must refuse)."""
    return subprocess.run([longctx_bin(), "serve", "-m", model, "--host", HOST, "--port", "0",
                           *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


# ---- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> pathlib.Path:
    b = longctx_bin()
    if not os.access(b, os.X_OK):
        pytest.fail(f"no executable longctx at {b}: build it or set LONGCTX_BIN", pytrace=False)
    return tmp_path_factory.mktemp("models")


def _synth(d: pathlib.Path, shape: str, name: str) -> str:
    out = d / name
    p = subprocess.run([longctx_bin(), "synth", "--shape", shape, "--type", "q8_0", "-o",
                        str(out)], capture_output=True, text=True, timeout=300)
    if p.returncode != 0 or not out.exists():
        pytest.fail(f"longctx synth --shape {shape} failed ({p.returncode}):\n{p.stderr}",
                    pytrace=False)
    return str(out)


@pytest.fixture(scope="session")
def tiny_model(model_dir) -> str:
    """qwen3-tiny, q8_0, random weights, the real Qwen3 tokenizer."""
    return _synth(model_dir, "qwen3-tiny", MODEL_FILE)


@pytest.fixture(scope="session")
def moe_model(model_dir) -> str:
    """qwen3moe-tiny (for the per-request `experts` field)."""
    return _synth(model_dir, "qwen3moe-tiny", MOE_FILE)


@pytest.fixture(scope="module")
def server(request, tiny_model, tmp_path_factory) -> Iterator[Server]:
    """One server per module, with the module's SERVER_ARGS (else DEFAULT_ARGS)."""
    args = getattr(request.module, "SERVER_ARGS", DEFAULT_ARGS)
    name = request.module.__name__.rpartition(".")[2]
    with running_server(tiny_model, args, tmp_path_factory.mktemp(name), name) as srv:
        yield srv


@pytest.fixture(scope="module")
def client(server) -> openai.OpenAI:
    return server.client()


@pytest.fixture(scope="module")
def http(server) -> Iterator[httpx.Client]:
    with server.http() as c:
        yield c


@pytest.fixture
def make_server(tiny_model, tmp_path) -> Iterator[Callable[..., Server]]:
    """A factory for servers of one test: make_server(*args, model=None); each is stopped with
    SIGTERM at the end of the test and must exit with 0."""
    stack = contextlib.ExitStack()
    count = [0]

    def make(*args, model: str | None = None) -> Server:
        count[0] += 1
        return stack.enter_context(
            running_server(model or tiny_model, args, tmp_path, f"server{count[0]}"))

    with stack:
        yield make


# ---- helpers --------------------------------------------------------------------------------


def user(content) -> list[dict]:
    return [{"role": "user", "content": content}]


def chat(client: openai.OpenAI, content="Hi", **kw):
    """One non-streamed chat completion of a single user message."""
    kw.setdefault("max_tokens", 16)
    return client.chat.completions.create(model=MODEL_FILE, messages=user(content), **kw)


def wait_until(pred: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if pred():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(step)


def metrics(http_client: httpx.Client) -> dict[str, float]:
    """GET /metrics parsed as Prometheus text: {name (labels included): value}. Checks the
    format on the way (every sample line is NAME[{labels}] VALUE, every name has a # TYPE)."""
    r = http_client.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain"), r.headers
    out: dict[str, float] = {}
    typed = set()
    for line in r.text.splitlines():
        if not line.strip():
            continue
        if line.startswith("# TYPE "):
            parts = line.split()
            assert len(parts) == 4 and parts[3] in (
                "counter", "gauge", "histogram", "summary", "untyped"), line
            typed.add(parts[2])
            continue
        if line.startswith("#"):
            continue
        m = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)(\s+\d+)?", line)
        assert m, f"not a Prometheus sample line: {line!r}"
        assert m.group(1) in typed or re.sub(r"_(bucket|sum|count)$", "", m.group(1)) in typed, \
            f"{m.group(1)} has no # TYPE line"
        out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


def metric(values: dict[str, float], *suffixes: str) -> float:
    """The value of the first metric whose name (without a `prefix:`) is one of suffixes."""
    for s in suffixes:
        for k, v in values.items():
            if k.rpartition(":")[2] == s:
                return v
    raise AssertionError(f"no metric named *:{'/'.join(suffixes)} in {sorted(values)}")


def slots(http_client: httpx.Client) -> list[dict]:
    r = http_client.get("/slots")
    assert r.status_code == 200, r.text
    body = r.json()
    assert isinstance(body, list), body
    return body


def idle(http_client: httpx.Client) -> bool:
    return not any(s.get("is_processing") for s in slots(http_client))


def find_stop(text: str, length: int = 4) -> tuple[int, str]:
    """A stop string taken from a greedy reply: the last piece of `length` characters (no
    blank at either end) whose first occurrence is at index i > 0, so that the reply cut at it
    is text[:i]. The last such piece leaves the longest text before the cut."""
    best = None
    for i in range(1, len(text) - length + 1):
        s = text[i:i + length]
        if s.strip() == s and text.find(s) == i:
            best = (i, s)
    assert best, f"no usable stop string in {text!r}"
    return best


def sse_events(lines: Iterator[str]) -> list[tuple[str | None, str]]:
    """Raw SSE lines -> [(event name or None, data)], comments dropped."""
    events, name, data = [], None, []
    for line in lines:
        if line == "":
            if data:
                events.append((name, "\n".join(data)))
            name, data = None, []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip(" "))
    if data:
        events.append((name, "\n".join(data)))
    return events


def stream_raw(http_client: httpx.Client, path: str, body: dict, **kw):
    """POST a streamed request; (status, headers, [(event, data)]) with the JSON payloads
    decoded where they are JSON."""
    with http_client.stream("POST", path, json=body, **kw) as r:
        if r.status_code != 200:
            r.read()
            return r.status_code, r.headers, r.text
        evs = []
        for name, data in sse_events(r.iter_lines()):
            try:
                evs.append((name, json.loads(data)))
            except ValueError:
                evs.append((name, data))
        return r.status_code, r.headers, evs


def in_threads(fns: list[Callable[[], object]]) -> list[object]:
    """Runs the callables at once (released together by a barrier); their results or the
    exceptions they raised, in order."""
    results: list[object] = [None] * len(fns)
    barrier = threading.Barrier(len(fns))

    def run(i):
        barrier.wait()
        try:
            results[i] = fns[i]()
        except Exception as e:  # noqa: BLE001 - returned to the caller
            results[i] = e

    ts = [threading.Thread(target=run, args=(i,)) for i in range(len(fns))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return results


def error_of(resp: httpx.Response) -> dict:
    """The OpenAI-shaped error object of a response (asserting the shape)."""
    assert resp.headers.get("content-type", "").startswith("application/json"), resp.headers
    body = resp.json()
    assert isinstance(body.get("error"), dict), body
    err = body["error"]
    assert isinstance(err.get("message"), str) and err["message"], body
    assert "type" in err, body
    return err


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report shows the tail of its module server's log."""
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and rep.failed:
        srv = item.funcargs.get("server")
        if isinstance(srv, Server):
            rep.sections.append(("longctx serve log (tail)", srv.log(1500)))
