// Flash-style attention of the cpu backend: causal GQA attention over the KV cache in tiles with
// an online softmax, never materialising the score matrix; K and V (f32, f16 or bf16) are read
// once per query block. Same contract and numerics target as ref::attention.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/ref/attention.h"

namespace longctx {
class ThreadPool;
}

namespace longctx::cpu {

class CpuAttention {
 public:
  explicit CpuAttention(Isa isa);
  ~CpuAttention();
  CpuAttention(const CpuAttention&) = delete;
  CpuAttention& operator=(const CpuAttention&) = delete;

  // out[n_q][n_head][head_dim] = attention of q[n_q][n_head][head_dim] (query t at position
  // params.q_pos0 + t) over k/v, split across the pool's threads. Scratch memory grows on the
  // first call of a new size and is reused afterwards.
  void run(ThreadPool& pool, const ref::AttentionParams& params, const float* q, int64_t n_q,
           const ref::KvView& k, const ref::KvView& v, float* out);

  // Bytes of scratch held now, and the most calls of up to n_q_max queries of `shape` on nth
  // threads can make it hold (over any cache length).
  size_t scratch_bytes() const;
  static size_t scratch_bytes_for(const ref::AttentionShape& shape, int64_t n_q_max, int nth);

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace longctx::cpu
