// Model hyperparameters of the Qwen3 family (qwen3, qwen3moe, qwen2), read from GGUF metadata
// with the key names llama.cpp's converter writes (plan/catalog.h makes them from a shape).
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace longctx {

class GgufFile;

enum class RopeScalingType { kNone, kLinear, kYarn };
const char* rope_scaling_name(RopeScalingType t);

struct RopeScaling {
  RopeScalingType type = RopeScalingType::kNone;
  double factor = 1.0;
  uint32_t orig_ctx = 0;  // original (pre-scaling) context length; 0 = not given
};

struct ModelHparams {
  std::string arch;  // "qwen3", "qwen3moe" or "qwen2"
  std::string name;  // general.name, if present
  uint32_t n_layer = 0;
  uint32_t n_embd = 0;  // hidden size
  uint32_t n_ff = 0;    // dense FFN width (0 for MoE)
  uint32_t n_head = 0;
  uint32_t n_head_kv = 0;
  uint32_t head_dim = 0;    // key_length: 128 for Qwen3, read from metadata, never hidden/heads
  uint32_t head_dim_v = 0;  // value_length
  uint32_t n_vocab = 0;
  uint32_t n_ctx_train = 0;
  double rope_freq_base = 10000.0;
  double rms_eps = 1e-6;
  RopeScaling rope_scaling;
  bool tied_embeddings = false;  // no output.weight: the head reuses token_embd
  uint32_t n_expert = 0;
  uint32_t n_expert_used = 0;
  uint32_t n_ff_expert = 0;
  // Renormalise the top-k router weights to sum to 1 (HF norm_topk_prob). llama.cpp's converter
  // writes no key for it and its qwen3moe graph always renormalises, hence the default; longctx
  // also reads `<arch>.expert_weights_norm` when a file has it.
  bool norm_topk_prob = true;

  bool is_moe() const { return n_expert > 0; }
  bool has_qk_norm() const { return arch != "qwen2"; }   // Qwen3 normalises q and k per head
  bool has_qkv_bias() const { return arch == "qwen2"; }  // Qwen2/2.5 have q, k, v biases

  // Reads `<arch>.*` keys; the vocabulary size comes from token_embd.weight (or the token list).
  // Every missing or inconsistent value is an error naming the key.
  static Result<ModelHparams> from_gguf(const GgufFile& file);
  // Consistency checks shared by every source (positive sizes, heads divisible, experts).
  Status validate() const;
};

}  // namespace longctx
