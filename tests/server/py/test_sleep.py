"""--sleep-idle-seconds (llama-server's flag; Ollama's keep_alive does the same): after the idle
time the server gives the memory of the weights and caches back to the system, /health and
/props still answer (is_sleeping true), /tokenize does not wake it, the next generation does and
gets the reply it got before; an idle conversation spilled to --session-dir is read back."""

import pathlib

import pytest

from conftest import MODEL_FILE, metric, metrics, run_serve, running_server, user, wait_until

# Long enough to be spilled (the server spills states of 256 tokens and more).
LONG = " ".join(f"item{i} is on shelf {i % 7}." for i in range(90))


def rss_bytes(pid: int) -> int:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def server(tiny_model, tmp_path_factory):
    spill = tmp_path_factory.mktemp("sleep-spill")
    with running_server(tiny_model, ("--ctx", "1024", "--parallel", "2", "--sleep-idle-seconds",
                                     "2", "--session-dir", str(spill)),
                        tmp_path_factory.mktemp("sleep"), "sleep") as s:
        s.spill_dir = spill
        yield s


def props(http) -> dict:
    r = http.get("/props")
    assert r.status_code == 200, r.text
    return r.json()


def ask(client, content=LONG):
    return client.chat.completions.create(model=MODEL_FILE, messages=user(content), max_tokens=8,
                                          temperature=0,
                                          extra_body={"chat_template_kwargs":
                                                      {"enable_thinking": False}})


def test_sleeps_when_idle_and_wakes_for_a_request(server, client, http):
    first = ask(client)
    awake_rss = rss_bytes(server.proc.pid)
    assert wait_until(lambda: props(http)["is_sleeping"], 10), "never went to sleep"
    asleep_rss = rss_bytes(server.proc.pid)
    weights = props(http)["memory"]["weights_bytes"]
    assert asleep_rss < awake_rss - weights // 2, (awake_rss, asleep_rss, weights)
    assert http.get("/health").status_code == 200
    m = metrics(http)
    assert metric(m, "sleeping") == 1 and metric(m, "sleeps_total") >= 1
    # The idle conversation went to disk before the caches were released.
    assert list(server.spill_dir.glob("*.lcs")), "nothing spilled before sleeping"

    # Tokenizing needs no weights: the server sleeps on.
    r = http.post("/tokenize", json={"content": "hello"})
    assert r.status_code == 200 and r.json()["tokens"], r.text
    assert props(http)["is_sleeping"]

    again = ask(client)
    assert again.choices[0].message.content == first.choices[0].message.content
    # Read back from the spill file: only the end of the prompt is evaluated again.
    assert again.usage.prompt_tokens_details.cached_tokens >= first.usage.prompt_tokens - 1
    assert not props(http)["is_sleeping"]
    assert "sleeping" in server.log() and "waking up" in server.log()


def test_llama_server_completion_wakes_it(server, http):
    assert wait_until(lambda: props(http)["is_sleeping"], 10)
    r = http.post("/completion", json={"prompt": "Hello", "n_predict": 1})
    assert r.status_code == 200, r.text
    assert not props(http)["is_sleeping"]


# The scheduler's numeric flags (also --prefill-chunk, the prompt rows of a step beside
# decoding sequences).
@pytest.mark.parametrize("flag,value", [("--sleep-idle-seconds", "-2"),
                                        ("--sleep-idle-seconds", "abc"),
                                        ("--sleep-idle-seconds", "99999999"),
                                        ("--prefill-chunk", "-1")])
def test_bad_values_are_refused(tiny_model, flag, value):
    p = run_serve(tiny_model, (flag, value))
    assert p.returncode != 0
    assert flag.lstrip("-") in p.stderr, p.stderr
