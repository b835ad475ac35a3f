"""llama-server's command-line spellings, so that scripts written for it start this server:
each starts, serves, and where the flag has an effect, shows it."""

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
