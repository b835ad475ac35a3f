"""Errors: bad JSON, wrong field types and ranges (400 naming the field), unknown routes (404),
oversize bodies (413), a prompt over the context (400 exceed_context_size_error, also before
any SSE byte), the API key (401) with public health/models and CORS preflights, and a full
queue (503)."""

import json
import threading

import httpx
import openai
import pytest

from conftest import MODEL_FILE, error_of, in_threads, metric, metrics, user, wait_until

CHAT = "/v1/chat/completions"


def post(http, body, path=CHAT, **kw):
    if isinstance(body, (dict, list)):
        return http.post(path, json=body, **kw)
    return http.post(path, content=body, headers={"Content-Type": "application/json"}, **kw)


@pytest.mark.parametrize("raw", [b"{", b"{\"messages\": [}", b"", b"not json", b"\xff\xfe{}"],
                         ids=["open-brace", "broken-array", "empty", "text", "bad-utf8"])
def test_malformed_json_is_400(http, raw):
    r = post(http, raw)
    assert r.status_code == 400, r.text
    error_of(r)


def test_body_not_an_object_is_400(http):
    r = post(http, [1, 2, 3])
    assert r.status_code == 400
    error_of(r)


def test_deep_nesting_is_400(http):
    r = post(http, b"[" * 100000 + b"]" * 100000)
    assert r.status_code == 400
    error_of(r)


@pytest.mark.parametrize("field,value", [
    ("messages", "Hi"),
    ("messages", []),
    ("messages", [{"role": "user"}]),
    ("messages", [{"role": "wizard", "content": "Hi"}]),
    ("temperature", "hot"),
    ("temperature", -1),
    ("max_tokens", -5),
    ("max_tokens", "ten"),
    ("max_completion_tokens", 1.5),
    ("top_p", 2),
    ("top_k", "many"),
    ("seed", "abc"),
    ("stop", 5),
    ("stream", "yes"),
    ("presence_penalty", 3),
    ("stream_options", "on"),
    ("tools", "get_weather"),
    ("n", "two"),
])
def test_wrong_type_or_range_is_400_naming_the_field(http, field, value):
    body = {"model": MODEL_FILE, "messages": user("Hi"), "max_tokens": 2, field: value}
    r = post(http, body)
    assert r.status_code == 400, (field, value, r.text)
    err = error_of(r)
    assert field in err["message"], err
    assert err["type"] == "invalid_request_error", err


def test_completions_without_prompt_is_400(http):
    r = post(http, {"model": MODEL_FILE, "max_tokens": 2}, path="/v1/completions")
    assert r.status_code == 400
    assert "prompt" in error_of(r)["message"]


def test_openai_client_raises_bad_request(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model=MODEL_FILE, messages=user("Hi"), temperature=5)
    assert e.value.status_code == 400
    assert "temperature" in e.value.body["message"]


@pytest.mark.parametrize("method,path", [("GET", "/v1/nothing"), ("POST", "/v1/engines"),
                                         ("GET", "/nothing/at/all")])
def test_unknown_route_is_404(http, method, path):
    r = http.request(method, path)
    assert r.status_code == 404
    error_of(r)


def test_oversize_body_is_413(server):
    big = b'{"messages": [{"role": "user", "content": "' + b"a" * (40 << 20) + b'"}]}'
    try:
        r = httpx.post(server.url(CHAT), content=big,
                       headers={"Content-Type": "application/json"}, timeout=60)
    except httpx.HTTPError as e:  # the server may answer and close before reading it all
        pytest.fail(f"no 413 answer, the connection failed: {e!r}")
    assert r.status_code == 413, r.text[:300]
    error_of(r)


LONG = "word " * 1500  # about 1500 tokens, over the 1024 of a sequence


def check_context_error(body, n_ctx=1024):
    err = body["error"]
    assert err["type"] == "exceed_context_size_error", err
    assert err["code"] == "context_length_exceeded", err
    assert err["n_ctx"] == n_ctx, err
    assert err["n_prompt_tokens"] > n_ctx, err
    assert isinstance(err["message"], str) and err["message"], err


def test_prompt_over_the_context(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model=MODEL_FILE, messages=user(LONG), max_tokens=4)
    assert e.value.status_code == 400
    check_context_error(e.value.response.json())
    assert e.value.code == "context_length_exceeded"


def test_prompt_over_the_context_completions(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.completions.create(model=MODEL_FILE, prompt=LONG, max_tokens=4)
    check_context_error(e.value.response.json())


def test_prompt_over_the_context_streamed_is_400_before_any_sse(client, server):
    with pytest.raises(openai.BadRequestError):
        for _ in client.chat.completions.create(model=MODEL_FILE, messages=user(LONG),
                                                max_tokens=4, stream=True):
            pass
    with httpx.Client(timeout=60) as h:
        with h.stream("POST", server.url(CHAT), json={
                "model": MODEL_FILE, "messages": user(LONG), "max_tokens": 4,
                "stream": True}) as r:
            raw = r.read()
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/json")
    assert b"data:" not in raw
    check_context_error(json.loads(raw))


def test_context_boundary(http):
    # n_ctx - 1 prompt tokens fit (a reply needs one more position); n_ctx do not.
    r = http.post("/v1/completions", json={"prompt": [1000] * 1023, "max_tokens": 5,
                                           "temperature": 0})
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["finish_reason"] == "length"
    r = http.post("/v1/completions", json={"prompt": [1000] * 1024, "max_tokens": 5})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["n_prompt_tokens"] == 1024 and err["n_ctx"] == 1024, err


def test_prompt_that_fits_is_served(client):
    r = client.chat.completions.create(model=MODEL_FILE, messages=user("word " * 700),
                                       max_tokens=2)
    assert 700 <= r.usage.prompt_tokens < 1024


# ---- API key and CORS -------------------------------------------------------------------------

KEY = "sk-test-key-123"
ORIGIN = "http://allowed.example"


@pytest.fixture(scope="module")
def keyed(tiny_model, tmp_path_factory):
    from conftest import running_server
    with running_server(tiny_model, ("--ctx", "512", "--api-key", KEY, "--cors-origins",
                                     ORIGIN), tmp_path_factory.mktemp("keyed"), "keyed") as s:
        yield s


def test_wrong_or_missing_key_is_401(keyed):
    with pytest.raises(openai.AuthenticationError) as e:
        keyed.client(api_key="wrong").chat.completions.create(
            model=MODEL_FILE, messages=user("Hi"), max_tokens=2)
    assert e.value.status_code == 401
    r = httpx.post(keyed.url(CHAT), json={"messages": user("Hi"), "max_tokens": 2})
    assert r.status_code == 401
    error_of(r)
    for path in ("/v1/completions", "/tokenize", "/metrics", "/slots", "/props"):
        r = httpx.request("POST" if "complet" in path or "token" in path else "GET",
                          keyed.url(path), json={"prompt": "x", "content": "x"})
        assert r.status_code == 401, (path, r.status_code)


def test_right_key_is_served(keyed):
    r = keyed.client(api_key=KEY).chat.completions.create(model=MODEL_FILE, messages=user("Hi"),
                                                          max_tokens=2)
    assert r.usage.completion_tokens == 2
    r = httpx.post(keyed.url(CHAT), json={"messages": user("Hi"), "max_tokens": 2},
                   headers={"X-Api-Key": KEY})
    assert r.status_code == 200


def test_health_and_models_need_no_key(keyed):
    for path in ("/health", "/v1/health", "/v1/models", "/models"):
        assert httpx.get(keyed.url(path)).status_code == 200, path
    assert [m.id for m in keyed.client(api_key="wrong").models.list()] == [MODEL_FILE]


def test_cors_preflight_needs_no_key(keyed):
    r = httpx.options(keyed.url(CHAT), headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert 200 <= r.status_code < 300, r.status_code
    assert r.headers.get("access-control-allow-origin") == ORIGIN
    assert "POST" in r.headers.get("access-control-allow-methods", "")
    assert "authorization" in r.headers.get("access-control-allow-headers", "").lower()


def test_cors_other_origin_gets_no_allow_header(keyed):
    r = httpx.options(keyed.url(CHAT), headers={
        "Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in r.headers


def test_cors_header_on_the_answer(keyed):
    r = httpx.post(keyed.url(CHAT), json={"messages": user("Hi"), "max_tokens": 2},
                   headers={"Authorization": f"Bearer {KEY}", "Origin": ORIGIN})
    assert r.status_code == 200
    assert r.headers.get("access-control-allow-origin") == ORIGIN


# ---- queue bound ---------------------------------------------------------------------------


def test_full_queue_is_503(make_server):
    srv = make_server("--ctx", "512", "--parallel", "1", "--max-queue", "1")

    def one():
        return httpx.post(srv.url(CHAT), timeout=120, json={
            "messages": user("Keep talking"), "max_tokens": 150, "temperature": 0})

    results: list = []
    burst = threading.Thread(target=lambda: results.extend(in_threads([one] * 6)))
    burst.start()
    # While the burst runs, the gauges show one request running and one waiting.
    seen = {"processing": 0, "deferred": 0}
    with srv.http() as h:
        def busy():
            m = metrics(h)
            seen["processing"] = max(seen["processing"], metric(m, "requests_processing"))
            seen["deferred"] = max(seen["deferred"], metric(m, "requests_deferred"))
            return seen["processing"] >= 1 and seen["deferred"] >= 1

        wait_until(busy, 10)
    burst.join()
    # One running, one waiting. The bound is the idle sequences plus --max-queue, so in the
    # moment between a reply's end and the scheduler taking the next job, a second request may
    # join the queue (the freed sequence takes one of them): at most two wait, never more.
    assert seen["processing"] == 1 and 1 <= seen["deferred"] <= 2, seen
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    codes = sorted(r.status_code for r in results)
    assert codes.count(200) >= 2, codes  # the running one and the queued one
    assert 503 in codes, codes
    assert set(codes) <= {200, 503}, codes
    for r in results:
        if r.status_code == 503:
            error_of(r)
    # Once the queue drains the server serves again.
    assert one().status_code == 200
