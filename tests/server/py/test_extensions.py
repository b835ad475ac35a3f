"""longctx's request extensions: `experts` (experts per token of a MoE model) and
`rope_scaling` (per request), accepted in their documented shapes, refused out of range, and
leaving the server's defaults intact for the next request."""

import pytest

from conftest import MODEL_FILE, NO_THINK, running_server, user

CHAT = "/v1/chat/completions"


@pytest.fixture(scope="module")
def moe(moe_model, tmp_path_factory):
    # qwen3moe-tiny: 8 experts, 2 used per token.
    with running_server(moe_model, ("--ctx", "512", "--parallel", "1"),
                        tmp_path_factory.mktemp("moe"), "moe") as s:
        with s.http() as h:
            yield h


def greedy(http, **extra):
    r = http.post(CHAT, json={"model": MODEL_FILE, "messages": user("Tell me a story"),
                              "max_tokens": 12, "temperature": 0, **NO_THINK, **extra})
    assert r.status_code == 200, r.text
    return r.json()["choices"][0]["message"]["content"]


def test_experts_one_is_accepted_and_repeatable(moe):
    a = greedy(moe, experts=1)
    assert a == greedy(moe, experts=1)


def test_experts_do_not_leak_into_the_next_request(moe):
    # (The tiny MoE's greedy text hardly depends on the expert count, so this only catches a
    # setting that breaks the sequence, not a subtle leak; the rope test below is sharper.)
    before = greedy(moe)
    greedy(moe, experts=1)
    greedy(moe, experts=8)
    assert greedy(moe) == before


@pytest.mark.parametrize("value", [999, 0, -1, "two", 1.5])
def test_bad_experts_is_400(moe, value):
    r = moe.post(CHAT, json={"messages": user("Hi"), "max_tokens": 2, "experts": value})
    assert r.status_code == 400, r.text
    assert "experts" in r.json()["error"]["message"]


def test_experts_on_a_dense_model_is_400(http):
    r = http.post(CHAT, json={"messages": user("Hi"), "max_tokens": 2, "experts": 1})
    assert r.status_code == 400, r.text
    assert "experts" in r.json()["error"]["message"]


# Shapes from src/server/openai.cpp (read_rope): "none" | "auto" | "linear:F" | "yarn:F", or
# {"type", "factor", "original_context"}. docs/SERVER.md does not describe the field yet.
@pytest.mark.parametrize("rope", ["none", "auto", "linear:2", "yarn:4",
                                  {"type": "yarn", "factor": 4},
                                  {"type": "yarn", "factor": 2, "original_context": 256},
                                  {"type": "linear", "factor": 2}],
                         ids=["none", "auto", "linear:2", "yarn:4", "obj-yarn", "obj-yarn-orig",
                              "obj-linear"])
def test_rope_scaling_is_accepted(http, rope):
    r = http.post(CHAT, json={"messages": user("Hi"), "max_tokens": 4, "rope_scaling": rope})
    assert r.status_code == 200, r.text
    assert r.json()["usage"]["completion_tokens"] == 4


def test_rope_scaling_takes_effect(http):
    # Linear scaling by 8 squeezes the positions: the random model's greedy text changes
    # (checked with `longctx run --rope-scaling linear --rope-factor 8`).
    default = greedy(http)
    scaled = greedy(http, rope_scaling="linear:8")
    assert scaled != default
    assert greedy(http, rope_scaling={"type": "linear", "factor": 8}) == scaled


def test_rope_scaling_none_equals_the_default(http):
    # The tiny model's context (1024 here) is far below its native one: no scaling by default.
    assert greedy(http, rope_scaling="none") == greedy(http)


def test_rope_scaling_does_not_leak(http):
    before = greedy(http)
    greedy(http, rope_scaling="linear:8")
    assert greedy(http) == before


@pytest.mark.parametrize("rope", ["bogus", "yarn:abc", "yarn:0.5", 5, {"factor": 2},
                                  {"type": "yarn", "factor": "big"}],
                         ids=["type", "factor-text", "factor-below-1", "number", "no-type",
                              "factor-string"])
def test_bad_rope_scaling_is_400(http, rope):
    r = http.post(CHAT, json={"messages": user("Hi"), "max_tokens": 2, "rope_scaling": rope})
    assert r.status_code == 400, r.text
    assert "rope_scaling" in r.json()["error"]["message"]
