"""llama-server's `grammar` field (GBNF) on /completion, /v1/completions and chat, streamed and
not. The random model follows a grammar only under constrained decoding, so every reply that
matches the grammar's language (written here as a Python regex, an independent check) is the
server's doing."""

import re

import pytest

from conftest import MODEL_FILE, stream_raw, user

CASES = {
    # grammar, the same language as a regex
    "choice-number": ('root ::= ("yes" | "no") " " [0-9]{1,3}', r"(yes|no) [0-9]{1,3}"),
    "exact-count": ('root ::= "a"{5}', r"a{5}"),
    "words": ('root ::= word (" " word){2}\nword ::= [a-z]{1,6}', r"[a-z]{1,6}( [a-z]{1,6}){2}"),
    # nested, bounded so that a reply always fits: checked by a parser below
    "nested-list": ('root ::= "[" (item ("," item){0,3})? "]"\n'
                    'item ::= [0-9] | "[" ([0-9] ("," [0-9]){0,2})? "]"', None),
    "unicode": ('root ::= [α-ω]{2,4} "!"', r"[α-ω]{2,4}!"),
}


def balanced_list(s):
    """True when s is a nested list of digits: [1,[2,3],[]]."""
    pos = 0

    def lst():
        nonlocal pos
        if pos >= len(s) or s[pos] != "[":
            return False
        pos += 1
        if pos < len(s) and s[pos] == "]":
            pos += 1
            return True
        while True:
            if pos < len(s) and s[pos].isdigit():
                pos += 1
            elif not lst():
                return False
            if pos < len(s) and s[pos] == ",":
                pos += 1
                continue
            if pos < len(s) and s[pos] == "]":
                pos += 1
                return True
            return False

    return lst() and pos == len(s)


def matches(name, text):
    regex = CASES[name][1]
    return balanced_list(text) if regex is None else re.fullmatch(regex, text) is not None


@pytest.mark.parametrize("name", sorted(CASES))
def test_native_completion_follows_the_grammar(http, name):
    r = http.post("/completion", json={"prompt": "Answer:", "grammar": CASES[name][0],
                                       "n_predict": 64, "temperature": 0})
    assert r.status_code == 200, r.text
    body = r.json()
    assert matches(name, body["content"]), body["content"]
    assert body["stop"] is True


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sampled_chat_follows_the_grammar(client, seed):
    g, _ = CASES["choice-number"]
    r = client.chat.completions.create(model=MODEL_FILE, messages=user("Pick one."),
                                       max_tokens=32, temperature=1.0, seed=seed,
                                       extra_body={"grammar": g})
    assert matches("choice-number", r.choices[0].message.content), r.choices[0].message.content
    assert r.choices[0].finish_reason == "stop"


def test_streamed_chat_follows_the_grammar(client):
    g, _ = CASES["words"]
    text = ""
    for ch in client.chat.completions.create(model=MODEL_FILE, messages=user("Say three words."),
                                             max_tokens=48, temperature=0, stream=True,
                                             extra_body={"grammar": g}):
        if ch.choices:
            text += ch.choices[0].delta.content or ""
    assert matches("words", text), text


def test_openai_completions_follow_the_grammar(http):
    g, _ = CASES["exact-count"]
    status, _, events = stream_raw(http, "/v1/completions",
                                   {"model": MODEL_FILE, "prompt": "x", "max_tokens": 16,
                                    "grammar": g, "stream": True})
    assert status == 200, events
    text = "".join(e["choices"][0]["text"] for _, e in events
                   if isinstance(e, dict) and e.get("choices"))
    assert text == "aaaaa"


@pytest.mark.parametrize("grammar,where", [
    ('root ::= "a', "unterminated literal"),
    ("root ::= undefined-rule", "'undefined-rule' is not defined"),
    ('x ::= "a"', "no 'root' rule"),
    ('root ::= root "a"', "left recursion"),
    ('root ::= "a"\n  [z-a]', "line 2"),
])
def test_bad_grammar_is_a_400(http, grammar, where):
    r = http.post("/v1/chat/completions", json={"model": MODEL_FILE, "messages": user("x"),
                                                "grammar": grammar})
    assert r.status_code == 400, r.text
    msg = r.json()["error"]["message"]
    assert "not a valid GBNF grammar" in msg and where in msg, msg


def test_grammar_with_a_json_schema_is_a_400(http):
    r = http.post("/v1/chat/completions", json={
        "model": MODEL_FILE, "messages": user("x"), "grammar": 'root ::= "a"',
        "response_format": {"type": "json_object"}})
    assert r.status_code == 400, r.text
    assert "cannot be combined" in r.json()["error"]["message"]


def test_wrong_type_and_empty_grammar(http):
    r = http.post("/completion", json={"prompt": "x", "grammar": 5, "n_predict": 2})
    assert r.status_code == 400, r.text
    # An empty grammar is no grammar (llama-server's default).
    r = http.post("/completion", json={"prompt": "x", "grammar": "", "n_predict": 2})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("limit", [2, 5, 9])
def test_a_short_limit_still_ends_a_sentence(http, limit):
    # As the token limit nears, only tokens that leave room to finish are sampled: the reply is a
    # whole sentence of the grammar, not a prefix cut at the limit.
    g = 'root ::= [a-z]+ (" " [a-z]+)* "."'
    r = http.post("/completion", json={"prompt": "Write:", "grammar": g, "n_predict": limit,
                                       "temperature": 0})
    assert r.status_code == 200, r.text
    content = r.json()["content"]
    assert re.fullmatch(r"[a-z]+( [a-z]+)*\.", content), content
