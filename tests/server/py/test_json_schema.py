"""response_format: json_object and json_schema (strict). The random model writes valid JSON
only under constrained decoding, so every reply that parses and validates is the server's
doing."""

import json

import jsonschema
import pytest

from conftest import MODEL_FILE, stream_raw, user

MAX = 200  # room for the object; the server forces it closed as the limit nears

SCHEMAS = {
    "typed-required": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer"},
            "score": {"type": "number"},
            "active": {"type": "boolean"},
            "nickname": {"type": ["string", "null"]},
        },
        "required": ["name", "age", "score", "active", "nickname"],
        "additionalProperties": False,
    },
    "enum": {
        "type": "object",
        "properties": {
            "color": {"type": "string", "enum": ["red", "green", "blue"]},
            "size": {"enum": [1, 2, 3]},
        },
        "required": ["color", "size"],
        "additionalProperties": False,
    },
    "array-bounds": {
        "type": "object",
        "properties": {
            "values": {"type": "array", "items": {"type": "integer"}, "minItems": 2,
                       "maxItems": 4},
            "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]},
                     "minItems": 1, "maxItems": 2},
        },
        "required": ["values", "tags"],
        "additionalProperties": False,
    },
    "nested": {
        "type": "object",
        "properties": {
            "person": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "address": {
                        "type": "object",
                        "properties": {"city": {"type": "string"},
                                       "zip": {"type": "string"}},
                        "required": ["city", "zip"],
                        "additionalProperties": False,
                    },
                },
                "required": ["name", "address"],
                "additionalProperties": False,
            },
        },
        "required": ["person"],
        "additionalProperties": False,
    },
}


def schema_format(schema, name="x"):
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}


def ask(client, response_format, prompt="Describe a person as JSON.", **kw):
    kw.setdefault("max_tokens", MAX)
    kw.setdefault("temperature", 0)
    return client.chat.completions.create(model=MODEL_FILE, messages=user(prompt),
                                          response_format=response_format, **kw)


def test_json_object(client):
    r = ask(client, {"type": "json_object"})
    value = json.loads(r.choices[0].message.content)
    assert isinstance(value, dict), value


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_json_schema_validates(client, name):
    r = ask(client, schema_format(SCHEMAS[name], name))
    content = r.choices[0].message.content
    value = json.loads(content)
    jsonschema.validate(value, SCHEMAS[name])
    assert r.choices[0].finish_reason in ("stop", "length")


@pytest.mark.parametrize("seed", [1, 2])
def test_json_schema_sampled(client, seed):
    # Sampling at temperature 1 wanders far more than greedy: still valid.
    r = ask(client, schema_format(SCHEMAS["typed-required"]), temperature=1.0, seed=seed)
    jsonschema.validate(json.loads(r.choices[0].message.content), SCHEMAS["typed-required"])


def test_json_schema_streamed(client):
    text = ""
    for ch in ask(client, schema_format(SCHEMAS["nested"]), stream=True):
        if ch.choices:
            text += ch.choices[0].delta.content or ""
    jsonschema.validate(json.loads(text), SCHEMAS["nested"])


def test_json_schema_short_limit_still_closes(client):
    # Too few tokens for long strings: the server must still close the object in time.
    r = ask(client, schema_format(SCHEMAS["enum"]), max_tokens=40)
    jsonschema.validate(json.loads(r.choices[0].message.content), SCHEMAS["enum"])


def test_json_schema_on_completions(http):
    # llama-server reads json_schema on the completions endpoint too; OpenAI's
    # response_format shape is the one asserted here.
    r = http.post("/v1/completions", json={
        "model": MODEL_FILE, "prompt": "JSON:", "max_tokens": MAX, "temperature": 0,
        "response_format": schema_format(SCHEMAS["enum"])})
    assert r.status_code == 200, r.text
    jsonschema.validate(json.loads(r.json()["choices"][0]["text"]), SCHEMAS["enum"])


@pytest.mark.parametrize("bad", [
    schema_format({"type": "objekt"}),
    schema_format({"type": "object", "properties": 5}),
    {"type": "json_schema"},
    {"type": "json_schema", "json_schema": {"name": "x", "schema": "not an object"}},
    {"type": "yaml"},
], ids=["bad-type", "properties-not-object", "no-json_schema", "schema-string",
        "unknown-format"])
def test_invalid_response_format_is_400(http, bad):
    r = http.post("/v1/chat/completions", json={
        "model": MODEL_FILE, "messages": user("Hi"), "max_tokens": 4, "response_format": bad})
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert "response_format" in err["message"] or "schema" in err["message"], err


def test_invalid_schema_is_400_before_the_stream(http):
    status, headers, body = stream_raw(http, "/v1/chat/completions", {
        "model": MODEL_FILE, "messages": user("Hi"), "max_tokens": 4, "stream": True,
        "response_format": schema_format({"type": "objekt"})})
    assert status == 400, body
    assert headers["content-type"].startswith("application/json")
