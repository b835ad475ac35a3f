#!/usr/bin/env python3
"""Robustness / stress test of `longctx serve` (Python 3 standard library only).

Starts `longctx serve` on a free loopback port (or attaches to --url), warms it up, measures its
idle resident memory, then sends --requests requests from a fixed seed: every --valid-every-th
one a valid request whose answer is checked (chat streamed and not, completions streamed and not,
tokenize + detokenize round trip, keep-alive, the GET endpoints), the others hostile (malformed,
truncated or deeply nested JSON, wrong types in every field, unknown fields, huge strings, a
40 MB body, invalid UTF-8 and NUL bytes, wrong Content-Length, chunked bodies that never end or
exceed the limit, HTTP garbage, a 100 KB request line, 10,000 headers, unknown methods and paths,
disconnects mid-request and mid-stream, slow clients, gzip bombs, hostile JSON schemas, ...),
all over raw sockets, a pool of --workers at once. Then it probes what more idle connections than
HTTP worker threads do to a valid request, lets the server settle, and checks: every valid request
answered correctly, no hostile request answered 5xx or left hanging, the server alive and
answering /health with no sequence left busy, its RSS within --rss-tolerance of the idle level,
and that SIGTERM stops it. Exit status 1 if anything failed.

    python3 tools/server_stress.py --bin build/longctx --model tiny.gguf [--requests 1000]
        [--seed 1] [--parallel 2] [--threads-http 16] [--json OUT] [--dump-dir DIR]
    python3 tools/server_stress.py ... --only 137,412     # replay those cases (same seed) alone

A tiny model: `longctx synth --shape qwen3-tiny --type q8_0 -o tiny.gguf`. Only loopback
addresses are ever contacted. Every loop is bounded in count and time (--max-wall).
"""
from __future__ import annotations

import argparse
import collections
import concurrent.futures
import gzip
import json
import os
import random
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import unicodedata
import urllib.parse
import zlib

LOOPBACK = ("127.0.0.1", "localhost", "::1")
MIB = 1024 * 1024


def now() -> float:
    return time.monotonic()


# --------------------------------------------------------------------------------------------
# Raw HTTP over sockets
# --------------------------------------------------------------------------------------------


class Hang(Exception):
    """The deadline passed with the connection still open and no (complete) answer."""


class Closed(Exception):
    """The server closed (FIN) or reset the connection."""

    def __init__(self, reset: bool, partial: bytes):
        super().__init__("reset" if reset else "eof")
        self.reset = reset
        self.partial = partial


class BadResponse(Exception):
    pass


class Conn:
    def __init__(self, host: str, port: int, deadline: float, connect_timeout: float = 5.0):
        self.deadline = deadline
        self.sock = socket.create_connection((host, port), timeout=connect_timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.consumed = b""  # every byte received, for excerpts

    def remaining(self) -> float:
        return self.deadline - now()

    def send(self, data: bytes) -> str | None:
        """Sends all of data before the deadline; returns an error text, None when sent."""
        try:
            r = self.remaining()
            if r <= 0:
                return "send timeout"
            self.sock.settimeout(r)
            self.sock.sendall(data)
            return None
        except socket.timeout:
            return "send timeout (the server stopped reading)"
        except OSError as e:
            return f"send error: {e.__class__.__name__}: {e}"

    def _recv(self) -> bytes:
        r = self.remaining()
        if r <= 0:
            raise Hang()
        self.sock.settimeout(min(r, 2.0))
        try:
            d = self.sock.recv(262144)
        except socket.timeout:
            if self.remaining() <= 0:
                raise Hang()
            return self._recv()
        except (ConnectionResetError, BrokenPipeError) as e:
            raise Closed(True, self.buf) from e
        except OSError as e:
            raise Closed(True, self.buf) from e
        if not d:
            raise Closed(False, self.buf)
        self.consumed += d[: max(0, 4096 - len(self.consumed))]
        return d

    def read_until(self, sep: bytes, limit: int) -> bytes:
        while True:
            i = self.buf.find(sep)
            if i >= 0:
                out, self.buf = self.buf[:i], self.buf[i + len(sep):]
                return out
            if len(self.buf) > limit:
                raise BadResponse(f"no {sep!r} within {limit} bytes")
            self.buf += self._recv()

    def read_n(self, n: int) -> bytes:
        while len(self.buf) < n:
            self.buf += self._recv()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_some(self) -> bytes:
        if self.buf:
            out, self.buf = self.buf, b""
            return out
        return self._recv()

    def close(self, rst: bool = False) -> None:
        try:
            if rst:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.sock.close()
        except OSError:
            pass


class Resp:
    def __init__(self):
        self.status = 0
        self.reason = ""
        self.headers: dict[str, str] = {}
        self.body = b""
        self.partial = False  # stopped early on purpose (stop_after)
        self.chunked = False

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def excerpt(self, n: int = 400) -> str:
        b = self.body[:n]
        more = f" ...(+{len(self.body) - n} bytes)" if len(self.body) > n else ""
        return f"HTTP {self.status} {self.reason} {b!r}{more}"


def read_response(conn: Conn, head: bool = False, stop_after=None,
                  body_limit: int = 256 * MIB) -> Resp:
    while True:
        line = conn.read_until(b"\r\n", 65536)
        m = re.match(rb"HTTP/(\d\.\d) (\d{3})(?: (.*))?$", line)
        if not m:
            raise BadResponse(f"bad status line {line[:200]!r}")
        r = Resp()
        r.status = int(m.group(2))
        r.reason = (m.group(3) or b"").decode("latin-1")
        for _ in range(10000):
            h = conn.read_until(b"\r\n", 1 << 20)
            if not h:
                break
            k, _, v = h.partition(b":")
            r.headers[k.decode("latin-1").strip().lower()] = v.decode("latin-1").strip()
        if 100 <= r.status < 200:
            continue  # 100 Continue: the real answer follows
        break
    if head or r.status in (204, 304):
        return r
    te = r.headers.get("transfer-encoding", "").lower()
    if "chunked" in te:
        r.chunked = True
        parts = []
        total = 0
        while True:
            size_line = conn.read_until(b"\r\n", 4096)
            try:
                size = int(size_line.split(b";")[0].strip(), 16)
            except ValueError:
                raise BadResponse(f"bad chunk size {size_line[:80]!r}")
            if size == 0:
                while conn.read_until(b"\r\n", 65536):  # trailers
                    pass
                break
            parts.append(conn.read_n(size))
            total += size
            if conn.read_n(2) != b"\r\n":
                raise BadResponse("chunk not followed by CRLF")
            if total > body_limit:
                raise BadResponse(f"body over {body_limit} bytes")
            if stop_after is not None and stop_after(b"".join(parts)):
                r.partial = True
                break
        r.body = b"".join(parts)
    elif "content-length" in r.headers:
        n = int(r.headers["content-length"])
        if n > body_limit:
            raise BadResponse(f"Content-Length {n} over {body_limit}")
        r.body = conn.read_n(n)
    else:  # delimited by the close
        parts = []
        try:
            while True:
                parts.append(conn.read_some())
        except Closed:
            pass
        r.body = b"".join(parts)
    return r


class Ex:
    """What one exchange gave: the responses, and how the connection ended."""

    def __init__(self):
        self.responses: list[Resp] = []
        self.err: str | None = None  # connect / hang / eof / reset / bad response
        self.send_err: str | None = None
        self.closed_at: float | None = None  # seconds after the start, when the server closed
        self.elapsed = 0.0
        self.first_byte_at: float | None = None

    @property
    def hang(self) -> bool:
        return self.err == "hang"

    def describe(self) -> str:
        parts = [r.excerpt() for r in self.responses]
        if self.send_err:
            parts.append(f"[{self.send_err}]")
        if self.err:
            parts.append(f"[{self.err}]")
        if self.closed_at is not None:
            parts.append(f"[closed by the server after {self.closed_at:.2f} s]")
        parts.append(f"[{self.elapsed:.2f} s]")
        return " ".join(parts)


def exchange(ctx, data, *, timeout: float | None = None, n_resp: int = 1, head: bool = False,
             rst: bool = False, until_close: bool = False, stop_after=None) -> Ex:
    """Sends data (bytes, or a list of bytes and float pauses), reads up to n_resp answers, and
    with until_close waits for the server to close the connection. Bounded by timeout."""
    ex = Ex()
    t0 = now()
    deadline = t0 + (timeout if timeout is not None else ctx.client_timeout)
    try:
        conn = Conn(ctx.host, ctx.port, deadline)
    except OSError as e:
        ex.err = f"connect failed: {e}"
        ex.elapsed = now() - t0
        return ex
    try:
        for part in data if isinstance(data, list) else [data]:
            if isinstance(part, (int, float)):
                time.sleep(part)
                continue
            e = conn.send(part)
            if e:
                ex.send_err = e
                break
        for _ in range(n_resp):
            try:
                r = read_response(conn, head=head, stop_after=stop_after)
            except Hang:
                ex.err = "hang"
                break
            except Closed as c:
                ex.closed_at = now() - t0
                got = len(c.partial) + len(conn.consumed)
                if ex.responses or not conn.consumed:
                    ex.err = "reset" if c.reset else "eof"
                else:
                    ex.err = ("reset" if c.reset else "eof") + f" mid-response after {got} bytes"
                break
            except BadResponse as b:
                ex.err = f"bad response: {b}"
                break
            if ex.first_byte_at is None:
                ex.first_byte_at = now() - t0
            ex.responses.append(r)
            if r.partial or r.headers.get("connection", "").lower() == "close":
                break
        if until_close and ex.closed_at is None and not ex.hang and not ex.err:
            try:
                while True:
                    conn.read_some()
            except Closed:
                ex.closed_at = now() - t0
            except Hang:
                ex.err = "hang"
    finally:
        conn.close(rst)
    ex.elapsed = now() - t0
    return ex


def exchange_seq(ctx, reqs: list[bytes], timeout: float | None = None) -> Ex:
    """Keep-alive: each request sent after the answer to the one before, on one connection."""
    ex = Ex()
    t0 = now()
    try:
        conn = Conn(ctx.host, ctx.port, t0 + (timeout or ctx.client_timeout))
    except OSError as e:
        ex.err = f"connect failed: {e}"
        return ex
    try:
        for q in reqs:
            e = conn.send(q)
            if e:
                ex.send_err = e
                break
            try:
                ex.responses.append(read_response(conn))
            except Hang:
                ex.err = "hang"
                break
            except Closed as c:
                ex.closed_at = now() - t0
                ex.err = "reset" if c.reset else "eof"
                break
            except BadResponse as b:
                ex.err = f"bad response: {b}"
                break
    finally:
        conn.close()
    ex.elapsed = now() - t0
    return ex


def http_req(method: str, path: str, body: bytes | None = None, headers=None, close=True,
             ctype: str | None = "application/json") -> bytes:
    h = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if body is not None:
        if ctype:
            h.append(f"Content-Type: {ctype}")
        h.append(f"Content-Length: {len(body)}")
    for k, v in (headers or []):
        h.append(f"{k}: {v}")
    if close:
        h.append("Connection: close")
    return ("\r\n".join(h) + "\r\n\r\n").encode("latin-1") + (body or b"")


def jbody(obj, ascii_only: bool = False) -> bytes:
    return json.dumps(obj, ensure_ascii=ascii_only, separators=(",", ":")).encode("utf-8")


# --------------------------------------------------------------------------------------------
# Answer checks
# --------------------------------------------------------------------------------------------


class CheckFail(Exception):
    pass


def need(cond, msg):
    if not cond:
        raise CheckFail(msg)


def is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def error_shape_ok(r: Resp) -> str | None:
    """None if the body is {"error": {"code", "message", "type"}} (or Anthropic's shape)."""
    try:
        j = r.json()
    except Exception as e:  # noqa: BLE001
        return f"error body is not JSON ({e}): {r.body[:200]!r}"
    if not isinstance(j, dict) or not isinstance(j.get("error"), dict):
        return f"error body has no 'error' object: {r.body[:200]!r}"
    e = j["error"]
    if j.get("type") == "error":  # Anthropic
        if isinstance(e.get("type"), str) and isinstance(e.get("message"), str):
            return None
        return f"bad Anthropic error body: {r.body[:200]!r}"
    if not isinstance(e.get("message"), str) or not isinstance(e.get("type"), str) or \
            "code" not in e:
        return f"error object lacks code/message/type: {r.body[:200]!r}"
    return None


def check_usage(u, max_tokens: int, n: int, finishes: list[str], prompt_tokens=None):
    need(isinstance(u, dict), f"usage is not an object: {u!r}")
    for k in ("prompt_tokens", "completion_tokens", "total_tokens"):
        need(is_int(u.get(k)) and u[k] >= 0, f"usage.{k} not a count: {u!r}")
    need(u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"],
         f"usage total != prompt + completion: {u!r}")
    need(u["prompt_tokens"] > 0, f"usage.prompt_tokens is 0: {u!r}")
    ptd = u.get("prompt_tokens_details")
    need(isinstance(ptd, dict) and is_int(ptd.get("cached_tokens")) and
         0 <= ptd["cached_tokens"] <= u["prompt_tokens"], f"bad cached_tokens: {u!r}")
    need(u["completion_tokens"] <= max_tokens * n,
         f"completion_tokens {u['completion_tokens']} > max_tokens {max_tokens} x n {n}")
    if finishes and all(f == "length" for f in finishes):
        need(u["completion_tokens"] == max_tokens * n,
             f"finish 'length' but completion_tokens {u['completion_tokens']} != {max_tokens * n}")
    if prompt_tokens is not None:
        need(u["prompt_tokens"] == prompt_tokens,
             f"usage.prompt_tokens {u['prompt_tokens']} != {prompt_tokens} tokens of the prompt")


def check_nonstream(r: Resp, chat: bool, max_tokens: int, n: int = 1, prompt_tokens=None):
    need(r.status == 200, f"status {r.status}")
    need("application/json" in r.headers.get("content-type", ""),
         f"content-type {r.headers.get('content-type')!r}")
    # A long answer comes as a chunked body that starts with whitespace: JSON all the same.
    j = r.json()
    need(isinstance(j, dict), "body is not an object")
    need(j.get("object") == ("chat.completion" if chat else "text_completion"),
         f"object {j.get('object')!r}")
    need(isinstance(j.get("id"), str) and j["id"], "no id")
    need(is_int(j.get("created")), "no created")
    need(isinstance(j.get("model"), str), "no model")
    ch = j.get("choices")
    need(isinstance(ch, list) and len(ch) == n, f"choices: {ch!r}")
    fins = []
    for i, c in enumerate(ch):
        need(c.get("index") == i, f"choice index {c.get('index')} at {i}")
        fin = c.get("finish_reason")
        need(fin in ("stop", "length", "tool_calls"), f"finish_reason {fin!r}")
        fins.append(fin)
        if chat:
            m = c.get("message")
            need(isinstance(m, dict) and m.get("role") == "assistant", f"message {m!r}")
            need(isinstance(m.get("content"), str) or
                 (m.get("content") is None and m.get("tool_calls")), f"content {m!r}")
        else:
            need(isinstance(c.get("text"), str), f"text {c!r}")
    check_usage(j.get("usage"), max_tokens, n, fins, prompt_tokens)
    return j


def parse_sse(body: bytes):
    """The data payloads of an SSE body (comments skipped) and the text after the last event."""
    text = body.decode("utf-8")  # invalid UTF-8 must never reach a client
    events = []
    blocks = text.split("\n\n")
    tail = blocks.pop()  # after the last blank line: must be empty
    for b in blocks:
        data = []
        for line in b.split("\n"):
            if line.startswith(":") or line == "":
                continue
            if line.startswith("data: "):
                data.append(line[6:])
            elif line.startswith("data:"):
                data.append(line[5:])
            elif line.startswith("event:"):
                continue
            else:
                raise CheckFail(f"SSE line that is neither data nor comment: {line[:120]!r}")
        if data:
            events.append("\n".join(data))
    return events, tail


def verdict(check, *args, **kw):
    """None when check(*args) passes, else "wrong answer: ..." naming what it found."""
    try:
        check(*args, **kw)
    except CheckFail as e:
        return f"wrong answer: {e}"
    except Exception as e:  # noqa: BLE001
        return f"wrong answer: {e.__class__.__name__}: {e}"
    return None


def check_responses(r: Resp, stream: bool, max_tokens: int):
    """A Responses answer: the object, or its event stream (sequence numbers in order, created
    first, completed last, deltas that join to the final text)."""
    if not stream:
        j = r.json()
        need(j.get("object") == "response", f"object {j.get('object')!r}")
        need(j["usage"]["output_tokens"] <= max_tokens, f"usage {j['usage']}")
        need(j["output"] and j["output"][-1]["type"] == "message",
             f"output {j['output']!r:.200}")
        return
    need("text/event-stream" in r.headers.get("content-type", ""), "content-type")
    events, tail = parse_sse(r.body)
    need(tail == "", f"bytes after the last event: {tail[:120]!r}")
    objs = [json.loads(e) for e in events]
    need([o.get("sequence_number") for o in objs] == list(range(len(objs))), "sequence numbers")
    need(objs[0]["type"] == "response.created", f"first {objs[0]['type']}")
    need(objs[-1]["type"] == "response.completed", f"last {objs[-1]['type']}")
    text = "".join(o["delta"] for o in objs if o["type"] == "response.output_text.delta")
    msg = [o for o in objs[-1]["response"]["output"] if o["type"] == "message"]
    got = msg[0]["content"][0]["text"] if msg and msg[0]["content"] else ""
    need(text == got, "deltas differ from the final text")
    need(objs[-1]["response"]["usage"]["output_tokens"] <= max_tokens, "usage")


def check_stream(r: Resp, chat: bool, max_tokens: int, include_usage: bool, n: int = 1,
                 prompt_tokens=None):
    need(r.status == 200, f"status {r.status}")
    need("text/event-stream" in r.headers.get("content-type", ""),
         f"content-type {r.headers.get('content-type')!r}")
    events, tail = parse_sse(r.body)
    need(tail == "", f"bytes after the last event: {tail[:120]!r}")
    need(events and events[-1] == "[DONE]", f"stream does not end with data: [DONE] "
         f"(last: {events[-1][:120] if events else None!r})")
    need(events.count("[DONE]") == 1, "several [DONE]")
    objs = [json.loads(e) for e in events[:-1]]
    need(objs, "no chunk before [DONE]")
    ids = {o.get("id") for o in objs}
    need(len(ids) == 1 and isinstance(next(iter(ids)), str), f"chunk ids differ: {ids}")
    want = "chat.completion.chunk" if chat else "text_completion"
    fins: dict[int, str] = {}
    usage = None
    n_deltas = 0
    for k, o in enumerate(objs):
        need(o.get("object") == want, f"chunk object {o.get('object')!r}")
        if "error" in o:
            raise CheckFail(f"error chunk: {o}")
        ch = o.get("choices")
        need(isinstance(ch, list), f"chunk without choices: {o}")
        if o.get("usage") is not None:
            need(ch == [], "usage chunk with choices")
            need(usage is None, "several usage chunks")
            usage = o["usage"]
            continue
        need(usage is None, "a chunk after the usage chunk")
        for c in ch:
            i = c.get("index")
            need(is_int(i) and 0 <= i < n, f"chunk choice index {i!r}")
            need(i not in fins, f"chunk for choice {i} after its finish")
            if c.get("finish_reason") is not None:
                need(c["finish_reason"] in ("stop", "length", "tool_calls"),
                     f"finish_reason {c['finish_reason']!r}")
                fins[i] = c["finish_reason"]
            if chat:
                d = c.get("delta")
                need(isinstance(d, dict), f"delta {d!r}")
                if k == 0:
                    need(d.get("role") == "assistant", f"first delta has no role: {d}")
                if d.get("content") or d.get("reasoning_content"):
                    n_deltas += 1
            elif c.get("text"):
                n_deltas += 1
    need(len(fins) == n, f"finish_reason for {len(fins)} of {n} choices")
    # One delta per token at most, plus per choice the last flush of a character left
    # incomplete (it comes as U+FFFD).
    need(n_deltas <= (max_tokens + 1) * n, f"{n_deltas} text deltas for max_tokens {max_tokens}")
    if include_usage:
        need(usage is not None, "include_usage but no usage chunk")
        check_usage(usage, max_tokens, n, list(fins.values()), prompt_tokens)
        need(n_deltas <= usage["completion_tokens"] + n,
             f"{n_deltas} text deltas but completion_tokens {usage['completion_tokens']}")
    else:
        need(usage is None, "a usage chunk without include_usage")


def loose_ok(r: Resp) -> str | None:
    """A 200 to a request that might be valid: a well-formed answer of some kind."""
    ct = r.headers.get("content-type", "")
    try:
        if "text/event-stream" in ct:
            events, tail = parse_sse(r.body)
            if tail:
                return f"bytes after the last SSE event: {tail[:100]!r}"
            if not events:
                return "empty event stream"
            last = events[-1]
            if last == "[DONE]" or "message_stop" in last or '"stop":true' in last.replace(" ", ""):
                return None
            return f"event stream ends with {last[:150]!r}"
        if "json" in ct:
            r.json()
            return None
        return None
    except Exception as e:  # noqa: BLE001
        return f"malformed 200 answer: {e}: {r.body[:200]!r}"


# --------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------


class Outcome:
    def __init__(self, ok: bool, reason: str = "", status=None, detail: str = "",
                 hang: bool = False, note: str | None = None):
        self.ok = ok
        self.reason = reason
        self.status = status  # int, "close", "hang", or None
        self.detail = detail
        self.hang = hang
        self.note = note
        self.elapsed = 0.0
        self.raw = b""  # the answer's bytes, kept for a failure's record


class Case:
    def __init__(self, idx: int, cat: str, kind: str, desc: str, run, request: bytes = b"",
                 long: bool = False):
        self.idx = idx
        self.cat = cat
        self.kind = kind  # valid | hostile
        self.desc = desc
        self.run = run  # ctx -> Outcome
        self.request = request  # the main bytes sent, for the reproduction
        self.long = long


def status_of(ex: Ex):
    if ex.responses:
        return ex.responses[0].status
    if ex.hang:
        return "hang"
    if ex.err and ex.err.startswith("connect"):
        return "connect-failed"
    return "close"


def judge(ex: Ex, allowed, **kw) -> Outcome:
    """The common verdict: no hang, no 5xx, a status among allowed (or a close where that is
    allowed), JSON error bodies, a well-formed 200, and within max_s."""
    o = judge_(ex, allowed, **kw)
    if not o.ok:
        o.raw = b"".join(b"HTTP %d %s %r\n\n" % (r.status, r.reason.encode(), r.headers) +
                         r.body[:256 * 1024] + b"\n\n" for r in ex.responses)
    return o


def judge_(ex: Ex, allowed, *, allow_close=False, max_s=None, check200=None, ctx=None,
           forbid_in_body: bytes | None = None, no_body: bool = False) -> Outcome:
    st = status_of(ex)
    if ex.hang:
        return Outcome(False, "HANG: no answer and the connection still open after "
                       f"{ex.elapsed:.1f} s", "hang", ex.describe(), hang=True)
    if not ex.responses:
        if st == "connect-failed":
            return Outcome(False, ex.err, st, ex.describe())
        if ex.err and "mid-response" in ex.err:
            return Outcome(False, f"answer cut off: {ex.err}", st, ex.describe())
        if ex.err and ex.err.startswith("bad response"):
            return Outcome(False, ex.err, st, ex.describe())
        if not allow_close:
            return Outcome(False, f"closed without an answer ({ex.err}; {ex.send_err or ''})",
                           st, ex.describe())
        if max_s is not None and ex.elapsed > max_s:
            return Outcome(False, f"closed only after {ex.elapsed:.1f} s (expected within "
                           f"{max_s:.0f} s)", st, ex.describe())
        return Outcome(True, "", st, ex.describe())
    r = ex.responses[0]
    if r.status >= 500 and r.status not in allowed:
        return Outcome(False, f"server error {r.status} for a client's request", st,
                       ex.describe())
    if r.status not in allowed:
        return Outcome(False, f"status {r.status}, expected {sorted(allowed)}"
                       + (" or a close" if allow_close else ""), st, ex.describe())
    if r.status >= 400 and r.status != 405 and not no_body:
        e = error_shape_ok(r)
        if e:
            return Outcome(False, e, st, ex.describe())
    if forbid_in_body and forbid_in_body in r.body:
        return Outcome(False, f"answer contains {forbid_in_body!r}", st, ex.describe())
    if r.status == 200:
        e = check200(r) if check200 else loose_ok(r)
        if e:
            return Outcome(False, e, st, ex.describe())
    if max_s is not None and ex.elapsed > max_s:
        return Outcome(False, f"took {ex.elapsed:.1f} s (expected within {max_s:.0f} s)", st,
                       ex.describe())
    return Outcome(True, "", st, ex.describe())


WORDS = ["hello", "world", "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog",
         "数据", "日本語", "한국어", "🙂", "🚀", "naïve", "café", "Ελληνικά", "русский", "עברית",
         "code", "tokens", "0123", "3.14", "x=1;", "if", "(a)", "[b]", "{c}", "<tag>", "?", "!",
         "...", "—", "“q”", "\t", "\n", "  "]


def rand_text(rng: random.Random, lo: int, hi: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))


def rand_messages(rng: random.Random):
    msgs = []
    if rng.random() < 0.3:
        msgs.append({"role": "system", "content": rand_text(rng, 2, 8)})
    turns = rng.randint(0, 2)
    for _ in range(turns):
        msgs.append({"role": "user", "content": rand_text(rng, 1, 10)})
        msgs.append({"role": "assistant", "content": rand_text(rng, 1, 10)})
    if rng.random() < 0.2:
        msgs.append({"role": "user", "content": [{"type": "text", "text": rand_text(rng, 1, 6)},
                                                 {"type": "text", "text": rand_text(rng, 1, 6)}]})
    else:
        msgs.append({"role": "user", "content": rand_text(rng, 1, 12)})
    return msgs


def chat_body(rng, stream=False, max_tokens=None):
    b = {"messages": rand_messages(rng), "max_tokens": max_tokens or rng.randint(4, 16)}
    if rng.random() < 0.5:
        b["temperature"] = rng.choice([0, 0.3, 0.7, 1.0])
    if rng.random() < 0.5:
        b["seed"] = rng.randint(0, 2**31)
    if rng.random() < 0.4:
        b["chat_template_kwargs"] = {"enable_thinking": rng.random() < 0.5}
    if rng.random() < 0.2:
        b["model"] = "any-model-name"
    if stream:
        b["stream"] = True
        if rng.random() < 0.7:
            b["stream_options"] = {"include_usage": True}
    return b


def completion_body(rng, ctx, stream=False, max_tokens=None):
    if rng.random() < 0.25:
        prompt = [rng.randrange(0, min(ctx.n_vocab, 150000)) for _ in range(rng.randint(1, 20))]
    else:
        prompt = rand_text(rng, 1, 20)
    b = {"prompt": prompt, "max_tokens": max_tokens or rng.randint(4, 16)}
    if rng.random() < 0.5:
        b["temperature"] = rng.choice([0, 0.5, 1.0])
    if rng.random() < 0.3:
        b["top_k"] = rng.choice([0, 1, 20, 100])
    if stream:
        b["stream"] = True
        if rng.random() < 0.7:
            b["stream_options"] = {"include_usage": True}
    return b


# ----- valid ---------------------------------------------------------------------------------


def prompt_token_count(ctx, chat: bool, body) -> int | None:
    """The prompt's token count from /apply-template + /tokenize (None if they fail)."""
    if chat:
        req = {"messages": body["messages"]}
        if "chat_template_kwargs" in body:
            req["chat_template_kwargs"] = body["chat_template_kwargs"]
        ex = exchange(ctx, http_req("POST", "/apply-template", jbody(req)))
        if not ex.responses or ex.responses[0].status != 200:
            raise CheckFail(f"/apply-template failed: {ex.describe()}")
        text = ex.responses[0].json()["prompt"]
    else:
        if isinstance(body["prompt"], list):
            return len(body["prompt"])
        text = body["prompt"]
    ex = exchange(ctx, http_req("POST", "/tokenize", jbody({"content": text})))
    if not ex.responses or ex.responses[0].status != 200:
        raise CheckFail(f"/tokenize failed: {ex.describe()}")
    return len(ex.responses[0].json()["tokens"])


def valid_gen(rng, ctx, idx, cat):
    """A valid request of category cat, with its checker."""
    if cat in ("chat", "chat_stream", "completion", "completion_stream"):
        chat = cat.startswith("chat")
        stream = cat.endswith("stream")
        body = chat_body(rng, stream) if chat else completion_body(rng, ctx, stream)
        path = rng.choice(["/v1/chat/completions", "/chat/completions"]) if chat else \
            "/v1/completions"  # /completions is llama-server's native endpoint
        data = http_req("POST", path, jbody(body, ascii_only=rng.random() < 0.3))
        check_prompt = rng.random() < 0.3
        mt = body["max_tokens"]

        def run(ctx):
            pt = prompt_token_count(ctx, chat, body) if check_prompt else None
            ex = exchange(ctx, data)

            def c200(r):
                if stream:
                    usage = body.get("stream_options", {}).get("include_usage", False)
                    return verdict(check_stream, r, chat, mt, usage, prompt_tokens=pt)
                return verdict(check_nonstream, r, chat, mt, prompt_tokens=pt)
            return judge(ex, {200}, check200=c200)
        return Case(idx, cat, "valid", f"POST {path} {jbody(body)[:160]!r}", run, data)

    if cat in ("responses", "responses_stream"):
        stream = cat.endswith("stream")
        mt = rng.randint(2, 12)
        body = {"model": "m", "max_output_tokens": mt,
                "input": rand_text(rng, 1, 20) if rng.random() < 0.5 else
                [{"role": "user", "content": [{"type": "input_text",
                                               "text": rand_text(rng, 1, 20)}]}]}
        if rng.random() < 0.5:
            body["reasoning"] = {"effort": rng.choice(["none", "high"])}
        if rng.random() < 0.5:
            body["temperature"] = rng.choice([0, 0.7])
        if stream:
            body["stream"] = True
        path = rng.choice(["/v1/responses", "/responses"])
        data = http_req("POST", path, jbody(body, ascii_only=rng.random() < 0.3))

        def run(ctx):
            ex = exchange(ctx, data)
            return judge(ex, {200}, check200=lambda r: verdict(check_responses, r, stream, mt))
        return Case(idx, cat, "valid", f"POST {path} {jbody(body)[:160]!r}", run, data)

    if cat == "tokenize":
        text = rand_text(rng, 1, 40)
        if rng.random() < 0.2:
            text = "".join(chr(rng.choice([rng.randint(0x20, 0x7e), rng.randint(0xa0, 0x2fff),
                                           rng.randint(0x1f300, 0x1f6ff)]))
                           for _ in range(rng.randint(1, 60)))
        text = unicodedata.normalize("NFC", text)
        pieces = rng.random() < 0.3
        body = {"content": text}
        if pieces:
            body["with_pieces"] = True
        data = http_req("POST", rng.choice(["/tokenize", "/v1/tokenize"]), jbody(body))

        def run(ctx):
            ex = exchange(ctx, data)
            toks = []

            def c200(r):
                j = r.json()
                t = j.get("tokens")
                if not isinstance(t, list) or not t:
                    return f"tokens: {t!r}"
                for v in t:
                    if pieces:
                        if not isinstance(v, dict) or not is_int(v.get("id")):
                            return f"token with piece {v!r}"
                        v = v["id"]
                    if not is_int(v) or not 0 <= v < ctx.n_vocab:
                        return f"token id {v!r} outside [0, {ctx.n_vocab})"
                    toks.append(v)
                return None
            o = judge(ex, {200}, check200=c200)
            if not o.ok:
                return o
            ex2 = exchange(ctx, http_req("POST", "/detokenize", jbody({"tokens": toks})))

            def c2(r):
                got = r.json().get("content")
                if got != text:
                    return f"detokenize(tokenize(x)) != x: {got!r} vs {text!r}"
                return None
            return judge(ex2, {200}, check200=c2)
        return Case(idx, cat, "valid", f"tokenize + detokenize {text[:80]!r}", run, data)

    if cat == "keepalive":
        body = completion_body(rng, ctx, False)
        reqs = [http_req("GET", "/health", close=False),
                http_req("POST", "/tokenize", jbody({"content": "keep alive"}), close=False),
                http_req("POST", "/v1/completions", jbody(body), close=True)]
        # Sequential requests on one connection (pipelining is the hostile 'pipelined' case).
        pipelined = False
        data = reqs

        def run(ctx):
            ex = exchange_seq(ctx, reqs)
            if len(ex.responses) != 3:
                if ex.hang:
                    return Outcome(False, "HANG on a keep-alive connection", "hang",
                                   ex.describe(), hang=True)
                return Outcome(False, f"{len(ex.responses)} of 3 answers on one connection",
                               status_of(ex), ex.describe())
            try:
                need(ex.responses[0].status == 200 and ex.responses[0].json() == {"status": "ok"},
                     "health")
                need(ex.responses[1].status == 200 and ex.responses[1].json().get("tokens"),
                     "tokenize")
                check_nonstream(ex.responses[2], False, body["max_tokens"])
            except Exception as e:  # noqa: BLE001
                return Outcome(False, f"wrong answer: {e}", 200, ex.describe())
            return Outcome(True, "", 200, ex.describe())
        desc = ("pipelined" if pipelined else "sequential") + \
            " GET /health, POST /tokenize, POST /v1/completions on one connection"
        return Case(idx, cat, "valid", desc, run, b"".join(reqs))

    # misc GETs
    path = rng.choice(["/health", "/v1/health", "/v1/models", "/models", "/props", "/metrics",
                       "/slots"])
    data = http_req("GET", path)

    def run(ctx):
        ex = exchange(ctx, data)

        def c200(r):
            if path == "/metrics":
                return None if b"longctx:requests_total" in r.body else "no requests_total"
            j = r.json()
            if path.endswith("health"):
                return None if j == {"status": "ok"} else f"health {j!r}"
            if path.endswith("models"):
                ok = j.get("object") == "list" and j["data"][0].get("id")
                return None if ok else f"models {j!r}"
            if path == "/slots":
                ok = isinstance(j, list) and len(j) == ctx.parallel
                return None if ok else f"slots {j!r}"
            return None if j.get("n_ctx") == ctx.n_ctx else f"props n_ctx {j.get('n_ctx')}"
        return judge(ex, {200}, check200=c200)
    return Case(idx, "get", "valid", f"GET {path}", run, data)


VALID_CATS = [("chat", 30), ("chat_stream", 25), ("completion", 15), ("completion_stream", 10),
              ("responses", 5), ("responses_stream", 5), ("tokenize", 12), ("keepalive", 4),
              ("get", 4)]


# ----- hostile -------------------------------------------------------------------------------

GEN_PATHS = ["/v1/chat/completions", "/v1/completions", "/tokenize", "/detokenize",
             "/apply-template", "/v1/messages", "/completion", "/v1/messages/count_tokens",
             "/chat/completions", "/v1/responses"]


def base_body(rng, ctx, path):
    if "chat" in path:
        return chat_body(rng, max_tokens=rng.randint(2, 6))
    if "messages" in path:
        return {"model": "m", "max_tokens": rng.randint(2, 6),
                "messages": [{"role": "user", "content": rand_text(rng, 1, 6)}]}
    if "responses" in path:
        return {"model": "m", "max_output_tokens": rng.randint(2, 6),
                "input": rand_text(rng, 1, 6)}
    if path in ("/v1/completions", "/completion", "/completions"):
        return completion_body(rng, ctx, max_tokens=rng.randint(2, 6))
    if path == "/tokenize":
        return {"content": rand_text(rng, 1, 10)}
    if path == "/detokenize":
        return {"tokens": [rng.randrange(0, 150000) for _ in range(rng.randint(1, 8))]}
    return {"messages": rand_messages(rng)}


def simple(ctx_case, data, allowed, **kw):
    """A run function: send data, judge with allowed statuses."""
    ex_kw = {k: kw.pop(k) for k in list(kw) if k in ("timeout", "n_resp", "head", "rst",
                                                     "until_close")}

    def run(ctx):
        ex = exchange(ctx, data, **ex_kw)
        return judge(ex, allowed, ctx=ctx, **kw)
    return run


def g_malformed_json(rng, ctx, idx):
    path = rng.choice(GEN_PATHS)
    good = jbody(base_body(rng, ctx, path))
    variants = [
        ("garbage", bytes(rng.randrange(256) for _ in range(rng.randint(1, 2000))), {400}),
        ("single quotes", good.replace(b'"', b"'"), {400}),
        ("trailing comma", good[:-1] + b",}", {400}),
        ("NaN", b'{"temperature": NaN, "messages": []}', {400}),
        ("Infinity", good[:-1] + b',"top_p":Infinity}', {400}),
        ("empty body", b"", {400}),
        ("null", b"null", {400}),
        ("number", b"12345", {400}),
        ("string", b'"hello"', {400}),
        ("array", b"[" + good + b"]", {400}),
        ("two objects", good + good, {400}),
        ("comment", b"/* c */ " + good, {400}),
        ("unquoted keys", re.sub(rb'"(\w+)":', rb"\1:", good), {400}),
        ("BOM", b"\xef\xbb\xbf" + good, {200, 400}),
        ("unterminated string", b'{"content": "abc', {400}),
        ("bad escape", good[:-1] + b',"x":"\\q"}', {400}),
        ("control char in string", good[:-1] + b',"x":"a\x01b"}', {400}),
        ("1e400", good[:-1] + b',"temperature":1e400}', {400}),
        ("-0 and 1e-400", good[:-1] + b',"top_p":1e-400}', {200, 400}),
        ("huge integer", good[:-1] + b',"seed":' + b"9" * 400 + b"}", {400}),
        ("whitespace only", b" \t\r\n" * 100, {400}),
        ("JSON in a form", b"a=1&b=" + urllib.parse.quote_from_bytes(good).encode(), {400}),
    ]
    name, body, allowed = rng.choice(variants)
    ctype = rng.choice(["application/json", "text/plain", None, "application/x-www-form-urlencoded"])
    data = http_req("POST", path, body, ctype=ctype)
    return Case(idx, "malformed_json", "hostile", f"{name} -> POST {path}",
                simple(ctx, data, allowed), data)


def g_truncated_json(rng, ctx, idx):
    path = rng.choice(GEN_PATHS)
    good = jbody(base_body(rng, ctx, path))
    k = rng.randint(0, len(good) - 1)
    body = good[:k]
    data = http_req("POST", path, body)
    return Case(idx, "truncated_json", "hostile", f"POST {path} body cut at {k}/{len(good)}",
                simple(ctx, data, {400}), data)


def g_deep_nesting(rng, ctx, idx):
    n = 100_000
    path = rng.choice(GEN_PATHS)
    variants = [
        ("[ x100k", b"[" * n, {400}),
        ("[ x100k ] x100k", b"[" * n + b"]" * n, {400}),
        ("{\"a\": x100k", b'{"a":' * n + b"1" + b"}" * n, {400}),
        ("content = [ x100k", b'{"messages":[{"role":"user","content":' + b"[" * n + b"]" * n +
         b"}],\"max_tokens\":2}", {400}),
        ("65 levels", b'{"a":' * 64 + b"[1]" + b"}" * 64, {400}),
        ("depth 64 exactly", b'{"content":"x","a":' + b"[" * 63 + b"]" * 63 + b"}", {200, 400}),
        ("[ inside a string", b'{"content":"' + b"[" * n + b'"}', {200}),
        ("escaped quote then [", b'{"content":"\\"' + b"[{" * (n // 2) + b'"}', {200}),
        ("]]]] x100k (negative depth)", b'{"content":"x"}' + b"]" * n, {400}),
        ("] x100k then [ x70", b"]" * n + b"[" * 70, {400}),
    ]
    name, body, allowed = rng.choice(variants)
    if b'"content"' in body and allowed == {200} or name == "depth 64 exactly":
        path = "/tokenize"
    data = http_req("POST", path, body)
    return Case(idx, "deep_nesting", "hostile", f"{name} -> POST {path}",
                simple(ctx, data, allowed), data)


NUM = {"int", "float"}
FIELDS = {
    "chat": {
        "messages": {"array"}, "model": {"string", "null"}, "temperature": NUM | {"null"},
        "top_p": NUM | {"null"}, "top_k": NUM | {"null"}, "min_p": NUM | {"null"},
        "presence_penalty": NUM | {"null"}, "frequency_penalty": NUM | {"null"},
        "repeat_penalty": NUM | {"null"}, "repetition_penalty": NUM | {"null"},
        "repeat_last_n": NUM | {"null"}, "seed": NUM | {"null"}, "max_tokens": NUM | {"null"},
        "max_completion_tokens": NUM | {"null"}, "n_predict": NUM | {"null"},
        "stop": {"string", "array", "null"}, "stream": {"bool", "null"},
        "stream_options": {"object", "null"}, "return_progress": {"bool", "null"},
        "n": NUM | {"null"}, "ignore_eos": {"bool", "null"}, "logprobs": {"bool", "null"},
        "top_logprobs": NUM | {"null"}, "tools": {"array", "null"},
        "tool_choice": {"string", "object", "null"}, "chat_template_kwargs": {"object", "null"},
        "response_format": {"object", "null"}, "id_slot": "any", "experts": {"null"},
        "rope_scaling": {"string", "object", "null"}, "add_generation_prompt": "any",
        "messages[0]": {"object"}, "messages[0].role": {"string"},
        "messages[0].content": {"string", "array"}, "messages[0].content[0]": {"object"},
        "chat_template_kwargs.enable_thinking": {"bool", "null"},
        "stream_options.include_usage": {"bool", "null"}, "tools[0]": {"object"},
        "tools[0].function": {"object"}, "tools[0].function.name": {"string"},
        "tools[0].function.parameters": {"object"},
    },
    "completion": {
        "prompt": {"string", "array"}, "model": {"string", "null"}, "temperature": NUM | {"null"},
        "top_p": NUM | {"null"}, "top_k": NUM | {"null"}, "max_tokens": NUM | {"null"},
        "seed": NUM | {"null"}, "stop": {"string", "array", "null"}, "stream": {"bool", "null"},
        "logprobs": NUM | {"bool", "null"}, "n_probs": NUM | {"null"}, "n": NUM | {"null"},
        "response_format": {"object", "null"}, "id_slot": "any", "echo": "any", "suffix": "any",
        "prompt[0]": {"string", "int"},
    },
    "tokenize": {"content": {"string"}, "with_pieces": {"bool", "null"},
                 "parse_special": {"bool", "null"}},
    "detokenize": {"tokens": {"array"}, "tokens[0]": {"int"}},
    "messages": {"model": {"string", "null"}, "max_tokens": {"int"}, "messages": {"array"},
                 "system": {"string", "array", "null"}, "stream": {"bool", "null"},
                 "temperature": NUM | {"null"}, "stop_sequences": {"array", "null"},
                 "tools": {"array", "null"}, "tool_choice": {"object", "null"},
                 "thinking": {"object", "null"}, "top_k": NUM | {"null"},
                 "messages[0].content": {"string", "array"}, "messages[0].role": {"string"}},
    "apply-template": {"messages": {"array"}, "chat_template_kwargs": {"object", "null"},
                       "add_generation_prompt": "any", "tools": {"array", "null"}},
    "responses": {"input": {"string", "array"}, "model": {"string", "null"},
                  "instructions": {"string", "null"}, "max_output_tokens": NUM | {"null"},
                  "temperature": NUM | {"null"}, "top_p": NUM | {"null"},
                  "stream": {"bool", "null"}, "tools": {"array", "null"},
                  "tool_choice": {"string", "object", "null"}, "text": {"object", "null"},
                  "reasoning": {"object", "null"}, "metadata": "any", "store": "any",
                  "user": "any", "previous_response_id": {"null"}},
}
EP_PATH = {"chat": "/v1/chat/completions", "completion": "/v1/completions",
           "tokenize": "/tokenize", "detokenize": "/detokenize", "messages": "/v1/messages",
           "apply-template": "/apply-template", "responses": "/v1/responses"}


def jtype(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int" if -2**63 <= v < 2**64 else "float"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def wrong_values(rng):
    deep = 1
    for _ in range(10):
        deep = [deep]
    return [
        "str", "", "x" * 1000, 0, 1, -1, 3.5, -7, 1e308, -1e308, 2**63, -(2**63), 2**64 + 5,
        0.0000001, True, False, None, [], [1, "a", None], [[]], {}, {"x": 1}, {"role": "user"},
        deep, "\u0000", "😀" * 50, "1", "true", "null", -0.0, 1e-320,
    ]


def set_path(body, path, value):
    """Sets body at a path like messages[0].content (creating the parents it needs)."""
    toks = re.findall(r"[^.\[\]]+|\[\d+\]", path)
    cur = body
    for i, t in enumerate(toks):
        last = i == len(toks) - 1
        if t.startswith("["):
            k = int(t[1:-1])
            if not isinstance(cur, list):
                return False
            while len(cur) <= k:
                cur.append({})
            if last:
                cur[k] = value
            else:
                if not isinstance(cur[k], (dict, list)):
                    cur[k] = {} if not toks[i + 1].startswith("[") else []
                cur = cur[k]
        else:
            if not isinstance(cur, dict):
                return False
            if last:
                cur[t] = value
            else:
                if t not in cur or not isinstance(cur[t], (dict, list)):
                    cur[t] = [] if toks[i + 1].startswith("[") else {}
                cur = cur[t]
    return True


def g_wrong_types(rng, ctx, idx):
    ep = rng.choices(list(FIELDS), weights=[5, 3, 2, 1, 1, 1, 2])[0]
    field = rng.choice(list(FIELDS[ep]))
    value = rng.choice(wrong_values(rng))
    path = EP_PATH[ep]
    body = base_body(rng, ctx, path)
    if field.startswith("tools"):
        body["tools"] = [{"type": "function", "function": {"name": "f", "parameters": {
            "type": "object"}}}]
    if ep == "detokenize" and field == "tokens[0]":
        body["tokens"] = [1, 2]
    if field == "prompt[0]":
        body["prompt"] = ["x"]
    set_path(body, field, value)
    acc = FIELDS[ep][field]
    t = jtype(value)
    allowed = {200, 400} if acc == "any" or t in acc or (t == "int" and "float" in acc) or \
        (t == "float" and "int" in acc) else {400}
    if ep == "messages":
        allowed = allowed | {400}
    data = http_req("POST", path, jbody(body))
    return Case(idx, "wrong_types", "hostile",
                f"POST {path} with {field} = {json.dumps(value)[:60]}",
                simple(ctx, data, allowed), data)


def g_unknown_fields(rng, ctx, idx):
    cat = rng.choice(["chat", "completion", "tokenize"])
    body = (chat_body(rng) if cat == "chat" else completion_body(rng, ctx)
            if cat == "completion" else {"content": rand_text(rng, 1, 8)})
    for _ in range(rng.randint(1, 6)):
        key = rng.choice(["zz_unknown_", "x-", "\u00e9t\u00e9_", "K" * 200, "_\u0000_", ""]) + \
            str(rng.randint(0, 10**6))
        val = rng.choice([1, "v", None, True, [1, 2, {"a": [None]}], {"deep": {"er": [1] * 1000}},
                          "u" * 10000, {}, []])
        body[key] = val
    if cat == "tokenize":
        data = http_req("POST", "/tokenize", jbody(body))

        def c200(r):
            t = r.json().get("tokens")
            return None if isinstance(t, list) and t else f"tokens {t!r}"
    else:
        path = "/v1/chat/completions" if cat == "chat" else "/v1/completions"
        data = http_req("POST", path, jbody(body))
        mt = body["max_tokens"]

        def c200(r):
            try:
                check_nonstream(r, cat == "chat", mt)
            except Exception as e:  # noqa: BLE001
                return f"wrong answer: {e}"
            return None
    return Case(idx, "unknown_fields", "hostile", f"{cat} with unknown fields "
                f"{[k[:20] for k in body][-3:]}", simple(ctx, data, {200}, check200=c200), data)


def g_huge_strings(rng, ctx, idx):
    mb = rng.randint(1, 4)
    big = (rand_text(rng, 1, 1) + " ") * (mb * MIB // 6)
    variants = [
        ("chat content %d MB" % mb, "/v1/chat/completions",
         {"messages": [{"role": "user", "content": big}], "max_tokens": 4}, {400}),
        ("completion prompt %d MB" % mb, "/v1/completions", {"prompt": big, "max_tokens": 4},
         {400}),
        ("tokenize %d MB" % mb, "/tokenize", {"content": big}, {200}),
        ("model name 1 MB", "/v1/chat/completions",
         {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2, "model": "m" * MIB},
         {200, 400}),
        ("16 stop strings of 64 KB", "/v1/chat/completions",
         {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4,
          "stop": ["s%d" % i + "t" * 65536 for i in range(16)]}, {200, 400}),
        ("key of 1 MB", "/v1/completions", {"prompt": "hi", "max_tokens": 2, "k" * MIB: 1},
         {200, 400}),
        ("one word of 1 MB", "/tokenize", {"content": "a" * MIB}, {200, 400}),
        ("1 MB of one CJK run", "/tokenize", {"content": "数" * (MIB // 3)}, {200, 400}),
        ("digits 1 MB", "/tokenize", {"content": "7" * MIB}, {200, 400}),
        ("\\u escapes 1 MB", "/tokenize", {"content": "\u00e9\u4e2d" * (MIB // 12)}, {200, 400}),
        ("system prompt 2 MB", "/apply-template",
         {"messages": [{"role": "system", "content": big[:2 * MIB]},
                       {"role": "user", "content": "x"}]}, {200, 400}),
    ]
    name, path, body, allowed = rng.choice(variants)
    data = http_req("POST", path, jbody(body, ascii_only=name.startswith("\\u")))
    return Case(idx, "huge_strings", "hostile", f"{name} -> POST {path}",
                simple(ctx, data, allowed, max_s=ctx.client_timeout), data)


def g_body_40mb(rng, ctx, idx):
    n = 40 * MIB
    path = rng.choice(["/v1/chat/completions", "/tokenize", "/v1/completions"])
    variants = ["full", "full", "announce only", "limit+1", "absurd length", "negative",
                "not a number", "two lengths"]
    v = rng.choice(variants)
    if v == "full":
        body = b'{"content":"' + b"a" * (n - 14) + b'"}'
        data = http_req("POST", path, body)
        return Case(idx, "body_40mb", "hostile", f"40 MB body -> POST {path} (expect 413)",
                    simple(ctx, data, {413}, allow_close=False), data[:300])
    if v == "announce only":
        head = http_req("POST", path, b"")
        head = head.replace(b"Content-Length: 0", b"Content-Length: %d" % n)
        data = [head, b'{"content":"' + b"a" * MIB]
        return Case(idx, "body_40mb", "hostile",
                    f"Content-Length 40 MB, 1 MB sent, then the client waits -> POST {path}",
                    simple(ctx, data, {400, 408, 413}, allow_close=True,
                           max_s=ctx.read_timeout + ctx.margin), head)
    if v == "limit+1":
        n = 32 * MIB + 1
        body = b'{"content":"' + b"b" * (n - 14) + b'"}'
        data = http_req("POST", path, body)
        return Case(idx, "body_40mb", "hostile", f"32 MiB + 1 body -> POST {path} (expect 413)",
                    simple(ctx, data, {413}), data[:300])
    cl = {"absurd length": "99999999999999999999999", "negative": "-1", "not a number": "abc",
          "two lengths": "5\r\nContent-Length: 500"}[v]
    head = ("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: %s\r\nConnection: close\r\n\r\n" % (path, cl)).encode()
    data = head + b'{"content":"x"}'
    return Case(idx, "body_40mb", "hostile", f"Content-Length: {cl!r} -> POST {path}",
                simple(ctx, data, {400, 411, 413}, allow_close=True,
                       max_s=ctx.read_timeout + ctx.margin), data)


def g_invalid_utf8_nul(rng, ctx, idx):
    path = rng.choice(["/tokenize", "/v1/chat/completions", "/v1/completions"])
    key = "content" if path == "/tokenize" else None
    variants = [
        (b"\xff", {400}), (b"\xc0\xaf", {400}), (b"\xed\xa0\x80", {400}),
        (b"\xf4\x90\x80\x80", {400}), (b"\xe2\x82", {400}), (b"\x80", {400}),
        (b"\xf8\x88\x80\x80\x80", {400}), (b"\x00", {400}),
        (b"\\u0000", {200}), (b"a\\u0000b\\u0000", {200}), (b"\\ud800", {400}),
        (b"\\udc00\\ud800", {400}), (b"\\ud83d\\ude00", {200}), (b"\\uffff\\ufffe", {200}),
    ]
    bad, allowed = rng.choice(variants)
    text = b"hello " + bad + b" world"
    if key:
        body = b'{"content":"' + text + b'"}'
    elif "chat" in path:
        body = b'{"max_tokens":3,"messages":[{"role":"user","content":"' + text + b'"}]}'
    else:
        body = b'{"max_tokens":3,"prompt":"' + text + b'"}'
    where = "string"
    if rng.random() < 0.15:
        body = body[:1] + b"\x00 " + body[1:]
        where, allowed = "outside a string (raw NUL)", {400}
    data = http_req("POST", path, body)
    return Case(idx, "invalid_utf8_nul", "hostile", f"{bad!r} in a {where} -> POST {path}",
                simple(ctx, data, allowed), data)


def g_content_length_short(rng, ctx, idx):
    path = rng.choice(["/tokenize", "/v1/chat/completions", "/v1/completions"])
    body = jbody(base_body(rng, ctx, path))
    k = rng.randint(1, len(body) - 1)
    close = rng.random() < 0.5
    data = http_req("POST", path, body, close=close).replace(
        b"Content-Length: %d" % len(body), b"Content-Length: %d" % k)
    return Case(idx, "content_length_short", "hostile",
                f"Content-Length {k} < body {len(body)} -> POST {path}"
                f"{' (Connection: close)' if close else ''}",
                simple(ctx, data, {400}, allow_close=False, n_resp=2,
                       max_s=ctx.read_timeout + ctx.margin), data)


def g_content_length_long(rng, ctx, idx):
    path = rng.choice(["/tokenize", "/v1/chat/completions", "/v1/completions"])
    body = jbody(base_body(rng, ctx, path))
    extra = rng.choice([1, 10, 1000, 10**6])
    data = http_req("POST", path, body).replace(
        b"Content-Length: %d" % len(body), b"Content-Length: %d" % (len(body) + extra))
    return Case(idx, "content_length_long", "hostile",
                f"Content-Length {len(body) + extra} > body {len(body)}, then the client waits"
                f" -> POST {path}",
                simple(ctx, data, {400, 408}, allow_close=True, until_close=True,
                       max_s=ctx.read_timeout + ctx.margin), data, long=True)


def g_chunked_unfinished(rng, ctx, idx):
    path = rng.choice(["/tokenize", "/v1/chat/completions"])
    head = ("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" % path).encode()
    v = rng.choice(["headers only", "one chunk", "partial chunk", "size line only",
                    "no terminating chunk"])
    tail = {"headers only": b"", "one chunk": b"5\r\n{\"con\r\n",
            "partial chunk": b"100\r\n{\"content\":", "size line only": b"ff",
            "no terminating chunk": b"11\r\n{\"content\":\"abc\"}\r\n"}[v]
    data = head + tail
    return Case(idx, "chunked_unfinished", "hostile", f"chunked body, {v}, never finished -> "
                f"POST {path}", simple(ctx, data, {400, 408}, allow_close=True,
                                        until_close=True, max_s=ctx.read_timeout + ctx.margin),
                data, long=True)


def g_chunked_malformed(rng, ctx, idx):
    path = rng.choice(["/tokenize", "/v1/completions"])
    te = "Transfer-Encoding: chunked"
    good = b'{"content":"hi"}' if path == "/tokenize" else b'{"prompt":"hi","max_tokens":2}'
    variants = [
        ("size zz", b"zz\r\n" + good + b"\r\n0\r\n\r\n", te),
        ("size overflow", b"ffffffffffffffffffff\r\n" + good + b"\r\n0\r\n\r\n", te),
        ("size -5", b"-5\r\n" + good + b"\r\n0\r\n\r\n", te),
        ("extension 10 KB", b"%x;" % len(good) + b"e" * 10000 + b"\r\n" + good +
         b"\r\n0\r\n\r\n", te),
        ("no CRLF after data", b"%x\r\n" % len(good) + good + b"XX0\r\n\r\n", te),
        ("size too big for data", b"%x\r\n" % (len(good) + 3) + good + b"\r\n0\r\n\r\n", te),
        ("huge trailer", b"%x\r\n" % len(good) + good + b"\r\n0\r\nX-T: " + b"t" * 20000 +
         b"\r\n\r\n", te),
        ("TE and CL", b"%x\r\n" % len(good) + good + b"\r\n0\r\n\r\n",
         te + "\r\nContent-Length: 3"),
        ("TE gzip, chunked", b"%x\r\n" % len(good) + good + b"\r\n0\r\n\r\n",
         "Transfer-Encoding: gzip, chunked"),
        ("TE identity", good, "Transfer-Encoding: identity\r\nContent-Length: %d" % len(good)),
        ("TE bogus", good, "Transfer-Encoding: bogus"),
        ("valid chunked", b"%x\r\n" % len(good) + good + b"\r\n0\r\n\r\n", te),
        ("many 1-byte chunks", b"".join(b"1\r\n%c\r\n" % c for c in good) + b"0\r\n\r\n", te),
    ]
    name, body, hdr = rng.choice(variants)
    data = ("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n%s\r\n"
            "Connection: close\r\n\r\n" % (path, hdr)).encode() + body
    return Case(idx, "chunked_malformed", "hostile", f"chunked: {name} -> POST {path}",
                simple(ctx, data, {200, 400, 411, 413, 501}, allow_close=True,
                       max_s=ctx.read_timeout + ctx.margin), data)


def g_chunked_oversize(rng, ctx, idx):
    path = "/tokenize"
    # JSON whitespace: the server parses it at once, so only the limit is tested (40 MB of one
    # word would also cost ~20 s of tokenization and ~2 GB of RSS).
    chunk = b" " * MIB
    body = (b"10\r\n{\"content\":\"hi\" \r\n" + b"".join(b"100000\r\n" + chunk + b"\r\n"
                                                     for _ in range(40)) + b"1\r\n}\r\n0\r\n\r\n")
    head = ("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" % path).encode()
    data = head + body
    return Case(idx, "chunked_oversize", "hostile",
                f"40 MB chunked body (limit 32 MiB) -> POST {path} (expect 413)",
                simple(ctx, data, {413}, allow_close=False), data[:400])


TLS_HELLO = bytes.fromhex("16030100a5010000a10303") + bytes(32) + bytes.fromhex(
    "000020c02bc02fc02cc030cca9cca8c013c014009c009d002f0035000a0100005800000014001200000f"
    "3132372e302e302e3100ff01000100000a00080006001d00170018000b00020100000d00120010040104"
    "030501050308040805080604010201")


def g_http_garbage(rng, ctx, idx):
    variants = [
        ("random bytes", bytes(rng.randrange(256) for _ in range(rng.randint(1, 65536)))),
        ("not HTTP", b"not HTTP at all\r\n\r\n"),
        ("TLS ClientHello", TLS_HELLO),
        ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes(9)),
        ("HTTP/9.9", b"GET /health HTTP/9.9\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("HTTP/1.0", b"GET /health HTTP/1.0\r\n\r\n"),
        ("no version", b"GET /health\r\n\r\n"),
        ("LF only", b"GET /health HTTP/1.1\nHost: x\nConnection: close\n\n"),
        ("extra spaces", b"GET  /health   HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("absolute URI", b"GET http://127.0.0.1/health HTTP/1.1\r\nHost: x\r\n"
         b"Connection: close\r\n\r\n"),
        ("header without colon", b"GET /health HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n"
         b"Connection: close\r\n\r\n"),
        ("NUL in header", b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n"
         b"Connection: close\r\n\r\n"),
        ("obs-fold header", b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n"
         b"Connection: close\r\n\r\n"),
        ("empty lines first", b"\r\n\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n"
         b"Connection: close\r\n\r\n"),
        ("4 MB without a newline", b"G" * (4 * MIB)),
        ("no Host", b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n"),
        ("POST without Content-Length", b"POST /slots/0?action=erase HTTP/1.1\r\nHost: x\r\n"
         b"Connection: close\r\n\r\n"),
        ("CRLF injection in path", b"GET /health%0d%0aX-Injected:%201 HTTP/1.1\r\nHost: x\r\n"
         b"Connection: close\r\n\r\n"),
        ("invalid UTF-8 path", b"GET /\xff\xfe\xc0 HTTP/1.1\r\nHost: x\r\n"
         b"Connection: close\r\n\r\n"),
        ("Expect: 100-continue", http_req("POST", "/tokenize", b'{"content":"hi"}',
                                          headers=[("Expect", "100-continue")])),
        ("Expect: bogus", http_req("POST", "/tokenize", b'{"content":"hi"}',
                                   headers=[("Expect", "bogus")])),
        ("gzip garbage body", http_req("POST", "/tokenize", b"\x1f\x8b\x08garbage",
                                       headers=[("Content-Encoding", "gzip")])),
        ("Content-Encoding br garbage", http_req("POST", "/tokenize", b"\x0b\xff\xff",
                                                 headers=[("Content-Encoding", "br")])),
        ("Content-Encoding unknown", http_req("POST", "/tokenize", b'{"content":"hi"}',
                                              headers=[("Content-Encoding", "zstd")])),
        ("Upgrade: websocket", http_req("GET", "/health", None, headers=[
            ("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Sec-WebSocket-Version", "13")], close=False)),
    ]
    name, data = rng.choice(variants)
    ok = {200, 400, 404, 405, 411, 413, 414, 415, 417, 431, 501, 505, 426, 204}
    return Case(idx, "http_garbage", "hostile", name,
                simple(ctx, data, ok, allow_close=True, until_close=True,
                       max_s=ctx.read_timeout + ctx.margin), data)


def g_long_request_line(rng, ctx, idx):
    n = 100 * 1024
    variants = [
        ("path 100 KB", b"GET /" + b"a" * n + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("query 100 KB", b"GET /health?q=" + b"a" * n + b" HTTP/1.1\r\nHost: x\r\n"
         b"Connection: close\r\n\r\n"),
        ("method 100 KB", b"G" * n + b" /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("header line 100 KB", b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"h" * n +
         b"\r\nConnection: close\r\n\r\n"),
        ("header name 100 KB", b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"H" * n +
         b": v\r\nConnection: close\r\n\r\n"),
        ("8 KB path (at the limit)", b"GET /health?q=" + b"a" * 8170 + b" HTTP/1.1\r\nHost: x"
         b"\r\nConnection: close\r\n\r\n"),
        ("1000 query parameters", b"GET /health?" + b"&".join(b"p%d=%d" % (i, i)
                                                              for i in range(1000)) +
         b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    ]
    name, data = rng.choice(variants)
    return Case(idx, "long_request_line", "hostile", name,
                simple(ctx, data, {200, 400, 404, 414, 431}, allow_close=True,
                       max_s=ctx.read_timeout + ctx.margin), data[:400])


def g_many_headers(rng, ctx, idx):
    v = rng.choice(["10k small", "10k small", "10k same name", "10k Content-Length: 0",
                    "10k x 1 KB"])
    if v == "10k x 1 KB":
        hs = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 1000) for i in range(10000))
    elif v == "10k same name":
        hs = b"X-Same: v\r\n" * 10000
    elif v == "10k Content-Length: 0":
        hs = b"Content-Length: 0\r\n" * 10000
    else:
        hs = b"".join(b"X-H%d: v\r\n" % i for i in range(10000))
    data = b"GET /health HTTP/1.1\r\nHost: x\r\n" + hs + b"Connection: close\r\n\r\n"

    def run(ctx):
        ex = exchange(ctx, data)
        o = judge(ex, {200, 400, 431}, allow_close=True, max_s=ctx.read_timeout + ctx.margin)
        if o.ok and ex.responses and ex.responses[0].status == 200:
            o.note = f"{v} headers ({len(data) // 1024} KB) accepted with 200"
        return o
    return Case(idx, "many_headers", "hostile", f"GET /health with {v} headers", run, data[:400])


def g_unknown_method(rng, ctx, idx):
    m = rng.choice(["FOO", "DELETE", "PUT", "PATCH", "TRACE", "CONNECT", "get", "G\x01T",
                    "M" * 1000, "PROPFIND", "HEAD", "OPTIONS"])
    path = rng.choice(["/health", "/v1/chat/completions", "/v1/models", "/tokenize", "/"])
    body = b'{"content":"x"}' if rng.random() < 0.5 else None
    data = http_req(m, path, body)
    allowed = {400, 404, 405, 501}
    if m == "HEAD" and path in ("/health", "/v1/models", "/"):
        allowed = {200}
    elif m == "HEAD":
        allowed = {404, 405}
    elif m == "OPTIONS":
        allowed = {204, 200, 404}
    return Case(idx, "unknown_method", "hostile", f"{m[:20]} {path}",
                simple(ctx, data, allowed, allow_close=m == "CONNECT" or m.startswith("M"),
                       head=m == "HEAD", no_body=m == "HEAD",
                       max_s=ctx.read_timeout + ctx.margin), data)


def g_unknown_path(rng, ctx, idx):
    variants = [
        ("/v2/chat/completions", {404}), ("/v1/chat/completions/", {404}),
        ("/v1//chat/completions", {404}), ("/%2e%2e/%2e%2e/etc/passwd", {404, 400}),
        ("/../../../../etc/passwd", {404, 400}), ("/ui/../../../../etc/passwd", {404, 400}),
        ("/ui/%2e%2e/%2e%2e/etc/passwd", {404, 400}), ("/ui/", {404}),
        ("/index.html?" + "x" * 2000, {200}), ("/slots/0?action=bogus", {400, 404}),
        ("/slots/-1?action=erase", {404}), ("/slots/99999999999999999999?action=erase", {400}),
        ("/slots/0?action=save", {501, 400}), ("/v1/slots/1?action=restore", {501, 400}),
        ("/health?x=%zz", {200, 400}), ("/%00", {404, 400}), ("/" + "a/" * 2000, {404, 414}),
        ("/v1/models/../models", {404, 200}), ("/metrics?format=json", {200}),
        ("/v1/embeddings", {404}), ("/v1/audio/speech", {404}), ("/infill", {404}),
        ("/v1/chat/completions?stream=true", {405, 404}),
    ]
    path, allowed = rng.choice(variants)
    method = "POST" if path.startswith(("/slots", "/v1/slots", "/v1/embeddings", "/infill",
                                        "/v1/audio")) else "GET"
    body = b'{"filename":"x"}' if method == "POST" else None
    data = http_req(method, path, body)
    return Case(idx, "unknown_path", "hostile", f"{method} {path[:80]}",
                simple(ctx, data, allowed, forbid_in_body=b"root:"), data)


def g_disconnect_mid_request(rng, ctx, idx):
    path = rng.choice(["/v1/chat/completions", "/tokenize", "/v1/completions"])
    body = jbody(base_body(rng, ctx, path))
    full = http_req("POST", path, body)
    v = rng.choice(["half the headers", "headers, half the body", "headers only",
                    "request line only"])
    cut = {"half the headers": len(full.split(b"\r\n\r\n")[0]) // 2,
           "headers, half the body": len(full) - len(body) // 2,
           "headers only": len(full) - len(body),
           "request line only": full.index(b"\r\n") + 2}[v]
    rst = rng.random() < 0.5
    data = full[:cut]

    def run(ctx):
        try:
            c = Conn(ctx.host, ctx.port, now() + 5)
        except OSError as e:
            return Outcome(False, f"connect failed: {e}", "connect-failed")
        c.send(data)
        time.sleep(rng.choice([0, 0.01, 0.1]))
        c.close(rst)
        return Outcome(True, "", "client-closed")
    return Case(idx, "disconnect_mid_request", "hostile",
                f"{v} then {'RST' if rst else 'FIN'} -> POST {path}", run, data)


def g_disconnect_mid_stream(rng, ctx, idx):
    chat = rng.random() < 0.75
    body = chat_body(rng, True, max_tokens=rng.randint(32, 200)) if chat else \
        completion_body(rng, ctx, True, max_tokens=rng.randint(32, 200))
    path = "/v1/chat/completions" if chat else "/v1/completions"
    data = http_req("POST", path, jbody(body))
    k = rng.randint(1, 4)
    rst = rng.random() < 0.5

    def run(ctx):
        ex = exchange(ctx, data, rst=rst,
                      stop_after=lambda b: b.count(b"data: ") >= k)
        if ex.hang:
            return Outcome(False, "HANG: no stream chunk", "hang", ex.describe(), hang=True)
        if not ex.responses or ex.responses[0].status != 200:
            return Outcome(False, "no stream to cut", status_of(ex), ex.describe())
        r = ex.responses[0]
        if not r.partial and not r.body.rstrip().endswith(b"data: [DONE]"):
            return Outcome(False, "stream ended early without [DONE]", 200, ex.describe())
        return Outcome(True, "", 200, ex.describe())
    return Case(idx, "disconnect_mid_stream", "hostile",
                f"stream max_tokens {body['max_tokens']}, read {k} chunks, "
                f"{'RST' if rst else 'FIN'} -> POST {path}", run, data)


def g_disconnect_mid_nonstream(rng, ctx, idx):
    body = chat_body(rng, False, max_tokens=rng.randint(100, 400))
    data = http_req("POST", "/v1/chat/completions", jbody(body))
    after = rng.choice([0.05, 0.2, 0.6, 1.5])
    rst = rng.random() < 0.5

    def run(ctx):
        try:
            c = Conn(ctx.host, ctx.port, now() + 5)
        except OSError as e:
            return Outcome(False, f"connect failed: {e}", "connect-failed")
        c.send(data)
        time.sleep(after)
        c.close(rst)
        return Outcome(True, "", "client-closed")
    return Case(idx, "disconnect_mid_nonstream", "hostile",
                f"non-streamed chat max_tokens {body['max_tokens']}, close after {after} s "
                f"({'RST' if rst else 'FIN'})", run, data)


def slowloris_run(ctx, head: bytes, trickle: bytes, observe_s: float, interval: float = 0.2):
    """Sends head at once, then trickle one byte every interval; returns (closed_after or None,
    bytes trickled, the answer bytes)."""
    t0 = now()
    try:
        c = Conn(ctx.host, ctx.port, t0 + observe_s + 5)
    except OSError as e:
        return None, 0, f"connect failed: {e}".encode()
    got = b""
    closed = None
    sent = 0
    try:
        if head and c.send(head):
            return now() - t0, 0, b""
        for i in range(len(trickle)):
            if now() - t0 > observe_s:
                break
            if c.send(trickle[i:i + 1]):
                closed = now() - t0
                break
            sent += 1
            r, _, _ = select.select([c.sock], [], [], interval)
            if r:
                try:
                    d = c.sock.recv(65536)
                except OSError:
                    d = b""
                if not d:
                    closed = now() - t0
                    break
                got += d
    finally:
        c.close()
    return closed, sent, got


def g_slowloris(rng, ctx, idx):
    v = rng.choice(["headers", "body"])
    observe = max(25.0, 4 * ctx.read_timeout)
    if v == "headers":
        head = b""
        trickle = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 4000 +
                   b"\r\n\r\n")
    else:
        body = b'{"messages":[{"role":"user","content":"' + b"s" * 2000 + b'"}],"max_tokens":2}'
        head = http_req("POST", "/v1/chat/completions", body)[: -len(body)]
        trickle = body
    limit = 2 * ctx.read_timeout + 2

    def run(ctx):
        closed, sent, got = slowloris_run(ctx, head, trickle, observe)
        detail = f"trickled {sent} bytes at 1 byte/200 ms; answer {got[:200]!r}"
        if closed is None:
            return Outcome(False, f"slow client ({v}) kept its connection for {observe:.0f} s: "
                           f"the read timeout (--timeout {ctx.read_timeout:g}) never closed it",
                           "open", detail)
        if closed > limit:
            return Outcome(False, f"slow client ({v}) closed only after {closed:.1f} s "
                           f"(--timeout {ctx.read_timeout:g})", "close", detail)
        return Outcome(True, "", "close", f"closed after {closed:.1f} s; " + detail)
    return Case(idx, "slowloris", "hostile",
                f"1 byte every 200 ms ({v}), observed up to {observe:.0f} s", run,
                head + trickle, long=True)


def g_gzip_bomb(rng, ctx, idx):
    v = rng.choice(["gzip 64 MB", "deflate 64 MB", "gzip 1 KB (valid)"])
    if v.endswith("(valid)"):
        raw = b'{"content":"compressed hello"}'
        allowed = {200, 415}
    else:
        raw = b" " * (64 * MIB) + b'{"content":"bomb"}'
        allowed = {413}
    comp = gzip.compress(raw, 9) if v.startswith("gzip") else zlib.compress(raw, 9)
    enc = "gzip" if v.startswith("gzip") else "deflate"
    data = http_req("POST", "/tokenize", comp, headers=[("Content-Encoding", enc)])

    def run(ctx):
        r0 = ctx.server.rss_kb() if ctx.server else None
        ex = exchange(ctx, data)
        o = judge(ex, allowed)
        if not o.ok and allowed == {413}:
            o.reason += (f" ({len(comp)} bytes on the wire decompress to {len(raw) // MIB} MB: "
                         "the 32 MiB body limit applies to the compressed size only)")
        if r0 and ctx.server:
            o.detail += f" [RSS before {r0} kB]"
        return o
    return Case(idx, "gzip_bomb", "hostile", f"Content-Encoding {enc}: {v} -> POST /tokenize",
                run, data[:400])


def g_range_header(rng, ctx, idx):
    n = rng.choice([1, 100, 1500])
    path = rng.choice(["/v1/models", "/props", "/health"])
    rng_hdr = ",".join("0-%d" % rng.randint(0, 100) for _ in range(n))
    v = rng.choice(["many", "many", "past the end", "malformed"])
    if v == "past the end":
        rng_hdr = "999999-"
    elif v == "malformed":
        rng_hdr = "-,-,--"
    data = http_req("GET", path, headers=[("Range", "bytes=" + rng_hdr)])

    def run(ctx):
        ex = exchange(ctx, data)
        o = judge(ex, {200, 206, 416, 400})
        if ex.responses and ex.responses[0].status == 200 and not o.ok:
            o.reason = ("a Range request answered 200 with a partial body (must be 206, or 200 "
                        "with the whole body): " + o.reason)
        if ex.responses and len(ex.responses[0].body) > 20 * len(data):
            o.note = (f"Range with {n} ranges on GET {path}: a {len(data)}-byte request got a "
                      f"{len(ex.responses[0].body)}-byte answer "
                      f"({len(ex.responses[0].body) / len(data):.0f}x)")
        return o
    return Case(idx, "range_header", "hostile", f"GET {path} Range: {v} ({n})", run, data[:300])


def g_pipelined(rng, ctx, idx):
    v = rng.choice(["3 valid", "valid then garbage", "valid, close, valid"])
    a = http_req("GET", "/health", close=False)
    b = http_req("POST", "/tokenize", b'{"content":"pipe"}', close=False)
    if v == "3 valid":
        data, n, want = a + b + http_req("GET", "/v1/models"), 3, [200, 200, 200]
    elif v == "valid then garbage":
        data, n, want = a + b"\x00\x01garbage\r\n\r\n", 2, [200, None]
    else:
        data, n, want = http_req("GET", "/health") + b, 2, [200]

    def run(ctx):
        ex = exchange(ctx, data, n_resp=n, until_close=True, timeout=ctx.client_timeout)
        if ex.hang:
            return Outcome(False, "HANG on pipelined requests", "hang", ex.describe(), hang=True)
        got = [r.status for r in ex.responses]
        for i, w in enumerate(want):
            if w is not None and (i >= len(got) or got[i] != w):
                return Outcome(False, f"pipelined answers {got}, expected {want}",
                               status_of(ex), ex.describe())
        if any(s >= 500 for s in got):
            return Outcome(False, f"5xx in {got}", status_of(ex), ex.describe())
        return Outcome(True, "", status_of(ex), ex.describe())
    return Case(idx, "pipelined", "hostile", f"pipelined: {v}", run, data)


def g_hostile_schema(rng, ctx, idx):
    enum = [rand_text(rng, 1, 3) + str(i) for i in range(5000)]
    deep = {"type": "string"}
    for _ in range(25):
        deep = {"type": "object", "properties": {"a": deep}, "required": ["a"]}
    schemas = [
        ("$ref #", {"$ref": "#"}),
        ("$defs a -> a", {"$ref": "#/$defs/a", "$defs": {"a": {"$ref": "#/$defs/a"}}}),
        ("anyOf [$ref #, string]", {"anyOf": [{"$ref": "#"}, {"type": "string"}]}),
        ("array of self", {"type": "array", "items": {"$ref": "#"}}),
        ("minItems 1e9", {"type": "array", "items": {"type": "integer"}, "minItems": 10**9}),
        ("minLength 1e9", {"type": "string", "minLength": 10**9}),
        ("maxLength < minLength", {"type": "string", "minLength": 10, "maxLength": 2}),
        ("pattern (a+)+$", {"type": "string", "pattern": "(a+)+$"}),
        ("pattern huge", {"type": "string", "pattern": "(" + "|".join(enum[:500]) + ")"}),
        ("enum 5000", {"enum": enum}),
        ("2000 required properties", {"type": "object", "properties": {
            "p%d" % i: {"type": "integer"} for i in range(2000)},
            "required": ["p%d" % i for i in range(2000)]}),
        ("nested 25 objects", deep),
        ("minimum > maximum", {"type": "integer", "minimum": 5, "maximum": 1}),
        ("allOf string & integer", {"allOf": [{"type": "string"}, {"type": "integer"}]}),
        ("schema false", False),
        ("schema true", True),
        ("type list", {"type": ["string", "null", "number", "object", "array", "boolean"]}),
        ("unknown keyword", {"type": "string", "x-bogus": {"$ref": "http://evil/"}}),
        ("remote $ref", {"$ref": "http://127.0.0.1:1/schema.json"}),
        ("format date-time", {"type": "string", "format": "date-time"}),
        ("anyOf 1000", {"anyOf": [{"const": e} for e in enum[:1000]]}),
    ]
    name, schema = rng.choice(schemas)
    tool = rng.random() < 0.3
    body = chat_body(rng, rng.random() < 0.3, max_tokens=rng.randint(4, 12))
    if tool:
        body["tools"] = [{"type": "function", "function": {
            "name": "f", "parameters": schema if isinstance(schema, dict) else {}}}]
        body["tool_choice"] = rng.choice(["required", {"type": "function",
                                                      "function": {"name": "f"}}])
    else:
        body["response_format"] = {"type": "json_schema",
                                   "json_schema": {"name": "s", "schema": schema}}
    data = http_req("POST", "/v1/chat/completions", jbody(body))
    return Case(idx, "hostile_schema", "hostile",
                f"{'tool parameters' if tool else 'response_format'}: {name}",
                simple(ctx, data, {200, 400}, max_s=ctx.client_timeout), data)


def g_many_messages(rng, ctx, idx):
    v = rng.choice(["10000 messages", "1 message of 10000 parts", "1000 tool messages",
                    "10000 system messages", "tools x 500"])
    if v == "10000 messages":
        msgs = [{"role": rng.choice(["user", "assistant"]), "content": "hi"} for _ in range(10000)]
        body = {"messages": msgs, "max_tokens": 2}
    elif v == "1 message of 10000 parts":
        body = {"messages": [{"role": "user", "content": [{"type": "text", "text": "p"}] * 10000}],
                "max_tokens": 2}
    elif v == "1000 tool messages":
        body = {"messages": [{"role": "user", "content": "x"}] +
                [{"role": "tool", "content": "r%d" % i} for i in range(1000)], "max_tokens": 2}
    elif v == "10000 system messages":
        body = {"messages": [{"role": "system", "content": "s"}] * 10000, "max_tokens": 2}
    else:
        body = {"messages": [{"role": "user", "content": "x"}], "max_tokens": 2,
                "tools": [{"type": "function", "function": {"name": "f%d" % i,
                                                            "parameters": {"type": "object"}}}
                          for i in range(500)]}
    data = http_req("POST", "/v1/chat/completions", jbody(body))
    return Case(idx, "many_messages", "hostile", v,
                simple(ctx, data, {200, 400}, max_s=ctx.client_timeout), data[:400])


def g_slot_actions(rng, ctx, idx):
    v = rng.choice([("/slots/0?action=erase", b"", {200, 409, 400}),
                    ("/slots/1?action=erase", b"{}", {200, 409, 400}),
                    ("/slots/0?action=save", b'{"filename":"../../etc/x"}', {400, 501}),
                    ("/slots/0?action=restore", b'{"filename":"x"}', {400, 501}),
                    ("/slots/7?action=erase", b"", {400}),
                    ("/slots/0", b"", {400}),
                    ("/slots/0?action=erase&action=save", b"", {200, 400, 409, 501})])
    path, body, allowed = v
    data = http_req("POST", path, body)
    return Case(idx, "slot_actions", "hostile", f"POST {path} {body!r}",
                simple(ctx, data, allowed), data)


# name, weight, cap per 1000 requests (None: none)
HOSTILE = [
    ("malformed_json", 8, None), ("truncated_json", 8, None), ("deep_nesting", 4, None),
    ("wrong_types", 22, None), ("unknown_fields", 6, None), ("huge_strings", 3, 24),
    ("body_40mb", 2, 12), ("invalid_utf8_nul", 6, None), ("content_length_short", 3, None),
    ("content_length_long", 2, 20), ("chunked_unfinished", 2, 20), ("chunked_malformed", 3, None),
    ("chunked_oversize", 1, 3), ("http_garbage", 6, None), ("long_request_line", 2, None),
    ("many_headers", 2, 16), ("unknown_method", 3, None), ("unknown_path", 4, None),
    ("disconnect_mid_request", 4, None), ("disconnect_mid_stream", 5, None),
    ("disconnect_mid_nonstream", 2, None), ("slowloris", 1, 4), ("gzip_bomb", 1, 4),
    ("range_header", 1, None), ("pipelined", 2, None), ("hostile_schema", 3, None),
    ("many_messages", 1, 10), ("slot_actions", 1, None),
]
GENS = {name: globals()["g_" + name] for name, _, _ in HOSTILE}


def plan_categories(n: int, seed: int, valid_every: int):
    """The category of each case index, from the seed alone (so --only replays the same)."""
    rng = random.Random(f"plan:{seed}")
    counts = collections.Counter()
    scale = max(1.0, n / 1000)
    out = []
    for i in range(n):
        if valid_every > 0 and i % valid_every == 0:
            out.append(("valid", rng.choices([c for c, _ in VALID_CATS],
                                             weights=[w for _, w in VALID_CATS])[0]))
            continue
        pool = [(c, w) for c, w, cap in HOSTILE if cap is None or counts[c] < int(cap * scale)]
        c = rng.choices([c for c, _ in pool], weights=[w for _, w in pool])[0]
        counts[c] += 1
        out.append(("hostile", c))
    return out


def make_case(ctx, idx: int, kind: str, cat: str) -> Case:
    rng = random.Random(f"case:{ctx.seed}:{idx}")
    if kind == "valid":
        return valid_gen(rng, ctx, idx, cat)
    return GENS[cat](rng, ctx, idx)


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class Server:
    def __init__(self, args, log_path: str):
        self.args = args
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.cmd: list[str] = []

    def start(self, timeout: float = 120.0) -> None:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        a = self.args
        self.cmd = [a.bin, "serve", "-m", a.model, "--host", "127.0.0.1", "--port", str(self.port),
                    "--parallel", str(a.parallel), "--ctx", str(a.ctx), "--timeout",
                    f"{a.timeout:g}", "--threads-http", str(a.threads_http)] + a.server_arg
        self.log = open(self.log_path, "ab")
        self.log.write(("\n=== %s: %s\n" % (time.strftime("%H:%M:%S"), " ".join(self.cmd)))
                       .encode())
        self.log.flush()
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=self.log,
                                     stdin=subprocess.DEVNULL)
        t0 = now()
        while now() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode} at start; "
                                   f"see {self.log_path}")
            try:
                c = socket.create_connection(("127.0.0.1", self.port), timeout=1)
                c.sendall(http_req("GET", "/health"))
                c.settimeout(2)
                if b" 200 " in c.recv(4096):
                    c.close()
                    return
                c.close()
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the server did not answer /health in time")

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _status_field(self, key: str) -> int | None:
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith(key + ":"):
                        return int(line.split()[1])
        except (OSError, ValueError, TypeError):
            return None
        return None

    def rss_kb(self):
        return self._status_field("VmRSS")

    def exit_desc(self) -> str:
        rc = self.proc.returncode if self.proc else None
        if rc is None:
            return "running"
        if rc < 0:
            try:
                return f"killed by signal {signal.Signals(-rc).name}"
            except ValueError:
                return f"killed by signal {-rc}"
        return f"exit status {rc}"

    def stop(self, grace: float = 15.0) -> dict:
        if not self.proc:
            return {}
        if self.proc.poll() is not None:
            return {"sigterm": False, "result": self.exit_desc(), "seconds": 0}
        t0 = now()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(grace)
            out = {"sigterm": True, "result": self.exit_desc(), "seconds": round(now() - t0, 2),
                   "forced": False}
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            out = {"sigterm": True, "result": f"still running {grace:g} s after SIGTERM: killed",
                   "seconds": round(now() - t0, 2), "forced": True}
        self.log.close()
        return out


class Ctx:
    pass


# --------------------------------------------------------------------------------------------
# Phases
# --------------------------------------------------------------------------------------------


def warm_up(ctx) -> list[str]:
    errs = []
    rng = random.Random(f"warm:{ctx.seed}")
    for i, cat in enumerate(["chat", "chat_stream", "completion", "completion_stream",
                             "tokenize", "get"]):
        c = valid_gen(rng, ctx, -1 - i, cat)
        o = c.run(ctx)
        if not o.ok:
            errs.append(f"warm-up {cat}: {o.reason} {o.detail[:300]}")
    return errs


def probe_connection_limit(ctx, log) -> list[dict]:
    """More idle connections than HTTP worker threads: does a valid request still get served,
    and how (queued, refused)? Each idle connection's connect time and the time the server
    closed it are watched from the moment it opened."""
    N = ctx.threads_http
    rows = []
    plans = [("silent", 2 * N), ("silent", 8 * N), ("partial request line", 2 * N),
             ("trickle 1 byte/200 ms", N - 1), ("trickle 1 byte/200 ms", N)]
    for variant, K in plans:
        if ctx.stop.is_set() or K <= 0:
            continue
        t0 = now()
        socks, connect_s, refused = [], [], 0
        partial = variant.startswith("partial")
        trickling = variant.startswith("trickle")
        payload = b"POST /v1/chat/completions HTTP/1.1\r\nX-Pad: " + b"a" * 100000
        for _ in range(K):
            t = now()
            try:
                s = socket.create_connection((ctx.host, ctx.port), timeout=10)
                connect_s.append(now() - t)
                socks.append(s)
                # The first bytes at once, so that no idle connection is closed for silence.
                if partial:
                    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\n")
                elif trickling:
                    s.sendall(payload[:1])
            except OSError:
                refused += 1
        open_s = now() - t0
        done = threading.Event()
        close_t: list[float] = []

        def helper_fn():
            """Watches for the server closing the idle connections; trickles when asked."""
            pending = set(socks)
            i = 1
            limit = now() + ctx.client_timeout + 15
            next_byte = now() + 0.2
            while pending and now() < limit and not done.is_set():
                if trickling and now() >= next_byte and i < len(payload):
                    for s in list(pending):
                        try:
                            s.send(payload[i:i + 1])
                        except OSError:
                            pass
                    i += 1
                    next_byte += 0.2
                r, _, _ = select.select(list(pending), [], [], 0.05)
                for s in r:
                    try:
                        d = s.recv(65536)
                    except OSError:
                        d = b""
                    if not d:
                        close_t.append(now() - t0)
                        pending.discard(s)
        helper = threading.Thread(target=helper_fn, daemon=True)
        helper.start()
        time.sleep(0.3)
        rng = random.Random(f"probe:{ctx.seed}:{variant}")
        data = http_req("POST", "/v1/chat/completions",
                        jbody(chat_body(rng, False, max_tokens=4)))
        t_sent = now() - t0
        ex = exchange(ctx, data)

        def c200(r):
            try:
                check_nonstream(r, True, 4)
            except Exception as e:  # noqa: BLE001
                return f"wrong answer: {e}"
            return None
        o = judge(ex, {200}, check200=c200)
        if not trickling:
            helper.join(ctx.client_timeout + 20)
        done.set()
        helper.join(5)
        for s in socks:
            try:
                s.close()
            except OSError:
                pass
        close_t.sort()
        slow = sum(1 for c in connect_s if c > 0.5)
        row = {
            "variant": variant, "idle_connections": K, "threads_http": N,
            "connect_refused": refused, "connects_over_0_5_s": slow,
            "connect_max_s": round(max(connect_s), 2) if connect_s else None,
            "all_open_after_s": round(open_s, 2), "valid_sent_at_s": round(t_sent, 2),
            "valid_request_ok": o.ok, "valid_request_status": status_of(ex),
            "valid_request_latency_s": round(ex.elapsed, 2), "valid_request_reason": o.reason,
            "idle_closed_by_server": len(close_t),
            "idle_close_first_s": round(close_t[0], 2) if close_t else None,
            "idle_close_median_s": round(close_t[len(close_t) // 2], 2) if close_t else None,
            "idle_close_last_s": round(close_t[-1], 2) if close_t else None,
        }
        rows.append(row)
        log(f"  probe {variant:22s} K={K:4d} N={N}: all open after {open_s:.2f} s "
            f"({slow} connects > 0.5 s, max {row['connect_max_s']} s, {refused} refused); valid "
            f"request sent at {t_sent:.2f} s: {'ok' if o.ok else 'FAILED'} after {ex.elapsed:.2f}"
            f" s (status {row['valid_request_status']}); idle closed by the server "
            f"{len(close_t)}/{K}" + (f" between {close_t[0]:.2f} and {close_t[-1]:.2f} s"
                                     if close_t else ""))
        time.sleep(2.0)
    return rows


def final_checks(ctx) -> list[tuple[str, bool, str]]:
    out = []
    ex = exchange(ctx, http_req("GET", "/health"), timeout=10)
    ok = bool(ex.responses) and ex.responses[0].status == 200
    out.append(("GET /health answers 200", ok, ex.describe()[:300]))
    ex = exchange(ctx, http_req("GET", "/slots"), timeout=10)
    try:
        busy = [s for s in ex.responses[0].json() if s.get("is_processing")]
        out.append(("no sequence left busy (/slots)", not busy, json.dumps(busy)[:300]))
    except Exception as e:  # noqa: BLE001
        out.append(("no sequence left busy (/slots)", False, f"{e}: {ex.describe()[:300]}"))
    ex = exchange(ctx, http_req("GET", "/metrics"), timeout=10)
    try:
        m = dict(re.findall(r"^longctx:(\w+) ([\d.e+-]+)$", ex.responses[0].body.decode(),
                            re.M))
        ok = float(m["requests_processing"]) == 0 and float(m["requests_deferred"]) == 0
        out.append(("metrics: nothing processing or queued", ok,
                    f"processing {m['requests_processing']} deferred {m['requests_deferred']} "
                    f"requests_total {m.get('requests_total')}"))
    except Exception as e:  # noqa: BLE001
        out.append(("metrics: nothing processing or queued", False, f"{e}"))
    rng = random.Random("final")
    for cat in ("chat", "chat_stream"):
        o = valid_gen(rng, ctx, -100, cat).run(ctx)
        out.append((f"a valid {cat} request still answered correctly", o.ok,
                    o.reason or o.detail[:200]))
    return out


def fmt_table(rows, headers) -> str:
    w = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(str(h))
         for i, h in enumerate(headers)]
    line = "  ".join(str(h).ljust(w[i]) for i, h in enumerate(headers))
    out = [line, "  ".join("-" * x for x in w)]
    for r in rows:
        out.append("  ".join(str(c).ljust(w[i]) for i, c in enumerate(r)))
    return "\n".join(out)


def excerpt(b: bytes, n: int = 300) -> str:
    s = repr(b[:n])
    return s + (f" ...(+{len(b) - n} bytes)" if len(b) > n else "")


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", help="the longctx binary (starts `longctx serve`)")
    ap.add_argument("--model", help="GGUF model for the server it starts")
    ap.add_argument("--url", help="attach to a running server instead (loopback only)")
    ap.add_argument("--pid", type=int, help="with --url: the server's pid, for its RSS")
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--parallel", type=int, default=2, help="the server's --parallel")
    ap.add_argument("--ctx", type=int, default=512, help="the server's --ctx")
    ap.add_argument("--timeout", type=float, default=5, help="the server's --timeout (seconds)")
    ap.add_argument("--threads-http", type=int, default=16, help="the server's --threads-http")
    ap.add_argument("--server-arg", action="append", default=[],
                    help="one more argument for `longctx serve` (repeatable)")
    ap.add_argument("--workers", type=int, default=8, help="requests sent at once")
    ap.add_argument("--valid-every", type=int, default=5, help="every Nth request is valid")
    ap.add_argument("--client-timeout", type=float, default=30.0,
                    help="seconds without an answer before a request counts as a hang")
    ap.add_argument("--settle", type=float, default=5.0, help="idle seconds before RSS after")
    ap.add_argument("--rss-tolerance", type=float, default=0.05)
    ap.add_argument("--max-wall", type=float, default=1200.0,
                    help="stop sending new cases after this many seconds")
    ap.add_argument("--only", help="run only these case indices (comma-separated)")
    ap.add_argument("--skip-probe", action="store_true",
                    help="skip the idle-connections probe")
    ap.add_argument("--no-replay", action="store_true",
                    help="after a crash, do not replay the in-flight cases one by one")
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--dump-dir", help="failing requests and the server's log go here "
                    "(default: a new folder under /tmp)")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()

    def log(msg):
        if not args.quiet:
            print(msg, flush=True)

    ctx = Ctx()
    ctx.seed = args.seed
    ctx.parallel = args.parallel
    ctx.n_ctx = args.ctx
    ctx.read_timeout = args.timeout
    ctx.margin = 3.0
    ctx.client_timeout = args.client_timeout
    ctx.threads_http = args.threads_http
    ctx.stop = threading.Event()
    ctx.server = None
    dump = args.dump_dir or f"/tmp/server_stress-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    os.makedirs(dump, exist_ok=True)
    log_path = os.path.join(dump, "server.log")

    server = None
    if args.url:
        u = urllib.parse.urlparse(args.url)
        if u.hostname not in LOOPBACK:
            print(f"--url must be a loopback address ({', '.join(LOOPBACK)}), got "
                  f"{u.hostname!r}", file=sys.stderr)
            return 2
        ctx.host = "127.0.0.1" if u.hostname == "localhost" else u.hostname
        ctx.port = u.port or 80
        ctx.pid = args.pid
    else:
        if not args.bin or not args.model:
            print("give --bin and --model (or --url)", file=sys.stderr)
            return 2
        server = Server(args, log_path)
        server.start()
        ctx.host, ctx.port, ctx.pid = "127.0.0.1", server.port, server.pid
        ctx.server = server
        log(f"server: pid {server.pid}, http://127.0.0.1:{server.port}; log {log_path}")

    def rss():
        if not ctx.pid:
            return None
        try:
            with open(f"/proc/{ctx.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            return None

    def hwm():
        try:
            with open(f"/proc/{ctx.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1])
        except (OSError, TypeError):
            return None

    def alive():
        if server:
            return server.alive()
        return ctx.pid is None or os.path.exists(f"/proc/{ctx.pid}")

    t_start = now()
    ex = exchange(ctx, http_req("GET", "/v1/models"), timeout=10)
    try:
        meta = ex.responses[0].json()["data"][0].get("meta", {})
        ctx.n_vocab = int(meta.get("n_vocab", 151936))
        ctx.n_ctx = int(meta.get("n_ctx", args.ctx))
    except Exception:  # noqa: BLE001
        print(f"GET /v1/models failed: {ex.describe()}", file=sys.stderr)
        if server:
            server.stop()
        return 2

    errs = warm_up(ctx)
    for e in errs:
        log("WARM-UP FAILURE: " + e)
    time.sleep(2.0)
    samples = [rss() for _ in range(3) if not time.sleep(0.3)]
    samples = [s for s in samples if s]
    rss_before = min(samples) if samples else None
    log(f"idle RSS after warm-up: {rss_before} kB")

    plan = plan_categories(args.requests, args.seed, args.valid_every)
    indices = list(range(args.requests))
    if args.only:
        indices = [int(x) for x in args.only.split(",") if x.strip()]
    cases = [make_case(ctx, i, *plan[i]) for i in indices]

    results: dict[int, Outcome] = {}
    inflight: dict[int, float] = {}
    recent: collections.deque = collections.deque(maxlen=256)
    lock = threading.Lock()
    crash = {}
    peak = [rss_before or 0]
    notes = collections.Counter()
    long_sem = threading.Semaphore(max(1, args.workers // 2))

    def monitor():
        while not monitor_stop.is_set():
            r = rss()
            if r:
                peak[0] = max(peak[0], r)
            if not alive() and not crash:
                with lock:
                    crash["at_s"] = round(now() - t_start, 2)
                    # In flight, or finished within the last 0.5 s (a request that killed the
                    # server ends with a reset before the poll sees the process gone).
                    crash["inflight"] = sorted(set(inflight) | {
                        i for t, i in recent if now() - t < 0.5})
                    crash["exit"] = server.exit_desc() if server else "the process is gone"
                ctx.stop.set()
            monitor_stop.wait(0.1)

    monitor_stop = threading.Event()
    mon = threading.Thread(target=monitor, daemon=True)
    mon.start()

    def run_case(c: Case):
        if ctx.stop.is_set() or now() - t_start > args.max_wall:
            return
        if c.long:
            long_sem.acquire()
        with lock:
            inflight[c.idx] = now()
        t0 = now()
        try:
            o = c.run(ctx)
        except CheckFail as e:
            o = Outcome(False, str(e), "check")
        except Exception as e:  # noqa: BLE001 - a bug of this tool, reported as such
            import traceback
            o = Outcome(False, f"TOOL ERROR {e.__class__.__name__}: {e}", "tool-error",
                        traceback.format_exc()[-800:])
        finally:
            if c.long:
                long_sem.release()
        o.elapsed = now() - t0
        with lock:
            inflight.pop(c.idx, None)
            recent.append((now(), c.idx))
            results[c.idx] = o
            if o.note:
                notes[o.note] += 1
            n = len(results)
        if not o.ok:
            log(f"  FAIL #{c.idx} [{c.cat}] {c.desc[:100]}: {o.reason[:200]}")
        if n % 100 == 0:
            log(f"  {n}/{len(cases)} done, {now() - t_start:.0f} s, RSS {rss()} kB")

    log(f"sending {len(cases)} requests ({args.workers} at once, seed {args.seed}) ...")
    t_mix = now()
    with concurrent.futures.ThreadPoolExecutor(args.workers) as pool:
        list(pool.map(run_case, cases))
    mix_wall = now() - t_mix

    probe_rows = []
    if not args.skip_probe and not args.only and not ctx.stop.is_set():
        log("probing more idle connections than --threads-http ...")
        probe_rows = probe_connection_limit(ctx, log)

    crashed = bool(crash)
    if not crashed:
        time.sleep(args.settle)
        samples = [rss() for _ in range(3) if not time.sleep(0.3)]
        samples = [s for s in samples if s]
        rss_after = min(samples) if samples else None
    else:
        rss_after = None
    peak_hwm = hwm()
    monitor_stop.set()
    mon.join(2)

    finals = final_checks(ctx) if not crashed else [("server alive", False, crash.get("exit"))]
    shutdown = server.stop() if server else {}
    if server and not crashed and shutdown.get("result") != "exit status 0":
        finals.append(("SIGTERM stops the server with status 0", False, json.dumps(shutdown)))
    elif server and not crashed:
        finals.append(("SIGTERM stops the server with status 0", True,
                       f"in {shutdown.get('seconds')} s"))

    # Crash: replay each case that was in flight, alone, on a fresh server.
    replays = []
    if crashed and server and not args.no_replay:
        by_idx = {c.idx: c for c in cases}
        log(f"the server died; replaying the {len(crash.get('inflight', []))} cases in flight "
            "one by one on a fresh server ...")
        # Those that ended without an answer first: the request that killed the server does.
        suspects = sorted(crash.get("inflight", []), key=lambda i: (
            i in results and results[i].status not in ("close", "hang", "connect-failed")
            and "reset" not in results[i].detail, i))
        for i in suspects[:16]:
            s2 = Server(args, log_path)
            try:
                s2.start()
            except RuntimeError as e:
                replays.append({"idx": i, "error": str(e)})
                break
            c2 = Ctx()
            c2.__dict__.update(ctx.__dict__)
            c2.port, c2.pid, c2.server = s2.port, s2.pid, s2
            c2.stop = threading.Event()
            try:
                by_idx[i].run(c2)
            except Exception:  # noqa: BLE001
                pass
            time.sleep(1.0)
            died = not s2.alive()
            replays.append({"idx": i, "cat": by_idx[i].cat, "desc": by_idx[i].desc,
                            "crashes_alone": died, "exit": s2.exit_desc()})
            s2.stop()

    wall = now() - t_start

    # ----- report ---------------------------------------------------------------------------
    by_idx = {c.idx: c for c in cases}
    cats = collections.OrderedDict()
    for c in cases:
        cats.setdefault((c.kind, c.cat), []).append(c)
    table = []
    counts_json = {}
    for (kind, cat), cs in sorted(cats.items()):
        done = [results[c.idx] for c in cs if c.idx in results]
        ok = sum(o.ok for o in done)
        sts = collections.Counter(str(o.status) for o in done)
        times = sorted(o.elapsed for o in done)
        p50 = times[len(times) // 2] if times else 0
        mx = times[-1] if times else 0
        table.append([kind, cat, len(cs), len(done), ok, len(done) - ok,
                      " ".join(f"{k}x{v}" for k, v in sorted(sts.items())), f"{p50:.2f}",
                      f"{mx:.2f}"])
        counts_json[cat] = {"kind": kind, "planned": len(cs), "run": len(done), "ok": ok,
                            "failed": len(done) - ok, "statuses": dict(sts),
                            "p50_s": round(p50, 3), "max_s": round(mx, 3)}
    failures = []
    for i in sorted(results):
        o = results[i]
        if o.ok:
            continue
        c = by_idx[i]
        fpath = os.path.join(dump, f"case-{i:05d}-{c.cat}.bin")
        with open(fpath, "wb") as f:
            f.write(c.request)
        if o.raw:
            with open(fpath[:-4] + ".response", "wb") as f:
                f.write(o.raw)
        failures.append({"idx": i, "cat": c.cat, "kind": c.kind, "desc": c.desc,
                         "reason": o.reason, "status": o.status, "hang": o.hang,
                         "elapsed_s": round(o.elapsed, 2),
                         "request": excerpt(c.request), "request_bytes": len(c.request),
                         "request_file": fpath, "response": o.detail[:1500]})
    valid_total = sum(1 for c in cases if c.kind == "valid")
    valid_run = [results[c.idx] for c in cases if c.kind == "valid" and c.idx in results]
    valid_ok = sum(o.ok for o in valid_run)
    not_run = len(cases) - len(results)
    ratio = (rss_after / rss_before) if rss_after and rss_before else None
    rss_ok = ratio is None or ratio <= 1 + args.rss_tolerance
    probe_fail = [r for r in probe_rows if not r["valid_request_ok"]]

    log("")
    log("=" * 100)
    log(f"server_stress: {len(cases)} cases, seed {args.seed}, {args.workers} at once, server "
        f"--parallel {args.parallel} --ctx {args.ctx} --timeout {args.timeout:g} "
        f"--threads-http {args.threads_http}")
    log(fmt_table(table, ["kind", "category", "planned", "run", "ok", "fail", "statuses",
                          "p50 s", "max s"]))
    log("")
    log(f"valid requests: {valid_ok}/{valid_total} answered correctly"
        + (f" ({valid_total - len(valid_run)} not run)" if len(valid_run) < valid_total else ""))
    log(f"hangs (no answer within {args.client_timeout:g} s): "
        f"{sum(1 for f in failures if f['hang'])} among the requests, "
        f"{sum(1 for r in probe_rows if r['valid_request_status'] == 'hang')} in the "
        "idle-connection probe")
    if crashed:
        inf = crash["inflight"]
        log(f"CRASH: the server died at {crash['at_s']} s ({crash['exit']}); in flight or just "
            f"ended: {inf[:30]}{' ...' if len(inf) > 30 else ''}")
        for r in replays:
            log(f"  replay #{r.get('idx')} [{r.get('cat')}] {r.get('desc', '')[:90]}: "
                f"{'CRASHES ALONE' if r.get('crashes_alone') else 'no crash alone'} "
                f"({r.get('exit', r.get('error'))})")
    log(f"RSS: idle before {rss_before} kB, peak sampled {peak[0]} kB, VmHWM {peak_hwm} kB, "
        f"after {args.settle:g} s settle {rss_after} kB, ratio "
        f"{ratio:.3f}" if ratio else "RSS: n/a")
    if not rss_ok:
        log(f"  RSS after is {100 * (ratio - 1):.1f}% above idle (tolerance "
            f"{100 * args.rss_tolerance:.0f}%)")
    if probe_rows:
        log("")
        log("idle connections beyond --threads-http (a valid chat request sent after them):")
        log(fmt_table([[r["variant"], r["idle_connections"], r["threads_http"],
                        r["connect_refused"], r["connects_over_0_5_s"], r["all_open_after_s"],
                        r["valid_sent_at_s"],
                        ("ok " if r["valid_request_ok"] else "FAIL ") +
                        str(r["valid_request_status"]), r["valid_request_latency_s"],
                        f"{r['idle_closed_by_server']}/{r['idle_connections']}",
                        r["idle_close_first_s"], r["idle_close_median_s"],
                        r["idle_close_last_s"]] for r in probe_rows],
                      ["idlers", "K", "threads", "refused", "slow connects", "open s",
                       "valid sent s", "valid", "latency s", "closed", "first s", "median s",
                       "last s"]))
        log("  (times in s from the first idle connect; a connect over 0.5 s is a SYN the "
            "kernel dropped on a full listen backlog and the client resent)")
    log("")
    log("final checks:")
    for name, ok, det in finals:
        log(f"  [{'ok' if ok else 'FAIL'}] {name}: {det}")
    if notes:
        log("")
        log("notes (not failures):")
        for n, k in notes.most_common():
            log(f"  {k}x {n}")
    if failures:
        log("")
        log(f"failures ({len(failures)}); requests saved under {dump}; replay one with "
            f"--seed {args.seed} --only IDX:")
        groups = collections.OrderedDict()
        for f in failures:
            groups.setdefault((f["cat"], re.sub(r"\d+(\.\d+)?", "N", f["reason"])[:90]),
                              []).append(f)
        for (cat, _), fs in groups.items():
            f = fs[0]
            log(f"- [{cat}] {f['reason']}  ({len(fs)}x: #" +
                ", #".join(str(x["idx"]) for x in fs[:12]) + (" ..." if len(fs) > 12 else "")
                + ")")
            log(f"    e.g. #{f['idx']} {f['desc'][:150]}")
            log(f"    request ({f['request_bytes']} B, {f['request_file']}): {f['request'][:300]}")
            log(f"    got: {f['response'][:400]}")
    passed = (not failures and not crashed and valid_ok == valid_total and rss_ok and
              all(ok for _, ok, _ in finals) and not probe_fail and not errs and not_run == 0)
    log("")
    log(f"wall time {wall:.1f} s (requests {mix_wall:.1f} s); "
        f"{'PASSED' if passed else 'FAILED'}; server log {log_path}")

    if args.json:
        out = {
            "passed": passed, "wall_s": round(wall, 2), "mix_wall_s": round(mix_wall, 2),
            "config": {k: v for k, v in vars(args).items()},
            "server": {"cmd": server.cmd if server else None, "pid": ctx.pid,
                       "url": f"http://{ctx.host}:{ctx.port}", "log": log_path,
                       "shutdown": shutdown},
            "cases": len(cases), "not_run": not_run,
            "valid": {"total": valid_total, "ok": valid_ok},
            "hangs": sum(1 for f in failures if f["hang"]),
            "probe_hangs": sum(1 for r in probe_rows if r["valid_request_status"] == "hang"),
            "counts": counts_json, "failures": failures,
            "crash": crash or None, "crash_replays": replays,
            "rss_kb": {"idle_before": rss_before, "peak_sampled": peak[0], "vm_hwm": peak_hwm,
                       "after": rss_after, "ratio": round(ratio, 4) if ratio else None,
                       "tolerance": args.rss_tolerance, "ok": rss_ok},
            "connection_limit": probe_rows,
            "final_checks": [{"check": n, "ok": ok, "detail": d} for n, ok, d in finals],
            "warm_up_errors": errs, "notes": dict(notes), "dump_dir": dump,
            "all_cases": [{"idx": c.idx, "cat": c.cat, "desc": c.desc[:200],
                           "ok": results[c.idx].ok, "status": results[c.idx].status,
                           "elapsed_s": round(results[c.idx].elapsed, 3)}
                          for c in cases if c.idx in results],
        }
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1, default=str)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
