"""Service routes: /health, /v1/models, /props, /slots, /metrics, /tokenize + /detokenize, and
every route also without the /v1 prefix."""

import pytest

from conftest import MODEL_FILE, NO_THINK, chat, metric, metrics, slots, wait_until


def test_health(http):
    for path in ("/health", "/v1/health"):
        r = http.get(path)
        assert r.status_code == 200, (path, r.text)
        assert r.json()["status"] == "ok", (path, r.text)


def test_models_lists_the_file_name(client, http):
    ids = [m.id for m in client.models.list()]
    assert ids == [MODEL_FILE]
    for path in ("/v1/models", "/models"):
        body = http.get(path).json()
        assert body["object"] == "list", body
        assert len(body["data"]) == 1, body
        m = body["data"][0]
        assert m["id"] == MODEL_FILE and m["object"] == "model", m
        assert isinstance(m["created"], int) and isinstance(m["owned_by"], str), m


def test_models_id_is_the_alias(make_server):
    srv = make_server("--ctx", "512", "--alias", "my-model")
    assert [m.id for m in srv.client().models.list()] == ["my-model"]


def test_props(http):
    p = http.get("/props").json()
    assert p["default_generation_settings"]["n_ctx"] == 1024, p
    assert p["total_slots"] == 2, p
    assert isinstance(p["chat_template"], str) and "<|im_start|>" in p["chat_template"], p
    assert p["model_alias"] == MODEL_FILE, p
    assert http.get("/v1/props").json()["total_slots"] == 2


def test_slots_shape_and_n_past(client, http):
    before = slots(http)
    assert [s["id"] for s in before] == [0, 1], before
    for s in before:
        assert s["n_ctx"] == 1024 and s["is_processing"] is False, s
    r = chat(client, "Tell me about slots", max_tokens=8, extra_body=NO_THINK)
    held = r.usage.prompt_tokens + r.usage.completion_tokens
    after = slots(http)
    # The sequence that answered keeps the prompt and the reply (the last token at most is not
    # yet decoded into the cache).
    assert any(held - 1 <= s["n_past"] <= held for s in after), (held, after)
    assert http.get("/v1/slots").status_code == 200


def test_metrics_count_tokens_and_requests(client, http):
    m0 = metrics(http)
    r = chat(client, "Count me", max_tokens=6, extra_body=NO_THINK)
    r2 = chat(client, "Count me", max_tokens=6, extra_body=NO_THINK)  # same prompt: cache hit
    assert r2.usage.prompt_tokens_details.cached_tokens > 0

    def settled():
        m = metrics(http)
        return metric(m, "requests_total") - metric(m0, "requests_total") >= 2

    assert wait_until(settled, 2.0), "the two requests do not show in requests_total"
    m1 = metrics(http)

    def d(*names):
        return metric(m1, *names) - metric(m0, *names)

    assert d("prompt_tokens_total") == r.usage.prompt_tokens + r2.usage.prompt_tokens
    assert d("tokens_predicted_total") == r.usage.completion_tokens + r2.usage.completion_tokens
    assert d("prompt_tokens_cached_total") == (r.usage.prompt_tokens_details.cached_tokens
                                               + r2.usage.prompt_tokens_details.cached_tokens)
    assert metric(m1, "requests_processing") == 0
    assert metric(m1, "requests_deferred") == 0
    used, total = metric(m1, "kv_cache_tokens"), metric(m1, "kv_cache_tokens_total")
    assert total == 2 * 1024, m1
    assert 0 < used <= total, m1
    assert http.get("/v1/metrics").status_code == 200


TEXTS = ["Hello world", "  leading spaces and\ttabs\nnew lines", "caf\u00e9 na\u00efve \u4f60\u597d",
         "<|im_start|>user\nspecial<|im_end|>"]


@pytest.mark.parametrize("text", TEXTS)
def test_tokenize_detokenize_round_trip(http, text):
    toks = http.post("/tokenize", json={"content": text}).json()["tokens"]
    assert toks and all(isinstance(t, int) for t in toks), toks
    assert http.post("/detokenize", json={"tokens": toks}).json()["content"] == text
    # /v1 spelling, and the pieces
    pieces = http.post("/v1/tokenize", json={"content": text, "with_pieces": True}).json()["tokens"]
    assert [p["id"] for p in pieces] == toks, pieces
    assert "".join(p["piece"] for p in pieces) == text, pieces
    assert http.post("/v1/detokenize", json={"tokens": toks}).json()["content"] == text


def test_special_tokens_are_single_ids(http):
    toks = http.post("/tokenize", json={"content": "<|im_start|><|im_end|>"}).json()["tokens"]
    assert len(toks) == 2, toks


def test_prompt_tokens_match_tokenize(client, http):
    prompt = "The quick brown fox jumps over the lazy dog."
    n = len(http.post("/tokenize", json={"content": prompt}).json()["tokens"])
    r = client.completions.create(model=MODEL_FILE, prompt=prompt, max_tokens=2)
    assert r.usage.prompt_tokens == n


@pytest.mark.parametrize("path", ["/chat/completions", "/v1/chat/completions"])
def test_chat_route_with_and_without_v1(http, path):
    r = http.post(path, json={"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2})
    assert r.status_code == 200, r.text
    assert r.json()["object"] == "chat.completion"


def test_completion_routes_follow_llama_server(http):
    # /v1/completions is OpenAI's; /completion and /completions are llama-server's own
    # endpoint (content, stop, tokens_predicted, timings), as llama-server routes them.
    r = http.post("/v1/completions", json={"prompt": "Hi", "max_tokens": 2})
    assert r.status_code == 200, r.text
    assert r.json()["object"] == "text_completion"
    for path in ("/completion", "/completions"):
        r = http.post(path, json={"prompt": "Hi", "n_predict": 2})
        assert r.status_code == 200, r.text
        j = r.json()
        assert isinstance(j["content"], str) and j["stop"] is True, j
        assert j["tokens_predicted"] == 2 and j["stop_type"] == "limit", j
        assert j["timings"]["predicted_n"] == 2, j


def test_pieces_of_split_characters_are_bytes(http):
    # A character split over several byte-level tokens: llama-server gives each such piece as
    # a list of byte values (a string only when the piece is valid UTF-8), so that the pieces
    # join back to the text. U+FFFD in their place loses the bytes.
    text = "\U0001d518 and \U0001f999"  # MATHEMATICAL FRAKTUR CAPITAL U, a llama
    pieces = http.post("/tokenize", json={"content": text, "with_pieces": True}).json()["tokens"]
    joined = b"".join(p["piece"].encode() if isinstance(p["piece"], str) else bytes(p["piece"])
                      for p in pieces)
    assert joined == text.encode(), pieces
    assert all("\ufffd" not in p["piece"] for p in pieces if isinstance(p["piece"], str)), pieces
