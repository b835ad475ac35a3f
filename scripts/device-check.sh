#!/usr/bin/env bash
# The CUDA checks for a lent GPU (issue 20), as one script with a timeout per step, in the order
# the issue asks: the driver and GPU, the gpu test tier (kernels, then logits against the CPU
# engine), synth of the benchmark models on the device's disk, our bench at depths 0 and 32768
# for both models, then 131072. Results go to $OUT (the device tool brings that folder back).
#
# Run from the repository root with a CUDA build carried along:
#   carry: build/src/longctx build/tests/kernels/test_cuda_kernels
#          build/tests/runtime/test_runtime_cuda build/bench/cuda/bench_cuda_kernels
#   command: scripts/device-check.sh
# The limits add up to more than one device call's 10 minutes: the steps come in the order of
# importance, and a call cut short still brings back the logs written so far.
# Every step that did not run or failed is listed at the end (and in $OUT/summary.txt); each
# outcome is also appended to $OUT/progress.txt as soon as the step ends.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/device-check}
MODELS=${MODELS:-/tmp/lc-models}
mkdir -p "$OUT" "$MODELS"
: >"$OUT/progress.txt"
BIN=build/src/longctx
declare -a SUMMARY=()

# step NAME SECONDS COMMAND...: runs it with its output in $OUT/NAME.log, records the outcome.
step() {
  local name=$1 secs=$2
  shift 2
  echo "=== $name (limit ${secs}s): $*"
  local t0=$SECONDS
  timeout --kill-after=5 "$secs" "$@" >"$OUT/$name.log" 2>&1
  local rc=$? dt=$((SECONDS - t0))
  tail -n 25 "$OUT/$name.log"
  case $rc in
    0) SUMMARY+=("$name: ok (${dt}s)") ;;
    124 | 137) SUMMARY+=("$name: TIMED OUT after ${secs}s") ;;
    *) SUMMARY+=("$name: FAILED rc=$rc (${dt}s)") ;;
  esac
  # Written as it goes: a call cut short at its limit still says how far it got.
  echo "${SUMMARY[-1]}" >>"$OUT/progress.txt"
  return $rc
}

step driver 30 bash -c 'nvidia-smi; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.memory --format=csv'
step plan 60 "$BIN" plan qwen3-8b --quant Q4_K_M
step gpu-kernels 90 build/tests/kernels/test_cuda_kernels
step gpu-engine 120 build/tests/runtime/test_runtime_cuda
# Kernel GB/s at real shapes against the GPU's read probe, before the whole-model runs.
step kernels-perf 60 build/bench/cuda/bench_cuda_kernels --reps 10
# Benchmark models: random quantized blocks (seconds per GiB), the real tokenizer from the repo.
step synth-8b 90 "$BIN" synth --shape qwen3-8b --type Q4_K_M --random-blocks \
  --tokenizer data/qwen3-tokenizer -q -o "$MODELS/q8b.gguf"
step synth-30b 150 "$BIN" synth --shape qwen3-30b-a3b --type Q4_K_M --random-blocks \
  --tokenizer data/qwen3-tokenizer -q -o "$MODELS/q30b.gguf"
for m in q8b q30b; do
  [ -f "$MODELS/$m.gguf" ] || { SUMMARY+=("bench-$m: NOT RUN (no model)"); continue; }
  step "bench-$m" 150 "$BIN" bench -m "$MODELS/$m.gguf" --backend cuda -c 33792 \
    -p 512 -n 128 -d 0,32768 -r 2 -o json --no-probe
done
for m in q8b q30b; do
  [ -f "$MODELS/$m.gguf" ] || continue
  step "bench-$m-131072" 120 "$BIN" bench -m "$MODELS/$m.gguf" --backend cuda -c 131584 \
    --rope-scaling yarn --rope-factor 4 --rope-orig-ctx 32768 -p 512 -n 32 -d 131072 -r 1 \
    -o json --no-probe
done
SUMMARY+=("llama.cpp CUDA bench: NOT RUN (no sm_90 llama.cpp build carried yet)")
echo "=== summary"
printf '%s\n' "${SUMMARY[@]}" | tee "$OUT/summary.txt"
