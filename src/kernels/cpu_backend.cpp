// The "cpu" kernel backend: the portable multithreaded path. Matmul rows are split across a
// persistent thread pool; each thread decodes a weight row once into f32 and dots it with every
// input vector of the batch in single precision with 8 independent partial sums (which the
// compiler vectorises for any x86-64 / ARM target). The element-wise ops are the reference's. The
// per-ISA SIMD kernels (AVX2, AVX-512) replace these loops behind the same interface.
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/ref_backend.h"
#include "quant/quantize.h"

namespace longctx {
namespace {

// sum_i a[i] * b[i] with 8 interleaved partial sums (a fixed order, so results do not depend on
// the thread count or the batch size).
float dot_f32(const float* a, const float* b, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
  }
  for (; i < n; ++i) acc[i & 7] += a[i] * b[i];
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

// Overrides the heavy ops (matmul, attention); the element-wise ones stay the reference's.
class CpuBackend final : public RefBackend {
 public:
  explicit CpuBackend(int n_threads) : pool_(n_threads), rows_(static_cast<size_t>(n_threads)) {}

  const char* name() const override { return "cpu"; }

  void matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, const float* bias,
              float* y) override {
    const size_t row_size = row_bytes(w.type, w.n_in);
    const auto* base = static_cast<const uint8_t*>(w.data);
    pool_.run([&](int ith, int nth) {
      std::vector<float>& row = rows_[static_cast<size_t>(ith)];
      if (row.size() < static_cast<size_t>(w.n_in)) row.resize(static_cast<size_t>(w.n_in));
      int64_t r0, r1;
      split_range(w.n_out, ith, nth, &r0, &r1);
      for (int64_t r = r0; r < r1; ++r) {
        const float* wr = row.data();
        const uint8_t* src = base + static_cast<size_t>(r) * row_size;
        if (w.type == TensorType::F32 && reinterpret_cast<uintptr_t>(src) % alignof(float) == 0) {
          wr = reinterpret_cast<const float*>(src);  // GGUF data is aligned: no copy
        } else {
          abort_on_error(dequantize_row(w.type, src, row.data(), w.n_in), "matmul");
        }
        const float b = bias ? bias[r] : 0.0f;
        for (int64_t t = 0; t < n_tokens; ++t) {
          y[t * w.n_out + r] = dot_f32(wr, x + t * w.n_in, w.n_in) + b;
        }
      }
    });
  }

  void attention(const AttentionParams& params, const float* q, int64_t n_q, const KvView& k,
                 const KvView& v, float* out) override {
    // Queries are independent: split them across threads (prefill); decode runs on one.
    const int64_t width = params.shape.n_head * params.shape.head_dim;
    pool_.run([&](int ith, int nth) {
      int64_t t0, t1;
      split_range(n_q, ith, nth, &t0, &t1);
      if (t0 == t1) return;
      AttentionParams p = params;
      p.q_pos0 = params.q_pos0 + t0;
      abort_on_error(ref::attention(p, q + t0 * width, t1 - t0, k, v, out + t0 * width),
                     "attention");
    });
  }

 private:
  ThreadPool pool_;
  std::vector<std::vector<float>> rows_;  // per thread: one decoded weight row [n_in]
};

}  // namespace

std::unique_ptr<KernelBackend> make_cpu_backend(int n_threads) {
  return std::make_unique<CpuBackend>(n_threads > 0 ? n_threads : ThreadPool::default_threads());
}

}  // namespace longctx
