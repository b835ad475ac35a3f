// A loaded model: hyperparameters, the mapped GGUF and every weight bound to a typed view,
// checked against the tensor list of model/tensors.h (names, shapes, types) before use. 1-D
// tensors (norms, biases) are copied to f32 at load; matrices stay in the mapped file.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "gguf/gguf.h"
#include "kernels/backend.h"
#include "model/hparams.h"
#include "model/model_summary.h"

namespace longctx {

struct Architecture;

// The weights of one decoder layer. Matrices are [n_in] -> [n_out] in ggml layout; vectors f32.
struct LayerWeights {
  std::vector<float> attn_norm;            // [n_embd]
  WeightMatrix attn_q;                     // [n_embd] -> [n_head * head_dim]
  WeightMatrix attn_k;                     // [n_embd] -> [n_head_kv * head_dim]
  WeightMatrix attn_v;                     // [n_embd] -> [n_head_kv * head_dim_v]
  WeightMatrix attn_out;                   // [n_head * head_dim_v] -> [n_embd]
  std::vector<float> attn_q_bias;          // [n_head * head_dim]     (qwen2 only)
  std::vector<float> attn_k_bias;          // [n_head_kv * head_dim]  (qwen2 only)
  std::vector<float> attn_v_bias;          // [n_head_kv * head_dim_v] (qwen2 only)
  std::vector<float> attn_q_norm;          // [head_dim] (qwen3, qwen3moe)
  std::vector<float> attn_k_norm;          // [head_dim] (qwen3, qwen3moe)
  std::vector<float> ffn_norm;             // [n_embd]
  WeightMatrix ffn_gate, ffn_up;           // dense: [n_embd] -> [n_ff]
  WeightMatrix ffn_down;                   // dense: [n_ff] -> [n_embd]
  WeightMatrix ffn_router;                 // MoE: [n_embd] -> [n_expert]
  ExpertStack ffn_gate_exps, ffn_up_exps;  // MoE: n_expert x ([n_embd] -> [n_ff_expert])
  ExpertStack ffn_down_exps;               // MoE: n_expert x ([n_ff_expert] -> [n_embd])
};

struct ModelWeights {
  WeightMatrix token_embd;         // [n_embd] -> [n_vocab]: row t is token t's embedding
  std::vector<float> output_norm;  // [n_embd]
  WeightMatrix output;             // [n_embd] -> [n_vocab]; token_embd when tied
  std::vector<LayerWeights> layers;
};

struct ModelLoadOptions {
  // Called with (tensors bound so far, total) while binding; for progress bars.
  std::function<void(size_t done, size_t total)> progress;
};

class Model {
 public:
  // Opens and validates the GGUF: a known architecture, consistent hyperparameters, every
  // tensor of the list present with its shape and a supported type. Errors name the tensor.
  static Result<std::unique_ptr<Model>> load(const std::string& path,
                                             const ModelLoadOptions& options = {});
  // The same over an already opened file (tests).
  static Result<std::unique_ptr<Model>> from_gguf(GgufFile file,
                                                  const ModelLoadOptions& options = {});

  const ModelHparams& hparams() const { return hp_; }
  const GgufFile& gguf() const { return file_; }
  const ModelWeights& weights() const { return w_; }
  const Architecture& architecture() const { return *arch_; }

  // Bytes of tensor data in the file, and parameters per token for k active experts (all
  // weights except the unused experts and the embedding table, which is only indexed).
  uint64_t weight_bytes() const { return summary_.weight_bytes; }
  uint64_t n_params() const { return summary_.n_params; }
  uint64_t active_params(int64_t n_expert_used) const;
  const ModelSummary& summary() const { return summary_; }

  // Lets `backend` rewrite matrices in place into the layouts its kernels read faster
  // (KernelBackend::repack): every matrix the forward pass only multiplies with, never the
  // embedding table (rows are looked up) or an output tied to it. Only for a mapped file: the
  // written pages become private copies of the mapping, so resident memory stays the size of
  // the weights and the file is untouched. Returns the number of tensors repacked.
  // progress(tensors visited, total) after each tensor.
  Result<int> repack_weights(KernelBackend& backend,
                             const std::function<void(size_t, size_t)>& progress = {});

 private:
  Model() = default;
  ModelHparams hp_;
  GgufFile file_;
  ModelWeights w_;
  const Architecture* arch_ = nullptr;
  ModelSummary summary_;
};

}  // namespace longctx
