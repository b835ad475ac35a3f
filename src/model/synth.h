// Writes a random-weight GGUF of a Qwen3-family shape with the real tokenizer, streaming tensor
// by tensor so a multi-GB model needs little memory. For tests, demos and benchmarks of models
// one has not downloaded, in a uniform type or a llama.cpp preset such as Q4_K_M.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "gguf/gguf.h"
#include "model/hparams.h"
#include "model/quant_preset.h"
#include "quant/types.h"

namespace longctx {

struct SynthOptions {
  ModelHparams hparams;
  TensorType type = TensorType::F16;  // 2-D weights; 1-D norms and the MoE router are f32
  // When set, each tensor gets the type llama-quantize gives it under this preset (`type` is
  // ignored) and general.file_type is the preset's ftype.
  std::optional<QuantPreset> preset;
  uint64_t seed = 42;
  float weight_std = 0.02f;  // weights ~ N(0, std), as in Qwen3's initializer
  // Qwen3-like outlier channels in the keys: this many of each layer's attn_k_norm gains (RoPE
  // pairs d, d + head_dim / 2 of the slowest-turning frequencies, as in the trained models) are
  // multiplied by k_outlier_gain, so a few key dimensions dwarf the rest, which is what makes
  // 4-bit keys lose quality without a rotation. 0: none. Even, at most head_dim.
  uint32_t k_outlier_channels = 0;
  float k_outlier_gain = 16.0f;
  // Write the quantized types' blocks straight from random bytes with bounded scales
  // (quant/random_blocks.h) instead of quantizing normal floats: as fast as the disk allows, for
  // full-size models on a lent machine. Types random_blocks cannot write, and the 1-D norms,
  // still take the float path. The file differs from the default one for the same seed.
  bool random_blocks = false;
  int n_threads = 0;  // threads generating and quantizing (<= 0: every core); the file does not
                      // depend on it
  std::vector<GgufKV> tokenizer_metadata;  // tokenizer.ggml.* and tokenizer.chat_template
  // Called after each chunk of tensor data with bytes written so far and the total.
  std::function<void(uint64_t done, uint64_t total)> progress;
};

// The channels of a head that SynthOptions::k_outlier_channels boosts: pairs (j, j + head_dim / 2)
// for j = head_dim / 2 - 1, head_dim / 2 - 2, ... (the lowest-frequency RoPE pairs).
std::vector<uint32_t> k_outlier_channels(uint32_t head_dim, uint32_t n);

// general.file_type (llama.cpp's llama_ftype) for a uniform tensor type.
uint32_t gguf_file_type(TensorType t);

Status write_synth_model(const SynthOptions& options, const std::string& path);

}  // namespace longctx
