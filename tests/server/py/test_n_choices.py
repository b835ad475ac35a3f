"""`n`: several choices for one prompt (non-streamed and streamed), the prompt counted once,
and n above --parallel refused."""

import collections
import re

import openai
import pytest

from conftest import MODEL_FILE, chat, user

SERVER_ARGS = ("--ctx", "512", "--parallel", "3")


def test_three_choices(client):
    one = chat(client, "Give me options", max_tokens=8, temperature=1.0, seed=3)
    r = chat(client, "Give me options", max_tokens=8, temperature=1.0, seed=3, n=3)
    assert [c.index for c in r.choices] == [0, 1, 2]
    for c in r.choices:
        assert c.message.role == "assistant" and isinstance(c.message.content, str)
        assert c.finish_reason in ("stop", "length")
    # The prompt is counted once; the completion tokens of all choices add up.
    assert r.usage.prompt_tokens == one.usage.prompt_tokens
    assert r.usage.completion_tokens <= 3 * 8
    if all(c.finish_reason == "length" for c in r.choices):
        assert r.usage.completion_tokens == 24
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    # Sampled choices are independent draws, not one answer copied.
    assert len({c.message.content for c in r.choices}) >= 2, [c.message.content for c in r.choices]


def test_greedy_choices_are_equal(client):
    r = chat(client, "Same thing thrice", max_tokens=8, temperature=0, n=2)
    assert len(r.choices) == 2
    assert r.choices[0].message.content == r.choices[1].message.content
    alone = chat(client, "Same thing thrice", max_tokens=8, temperature=0)
    assert r.choices[0].message.content == alone.choices[0].message.content


def test_streamed_choices_carry_their_index(client):
    stream = chat(client, "Stream options", max_tokens=8, temperature=1.0, seed=11, n=3,
                  stream=True, stream_options={"include_usage": True})
    text = collections.defaultdict(str)
    finish = {}
    roles = set()
    usage = None
    for ch in stream:
        if ch.usage is not None:
            usage = ch.usage
        for c in ch.choices:
            assert c.index not in finish, f"a delta for choice {c.index} after its finish"
            if c.delta.role:
                roles.add(c.index)
            text[c.index] += c.delta.content or ""
            if c.finish_reason:
                finish[c.index] = c.finish_reason
    assert sorted(finish) == [0, 1, 2], finish
    assert roles == {0, 1, 2}, "each choice's first delta has the role"
    assert all(text[i] for i in range(3)), dict(text)
    assert usage is not None
    assert usage.completion_tokens == 24 or not all(f == "length" for f in finish.values())


def test_n_on_completions(client):
    r = client.completions.create(model=MODEL_FILE, prompt="Hi", max_tokens=6, n=2,
                                  temperature=0)
    assert [c.index for c in r.choices] == [0, 1]
    assert r.choices[0].text == r.choices[1].text


def test_n_above_parallel_is_400(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model=MODEL_FILE, messages=user("Hi"), max_tokens=4, n=4)
    assert re.search(r"\bn\b", e.value.body["message"]), e.value.body  # names the field


@pytest.mark.parametrize("n", [0, -1])
def test_n_below_one_is_400(client, n):
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=MODEL_FILE, messages=user("Hi"), max_tokens=4, n=n)
