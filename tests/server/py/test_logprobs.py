"""Log-probabilities: chat's `logprobs` / `top_logprobs` (content entries that join to the
reply, streamed too) and the legacy completions form (`logprobs: N`)."""

import math

import pytest

from conftest import MODEL_FILE, NO_THINK, chat


def check_entry(e, k):
    assert isinstance(e.token, str)
    assert e.logprob <= 0.0 and math.isfinite(e.logprob), e
    assert isinstance(e.bytes, list) and all(isinstance(b, int) and 0 <= b < 256 for b in e.bytes)
    assert len(e.top_logprobs) == k, e
    lps = [t.logprob for t in e.top_logprobs]
    assert lps == sorted(lps, reverse=True), lps
    assert all(lp <= 0.0 for lp in lps), lps
    assert len({t.token for t in e.top_logprobs}) == k, "top tokens must be distinct"


def test_chat_logprobs(client):
    r = chat(client, "Tell me a story", temperature=0, max_tokens=12, logprobs=True,
             top_logprobs=3, extra_body=NO_THINK)
    content = r.choices[0].logprobs.content
    assert len(content) == r.usage.completion_tokens
    for e in content:
        check_entry(e, 3)
        # Greedy: the chosen token is the most likely one.
        assert e.token == e.top_logprobs[0].token, e
        assert e.logprob == pytest.approx(e.top_logprobs[0].logprob, abs=1e-4)
    assert "".join(e.token for e in content) == r.choices[0].message.content
    assert b"".join(bytes(e.bytes) for e in content) == r.choices[0].message.content.encode()


def test_chat_logprobs_without_top(client):
    r = chat(client, "Hi", temperature=0, max_tokens=6, logprobs=True, extra_body=NO_THINK)
    content = r.choices[0].logprobs.content
    assert len(content) == 6
    assert all(e.top_logprobs == [] for e in content), content
    assert "".join(e.token for e in content) == r.choices[0].message.content


def test_no_logprobs_unless_asked(client):
    r = chat(client, "Hi", max_tokens=4)
    assert r.choices[0].logprobs is None


def test_sampled_logprobs_are_the_chosen_tokens(client):
    r = chat(client, "Hi", temperature=1.0, seed=21, max_tokens=10, logprobs=True,
             top_logprobs=5, extra_body=NO_THINK)
    content = r.choices[0].logprobs.content
    assert "".join(e.token for e in content) == r.choices[0].message.content
    for e in content:
        check_entry(e, 5)
        # The chosen token is no more likely than the most likely one.
        assert e.logprob <= e.top_logprobs[0].logprob + 1e-4


def test_streamed_chat_logprobs(client):
    kw = dict(temperature=0, max_tokens=12, logprobs=True, top_logprobs=2, extra_body=NO_THINK)
    full = chat(client, "Tell me a story", **kw)
    entries, text = [], ""
    for ch in chat(client, "Tell me a story", stream=True, **kw):
        if not ch.choices:
            continue
        c = ch.choices[0]
        text += c.delta.content or ""
        if c.logprobs and c.logprobs.content:
            entries += c.logprobs.content
    assert len(entries) == full.usage.completion_tokens
    for e in entries:
        check_entry(e, 2)
    assert "".join(e.token for e in entries) == text == full.choices[0].message.content
    assert [e.logprob for e in entries] == pytest.approx(
        [e.logprob for e in full.choices[0].logprobs.content], abs=1e-4)


def test_completion_legacy_logprobs(client):
    r = client.completions.create(model=MODEL_FILE, prompt="Hi", max_tokens=10, temperature=0,
                                  logprobs=3)
    c = r.choices[0]
    lp = c.logprobs
    assert len(lp.tokens) == len(lp.token_logprobs) == len(lp.top_logprobs) == len(lp.text_offset)
    assert len(lp.tokens) == r.usage.completion_tokens
    assert "".join(lp.tokens) == c.text
    for tok, tlp, top, off in zip(lp.tokens, lp.token_logprobs, lp.top_logprobs, lp.text_offset):
        assert tlp <= 0.0
        assert isinstance(top, dict) and len(top) == 3, top
        assert max(top.values()) == pytest.approx(tlp, abs=1e-4)  # greedy
        assert tok in top
    # Offsets advance by the length of each token's text.
    for i in range(1, len(lp.tokens)):
        assert lp.text_offset[i] - lp.text_offset[i - 1] == len(lp.tokens[i - 1])


def test_streamed_completion_logprobs(client):
    toks, text = [], ""
    for ch in client.completions.create(model=MODEL_FILE, prompt="Hi", max_tokens=8,
                                        temperature=0, logprobs=1, stream=True):
        if not ch.choices:
            continue
        text += ch.choices[0].text
        if ch.choices[0].logprobs:
            toks += ch.choices[0].logprobs.tokens
    assert len(toks) == 8
    assert "".join(toks) == text


@pytest.mark.parametrize("bad", [{"top_logprobs": 3}, {"logprobs": True, "top_logprobs": -1},
                                 {"logprobs": True, "top_logprobs": 100}],
                         ids=["top-without-logprobs", "negative", "over-20"])
def test_bad_logprob_fields_are_400(http, bad):
    r = http.post("/v1/chat/completions", json={
        "model": MODEL_FILE, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2,
        **bad})
    assert r.status_code == 400, r.text
    assert "logprobs" in r.json()["error"]["message"], r.text


def test_post_sampling_probs(http):
    # llama-server's post_sampling_probs: probabilities of the distribution actually sampled.
    # With top_k 3, temperature 1 and no other filter or penalty that is the model's own
    # distribution renormalised over its 3 most likely tokens, which the plain n_probs entries of
    # the same first position give independently.
    base = {"prompt": "Today was the day. Today I would finally become a", "n_predict": 1,
            "n_probs": 3, "top_k": 3, "top_p": 1.0, "min_p": 0.0, "temperature": 1.0,
            "repeat_penalty": 1.0, "seed": 7}
    raw = http.post("/completion", json=base).json()["completion_probabilities"][0]
    post = http.post("/completion", json={**base, "post_sampling_probs": True}).json()
    e = post["completion_probabilities"][0]
    assert "logprob" not in e and "top_logprobs" not in e
    assert 0.0 < e["prob"] <= 1.0
    z = sum(math.exp(t["logprob"]) for t in raw["top_logprobs"])
    want = {t["id"]: math.exp(t["logprob"]) / z for t in raw["top_logprobs"]}
    got = {t["id"]: t["prob"] for t in e["top_probs"]}
    assert got.keys() == want.keys()
    for i in want:
        assert got[i] == pytest.approx(want[i], abs=1e-4)
    assert e["prob"] == pytest.approx(got[e["id"]], abs=1e-6)
    assert sum(got.values()) == pytest.approx(1.0, abs=1e-4)
    for t in e["top_probs"]:
        assert set(t) == {"id", "token", "prob", "bytes"}


def test_post_sampling_probs_only_survivors(http):
    # top_k 2 with n_probs 5: only the 2 tokens left by the filter are listed.
    r = http.post("/completion", json={"prompt": "Hello", "n_predict": 4, "n_probs": 5,
                                       "top_k": 2, "post_sampling_probs": True, "seed": 3})
    for e in r.json()["completion_probabilities"]:
        assert 1 <= len(e["top_probs"]) <= 2
        assert all(0.0 < t["prob"] <= 1.0 for t in e["top_probs"])
        assert sum(t["prob"] for t in e["top_probs"]) == pytest.approx(1.0, abs=1e-4)
