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
