"""POST /v1/completions: raw prompts (text or token ids), limits, stop strings, seeds."""

import time

import pytest

from conftest import MODEL_FILE, find_stop


def complete(client, prompt="Once upon a time", **kw):
    kw.setdefault("max_tokens", 12)
    return client.completions.create(model=MODEL_FILE, prompt=prompt, **kw)


def test_response_shape(client, http):
    t0 = int(time.time())
    r = complete(client, "The weather today is")
    assert r.object == "text_completion"
    assert isinstance(r.id, str) and r.id
    assert abs(r.created - t0) <= 5
    assert isinstance(r.model, str) and r.model
    assert len(r.choices) == 1
    c = r.choices[0]
    assert c.index == 0 and isinstance(c.text, str) and c.text
    assert c.finish_reason in ("stop", "length")
    n_prompt = len(http.post("/tokenize", json={"content": "The weather today is"}).json()["tokens"])
    assert r.usage.prompt_tokens == n_prompt
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


def test_max_tokens_gives_length(client):
    r = complete(client, max_tokens=7, temperature=0)
    assert r.choices[0].finish_reason == "length"
    assert r.usage.completion_tokens == 7


def test_token_id_prompt_equals_the_text_prompt(client, http):
    text = "A prompt given as token ids"
    ids = http.post("/tokenize", json={"content": text}).json()["tokens"]
    a = complete(client, text, temperature=0)
    b = complete(client, ids, temperature=0)
    assert b.usage.prompt_tokens == len(ids) == a.usage.prompt_tokens
    assert b.choices[0].text == a.choices[0].text


@pytest.mark.parametrize("as_list", [False, True])
def test_stop_cuts_exactly(client, as_list):
    kw = dict(temperature=0, max_tokens=24)
    text = complete(client, "Hi", **kw).choices[0].text
    i, s = find_stop(text)
    r = complete(client, "Hi", stop=[s, "@@never@@"] if as_list else s, **kw)
    assert r.choices[0].text == text[:i], (text, s, r.choices[0].text)
    assert r.choices[0].finish_reason == "stop"


def test_seed(client):
    a = complete(client, "Roll", temperature=1.0, seed=7).choices[0].text
    b = complete(client, "Roll", temperature=1.0, seed=7).choices[0].text
    c = complete(client, "Roll", temperature=1.0, seed=8).choices[0].text
    assert a == b
    assert a != c


def test_n_predict_is_read(http):
    # llama-server's spelling of the limit.
    r = http.post("/v1/completions", json={"prompt": "Hi", "n_predict": 3, "temperature": 0})
    assert r.status_code == 200, r.text
    assert r.json()["usage"]["completion_tokens"] == 3
