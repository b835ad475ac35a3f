"""Tool calls: tool_choice as a named function and "required" force a call whose arguments
validate against the tool's parameters (the random model can only do that under constrained
decoding), streamed tool_call deltas, "none", and the follow-up turn with the results."""

import json

import jsonschema
import openai
import pytest

from conftest import MODEL_FILE, stream_raw, user

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather of a city",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "City name"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location", "unit"],
        },
    },
}
TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Current time in a time zone",
        "parameters": {
            "type": "object",
            "properties": {"utc_offset_hours": {"type": "integer"},
                           "with_seconds": {"type": "boolean"}},
            "required": ["utc_offset_hours", "with_seconds"],
        },
    },
}
TOOLS = [WEATHER, TIME]
SCHEMAS = {t["function"]["name"]: t["function"]["parameters"] for t in TOOLS}
# Enough room for the call; the server closes the JSON when the limit comes near.
MAX = 96


def check_call(call, names=("get_weather",)):
    assert call.type == "function"
    assert isinstance(call.id, str) and call.id
    assert call.function.name in names, call
    args = json.loads(call.function.arguments)
    assert isinstance(args, dict), args
    jsonschema.validate(args, SCHEMAS[call.function.name])
    return args


def ask(client, tool_choice, tools=TOOLS, **kw):
    kw.setdefault("max_tokens", MAX)
    kw.setdefault("temperature", 0)
    return client.chat.completions.create(
        model=MODEL_FILE, messages=user("What's the weather like in Paris?"), tools=tools,
        tool_choice=tool_choice, **kw)


def test_named_tool_choice_forces_that_call(client):
    r = ask(client, {"type": "function", "function": {"name": "get_weather"}})
    c = r.choices[0]
    assert c.finish_reason == "tool_calls", c
    assert c.message.tool_calls and len(c.message.tool_calls) >= 1, c.message
    check_call(c.message.tool_calls[0])
    assert not c.message.content  # null or "" alongside a call


def test_named_tool_choice_picks_the_other_tool(client):
    r = ask(client, {"type": "function", "function": {"name": "get_time"}})
    assert r.choices[0].finish_reason == "tool_calls"
    check_call(r.choices[0].message.tool_calls[0], names=("get_time",))


def test_required_forces_some_call(client):
    r = ask(client, "required", temperature=1.0, seed=4)
    c = r.choices[0]
    assert c.finish_reason == "tool_calls", c
    for call in c.message.tool_calls:
        check_call(call, names=tuple(SCHEMAS))


def test_tool_call_ids_are_unique(client):
    a = ask(client, "required").choices[0].message.tool_calls[0].id
    b = ask(client, "required").choices[0].message.tool_calls[0].id
    assert a != b


def test_streamed_tool_call_assembles(client):
    stream = ask(client, {"type": "function", "function": {"name": "get_weather"}}, stream=True)
    calls: dict[int, dict] = {}
    finish = None
    for ch in stream:
        if not ch.choices:
            continue
        c = ch.choices[0]
        for d in c.delta.tool_calls or []:
            assert isinstance(d.index, int)
            entry = calls.setdefault(d.index, {"id": None, "type": None, "name": "",
                                               "arguments": ""})
            if d.id:
                assert entry["id"] is None, "the id comes once, in the call's first delta"
                entry["id"] = d.id
            if d.type:
                entry["type"] = d.type
            if d.function and d.function.name:
                entry["name"] += d.function.name
            if d.function and d.function.arguments:
                entry["arguments"] += d.function.arguments
        if c.finish_reason:
            finish = c.finish_reason
    assert finish == "tool_calls"
    assert 0 in calls, calls
    call = calls[0]
    assert call["id"] and call["type"] == "function" and call["name"] == "get_weather", call
    jsonschema.validate(json.loads(call["arguments"]), SCHEMAS["get_weather"])


def test_streamed_call_equals_the_non_streamed_one(client):
    choice = {"type": "function", "function": {"name": "get_time"}}
    full = ask(client, choice).choices[0].message.tool_calls[0]
    args = ""
    for ch in ask(client, choice, stream=True):
        for d in (ch.choices[0].delta.tool_calls or []) if ch.choices else []:
            args += (d.function.arguments or "") if d.function else ""
    assert json.loads(args) == json.loads(full.function.arguments)


def test_tool_choice_none_makes_no_call(client):
    r = ask(client, "none", max_tokens=24)
    c = r.choices[0]
    assert not c.message.tool_calls
    assert c.finish_reason in ("stop", "length")
    assert isinstance(c.message.content, str)


def test_tool_choice_auto_is_accepted(client):
    r = ask(client, "auto", max_tokens=16)
    c = r.choices[0]
    assert c.finish_reason in ("stop", "length", "tool_calls")
    if c.finish_reason == "tool_calls":
        for call in c.message.tool_calls:
            check_call(call, names=tuple(SCHEMAS))


def test_tools_reach_the_template(client):
    plain = client.chat.completions.create(model=MODEL_FILE, messages=user("Hi"), max_tokens=2)
    with_tools = client.chat.completions.create(model=MODEL_FILE, messages=user("Hi"),
                                                max_tokens=2, tools=TOOLS)
    assert with_tools.usage.prompt_tokens > plain.usage.prompt_tokens + 50


def test_follow_up_with_tool_results(client):
    first = ask(client, {"type": "function", "function": {"name": "get_weather"}})
    call = first.choices[0].message.tool_calls[0]
    msgs = user("What's the weather like in Paris?") + [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": call.id, "type": "function",
             "function": {"name": call.function.name, "arguments": call.function.arguments}}]},
        {"role": "tool", "tool_call_id": call.id, "content": '{"temperature": 21, "sky": "clear"}'},
    ]
    r = client.chat.completions.create(model=MODEL_FILE, messages=msgs, tools=TOOLS,
                                       max_tokens=8)
    assert r.choices[0].message.role == "assistant"
    assert r.usage.prompt_tokens > first.usage.prompt_tokens


def test_follow_up_with_a_fixed_history(client):
    # The same turn with a hand-written call (independent of constrained decoding).
    msgs = user("What's the weather like in Paris?") + [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "get_weather",
                          "arguments": '{"location": "Paris", "unit": "celsius"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "21 degrees, clear sky"},
    ]
    base = client.chat.completions.create(model=MODEL_FILE, messages=msgs[:1], tools=TOOLS,
                                          max_tokens=2)
    r = client.chat.completions.create(model=MODEL_FILE, messages=msgs, tools=TOOLS,
                                       max_tokens=8)
    assert r.choices[0].message.role == "assistant"
    # The call and its result are rendered into the prompt.
    assert r.usage.prompt_tokens > base.usage.prompt_tokens + 20


def test_unknown_named_tool_is_400(client):
    with pytest.raises(openai.BadRequestError):
        ask(client, {"type": "function", "function": {"name": "no_such_tool"}}, max_tokens=8)


def test_raw_streamed_tool_call_deltas(http):
    status, _, events = stream_raw(http, "/v1/chat/completions", {
        "model": MODEL_FILE, "messages": user("Weather in Oslo?"), "tools": [WEATHER],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "max_tokens": MAX, "temperature": 0, "stream": True})
    assert status == 200, events
    deltas = [d["choices"][0]["delta"] for _, d in events
              if isinstance(d, dict) and d.get("choices")]
    tc = [t for d in deltas for t in d.get("tool_calls") or []]
    assert tc, deltas
    assert tc[0]["index"] == 0 and tc[0]["type"] == "function" and tc[0]["id"]
    assert tc[0]["function"]["name"] == "get_weather"
    args = "".join(t["function"].get("arguments", "") for t in tc)
    jsonschema.validate(json.loads(args), SCHEMAS["get_weather"])
