#!/usr/bin/env bash
# One longctx-vs-llama.cpp case: synth a random-weight GGUF, dump prompt logits from both engines
# (f32 KV, 2 threads, longctx's scalar reference backend), and compare them.
# Usage: tools/llamacmp_run.sh SHAPE TYPE LAYERS(0=all) WEIGHT_STD IDS.json OUTDIR
# Needs build/src/longctx and /tmp/llamacpp_logits (compile command in tools/llamacpp_logits.cpp).
set -euo pipefail
shape=$1 type=$2 layers=$3 std=$4 ids=$5 out=$6
mkdir -p "$out"
tag="${shape}_L${layers}_${type}_std${std}"
gguf="$out/$tag.gguf"
layer_args=()
if [ "$layers" != 0 ]; then layer_args=(--layers "$layers"); fi
build/src/longctx synth --shape "$shape" --type "$type" "${layer_args[@]}" --weight-std "$std" \
  -q -o "$gguf"
/usr/bin/time -f "longctx %e s" build/src/longctx run -m "$gguf" --prompt-ids "$ids" -n 0 \
  --kv-type f32 --backend ref -t 2 -q --dump-logits "$out/$tag.longctx.npy" > /dev/null
/usr/bin/time -f "llama.cpp %e s" /tmp/llamacpp_logits -m "$gguf" --ids "$ids" --threads 2 \
  --kv f32 -o "$out/$tag.llamacpp.npy" 2> "$out/$tag.llamacpp.log" || {
  tail -5 "$out/$tag.llamacpp.log"; exit 1; }
grep "llama.cpp .* s" "$out/$tag.llamacpp.log" || true
echo "== $tag"
python3 tools/compare_logits.py "$out/$tag.longctx.npy" "$out/$tag.llamacpp.npy" \
  --json "$out/$tag.json"
