#!/usr/bin/env bash
# Installs the Debian packages longctx builds and tests with (skips apt when all are present).
set -euo pipefail
PACKAGES=(
  g++ clang cmake ninja-build pkg-config zstd
  libcli11-dev nlohmann-json3-dev libpcre2-dev libutf8proc-dev libzstd-dev
  libgtest-dev libgmock-dev libclang-rt-14-dev libxxhash-dev libedit-dev libcpp-httplib-dev
  libsqlite3-dev libstemmer-dev
  libjs-marked libjs-highlight.js
  python3 python3-venv chromium chromium-driver
)
# libjs-marked / libjs-highlight.js: Markdown and code highlighting embedded in the web UI at
# build time. python3-venv, chromium, chromium-driver: the client-level tests (the openai and
# anthropic clients, the web UI in headless Chromium); their Python packages come from PyPI
# (scripts/py-venv.sh).
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
