// A loaded model: hyperparameters, the mapped GGUF and every weight bound to a typed view,
// checked against the tensor list of model/tensors.h (names, shapes, types) before use. 1-D
// tensors (norms, biases) are copied to f32 at load; matrices stay in the mapped file.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/large_buffer.h"
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
  // Frees a metadata value nothing reads again (GgufFile::drop_metadata); returns its bytes.
  size_t drop_metadata(std::string_view key) { return file_.drop_metadata(key); }
  const ModelWeights& weights() const { return w_; }
  const Architecture& architecture() const { return *arch_; }

  // Bytes of tensor data in the file, and parameters per token for k active experts (all
  // weights except the unused experts and the embedding table, which is only indexed).
  uint64_t weight_bytes() const { return summary_.weight_bytes; }
  uint64_t n_params() const { return summary_.n_params; }
  uint64_t active_params(int64_t n_expert_used) const;
  const ModelSummary& summary() const { return summary_; }

  // Copies every matrix the forward pass multiplies with into one anonymous buffer on huge
  // pages, lets `backend` rewrite each copy into the layout its kernels read faster
  // (KernelBackend::repack), and drops the file's pages of those tensors from resident memory.
  // Decode streams these bytes for every token: on the file's 4 KiB pages each page needs its
  // own TLB entry and the hardware prefetchers stop at every page boundary, and an MoE
  // expert's first use after loading takes page faults. The embedding table stays in the file
  // (get_rows reads a few rows) unless the output head is tied to it. Resident memory stays the
  // size of the weights (plus one 16 MiB piece while copying); the file is never written.
  // progress(tensors visited, total) after each tensor.
  struct Placement {
    int tensors = 0;   // copied into the buffer
    int repacked = 0;  // of those, rearranged by the backend
    uint64_t bytes = 0;
  };
  Result<Placement> place_weights(KernelBackend& backend,
                                  const std::function<void(size_t, size_t)>& progress = {});

  // Sleeping (the server's --sleep-idle-seconds): release_weights gives the memory of the
  // weights back to the system (the placed copies' pages, and the file's pages this process
  // holds); restore_weights copies and rearranges the placed tensors again, as place_weights
  // did, before the next forward pass. Nothing may read the weights in between. restore
  // returns what it placed (empty when nothing was released or nothing had been placed).
  void release_weights();
  Placement restore_weights(KernelBackend& backend,
                            const std::function<void(size_t, size_t)>& progress = {});
  bool weights_released() const { return weights_released_.load(std::memory_order_acquire); }

 private:
  Model() = default;
  ModelHparams hp_;
  GgufFile file_;
  ModelWeights w_;
  const Architecture* arch_ = nullptr;
  ModelSummary summary_;
  Placement fill_placed(KernelBackend& backend,
                        const std::function<void(size_t, size_t)>& progress);
  LargeBuffer placed_;                   // the weights place_weights copied; empty before
  std::vector<uint64_t> placed_offset_;  // [model_tensors index] offset in placed_, or UINT64_MAX
  std::atomic<bool> weights_released_{false};  // written by one thread, read by any
};

}  // namespace longctx
