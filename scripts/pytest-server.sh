#!/usr/bin/env bash
# Client-level acceptance tests of `longctx serve`: the official `openai` and `anthropic` Python
# clients (and raw httpx) against a real server process on 127.0.0.1 (tests/server/py).
#   scripts/pytest-server.sh                 the binary build/src/longctx
#   LONGCTX_BIN=/path/longctx scripts/pytest-server.sh -k chat -x   other binary, pytest options
# The Python environment is build/venv-test (scripts/py-venv.sh makes it once). Exits non-zero
# when a test fails or none ran.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export LONGCTX_BIN="${LONGCTX_BIN:-$root/build/src/longctx}"
case "$LONGCTX_BIN" in /*) ;; *) LONGCTX_BIN="$root/$LONGCTX_BIN" ;; esac
if [ ! -x "$LONGCTX_BIN" ]; then
  echo "pytest-server.sh: no executable longctx at $LONGCTX_BIN (build it, or set LONGCTX_BIN)" >&2
  exit 2
fi
python=$(scripts/py-venv.sh)
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in the source tree
# Servers bind 127.0.0.1 only (the tests pass --host 127.0.0.1 to every one).
# The whole suite unless the arguments name test files or directories themselves.
targets=("$root/tests/server/py")
for a in "$@"; do
  case "$a" in -*) ;; *) if [ -e "${a%%::*}" ]; then targets=(); break; fi ;; esac
done
set +e
"$python" -m pytest -p no:cacheprovider -rfE "${targets[@]}" "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest-server.sh: no tests were collected" >&2
  exit 1
fi
exit "$rc"
