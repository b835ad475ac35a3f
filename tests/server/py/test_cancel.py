"""Cancellation and shutdown: a client that hangs up (streamed, or a non-streamed request whose
client times out) frees its sequence at once; SIGTERM ends open streams and exits 0."""

import json
import signal
import socket
import threading
import time

import httpx

from conftest import MODEL_FILE, idle, metric, metrics, slots, user, wait_until

# One sequence: a generation that is not cancelled blocks every later request. The abandoned
# generations may run for the server's detection time (about 0.2 s after the hang-up, plus the
# test's own waits) at whatever rate the tiny model decodes here (2,000+ tokens/s with its
# repacked head), so the reply is long enough that "stopped" means well short of it, and a
# generation that was never cancelled (8,000 tokens, seconds) still fails check_freed's wait.
SERVER_ARGS = ("--ctx", "8192", "--parallel", "1")
LONG = {"model": MODEL_FILE, "messages": user("Talk for a long time"), "max_tokens": 8000,
        "temperature": 0}


def check_freed(server, http):
    assert wait_until(lambda: idle(http), 2.0), f"still processing: {slots(http)}"
    assert metric(metrics(http), "requests_processing") == 0
    t0 = time.monotonic()
    r = http.post("/v1/chat/completions", json={"messages": user("Next"), "max_tokens": 4},
                  timeout=10)
    assert r.status_code == 200, r.text
    assert time.monotonic() - t0 < 5, "the next request waited for the abandoned one"


def test_closed_stream_frees_the_sequence(server, http, client):
    stream = client.chat.completions.create(stream=True, **LONG)
    got = 0
    for ch in stream:
        if ch.choices and ch.choices[0].delta.content:
            got += 1
            if got == 3:
                break
    assert not idle(http), "the generation should still run before the client hangs up"
    stream.close()
    check_freed(server, http)


def test_raw_stream_hang_up(server, http):
    with httpx.Client(timeout=30) as h:
        with h.stream("POST", server.url("/v1/completions"),
                      json={"prompt": "Go on", "max_tokens": 2000, "stream": True}) as r:
            lines = 0
            for line in r.iter_lines():
                if line.startswith("data:"):
                    lines += 1
                    if lines == 3:
                        break
    check_freed(server, http)


def test_non_streamed_client_timeout_stops_the_generation(server, http):
    # llama-server's own suite abandons a request with a 0.1 s read timeout: the answer has not
    # begun by then (the server's keep-alive spaces start after 0.25 s).
    m0 = metrics(http)
    try:
        httpx.post(server.url("/v1/chat/completions"), json=LONG, timeout=0.1)
        raise AssertionError("2000 tokens should not come back within 0.1 s")
    except httpx.TimeoutException:
        pass
    check_freed(server, http)
    m1 = metrics(http)
    generated = metric(m1, "tokens_predicted_total") - metric(m0, "tokens_predicted_total")
    assert generated < 4000, generated


def test_non_streamed_hang_up_stops_the_generation(server, http):
    # A client that closes its connection while a long non-streamed answer is being made (its
    # keep-alive spaces already flowing): the generation stops and frees its sequence.
    m0 = metrics(http)
    body = json.dumps(LONG).encode()
    host, port = server.url("").split("//")[1].split(":")
    with socket.create_connection((host, int(port.rstrip("/")))) as s:
        s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: application/json\r\nContent-Length: " +
                  str(len(body)).encode() + b"\r\n\r\n" + body)
        s.settimeout(5)
        head = s.recv(4096)  # the status line and the first spaces of the chunked body
        assert head.startswith(b"HTTP/1.1 200"), head
        time.sleep(0.2)
    check_freed(server, http)
    m1 = metrics(http)
    generated = metric(m1, "tokens_predicted_total") - metric(m0, "tokens_predicted_total")
    assert generated < 4000, generated


def test_sigterm_ends_a_stream_and_exits_0(make_server):
    srv = make_server("--ctx", "2048", "--parallel", "2")
    got, ended, errors = [], threading.Event(), []

    def reader():
        try:
            with httpx.Client(timeout=30) as h:
                with h.stream("POST", srv.url("/v1/chat/completions"),
                              json={**LONG, "stream": True}) as r:
                    for line in r.iter_lines():
                        got.append(line)
        except httpx.HTTPError as e:  # an abrupt end is reported, not hidden
            errors.append(e)
        ended.set()

    t = threading.Thread(target=reader)
    t.start()
    assert wait_until(lambda: sum(line.startswith("data:") for line in got) >= 3, 10)
    t0 = time.monotonic()
    srv.proc.send_signal(signal.SIGTERM)
    assert ended.wait(5), "the stream did not end after SIGTERM"
    rc = srv.proc.wait(timeout=5)
    t.join()
    assert rc == 0
    assert time.monotonic() - t0 < 5
    assert not errors, f"the stream broke instead of ending: {errors}"
    # It ended as a stream ends: a finish reason, then [DONE].
    assert got[-1] == "data: [DONE]" or (got[-1] == "" and "data: [DONE]" in got[-3:]), got[-4:]


def test_sigint_exits_0(make_server):
    srv = make_server("--ctx", "512")
    assert srv.client().models.list().data
    srv.close_clients()
    srv.proc.send_signal(signal.SIGINT)
    assert srv.proc.wait(timeout=5) == 0


def test_sigterm_with_an_idle_keep_alive_connection_is_prompt(make_server):
    srv = make_server("--ctx", "512")
    with httpx.Client() as h:  # holds its connection open after the answer
        assert h.get(srv.url("/health")).status_code == 200
        t0 = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        rc = srv.proc.wait(timeout=10)
        took = time.monotonic() - t0
    assert rc == 0
    assert took < 2.0, f"exit took {took:.1f} s: an idle connection held the shutdown"
