"""Server-sent events: chat.completion.chunk streams (role first, deltas equal to the
non-streamed answer, the finish reason, the usage chunk, data: [DONE]) and streamed
completions."""

import pytest

from conftest import MODEL_FILE, NO_THINK, chat, find_stop, stream_raw, user


def collect(stream):
    chunks = list(stream)
    assert chunks, "no chunk"
    return chunks


# The second prompt's greedy reply starts with a blank (" decl decl ...") when thinking is off.
@pytest.mark.parametrize("prompt", ["Tell me a story", "Write a poem about the sea"])
@pytest.mark.parametrize("thinking", [False, True], ids=["no-think", "think"])
def test_stream_equals_the_non_streamed_answer(client, thinking, prompt):
    kw = dict(temperature=0, max_tokens=16,
              extra_body={"chat_template_kwargs": {"enable_thinking": thinking}})
    full = chat(client, prompt, **kw)
    chunks = collect(chat(client, prompt, stream=True, **kw))
    ids = {c.id for c in chunks}
    assert len(ids) == 1, f"one id per stream: {ids}"
    for c in chunks:
        assert c.object == "chat.completion.chunk"
        assert isinstance(c.created, int)
        assert c.usage is None, "no usage chunk without stream_options.include_usage"
    assert chunks[0].choices[0].delta.role == "assistant"
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    reasoning = "".join(getattr(c.choices[0].delta, "reasoning_content", None) or ""
                        for c in chunks if c.choices)
    msg = full.choices[0].message
    assert content == msg.content, (content, msg.content)
    assert reasoning == (getattr(msg, "reasoning_content", None) or "")
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and
                c.choices[0].finish_reason]
    assert finishes == [full.choices[0].finish_reason], finishes
    assert chunks[-1].choices[0].finish_reason == full.choices[0].finish_reason


def test_include_usage_adds_a_last_chunk(client):
    full = chat(client, "Count the tokens", temperature=0, max_tokens=9)
    chunks = collect(chat(client, "Count the tokens", temperature=0, max_tokens=9, stream=True,
                          stream_options={"include_usage": True}))
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert last.usage.prompt_tokens == full.usage.prompt_tokens
    assert last.usage.completion_tokens == full.usage.completion_tokens == 9
    assert last.usage.total_tokens == last.usage.prompt_tokens + 9
    assert last.usage.prompt_tokens_details.cached_tokens >= 0
    assert all(c.usage is None for c in chunks[:-1])
    assert chunks[-2].choices[0].finish_reason == "length"


def test_raw_stream_ends_with_done(http):
    status, headers, events = stream_raw(http, "/v1/chat/completions", {
        "model": MODEL_FILE, "messages": user("Hi"), "max_tokens": 4, "stream": True})
    assert status == 200
    assert headers["content-type"].startswith("text/event-stream")
    assert events[-1] == (None, "[DONE]"), events[-3:]
    assert all(isinstance(d, dict) for _, d in events[:-1]), events
    assert [d for _, d in events].count("[DONE]") == 1


def test_streamed_stop_string(client):
    prompt = "Write a poem about the sea"
    text = chat(client, prompt, temperature=0, max_tokens=24,
                extra_body=NO_THINK).choices[0].message.content
    i, s = find_stop(text)
    chunks = collect(chat(client, prompt, temperature=0, max_tokens=24, stop=[s], stream=True,
                          extra_body=NO_THINK))
    out = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert s not in out
    # (blanks at either end compared loosely: test_stream_equals_the_non_streamed_answer checks
    # them; this test is about the stop string)
    assert out.strip() == text[:i].strip(), (text, s, out)
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_completion_stream_equals_the_non_streamed_text(client):
    kw = dict(model=MODEL_FILE, prompt="Once upon a time", max_tokens=12, temperature=0)
    full = client.completions.create(**kw)
    chunks = collect(client.completions.create(stream=True,
                                               stream_options={"include_usage": True}, **kw))
    assert all(c.object == "text_completion" for c in chunks)
    text = "".join(c.choices[0].text for c in chunks if c.choices)
    assert text == full.choices[0].text
    fin = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert fin == ["length"]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 12


def test_completion_stream_stop(client):
    kw = dict(model=MODEL_FILE, prompt="Hi", max_tokens=24, temperature=0)
    text = client.completions.create(**kw).choices[0].text
    i, s = find_stop(text)
    r = client.completions.create(stop=s, **kw)
    assert r.choices[0].text == text[:i] and r.choices[0].finish_reason == "stop", (text, s, r)
    out = "".join(c.choices[0].text for c in client.completions.create(stop=s, stream=True, **kw)
                  if c.choices)
    assert out == text[:i], (text, s, out)


def test_streamed_multibyte_text_is_whole_characters(client):
    # Greedy output of this prompt is CJK (three UTF-8 bytes a character, often split across
    # tokens): every delta must be valid text on its own and the join equal the full reply.
    kw = dict(temperature=0, max_tokens=24, extra_body=NO_THINK)
    full = chat(client, "What is 2+2?", **kw).choices[0].message.content
    deltas = [c.choices[0].delta.content for c in chat(client, "What is 2+2?", stream=True, **kw)
              if c.choices and c.choices[0].delta.content]
    assert "".join(deltas) == full
    assert "\ufffd" not in full


def test_return_progress_reports(make_server):
    # llama-server's return_progress: a first report when the sequence starts (nothing
    # evaluated: processed == cache), one per prompt chunk, the last with processed == total.
    srv = make_server("--ctx", "1024", "-b", "64", "-np", "1")
    body = {"model": MODEL_FILE, "messages": user("This is a test. " * 40), "max_tokens": 2,
            "stream": True, "return_progress": True}
    with srv.http() as h:
        for resend in (False, True):
            status, _, events = stream_raw(h, "/v1/chat/completions", body)
            assert status == 200
            prog = [d["prompt_progress"] for _, d in events
                    if isinstance(d, dict) and "prompt_progress" in d]
            assert prog, events[:3]
            first, last = prog[0], prog[-1]
            assert first["processed"] == first["cache"]
            assert all(p["total"] == first["total"] and p["cache"] == first["cache"]
                       for p in prog)
            assert all(b["processed"] > a["processed"] for a, b in zip(prog, prog[1:]))
            assert last["processed"] == last["total"]
            if resend:
                # The same conversation again: all of it comes from the cache.
                assert first["cache"] > 0 and len(prog) == 1
            else:
                assert first["cache"] == 0
                # ~170 prompt tokens in chunks of 64: the start and three chunks.
                assert len(prog) == 1 + -(-first["total"] // 64)


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/completion"])
def test_timings_per_token(http, path):
    # llama-server's timings_per_token: each streamed text chunk carries running timings.
    body = {"model": MODEL_FILE, "max_tokens": 6, "n_predict": 6, "stream": True,
            "timings_per_token": True, "temperature": 0}
    if path == "/completion":
        body["prompt"] = "Once upon a time"
    else:
        body["messages"] = user("Hi")
    status, _, events = stream_raw(http, path, body)
    assert status == 200
    t = [d["timings"] for _, d in events if isinstance(d, dict) and "timings" in d]
    assert len(t) >= 2
    running = t[:-1] if path != "/completion" else t
    ns = [x["predicted_n"] for x in running if "prompt_per_second" in x]
    assert ns == sorted(ns) and ns[0] >= 1
    for x in t:
        assert x["prompt_per_second"] >= 0 and x["predicted_per_second"] >= 0
    # Without the field no chunk but the last carries timings.
    body.pop("timings_per_token")
    _, _, events = stream_raw(http, path, body)
    with_t = [d for _, d in events if isinstance(d, dict) and "timings" in d]
    assert len(with_t) <= 1
