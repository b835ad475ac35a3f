// The forward pass on an NVIDIA GPU: the model's weights copied to device memory once
// (CudaWeights), and per sequence a device KV cache and activations (CudaSequence) that run the
// same blocks as model/blocks.cpp with the kernels of kernels/cuda. Only the token ids go to the
// device and only the requested logits come back. Plain C++: in a build without CUDA every call
// returns the "built without CUDA" error of kernels/cuda/cuda_absent.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/status.h"
#include "kernels/cuda/cuda_api.h"
#include "kv/kv_cache.h"
#include "model/model.h"

namespace longctx {

class CudaWeights {
 public:
  // Copies every weight the forward pass reads (in GGUF layout: the model must not have been
  // repacked for the CPU) into one device allocation. progress(bytes done, total).
  static Result<std::unique_ptr<CudaWeights>> upload(
      const Model& model, const std::function<void(uint64_t, uint64_t)>& progress = {});
  // Device bytes of the weights: what the planner counts as weights.
  uint64_t bytes() const { return buf_.size(); }

  struct Layer {
    const float *attn_norm = nullptr, *q_norm = nullptr, *k_norm = nullptr, *ffn_norm = nullptr;
    const float *q_bias = nullptr, *k_bias = nullptr, *v_bias = nullptr;
    WeightMatrix attn_q, attn_k, attn_v, attn_out, ffn_gate, ffn_up, ffn_down, ffn_router;
    ExpertStack gate_exps, up_exps, down_exps;
  };
  WeightMatrix token_embd, output;  // data: device pointers
  const float* output_norm = nullptr;
  std::vector<Layer> layers;

 private:
  cuda::DeviceBuffer buf_;
};

class CudaSequence {
 public:
  // A device KV cache of the host cache's shape and options (same layout, so the two can be
  // mirrored) and activations for n_batch tokens (MoE: up to every expert per token).
  static Result<std::unique_ptr<CudaSequence>> create(const Model& model, const CudaWeights& w,
                                                      const KvShape& shape,
                                                      const KvCacheOptions& kv, int64_t n_batch);
  uint64_t kv_bytes() const { return k_.size() + v_.size(); }
  uint64_t compute_bytes() const { return scratch_.size(); }
  // Decode steps launched as one CUDA graph so far (tests: the graph path really ran).
  int64_t graph_steps() const { return graph_.launches(); }

  // Tokens [n] (1 <= n <= n_batch) at positions [pos0, pos0 + n) with RoPE frequencies
  // `inv_freq` (head_dim / 2) and cos/sin scale `attention_factor`, k experts per token (MoE).
  // The final-normed hidden states stay on the device for logits().
  Status forward(const int32_t* tokens, int64_t n, int64_t pos0,
                 const std::vector<double>& inv_freq, double attention_factor, int64_t k);
  // Logits of hidden rows [row0, row0 + n_rows) of the last forward, copied to host
  // logits[n_rows][n_vocab].
  Status logits(int64_t row0, int64_t n_rows, float* host_logits);

  // The cache's positions [p0, p1) copied from the device into `host` (same shape and types),
  // or from `host` to the device: how host-side sequence operations (save, restore, shift,
  // copy) work on a device cache.
  Status pull(KvCache& host, int64_t p0, int64_t p1) const;
  Status push(const KvCache& host, int64_t p0, int64_t p1);

 private:
  const Model* model_ = nullptr;
  const CudaWeights* w_ = nullptr;
  KvShape shape_;
  KvCacheOptions kv_;
  int64_t n_batch_ = 0, n_tokens_ = 0;
  size_t k_layer_ = 0, v_layer_ = 0, k_token_ = 0, v_token_ = 0;
  cuda::DeviceBuffer k_, v_, scratch_;
  // Views into scratch_ (floats unless named).
  float *x_ = nullptr, *h_ = nullptr, *q_ = nullptr, *kk_ = nullptr, *vv_ = nullptr,
        *attn_ = nullptr, *gate_ = nullptr, *up_ = nullptr, *router_ = nullptr, *ew_ = nullptr,
        *ye_ = nullptr, *logits_ = nullptr, *att_scratch_ = nullptr;
  int32_t *ids_ = nullptr, *experts_ = nullptr;
  double* inv_freq_ = nullptr;
  std::vector<double> inv_freq_host_;  // what inv_freq_ holds
  int64_t logit_rows_ = 0;             // rows logits_ has room for
  cuda::Stream stream_;
  cuda::Graph graph_;       // the decode step (one token), re-captured and updated each step
  bool use_graphs_ = true;  // off with LONGCTX_CUDA_GRAPHS=0, or after a capture failed
  // Every kernel of one forward pass over the tokens already on the device.
  Status layers(int64_t n, int64_t pos0, double attention_factor, int64_t k);
};

}  // namespace longctx
