// Placeholder driver: forwards to the reference until the tiled kernels land.
#include "kernels/cpu/attention.h"

#include "core/thread_pool.h"
#include "kernels/ref_backend.h"

namespace longctx::cpu {

struct CpuAttention::Impl {};

CpuAttention::CpuAttention(Isa) : impl_(new Impl) {}
CpuAttention::~CpuAttention() { delete impl_; }

void CpuAttention::run(ThreadPool& pool, const ref::AttentionParams& params, const float* q,
                       int64_t n_q, const ref::KvView& k, const ref::KvView& v, float* out) {
  const int64_t width = params.shape.n_head * params.shape.head_dim;
  pool.run([&](int ith, int nth) {
    int64_t t0, t1;
    split_range(n_q, ith, nth, &t0, &t1);
    if (t0 == t1) return;
    ref::AttentionParams p = params;
    p.q_pos0 = params.q_pos0 + t0;
    abort_on_error(ref::attention(p, q + t0 * width, t1 - t0, k, v, out + t0 * width), "attention");
  });
}

}  // namespace longctx::cpu
