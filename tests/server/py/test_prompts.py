"""How prompts are made: a final assistant message continued as a prefill, several prompts in
one completions request, llama-server's prompt forms, cache_prompt, logit_bias, the prompt's
token count, a chat template of one's own and the server's default for thinking."""

import pathlib

import httpx

from conftest import MODEL_FILE, error_of, user

QWEN3_TEMPLATE_FREE = (
    "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content + "
    "'<|im_end|>\\n' }}{%- endfor %}{%- if add_generation_prompt %}"
    "{{- '<|im_start|>assistant\\n' }}{%- if enable_thinking is defined and not enable_thinking %}"
    "{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}{%- endif %}")


def test_final_assistant_message_is_continued(http):
    msgs = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Wh"}]
    p = http.post("/apply-template", json={"messages": msgs}).json()["prompt"]
    assert p.endswith("<|im_start|>assistant\nWh"), p
    parts = [{"role": "user", "content": "Hi"},
             {"role": "assistant", "content": [{"type": "text", "text": "Wh"},
                                                {"type": "text", "text": "ill"}]}]
    p2 = http.post("/apply-template", json={"messages": parts}).json()["prompt"]
    assert p2.endswith("Wh\n\nill"), p2
    # The reply continues it: the prompt holds the prefill's tokens, not an end of turn.
    whole = http.post("/tokenize", json={"content": p}).json()["tokens"]
    r = http.post("/v1/chat/completions", json={"messages": msgs, "max_tokens": 2}).json()
    assert r["usage"]["prompt_tokens"] == len(whole), r


def test_two_final_assistant_messages_are_400(http):
    msgs = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "A"},
            {"role": "assistant", "content": "B"}]
    r = http.post("/v1/chat/completions", json={"messages": msgs, "max_tokens": 2})
    assert r.status_code == 400
    assert "2 or more assistant messages" in error_of(r)["message"]
    r = http.post("/v1/chat/completions", json={
        "messages": user("Hi"), "max_tokens": 2, "add_generation_prompt": True,
        "continue_final_message": True})
    assert r.status_code == 400


def test_several_prompts_in_one_completions_request(http):
    r = http.post("/v1/completions", json={"prompt": ["one two", "three four five"],
                                           "max_tokens": 3, "temperature": 0})
    assert r.status_code == 200, r.text
    j = r.json()
    assert [c["index"] for c in j["choices"]] == [0, 1]
    n0 = len(http.post("/tokenize", json={"content": "one two"}).json()["tokens"])
    n1 = len(http.post("/tokenize", json={"content": "three four five"}).json()["tokens"])
    assert j["usage"]["prompt_tokens"] == n0 + n1
    assert j["usage"]["completion_tokens"] == 6
    # llama-server's batch: an array of results, each as one request would answer it.
    ids = http.post("/tokenize", json={"content": "one two"}).json()["tokens"]
    r = http.post("/completion", json={"prompt": [ids, "one two"], "n_predict": 3,
                                       "temperature": 0})
    assert r.status_code == 200, r.text
    arr = r.json()
    assert isinstance(arr, list) and len(arr) == 2
    assert arr[0]["content"] == arr[1]["content"]  # the same prompt, as ids and as text


def test_mixed_ids_and_text_are_one_prompt(http):
    ids = http.post("/tokenize", json={"content": "Hello"}).json()["tokens"]
    tail = http.post("/tokenize", json={"content": " world"}).json()["tokens"]
    r = http.post("/completion", json={"prompt": ids + [" world"], "n_predict": 1}).json()
    assert r["tokens_evaluated"] == len(ids) + len(tail), r
    r = http.post("/completion", json={"prompt": {"prompt_string": "Hello"}, "n_predict": 1})
    assert r.status_code == 200 and r.json()["tokens_evaluated"] == len(ids)
    r = http.post("/completion", json={"prompt": {"prompt_string": "x", "multimodal_data": ["a"]}})
    assert r.status_code == 400


def test_cache_prompt_false_evaluates_everything(http):
    body = {"prompt": "a b c d e f g h", "n_predict": 2, "temperature": 0}
    http.post("/completion", json=body)
    again = http.post("/completion", json=body).json()
    assert again["timings"]["cache_n"] > 0, again
    fresh = http.post("/completion", json={**body, "cache_prompt": False}).json()
    assert fresh["timings"]["cache_n"] == 0, fresh
    assert fresh["content"] == again["content"]  # greedy: the same reply either way


def test_logit_bias_bans_and_forces(http):
    body = {"prompt": "Once upon a time", "max_tokens": 1, "temperature": 0, "logprobs": 1}
    first = http.post("/v1/completions", json=body).json()["choices"][0]
    tok = http.post("/tokenize", json={"content": first["text"]}).json()["tokens"]
    assert len(tok) == 1, first
    banned = http.post("/v1/completions", json={**body, "logit_bias": {str(tok[0]): -100}}).json()
    assert banned["choices"][0]["text"] != first["text"]
    forced_id = 12345
    forced = http.post("/v1/completions", json={**body, "logit_bias": {str(forced_id): 100}}).json()
    want = http.post("/detokenize", json={"tokens": [forced_id]}).json()["content"]
    assert forced["choices"][0]["text"] == want
    r = http.post("/v1/completions", json={**body, "logit_bias": {"1": 500}})
    assert r.status_code == 400


def test_input_tokens_counts_the_rendered_prompt(http):
    msgs = user("How many tokens is this?")
    n = http.post("/v1/chat/completions/input_tokens", json={"messages": msgs}).json()
    p = http.post("/apply-template", json={"messages": msgs}).json()["prompt"]
    assert n["input_tokens"] == len(http.post("/tokenize", json={"content": p}).json()["tokens"])
    assert n["object"] == "response.input_tokens"


def test_own_chat_template_and_reasoning_default(make_server, tmp_path):
    tmpl = tmp_path / "t.jinja"
    tmpl.write_text(QWEN3_TEMPLATE_FREE)
    srv = make_server("--chat-template-file", str(tmpl), "--reasoning", "off")
    with httpx.Client(base_url=srv.base_url, timeout=30) as h:
        p = h.post("/apply-template", json={"messages": user("Hi")}).json()["prompt"]
        assert p == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
        p = h.post("/apply-template", json={
            "messages": user("Hi"), "chat_template_kwargs": {"enable_thinking": True}}).json()
        assert p["prompt"].endswith("<|im_start|>assistant\n"), p
