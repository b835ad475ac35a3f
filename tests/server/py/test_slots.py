"""llama-server's slot actions: POST /slots/ID?action=save|restore|erase with
--slot-save-path (or --session-dir), file names confined to that directory, and a server
without one refusing them."""

import pathlib

import pytest

from conftest import MODEL_FILE, running_server, slots, user

PROMPT = user("Remember this conversation about saving and restoring slots, please.")


@pytest.fixture(scope="module")
def save_dir(tmp_path_factory) -> pathlib.Path:
    return tmp_path_factory.mktemp("slot-save")


@pytest.fixture(scope="module")
def server(tiny_model, save_dir, tmp_path_factory):
    # One sequence, so every request runs on slot 0.
    with running_server(tiny_model, ("--ctx", "512", "--parallel", "1", "--slot-save-path",
                                     str(save_dir)), tmp_path_factory.mktemp("slots"),
                        "slots") as s:
        yield s


def ask(client, max_tokens=4):
    return client.chat.completions.create(model=MODEL_FILE, messages=PROMPT,
                                          max_tokens=max_tokens, temperature=0)


def action(http, slot, name, body=None):
    return http.post(f"/slots/{slot}?action={name}", json=body or {})


def test_save_erase_restore(client, http, save_dir):
    first = ask(client)
    n_held = slots(http)[0]["n_past"]
    assert n_held > 0

    r = action(http, 0, "save", {"filename": "a.bin"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id_slot"] == 0 and body["filename"] == "a.bin", body
    assert body["n_saved"] >= first.usage.prompt_tokens, body
    assert (save_dir / "a.bin").is_file() and (save_dir / "a.bin").stat().st_size > 0

    r = action(http, 0, "erase")
    assert r.status_code == 200, r.text
    assert r.json()["id_slot"] == 0 and r.json()["n_erased"] == body["n_saved"], r.json()
    assert slots(http)[0]["n_past"] == 0
    # Erased: the same request starts from nothing again.
    again = ask(client)
    assert again.usage.prompt_tokens_details.cached_tokens == 0
    action(http, 0, "erase")

    r = action(http, 0, "restore", {"filename": "a.bin"})
    assert r.status_code == 200, r.text
    assert r.json()["n_restored"] == body["n_saved"], r.json()
    assert slots(http)[0]["n_past"] == body["n_saved"]
    restored = ask(client)
    assert restored.usage.prompt_tokens_details.cached_tokens >= first.usage.prompt_tokens - 1
    # The restored cache gives the same answer as the fresh one.
    assert restored.choices[0].message.content == first.choices[0].message.content


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "a/../../b.bin", "", "..", "sub/dir.bin"])
def test_bad_filename_is_400(http, save_dir, name):
    ask_body = {"filename": name}
    r = action(http, 0, "save", ask_body)
    assert r.status_code == 400, (name, r.text)
    assert "error" in r.json()
    assert not (save_dir.parent / "x").exists()


def test_missing_filename_is_400(http):
    assert action(http, 0, "save").status_code == 400
    assert action(http, 0, "restore").status_code == 400


def test_unknown_action_is_400(http):
    r = action(http, 0, "explode", {"filename": "a.bin"})
    assert r.status_code == 400, r.text
    assert "error" in r.json()


def test_bad_slot_id_is_400(http):
    assert action(http, 7, "save", {"filename": "b.bin"}).status_code == 400
    assert action(http, "zero", "save", {"filename": "b.bin"}).status_code in (400, 404)


def test_restore_of_a_missing_file_fails(http):
    r = action(http, 0, "restore", {"filename": "does-not-exist.bin"})
    assert r.status_code in (400, 404), r.text
    assert "error" in r.json()


def test_session_dir_spelling(make_server, tmp_path):
    d = tmp_path / "sessions"
    d.mkdir()
    srv = make_server("--ctx", "512", "--parallel", "1", "--session-dir", str(d))
    srv.client().chat.completions.create(model=MODEL_FILE, messages=PROMPT, max_tokens=2)
    with srv.http() as h:
        r = h.post("/slots/0?action=save", json={"filename": "s.bin"})
    assert r.status_code == 200, r.text
    assert (d / "s.bin").is_file()


def test_without_a_save_path_actions_are_refused(make_server):
    srv = make_server("--ctx", "512")
    with srv.http() as h:
        r = h.post("/slots/0?action=save", json={"filename": "a.bin"})
    assert r.status_code in (400, 501), r.text  # llama-server: 501 not_supported_error
    assert "error" in r.json()
