"""Anthropic's Messages API with the official `anthropic` client: messages.create, the event
stream of messages.stream, tool_use under a forced tool_choice, count_tokens and errors in
Anthropic's shape."""

import json

import anthropic
import httpx
import jsonschema
import pytest

from conftest import MODEL_FILE, find_stop

TOOL = {
    "name": "get_weather",
    "description": "Current weather of a city",
    "input_schema": {
        "type": "object",
        "properties": {"location": {"type": "string"},
                       "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
        "required": ["location", "unit"],
    },
}
# Greedy, thinking off. (anthropic 2.x has no temperature argument any more; the field is still
# part of the Messages API and the server reads it.)
GREEDY = {"temperature": 0, "thinking": {"type": "disabled"}}


@pytest.fixture(scope="module")
def ac(server):
    return server.anthropic()


def msgs(text="Hello"):
    return [{"role": "user", "content": text}]


def test_create_shape(ac):
    m = ac.messages.create(model=MODEL_FILE, max_tokens=8, messages=msgs(), system="Be brief.")
    assert m.type == "message"
    assert m.role == "assistant"
    assert isinstance(m.id, str) and m.id.startswith("msg_"), m.id
    assert isinstance(m.model, str) and m.model
    assert m.content and all(b.type in ("text", "thinking") for b in m.content), m.content
    assert any(b.type == "text" for b in m.content)
    assert m.stop_reason in ("end_turn", "max_tokens", "stop_sequence")
    assert m.usage.input_tokens > 0
    assert m.usage.output_tokens > 0


def test_max_tokens_stop_reason(ac):
    m = ac.messages.create(model=MODEL_FILE, max_tokens=5, messages=msgs("Write an essay"),
                           extra_body=GREEDY)
    assert m.stop_reason == "max_tokens"
    assert m.usage.output_tokens == 5
    assert m.stop_sequence is None


def test_system_is_rendered(ac):
    def whole_prompt(u):
        return u.input_tokens + (u.cache_read_input_tokens or 0)

    a = ac.messages.create(model=MODEL_FILE, max_tokens=1, messages=msgs("Hi"))
    b = ac.messages.create(model=MODEL_FILE, max_tokens=1, messages=msgs("Hi"),
                           system="You are a very terse assistant.")
    assert whole_prompt(b.usage) > whole_prompt(a.usage) + 5


def test_greedy_equals_openai_chat(ac, client):
    # The same conversation through both APIs: the same model reply.
    a = ac.messages.create(model=MODEL_FILE, max_tokens=12, messages=msgs("Tell me a story"),
                           extra_body=GREEDY)
    o = client.chat.completions.create(
        model=MODEL_FILE, max_tokens=12, temperature=0,
        messages=[{"role": "user", "content": "Tell me a story"}],
        extra_body={"chat_template_kwargs": {"enable_thinking": False}})
    text = "".join(b.text for b in a.content if b.type == "text")
    assert text == o.choices[0].message.content


def test_stop_sequences(ac):
    kw = dict(model=MODEL_FILE, max_tokens=24, messages=msgs("Write a poem about the sea"),
              extra_body=GREEDY)
    text = "".join(b.text for b in ac.messages.create(**kw).content if b.type == "text")
    i, s = find_stop(text)
    m = ac.messages.create(stop_sequences=[s], **kw)
    out = "".join(b.text for b in m.content if b.type == "text")
    assert m.stop_reason == "stop_sequence"
    assert m.stop_sequence == s
    assert s not in out and out.strip() == text[:i].strip()


RAW_EVENTS = {"message_start", "content_block_start", "content_block_delta", "content_block_stop",
              "message_delta", "message_stop", "ping"}


def test_stream_event_order(ac):
    kw = dict(model=MODEL_FILE, max_tokens=12, messages=msgs("Tell me a story"), extra_body=GREEDY)
    full = ac.messages.create(**kw)
    with ac.messages.stream(**kw) as s:
        events = [e for e in s if e.type in RAW_EVENTS]
        final = s.get_final_message()
    types = [e.type for e in events if e.type != "ping"]
    assert types[0] == "message_start"
    assert types[-2:] == ["message_delta", "message_stop"], types
    body = types[1:-2]
    assert body[0] == "content_block_start" and body[-1] == "content_block_stop", types
    # Blocks do not interleave: start, deltas, stop, and the next block.
    open_index = None
    for e in events:
        if e.type == "content_block_start":
            assert open_index is None
            open_index = e.index
        elif e.type == "content_block_delta":
            assert e.index == open_index
        elif e.type == "content_block_stop":
            assert e.index == open_index
            open_index = None
    assert "content_block_delta" in types
    delta = next(e for e in events if e.type == "message_delta")
    assert delta.delta.stop_reason == full.stop_reason == "max_tokens"
    assert delta.usage.output_tokens == 12
    text = "".join(b.text for b in final.content if b.type == "text")
    assert text == "".join(b.text for b in full.content if b.type == "text")


def test_raw_stream_frames(server):
    with httpx.Client(timeout=60) as h:
        with h.stream("POST", server.url("/v1/messages"), headers={
                "x-api-key": "x", "anthropic-version": "2023-06-01"}, json={
                "model": MODEL_FILE, "max_tokens": 4, "stream": True,
                "messages": msgs("Hi")}) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            lines = list(r.iter_lines())
    names = [line[7:].strip() for line in lines if line.startswith("event:")]
    datas = [json.loads(line[5:]) for line in lines if line.startswith("data:")]
    assert len(names) == len(datas)
    assert all(d["type"] == n for n, d in zip(names, datas)), (names, datas)
    assert names[0] == "message_start" and names[-1] == "message_stop"


def test_forced_tool_use(ac):
    m = ac.messages.create(model=MODEL_FILE, max_tokens=96, extra_body=GREEDY, tools=[TOOL],
                           tool_choice={"type": "tool", "name": "get_weather"},
                           messages=msgs("What's the weather in Rome?"))
    uses = [b for b in m.content if b.type == "tool_use"]
    assert uses, m.content
    assert uses[0].name == "get_weather"
    assert isinstance(uses[0].id, str) and uses[0].id
    jsonschema.validate(uses[0].input, TOOL["input_schema"])
    assert m.stop_reason == "tool_use"


def test_tool_result_turn(ac):
    m = ac.messages.create(model=MODEL_FILE, max_tokens=8, tools=[TOOL], messages=[
        {"role": "user", "content": "What's the weather in Rome?"},
        {"role": "assistant", "content": [
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather",
             "input": {"location": "Rome", "unit": "celsius"}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "24 degrees, sunny"}]},
    ])
    assert m.role == "assistant" and m.usage.output_tokens > 0


@pytest.mark.parametrize("system", [None, "You are helpful."])
def test_count_tokens_matches_the_prompt(ac, system):
    kw = {"system": system} if system else {}
    messages = [{"role": "user", "content": "Count the tokens of this message, please."},
                {"role": "assistant", "content": "Sure."},
                {"role": "user", "content": "Thanks!"}]
    n = ac.messages.count_tokens(model=MODEL_FILE, messages=messages, **kw).input_tokens
    assert n > 0
    m = ac.messages.create(model=MODEL_FILE, max_tokens=2, messages=messages, **kw)
    # Anthropic splits the prompt into uncached input_tokens and cache_read_input_tokens.
    assert n == m.usage.input_tokens + (m.usage.cache_read_input_tokens or 0)


def test_count_tokens_counts_tools(ac):
    base = ac.messages.count_tokens(model=MODEL_FILE, messages=msgs("Hi")).input_tokens
    with_tool = ac.messages.count_tokens(model=MODEL_FILE, messages=msgs("Hi"),
                                         tools=[TOOL]).input_tokens
    assert with_tool > base + 20


def test_missing_max_tokens_is_400_in_anthropic_shape(server):
    r = httpx.post(server.url("/v1/messages"), headers={"x-api-key": "x"},
                   json={"model": MODEL_FILE, "messages": msgs()})
    assert r.status_code == 400
    body = r.json()
    assert body["type"] == "error", body
    assert body["error"]["type"] == "invalid_request_error", body
    assert "max_tokens" in body["error"]["message"], body


def test_client_raises_bad_request(ac):
    with pytest.raises(anthropic.BadRequestError) as e:
        ac.messages.create(model=MODEL_FILE, max_tokens=8,
                           messages=[{"role": "wizard", "content": "Hi"}])
    assert e.value.status_code == 400
    assert e.value.body["type"] == "error"


def test_prompt_over_the_context_is_400(ac):
    with pytest.raises(anthropic.BadRequestError) as e:
        ac.messages.create(model=MODEL_FILE, max_tokens=8, messages=msgs("word " * 1500))
    assert e.value.body["type"] == "error"
    assert e.value.body["error"]["type"] == "invalid_request_error"
