"""serve --memory through the openai and anthropic clients: a conversation named by an extra body
field, a header or a model suffix; only new turns stored when a client resends its history; the
report in `model_extra["memory"]`, streamed too; the conversations and facts endpoints."""

import pathlib

import pytest

from conftest import MODEL_FILE, NO_THINK, running_server, user


@pytest.fixture(scope="module")
def server(tiny_model, tmp_path_factory):
    d = tmp_path_factory.mktemp("memory")
    with running_server(tiny_model, ("--ctx", "1024", "--parallel", "1", "--memory",
                                     str(d / "m.db")), d, "memory") as s:
        yield s


def ask(client, messages, **kw):
    return client.chat.completions.create(model=kw.pop("model", MODEL_FILE), messages=messages,
                                          max_tokens=4, temperature=0,
                                          extra_body={**NO_THINK, **kw.pop("extra_body", {})},
                                          **kw)


def test_conversation_by_field_header_and_model_suffix(client, http):
    r = ask(client, user("my cat is called Murka"), extra_body={"conversation": "c1"})
    mem = r.model_extra["memory"]
    assert mem["turn"] == 0 and mem["prompt_tokens"] == r.usage.prompt_tokens
    r = ask(client, user("and the dog?"), extra_headers={"X-Conversation": "c1"})
    assert r.model_extra["memory"]["turn"] == 2
    r = ask(client, user("hello"), model=MODEL_FILE + "@c2")
    assert r.model_extra["memory"]["turn"] == 0
    names = {c["id"]: c["turns"] for c in http.get("/v1/conversations").json()["data"]}
    assert names["c1"] == 4 and names["c2"] == 2
    # Without a conversation: an ordinary request.
    r = ask(client, user("plain"))
    assert "memory" not in (r.model_extra or {})


def test_a_resent_history_stores_only_the_new_turn(client, http):
    h = [{"role": "system", "content": "Be brief."}] + user("first message here")
    r = ask(client, h, extra_body={"conversation": "h"})
    h += [{"role": "assistant", "content": r.choices[0].message.content}] + user("second one")
    r = ask(client, h, extra_body={"conversation": "h"})
    assert r.model_extra["memory"]["turn"] == 2
    assert r.usage.prompt_tokens_details.cached_tokens > 0
    conv = http.get("/v1/conversations/h").json()
    assert conv["turns"] == 4 and conv["system"] == "Be brief."
    assert [m["role"] for m in conv["messages"]] == ["user", "assistant", "user", "assistant"]


def test_stream_ends_with_the_report(client):
    stream = ask(client, user("stream this"), extra_body={"conversation": "s"}, stream=True)
    reports = [c.model_extra["memory"] for c in stream if (c.model_extra or {}).get("memory")]
    assert len(reports) == 1 and reports[0]["turn"] == 0


def test_facts_endpoints(client, http):
    ask(client, user("hi"), extra_body={"conversation": "f"})
    r = http.post("/v1/conversations/f/facts", json={"text": "Anna is allergic to nuts"})
    assert r.status_code == 201
    fid = r.json()["id"]
    r = ask(client, user("what should I cook"), extra_body={"conversation": "f"})
    assert r.model_extra["memory"]["sections"]["facts"] > 0
    assert http.delete(f"/v1/conversations/f/facts/{fid}").status_code == 200
    assert http.get("/v1/conversations/f/facts").json()["data"] == []
    assert http.get("/v1/conversations/nobody").status_code == 404
    assert http.delete("/v1/conversations/f").status_code == 200
    assert http.get("/v1/conversations/f").status_code == 404


def test_anthropic_messages_remember_too(server):
    a = server.anthropic()
    msg = a.messages.create(model=MODEL_FILE, max_tokens=4, messages=user("hello from claude code"),
                            extra_headers={"X-Conversation": "anth"})
    assert msg.model_extra["memory"]["turn"] == 0


def test_responses_remember_too(client, http):
    # The Responses API goes through the same path: its turn is stored and reported.
    r = http.post("/v1/responses", headers={"X-Conversation": "resp"},
                  json={"model": MODEL_FILE, "input": "hello from an agent",
                        "max_output_tokens": 4, "reasoning": {"effort": "none"}})
    assert r.status_code == 200, r.text
    assert r.json()["memory"]["turn"] == 0
    r = http.post("/v1/responses", headers={"X-Conversation": "resp"},
                  json={"model": MODEL_FILE, "input": "and again", "max_output_tokens": 4,
                        "reasoning": {"effort": "none"}})
    assert r.json()["memory"]["turn"] == 2
