// llama.cpp quantization presets (llama_ftype: Q4_K_M, Q8_0, ...) and the type each preset gives
// every tensor of a Qwen3-family model, so synth writes what llama-quantize would and the planner
// counts exact weight bytes. The rules are explained in docs/QUANT_PRESETS.md.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/hparams.h"
#include "model/tensors.h"
#include "quant/types.h"

namespace longctx {

enum class QuantPreset {
  F32,
  F16,
  BF16,
  Q8_0,
  Q4_0,
  Q4_1,
  Q5_0,
  Q5_1,
  Q2_K,
  Q3_K_M,
  Q4_K_S,
  Q4_K_M,
  Q5_K_S,
  Q5_K_M,
  Q6_K,
};

// Every preset, in the order above.
std::span<const QuantPreset> all_presets();
// The name llama-quantize takes and prints: "Q4_K_M", "BF16", ...
const char* preset_name(QuantPreset p);
// Case-insensitive: the preset name ("q4_k_m"), llama.h's ftype name ("MOSTLY_Q4_K_M",
// "LLAMA_FTYPE_MOSTLY_Q4_K_M", "ALL_F32") or the ftype id ("15"). The error lists the names.
Result<QuantPreset> parse_preset(std::string_view name);
// general.file_type: llama.h's llama_ftype id (Q4_K_M = 15, BF16 = 32, ...).
uint32_t preset_file_type(QuantPreset p);

// The type a weight with rows of `row_length` elements actually gets when `t` is asked for, as
// llama-quantize falls back: `t` when its block divides the row, else q2_K/q3_K -> q4_0,
// q4_K -> q5_0, q5_K -> q5_1, q6_K -> q8_0, and f16 when even that block does not divide it.
TensorType block_fallback_type(TensorType t, uint64_t row_length);
// The type most 2-D weights get (Q4_K for Q4_K_M); the per-tensor rules start from it.
TensorType preset_base_type(QuantPreset p);

// The type of every tensor in `tensors` (model_tensors(hp) order, one result per entry), as
// llama-quantize chooses it from a file converted by llama.cpp's converter: 1-D tensors and the
// MoE router stay f32, token_embd/output and some attn_v/attn_k/attn_output/ffn_down layers get
// more bits, and a row length the chosen block size does not divide falls back to a smaller
// block (q4_K -> q5_0, ...; f16 when even 32 does not divide it).
std::vector<TensorType> preset_tensor_types(const ModelHparams& hp,
                                            const std::vector<TensorDesc>& tensors, QuantPreset p);

// Bytes of all tensor data of the model under the preset (no GGUF header, no alignment padding).
uint64_t preset_weight_bytes(const ModelHparams& hp, QuantPreset p);

}  // namespace longctx
