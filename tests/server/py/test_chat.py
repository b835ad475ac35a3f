"""POST /v1/chat/completions, non-streamed: the response shape, limits, sampling fields,
determinism, stop strings, the thinking switch, content parts and prefix reuse."""

import time

import pytest

from conftest import MODEL_FILE, NO_THINK, chat, find_stop, user


def test_response_shape(client):
    t0 = int(time.time())
    r = chat(client, "Hello there", max_tokens=8)
    assert r.object == "chat.completion"
    assert isinstance(r.id, str) and r.id
    assert abs(r.created - t0) <= 5, (r.created, t0)
    assert isinstance(r.model, str) and r.model
    assert len(r.choices) == 1
    c = r.choices[0]
    assert c.index == 0
    assert c.message.role == "assistant"
    assert isinstance(c.message.content, str)
    assert c.finish_reason in ("stop", "length")
    assert not c.message.tool_calls
    u = r.usage
    assert u.prompt_tokens > 0 and u.completion_tokens > 0
    assert u.total_tokens == u.prompt_tokens + u.completion_tokens
    assert u.prompt_tokens_details is not None
    assert 0 <= u.prompt_tokens_details.cached_tokens < u.prompt_tokens
    r2 = chat(client, "Hello there", max_tokens=8)
    assert r2.id != r.id, "every response needs its own id"


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
def test_token_limit_gives_length(client, field):
    r = client.chat.completions.create(model=MODEL_FILE, messages=user("Write a long essay"),
                                       temperature=0, **{field: 5})
    assert r.choices[0].finish_reason == "length"
    assert r.usage.completion_tokens == 5
    assert r.usage.total_tokens == r.usage.prompt_tokens + 5


def test_greedy_is_repeatable(client):
    a = chat(client, "Tell me a story", temperature=0, max_tokens=16)
    b = chat(client, "Tell me a story", temperature=0, max_tokens=16)
    assert a.choices[0].message.content == b.choices[0].message.content
    assert a.usage.completion_tokens == b.usage.completion_tokens


def test_seed_makes_sampling_repeatable(client):
    def text(seed):
        return chat(client, "Hi", temperature=1.0, seed=seed, max_tokens=12).choices[0].message.content

    a, b = text(1234), text(1234)
    assert a == b, "the same seed must give the same text"
    others = {text(s) for s in (1, 2, 3, 4)}
    assert len(others | {a}) >= 3, f"different seeds should usually differ: {others | {a}}"


@pytest.mark.parametrize("as_list", [False, True])
def test_stop_string_cuts_the_reply(client, as_list):
    prompt = "Write a poem about the sea"
    full = chat(client, prompt, temperature=0, max_tokens=24, extra_body=NO_THINK)
    text = full.choices[0].message.content
    i, s = find_stop(text)
    stop = ["@@never@@", s] if as_list else s
    r = chat(client, prompt, temperature=0, max_tokens=24, stop=stop, extra_body=NO_THINK)
    out = r.choices[0].message.content
    assert s not in out
    assert r.choices[0].finish_reason == "stop", (text, s, out)
    # The text before the stop string, all of it (the template's reply may lose trailing blanks).
    assert out.rstrip() == text[:i].rstrip(), (text, s, out)
    assert r.usage.completion_tokens <= full.usage.completion_tokens


def test_sampling_fields_are_accepted_and_seeded(client):
    kw = dict(temperature=0.8, top_p=0.9, presence_penalty=0.5, frequency_penalty=0.3, seed=99,
              max_tokens=10, extra_body={"top_k": 40, "min_p": 0.05, "repeat_penalty": 1.1})
    a = chat(client, "Sample me", **kw)
    b = chat(client, "Sample me", **kw)
    assert a.choices[0].message.content == b.choices[0].message.content
    assert a.usage.completion_tokens == 10


@pytest.mark.parametrize("filt", [{"top_k": 1}, {"min_p": 1.0}, {"top_p": 1e-6}],
                         ids=["top_k=1", "min_p=1", "top_p=tiny"])
def test_filters_that_keep_one_token_equal_greedy(client, filt):
    greedy = chat(client, "Tell me a story", temperature=0, max_tokens=12)
    r = chat(client, "Tell me a story", temperature=1.0, seed=5, max_tokens=12,
             extra_body=filt)
    assert r.choices[0].message.content == greedy.choices[0].message.content


def test_penalties_change_a_repetitive_greedy_reply(client):
    # The random model repeats itself at temperature 0; a presence penalty must change that.
    plain = chat(client, "Hi", temperature=0, max_tokens=10)
    pen = chat(client, "Hi", temperature=0, max_tokens=10, presence_penalty=1.5,
               extra_body={"repeat_penalty": 1.5})
    assert pen.choices[0].message.content != plain.choices[0].message.content


def test_enable_thinking_switch(client):
    on = chat(client, "Think", temperature=0, max_tokens=8,
              extra_body={"chat_template_kwargs": {"enable_thinking": True}})
    off = chat(client, "Think", temperature=0, max_tokens=8, extra_body=NO_THINK)
    # Qwen3's template closes an empty think block when thinking is off: the switch reaches it.
    assert off.usage.prompt_tokens > on.usage.prompt_tokens
    reasoning_off = getattr(off.choices[0].message, "reasoning_content", None)
    assert not reasoning_off, reasoning_off
    reasoning_on = getattr(on.choices[0].message, "reasoning_content", None)
    assert reasoning_on is None or isinstance(reasoning_on, str)


def test_content_part_array_equals_the_string(client):
    s = chat(client, "Describe a cat", temperature=0, max_tokens=8)
    p = chat(client, [{"type": "text", "text": "Describe a cat"}], temperature=0, max_tokens=8)
    assert p.usage.prompt_tokens == s.usage.prompt_tokens
    assert p.choices[0].message.content == s.choices[0].message.content


def test_system_message_is_rendered(client):
    plain = chat(client, "Hi", max_tokens=2)
    r = client.chat.completions.create(
        model=MODEL_FILE, max_tokens=2,
        messages=[{"role": "system", "content": "You are a terse assistant."},
                  {"role": "user", "content": "Hi"}])
    assert r.usage.prompt_tokens > plain.usage.prompt_tokens + 5


def test_identical_request_reuses_the_prompt(client):
    msgs = user("A question that is asked twice, word for word, to hit the cache")
    a = client.chat.completions.create(model=MODEL_FILE, messages=msgs, max_tokens=4)
    b = client.chat.completions.create(model=MODEL_FILE, messages=msgs, max_tokens=4)
    assert b.usage.prompt_tokens == a.usage.prompt_tokens
    # At most the last prompt token is evaluated again (it yields the first reply token).
    assert b.usage.prompt_tokens_details.cached_tokens >= a.usage.prompt_tokens - 1


def resend(client):
    """A conversation, then the same again with the reply and a new user turn."""
    first = [{"role": "system", "content": "You answer questions about the weather."},
             {"role": "user", "content": "Is it going to rain in Lisbon tomorrow afternoon?"}]
    r1 = client.chat.completions.create(model=MODEL_FILE, messages=first, max_tokens=12,
                                        temperature=0)
    reply = r1.choices[0].message.content
    second = first + [{"role": "assistant", "content": reply},
                      {"role": "user", "content": "And the day after?"}]
    r2 = client.chat.completions.create(model=MODEL_FILE, messages=second, max_tokens=4,
                                        temperature=0)
    return r1, second, r2


def test_resent_history_reuses_the_cache(client):
    r1, _, r2 = resend(client)
    cached = r2.usage.prompt_tokens_details.cached_tokens
    assert r2.usage.prompt_tokens > r1.usage.prompt_tokens
    # The first prompt is a prefix of the second one's: all of it comes from the cache.
    assert cached >= r1.usage.prompt_tokens, (cached, r1.usage.prompt_tokens)
    assert cached < r2.usage.prompt_tokens


def test_reused_prefix_gives_the_fresh_answer(client, make_server):
    # The reply computed on top of a reused cache equals the reply of a server that reads the
    # whole prompt anew.
    _, second, _ = resend(client)
    again = client.chat.completions.create(model=MODEL_FILE, messages=second, max_tokens=12,
                                           temperature=0)
    assert again.usage.prompt_tokens_details.cached_tokens > 0
    fresh = make_server("--ctx", "1024").client().chat.completions.create(
        model=MODEL_FILE, messages=second, max_tokens=12, temperature=0)
    assert fresh.usage.prompt_tokens_details.cached_tokens == 0
    assert again.choices[0].message.content == fresh.choices[0].message.content


def test_developer_role_is_a_system_message(client):
    # OpenAI's newer name for the system role (sent by current clients and agents).
    def prompt_tokens(role):
        return client.chat.completions.create(
            model=MODEL_FILE, max_tokens=1,
            messages=[{"role": role, "content": "You are a terse assistant."},
                      {"role": "user", "content": "Hi"}]).usage.prompt_tokens

    assert prompt_tokens("developer") == prompt_tokens("system")


def test_concurrent_requests_equal_sequential_ones(client):
    # Three greedy requests at once on two sequences (one waits): each answer equals the one
    # the same request gets alone.
    from conftest import in_threads

    prompts = ["Tell me a story", "Write a poem about the sea", "What is 2+2?"]

    def one(p):
        return chat(client, p, temperature=0, max_tokens=12,
                    extra_body=NO_THINK).choices[0].message.content

    alone = [one(p) for p in prompts]
    together = in_threads([lambda p=p: one(p) for p in prompts])
    assert together == alone


def test_reply_stops_when_the_context_is_full(client, http):
    # About 1000 prompt tokens in a 1024-token sequence: the reply ends with "length" when the
    # context is full, well before max_tokens.
    text = "word " * 990
    r = chat(client, text, max_tokens=200, temperature=0)
    assert r.choices[0].finish_reason == "length"
    assert r.usage.completion_tokens < 200
    assert r.usage.prompt_tokens + r.usage.completion_tokens <= 1024 + 1
