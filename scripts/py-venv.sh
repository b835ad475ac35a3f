#!/usr/bin/env bash
# Makes (once) the Python environment of the client-level tests, build/venv-test, with the pinned
# packages of tests/server/py/requirements.txt (openai, anthropic, pytest, ...) and
# tests/webui/requirements.txt (selenium), and prints its python's path. Later runs skip the
# install while the installed packages still match both files.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
venv="$root/build/venv-test"
reqs=("$root/tests/server/py/requirements.txt" "$root/tests/webui/requirements.txt")
stamp="$venv/.requirements.sha256"
if [ ! -x "$venv/bin/python" ]; then
  mkdir -p "$root/build"
  python3 -m venv "$venv" >&2
fi
want=$(cat "${reqs[@]}" | sha256sum | cut -d' ' -f1)
have=$(cat "$stamp" 2>/dev/null || true)
# Installed when the requirement files are unchanged since the last install and every pinned
# package is present at its version (a quick check, no network).
if [ "$want" != "$have" ] || ! "$venv/bin/python" - "${reqs[@]}" <<'PY' >/dev/null 2>&1
import sys
from importlib.metadata import version
for path in sys.argv[1:]:
    for line in open(path):
        line = line.split("#")[0].strip()
        if not line:
            continue
        name, _, pin = line.partition("==")
        if version(name) != pin:
            sys.exit(1)
PY
then
  args=()
  for r in "${reqs[@]}"; do args+=(-r "$r"); done
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${args[@]}" >&2
  echo "$want" > "$stamp"
fi
echo "$venv/bin/python"
