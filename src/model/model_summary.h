// What a model costs, from its metadata and tensor table alone (no weights are read): the tensor
// list of model/tensors.h visited against the file, bytes and parameters per part, parameters a
// token touches for k active experts, KV bytes per token. Used by `info` and `run`.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "gguf/gguf.h"
#include "model/hparams.h"
#include "quant/types.h"

namespace longctx {

struct ModelSummary {
  ModelHparams hp;
  uint64_t n_params = 0;       // every tensor of the list
  uint64_t weight_bytes = 0;   // their bytes in the file
  uint64_t embd_params = 0;    // token_embd (only indexed, never multiplied, unless tied)
  uint64_t expert_params = 0;  // all routed experts of all layers (MoE)

  // Parameters one token multiplies with for k experts per token: all but the embedding table
  // (when untied: the head is separate) and the n_expert - k experts not chosen.
  uint64_t active_params(int64_t n_expert_used) const;
  // 2 (K and V) x layers x kv heads x head_dim x element size.
  uint64_t kv_bytes_per_token(TensorType type_k, TensorType type_v) const;
};

// Visits the tensor list: every tensor must be present with its shape (errors name it).
Result<ModelSummary> summarize_model(const GgufFile& file);
// The same from hyperparameters alone (parameter counts; weight_bytes stays 0).
ModelSummary summarize_hparams(const ModelHparams& hp);

// A few human-readable lines ("model: ...") for `info`.
std::string format_model_summary(const ModelSummary& s);

}  // namespace longctx
