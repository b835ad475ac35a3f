"""llama-server's command-line spellings, so that scripts written for it start this server:
each starts, serves, and where the flag has an effect, shows it."""

import datetime
import json

import pytest

from conftest import MODEL_FILE, run_serve, slots, user


def reply(srv, **kw):
    kw.setdefault("max_tokens", 4)
    return srv.client().chat.completions.create(model=MODEL_FILE, messages=user("Hi"), **kw)


def test_c_np_splits_the_context(make_server):
    # llama-server: -c is the whole context, shared by the -np slots.
    srv = make_server("-c", "2048", "-np", "2")
    with srv.http() as h:
        assert h.get("/props").json()["total_slots"] == 2
        assert h.get("/props").json()["default_generation_settings"]["n_ctx"] == 1024
        assert [s["n_ctx"] for s in slots(h)] == [1024, 1024]


def test_kv_unified_gives_each_sequence_the_whole_context(make_server):
    # llama-server's -kvu: one cache of -c cells that any slot may fill; here each sequence gets
    # -c of its own (so a request may reach -c tokens, as there).
    srv = make_server("-c", "256", "-np", "4", "--kv-unified")
    with srv.http() as h:
        assert [s["n_ctx"] for s in slots(h)] == [256] * 4
        r = h.post("/completion", json={"prompt": "A", "n_predict": 90, "ignore_eos": True})
        assert r.status_code == 200
        assert r.json()["timings"]["predicted_n"] == 90


def test_ctx_size_and_parallel(make_server):
    srv = make_server("--ctx-size", "1024", "--parallel", "1")
    with srv.http() as h:
        assert [s["n_ctx"] for s in slots(h)] == [1024]


@pytest.mark.parametrize("flags", [
    ("-t", "2"),
    ("--threads", "2"),
    ("-fa", "on"),
    ("--flash-attn", "auto"),
    ("--jinja",),
    ("--no-jinja",),
    ("-ngl", "99"),
    ("--n-gpu-layers", "0"),
    ("--cont-batching",),
    ("-cb",),
    ("--metrics",),
    ("--slots",),
    ("-b", "64"),
    ("--batch-size", "64"),
    ("-ub", "64"),
    ("--ubatch-size", "64"),
    ("--no-webui",),
    ("--no-ui",),
    ("--no-cache-idle-slots",),
    ("--cache-idle-slots",),
    ("--backend_sampling",),
], ids=lambda f: " ".join(f))
def test_accepted_flag(make_server, flags):
    srv = make_server("--ctx", "512", *flags)
    r = reply(srv)
    assert r.usage.completion_tokens == 4


def test_small_batch_still_reads_a_long_prompt(make_server):
    srv = make_server("--ctx", "512", "-b", "64", "-ub", "64")
    r = srv.client().chat.completions.create(model=MODEL_FILE, messages=user("word " * 300),
                                             max_tokens=2)
    assert r.usage.prompt_tokens > 300


def test_metrics_and_slots_flags(make_server):
    srv = make_server("--ctx", "512", "--metrics", "--slots")
    with srv.http() as h:
        assert h.get("/metrics").status_code == 200
        assert h.get("/slots").status_code == 200


def test_no_slots_disables_the_endpoint(make_server):
    srv = make_server("--ctx", "512", "--no-slots")
    with srv.http() as h:
        r = h.get("/slots")
        assert r.status_code == 501, r.text
        assert r.json()["error"]["type"] == "not_supported_error"
        assert h.get("/health").status_code == 200


def test_temp_sets_the_default_temperature(make_server):
    srv = make_server("--ctx", "512", "--temp", "0")
    # No temperature in the requests: greedy by the server's default, so repeatable, and equal
    # to an explicit temperature 0.
    a = reply(srv, max_tokens=10).choices[0].message.content
    b = reply(srv, max_tokens=10).choices[0].message.content
    c = reply(srv, max_tokens=10, temperature=0).choices[0].message.content
    assert a == b == c


def test_seed_sets_the_default_seed(make_server):
    srv = make_server("--ctx", "512", "--seed", "42")
    a = reply(srv, max_tokens=10, temperature=1.0).choices[0].message.content
    b = reply(srv, max_tokens=10, temperature=1.0).choices[0].message.content
    assert a == b
    c = reply(srv, max_tokens=10, temperature=1.0, seed=42).choices[0].message.content
    assert a == c


@pytest.mark.parametrize("flag", ["-n", "--n-predict"])
def test_n_predict_is_the_default_limit(make_server, flag):
    srv = make_server("--ctx", "512", flag, "16")
    r = srv.client().chat.completions.create(model=MODEL_FILE, messages=user("Hi"),
                                             temperature=0)
    assert r.usage.completion_tokens == 16
    assert r.choices[0].finish_reason == "length"


def test_alias(make_server):
    srv = make_server("--ctx", "512", "--alias", "X")
    assert [m.id for m in srv.client().models.list()] == ["X"]
    with srv.http() as h:
        assert h.get("/props").json()["model_alias"] == "X"


def test_seed_minus_one_means_random(make_server):
    # llama-server clients send seed -1 for "random"; it must not be a 400.
    srv = make_server("--ctx", "512")
    r = reply(srv, seed=-1, temperature=1.0)
    assert r.usage.completion_tokens == 4


def test_unknown_flag_is_refused(tiny_model):
    p = run_serve(tiny_model, ["--ctx", "512", "--definitely-not-a-flag"])
    assert p.returncode != 0
    assert "--definitely-not-a-flag" in p.stderr + p.stdout


def test_bad_value_is_refused(tiny_model):
    p = run_serve(tiny_model, ["--ctx", "512", "-np", "zero"])
    assert p.returncode != 0
    assert "zero" in p.stderr + p.stdout or "-np" in p.stderr + p.stdout


# llama-server's formatter for these names, as tests/chat/data/builtin_templates.json records it.
@pytest.mark.parametrize("name,prompt", [
    ("llama3", "<|start_header_id|>system<|end_header_id|>\n\nYou are a test.<|eot_id|>"
               "<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"
               "<|start_header_id|>assistant<|end_header_id|>\n\n"),
    ("command-r", "<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>You are a test.<|END_OF_TURN_TOKEN|>"
                  "<|START_OF_TURN_TOKEN|><|USER_TOKEN|>Hi there<|END_OF_TURN_TOKEN|>"
                  "<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>"),
])
def test_chat_template_by_name(make_server, name, prompt):
    srv = make_server("--ctx", "512", "--chat-template", name)
    with srv.http() as h:
        r = h.post("/apply-template", json={"messages": [
            {"role": "system", "content": "You are a test."},
            {"role": "user", "content": "Hi there"}]})
        assert r.status_code == 200
        assert r.json()["prompt"] == prompt


def test_unknown_chat_template_name_is_refused(tiny_model):
    p = run_serve(tiny_model, ["--ctx", "512", "--chat-template", "llama-7"])
    assert p.returncode != 0
    assert "llama-7" in p.stderr and "llama3" in p.stderr


def test_templates_see_todays_date(make_server, tmp_path):
    # llama-server gives every template date_string ("%d %b %Y") and datetime ("%b %d %Y").
    t = tmp_path / "date.jinja"
    t.write_text("{{ date_string }}|{{ datetime }}|{{ messages[0].content }}")
    srv = make_server("--ctx", "512", "--chat-template-file", str(t))
    with srv.http() as h:
        before = datetime.datetime.now()
        got = h.post("/apply-template", json={"messages": [{"role": "user", "content": "x"}]})
        after = datetime.datetime.now()
        assert got.status_code == 200
        ok = {f"{d.strftime('%d %b %Y')}|{d.strftime('%b %d %Y')}|x" for d in (before, after)}
        assert got.json()["prompt"] in ok
        # A request's own value wins.
        got = h.post("/apply-template", json={"messages": [{"role": "user", "content": "x"}],
                                              "chat_template_kwargs": {"date_string": "D"}})
        assert got.json()["prompt"].startswith("D|")


def test_firefunction_templates_see_the_tools_as_functions(make_server, tmp_path):
    # FireFunction v2's template concatenates bos_token (the GGUF's BOS text, <|endoftext|> for
    # Qwen as llama.cpp's converter writes it) and `functions` (the tools as JSON text, ""
    # without tools; what llama-server passes it) into the system prompt.
    t = tmp_path / "ff.jinja"
    t.write_text("{{ bos_token + 'F[' + functions + ']' }}{{ messages[0].content }}")
    srv = make_server("--ctx", "512", "--chat-template-file", str(t))
    tool = {"type": "function", "function": {"name": "get_time", "parameters": {
        "type": "object", "properties": {"tz": {"type": "string"}}}}}
    with srv.http() as h:
        got = h.post("/apply-template", json={"messages": [{"role": "user", "content": "x"}]})
        assert got.status_code == 200, got.text
        assert got.json()["prompt"] == "<|endoftext|>F[]x"
        assert h.get("/props").json()["bos_token"] == "<|endoftext|>"
        got = h.post("/apply-template", json={"messages": [{"role": "user", "content": "x"}],
                                              "tools": [tool]})
        assert got.status_code == 200, got.text
        prompt = got.json()["prompt"]
        assert prompt.startswith("<|endoftext|>F[") and prompt.endswith("]x"), prompt
        assert json.loads(prompt[len("<|endoftext|>F["):-2]) == [tool]
        assert "\n  " in prompt  # indented, as llama-server dumps it
