// Built-in catalog of Qwen3-family model shapes, as published in each model's config.json.
// Used to plan or synthesise a model one has not downloaded; a loaded model always reads its
// shapes from its own file instead.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/hparams.h"

namespace longctx {

struct ModelShape {
  const char* name;     // catalog name, e.g. "qwen3-30b-a3b"
  const char* hf_name;  // published name, e.g. "Qwen3-30B-A3B"
  const char* arch;     // GGUF architecture: "qwen3" or "qwen3moe"
  uint32_t n_layer;
  uint32_t n_embd;     // hidden size
  uint32_t n_ff;       // dense FFN width (0 for MoE models)
  uint32_t n_head;     // query heads
  uint32_t n_head_kv;  // key/value heads (grouped-query attention)
  uint32_t head_dim;   // 128 for every Qwen3 model; NOT n_embd / n_head
  uint32_t n_vocab;
  uint32_t n_ctx_train;  // native context (max_position_embeddings)
  double rope_theta;
  double rms_eps;
  bool tied_embeddings;
  uint32_t n_expert;  // 0 for dense models
  uint32_t n_expert_used;
  uint32_t n_ff_expert;  // expert FFN width (moe_intermediate_size)
  bool norm_topk_prob;

  bool is_moe() const { return n_expert > 0; }
};

// The hyperparameters of a shape, as a GGUF of that model would carry them.
ModelHparams hparams_from_shape(const ModelShape& shape);

// Every published model in the catalog, in size order (test shapes excluded).
std::span<const ModelShape> model_catalog();
// Looks a catalog or test-shape name up case-insensitively; nullptr if absent.
const ModelShape* find_model_shape(std::string_view name);
// Catalog names closest to `name` (for "did you mean" errors), best first.
std::vector<std::string> nearest_model_names(std::string_view name, size_t max_results = 3);

}  // namespace longctx
