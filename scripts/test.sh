#!/usr/bin/env bash
# Builds longctx and runs the whole test suite (all tiers; GPU tests skip without a GPU).
#   scripts/test.sh              Release build in build/, every test
#   scripts/test.sh --sanitize   ASan+UBSan build (-O1) in build-asan/, unit-, ops-, model- and server-tier tests
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
if [ "${1:-}" = "--sanitize" ]; then
  # -O1 keeps sanitizer reports exact; the tokenizer-heavy tests run ~4x faster than at -O0.
  # -g1 (line tables only: reports keep file:line) compiles ~25% faster than -g, for CI's budget.
  # The CUDA backend is left out: no sanitizer covers device code, and CI has no GPU.
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
    -DLONGCTX_SANITIZE=ON -DLONGCTX_CUDA=OFF -DLONGCTX_BUILD_BENCH=OFF >/dev/null
  cmake --build build-asan -j "$jobs"
  # Left out here, run in the Release pass: the three heaviest attention sweeps per ISA, whose
  # time under ASan is the scalar oracle's (~220 s of CI); ops_harness runs the same kernels
  # (decode to depth 4k, prefill blocks at depth, 1 and 3 threads) under the sanitizers.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan -L 'unit|ops|model|server' --output-on-failure -j "$jobs" \
    -E 'Isas/(Cpu|Quant)AttentionTest\.(LongDecodeSplitsKeysAndMerges|FewBlocksSplitKeysAndMerge|PrefillAtDepthAndFewBlocks)/'
else
  # LONGCTX_CUDA_ARCHS (environment) narrows the CUDA architectures compiled: CI builds one.
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
    ${LONGCTX_CUDA_ARCHS:+-DLONGCTX_CUDA_ARCHS=$LONGCTX_CUDA_ARCHS} >/dev/null
  cmake --build build -j "$jobs"
  ctest --test-dir build --output-on-failure -j "$jobs"
fi
