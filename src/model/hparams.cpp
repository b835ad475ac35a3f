// Reading and validating Qwen3-family hyperparameters.
#include "model/hparams.h"

#include <string>

#include "gguf/gguf.h"

namespace longctx {
namespace {

bool is_known_arch(const std::string& a) { return a == "qwen3" || a == "qwen3moe" || a == "qwen2"; }

// Reads a required unsigned key into a uint32 field, rejecting values that do not fit.
Status read_u32(const GgufFile& f, const std::string& key, uint32_t* out) {
  auto v = f.get_uint(key);
  if (!v) return v.status();
  if (*v > 0xffffffffull)
    return invalid_format("'" + key + "' = " + std::to_string(*v) + " is out of range");
  *out = static_cast<uint32_t>(*v);
  return Status::ok();
}

// Optional float / string keys: absent leaves *out unchanged; present with a wrong type is an
// error (silently using the default would mis-rotate every position, for rope keys).
Status read_float_opt(const GgufFile& f, const std::string& key, double* out) {
  if (!f.find(key)) return Status::ok();
  auto v = f.get_float(key);
  if (!v) return v.status();
  *out = *v;
  return Status::ok();
}

Status read_string_opt(const GgufFile& f, const std::string& key, std::string* out) {
  if (!f.find(key)) return Status::ok();
  auto v = f.get_string(key);
  if (!v) return v.status();
  *out = *v;
  return Status::ok();
}

// Like read_u32, but leaves *out unchanged when the key is absent.
Status read_u32_opt(const GgufFile& f, const std::string& key, uint32_t* out) {
  if (!f.find(key)) return Status::ok();
  return read_u32(f, key, out);
}

}  // namespace

const char* rope_scaling_name(RopeScalingType t) {
  switch (t) {
    case RopeScalingType::kNone:
      return "none";
    case RopeScalingType::kLinear:
      return "linear";
    case RopeScalingType::kYarn:
      return "yarn";
  }
  return "?";
}

Result<ModelHparams> ModelHparams::from_gguf(const GgufFile& f) {
  ModelHparams hp;
  hp.arch = f.architecture();
  if (hp.arch.empty()) return invalid_format("missing 'general.architecture'");
  if (!is_known_arch(hp.arch)) {
    return unsupported("unknown architecture '" + hp.arch +
                       "' (supported: qwen3, qwen3moe, qwen2)");
  }
  LONGCTX_RETURN_IF_ERROR(read_string_opt(f, "general.name", &hp.name));
  const std::string a = hp.arch + ".";
  LONGCTX_RETURN_IF_ERROR(read_u32(f, a + "block_count", &hp.n_layer));
  LONGCTX_RETURN_IF_ERROR(read_u32(f, a + "embedding_length", &hp.n_embd));
  LONGCTX_RETURN_IF_ERROR(read_u32(f, a + "attention.head_count", &hp.n_head));
  hp.n_head_kv = hp.n_head;
  LONGCTX_RETURN_IF_ERROR(read_u32_opt(f, a + "attention.head_count_kv", &hp.n_head_kv));
  LONGCTX_RETURN_IF_ERROR(read_u32(f, a + "context_length", &hp.n_ctx_train));
  if (hp.n_head > 0) hp.head_dim = hp.n_embd / hp.n_head;  // only when key_length is absent
  LONGCTX_RETURN_IF_ERROR(read_u32_opt(f, a + "attention.key_length", &hp.head_dim));
  hp.head_dim_v = hp.head_dim;
  LONGCTX_RETURN_IF_ERROR(read_u32_opt(f, a + "attention.value_length", &hp.head_dim_v));
  LONGCTX_RETURN_IF_ERROR(read_float_opt(f, a + "rope.freq_base", &hp.rope_freq_base));
  auto eps = f.get_float(a + "attention.layer_norm_rms_epsilon");
  if (!eps) return eps.status();
  hp.rms_eps = *eps;

  if (hp.arch == "qwen3moe") {
    LONGCTX_RETURN_IF_ERROR(read_u32(f, a + "expert_count", &hp.n_expert));
    LONGCTX_RETURN_IF_ERROR(read_u32(f, a + "expert_used_count", &hp.n_expert_used));
    LONGCTX_RETURN_IF_ERROR(read_u32(f, a + "expert_feed_forward_length", &hp.n_ff_expert));
    LONGCTX_RETURN_IF_ERROR(read_u32_opt(f, a + "feed_forward_length", &hp.n_ff));
    if (f.find(a + "expert_weights_norm")) {
      auto norm = f.get_bool(a + "expert_weights_norm");
      if (!norm) return norm.status();
      hp.norm_topk_prob = *norm;
    }
  } else {
    LONGCTX_RETURN_IF_ERROR(read_u32(f, a + "feed_forward_length", &hp.n_ff));
  }

  // RoPE scaling: llama.cpp writes rope.scaling.{type,factor,original_context_length}.
  std::string scaling = "none";
  LONGCTX_RETURN_IF_ERROR(read_string_opt(f, a + "rope.scaling.type", &scaling));
  if (scaling == "none") {
    hp.rope_scaling.type = RopeScalingType::kNone;
  } else if (scaling == "linear") {
    hp.rope_scaling.type = RopeScalingType::kLinear;
  } else if (scaling == "yarn") {
    hp.rope_scaling.type = RopeScalingType::kYarn;
  } else {
    return unsupported("'" + a + "rope.scaling.type' = '" + scaling +
                       "' (supported: none, linear, yarn)");
  }
  LONGCTX_RETURN_IF_ERROR(read_float_opt(f, a + "rope.scaling.factor", &hp.rope_scaling.factor));
  LONGCTX_RETURN_IF_ERROR(
      read_u32_opt(f, a + "rope.scaling.original_context_length", &hp.rope_scaling.orig_ctx));

  // Vocabulary size from the embedding matrix [n_embd, n_vocab], else from the token list.
  if (const GgufTensorInfo* t = f.find_tensor("token_embd.weight")) {
    if (t->dims.size() != 2) return invalid_format("'token_embd.weight' is not a matrix");
    if (t->dims[1] > 0xffffffffull) return invalid_format("'token_embd.weight' has too many rows");
    hp.n_vocab = static_cast<uint32_t>(t->dims[1]);
  } else if (auto toks = f.find("tokenizer.ggml.tokens")) {
    hp.n_vocab = static_cast<uint32_t>(toks->size());
  }
  hp.tied_embeddings = f.find_tensor("output.weight") == nullptr;
  LONGCTX_RETURN_IF_ERROR(hp.validate());
  return hp;
}

Status ModelHparams::validate() const {
  auto positive = [&](uint32_t v, const char* what) -> Status {
    if (v == 0) return invalid_format(arch + "." + what + " must be positive");
    return Status::ok();
  };
  LONGCTX_RETURN_IF_ERROR(positive(n_layer, "block_count"));
  // The largest Qwen-family model has 94 layers; a count far beyond any model would only make
  // the tensor list (and every per-layer table) huge before a missing tensor is noticed.
  if (n_layer > 1024) {
    return invalid_format(arch + ".block_count " + std::to_string(n_layer) +
                          " is above the 1024 longctx accepts");
  }
  LONGCTX_RETURN_IF_ERROR(positive(n_embd, "embedding_length"));
  LONGCTX_RETURN_IF_ERROR(positive(n_head, "attention.head_count"));
  LONGCTX_RETURN_IF_ERROR(positive(n_head_kv, "attention.head_count_kv"));
  LONGCTX_RETURN_IF_ERROR(positive(head_dim, "attention.key_length"));
  LONGCTX_RETURN_IF_ERROR(positive(head_dim_v, "attention.value_length"));
  LONGCTX_RETURN_IF_ERROR(positive(n_ctx_train, "context_length"));
  if (n_vocab == 0)
    return invalid_format("vocabulary size unknown (no token_embd.weight or token list)");
  if (n_head % n_head_kv != 0) {
    return invalid_format("attention.head_count (" + std::to_string(n_head) +
                          ") is not a multiple of head_count_kv (" + std::to_string(n_head_kv) +
                          ")");
  }
  if (head_dim % 2 != 0) return invalid_format("attention.key_length must be even for RoPE");
  if (!(rms_eps > 0 && rms_eps < 1)) return invalid_format("layer_norm_rms_epsilon out of range");
  if (!(rope_freq_base > 0)) return invalid_format("rope.freq_base must be positive");
  if (is_moe()) {
    LONGCTX_RETURN_IF_ERROR(positive(n_ff_expert, "expert_feed_forward_length"));
    if (n_expert_used == 0 || n_expert_used > n_expert) {
      return invalid_format("expert_used_count (" + std::to_string(n_expert_used) +
                            ") must be in 1.." + std::to_string(n_expert));
    }
  } else {
    LONGCTX_RETURN_IF_ERROR(positive(n_ff, "feed_forward_length"));
  }
  if (rope_scaling.type != RopeScalingType::kNone && !(rope_scaling.factor >= 1.0)) {
    return invalid_format("rope.scaling.factor must be >= 1");
  }
  return Status::ok();
}

}  // namespace longctx
