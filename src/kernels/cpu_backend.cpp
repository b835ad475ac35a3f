// The "cpu" kernel backend: drives the micro-kernels of one instruction-set path (kernels/cpu)
// on a persistent thread pool. A matmul converts its input rows once into the activation format
// the weight type's kernel reads (f32, bf16, Q8_0 or Q8_K), then splits the weight rows across
// threads: one activation row (decode) goes to the gemv kernel, many (prefill) to the gemm kernel
// in blocks of rows x tokens sized for the caches. Weight types without a kernel on any path fall
// back to decoding each row to f32. Attention is the tiled online-softmax kernel of
// kernels/cpu/attention; the element-wise ops are split across threads when large.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/isa.h"
#include "kernels/ref/activations.h"
#include "kernels/ref/hadamard.h"
#include "kernels/ref/norm.h"
#include "kernels/ref_backend.h"
#include "quant/quantize.h"

namespace longctx {
namespace {

using cpu::ActType;
using cpu::MatmulKernel;

// sum_i a[i] * b[i] with 8 interleaved partial sums (fallback path; a fixed order, so results do
// not depend on the thread count or the batch size).
float dot_f32(const float* a, const float* b, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
  }
  for (; i < n; ++i) acc[i & 7] += a[i] * b[i];
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

// Element-wise ops below this many elements run on the calling thread: waking the pool costs
// more than the work.
constexpr int64_t kParallelElements = 1 << 15;

// Cache blocking of the gemm: a block of weight rows (about kRowBlockBytes) is kept hot while
// the thread sweeps the activation rows in blocks of kColBlock.
constexpr size_t kRowBlockBytes = 96 << 10;
constexpr int64_t kColBlock = 32;
// Least weight bytes of one work chunk of a matrix-vector product; above that a dispatch's
// matrices together are cut into about kGemvChunksPerThread chunks per thread (see
// matmul_tasks).
constexpr size_t kGemvChunkBytes = 256 << 10;
constexpr int64_t kGemvChunksPerThread = 1;

class CpuBackend final : public RefBackend {
 public:
  CpuBackend(int n_threads, cpu::Isa isa)
      : pool_(n_threads),
        isa_(isa),
        table_(cpu::kernel_table(isa)),
        attention_(isa),
        rows_(static_cast<size_t>(pool_.size())) {}

  const char* name() const override { return "cpu"; }
  std::string describe() const override { return std::string("cpu ") + cpu::isa_name(isa_); }

  void matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, const float* bias,
              float* y) override {
    const MatmulTask task{w, x, bias, y};
    matmul_tasks(&task, 1, n_tokens);
  }

  // Per activation format, a call converts at most one input of n_batch tokens or n_inputs
  // inputs of one token (a decoded token's experts), each as long as the longest row of a
  // matrix whose kernel reads that format (the x16 kernels read the same format as the row
  // kernels of their type). Plus the attention's areas and the fallback's decoded rows.
  uint64_t scratch_bytes_for(const ScratchNeeds& needs) const override {
    size_t act[cpu::kNumActTypes] = {};
    int64_t fallback_n_in = 0;
    const size_t rows = static_cast<size_t>(std::max(needs.n_batch, needs.n_inputs));
    for (const ScratchNeeds::Matrix& m : needs.matrices) {
      const MatmulKernel* k = kernel_for(m.type, WeightLayout::kGguf);
      if (k == nullptr) {
        fallback_n_in = std::max(fallback_n_in, m.n_in);
      } else if (k->act != ActType::kF32) {
        const int a = static_cast<int>(k->act);
        act[a] = std::max(act[a], rows * cpu::act_row_bytes(k->act, m.n_in));
      }
    }
    uint64_t total =
        cpu::CpuAttention::scratch_bytes_for(needs.attention, needs.n_batch, pool_.size());
    for (size_t b : act) total += b;
    return total + static_cast<uint64_t>(pool_.size()) * fallback_n_in * sizeof(float);
  }

  uint64_t scratch_bytes() const override {
    uint64_t total = attention_.scratch_bytes();
    for (const auto& b : act_buf_) total += b.capacity();
    for (const auto& r : rows_) total += r.capacity() * sizeof(float);
    return total + embd_row_.capacity();
  }

  void matmul_multi(const WeightMatrix* ws, int n, const float* x, int64_t n_tokens,
                    const float* const* biases, float* const* ys) override {
    LONGCTX_CHECK(n >= 1 && n <= kMaxMatmulTasks);
    MatmulTask tasks[kMaxMatmulTasks];
    for (int i = 0; i < n; ++i) tasks[i] = {ws[i], x, biases ? biases[i] : nullptr, ys[i]};
    matmul_tasks(tasks, n, n_tokens);
  }

  // Each distinct (input, activation format) is converted once (q/k/v of a Q4_K_M model mix Q4_K
  // and Q6_K, which both read Q8_K; the experts of a token share its input), then one dispatch
  // gives every thread its share of the rows of every matrix.
  void matmul_tasks(const MatmulTask* tasks, int n, int64_t n_tokens) override {
    LONGCTX_CHECK(n >= 1 && n <= kMaxMatmulTasks);
    // The activation buffers and the chunk counter are shared: sessions of one engine on
    // different threads take turns per op (as the pool's jobs do).
    std::lock_guard<std::mutex> lock(op_mu_);
    const MatmulKernel* kernels[kMaxMatmulTasks];
    const void* acts[kMaxMatmulTasks];
    size_t strides[kMaxMatmulTasks];
    // Bytes each activation format needs for the distinct inputs that use it.
    size_t need[cpu::kNumActTypes] = {};
    int first_use[kMaxMatmulTasks];  // the task whose conversion task i reuses (or i itself)
    bool any_kernel = false;
    for (int i = 0; i < n; ++i) {
      const MatmulTask& t = tasks[i];
      kernels[i] = kernel_for(t.w.type, t.w.layout);
      first_use[i] = i;
      if (kernels[i] == nullptr) {
        LONGCTX_CHECK(t.w.layout == WeightLayout::kGguf);
        matmul_fallback(t.w, t.x, n_tokens, t.bias, t.y);
        continue;
      }
      any_kernel = true;
      const ActType act = kernels[i]->act;
      strides[i] = act == ActType::kF32 ? static_cast<size_t>(t.w.n_in) * sizeof(float)
                                        : cpu::act_row_bytes(act, t.w.n_in);
      for (int j = 0; j < i; ++j) {
        if (kernels[j] != nullptr && tasks[j].x == t.x && kernels[j]->act == act &&
            tasks[j].w.n_in == t.w.n_in) {
          first_use[i] = j;
          break;
        }
      }
      if (first_use[i] == i && act != ActType::kF32) {
        need[static_cast<int>(act)] += strides[i] * static_cast<size_t>(n_tokens);
      }
    }
    if (!any_kernel) return;
    for (int a = 0; a < cpu::kNumActTypes; ++a) {
      if (act_buf_[a].size() < need[a]) {
        act_buf_[a].reserve(need[a]);  // exactly: resize() alone may double the capacity
        act_buf_[a].resize(need[a]);
      }
    }
    size_t used[cpu::kNumActTypes] = {};
    for (int i = 0; i < n; ++i) {
      if (kernels[i] == nullptr) continue;
      if (first_use[i] != i) {
        acts[i] = acts[first_use[i]];
        continue;
      }
      const ActType act = kernels[i]->act;
      if (act == ActType::kF32) {
        acts[i] = tasks[i].x;
        continue;
      }
      uint8_t* dst = act_buf_[static_cast<int>(act)].data() + used[static_cast<int>(act)];
      used[static_cast<int>(act)] += strides[i] * static_cast<size_t>(n_tokens);
      quantize_activations(act, tasks[i].x, n_tokens, tasks[i].w.n_in, strides[i], dst);
      acts[i] = dst;
    }
    // Rows are cut into chunks (for one token about the dispatch's weights / threads, at least
    // kGemvChunkBytes; a cache block of rows for several) that threads claim in order from a
    // shared counter: in a dispatch of several matrices a thread that is slowed down
    // (preempted, a busier memory channel) simply claims fewer, where a fixed split would leave
    // the others waiting for it at the end of the op.
    int64_t first_chunk[kMaxMatmulTasks + 1];
    int64_t chunk_rows[kMaxMatmulTasks];
    first_chunk[0] = 0;
    size_t total_bytes = 0;  // weights of the whole dispatch
    for (int i = 0; i < n; ++i) {
      if (kernels[i] == nullptr) continue;
      total_bytes +=
          row_bytes(tasks[i].w.type, tasks[i].w.n_in) * static_cast<size_t>(tasks[i].w.n_out);
    }
    const size_t gemv_target = std::max(
        kGemvChunkBytes, total_bytes / static_cast<size_t>(kGemvChunksPerThread * pool_.size()));
    for (int i = 0; i < n; ++i) {
      int64_t chunks = 0;
      chunk_rows[i] = 1;
      if (kernels[i] != nullptr) {
        const size_t w_stride = row_bytes(tasks[i].w.type, tasks[i].w.n_in);
        // Decode streams each matrix from memory once, and each chunk starts cold (the hardware
        // prefetchers and the kernels' own prefetches need a while before lines arrive ahead of
        // the loads), so chunks are as long as the balance between threads allows: the weights
        // of the whole dispatch (the 8 experts' gate and up matrices of a MoE token together)
        // are cut into about kGemvChunksPerThread chunks per thread, each matrix into equal runs
        // of rows no longer than that. Measured against cutting each matrix into 2 chunks per
        // thread (Q4_K, repacked, from memory, 2 threads, the policies alternating per pass in
        // one process): 16 x 768 x 2048 experts 31-32 -> 33-34 GB/s, 8 x 2048 x 768 33-35 -> 36-37,
        // 0.6B q/k/v 36 -> 38-39, 0.6B o 40-41 -> 42; 8B q/k/v, o, gate/up unchanged (37-47).
        // 2 and 3 chunks per thread came within 2% of 1 on the experts; 3 left the 0.6B's o
        // 9% slower, 2 the 8B's q/k/v 4% (5 chunks for 2 threads).
        if (n_tokens == 1) {
          const size_t bytes = w_stride * static_cast<size_t>(tasks[i].w.n_out);
          const int64_t pieces = static_cast<int64_t>((bytes + gemv_target - 1) / gemv_target);
          chunk_rows[i] = round_rows((tasks[i].w.n_out + pieces - 1) / pieces, tasks[i].w.layout);
        } else {
          chunk_rows[i] = gemm_rows(tasks[i].w, w_stride);
        }
        chunks = (tasks[i].w.n_out + chunk_rows[i] - 1) / chunk_rows[i];
      }
      first_chunk[i + 1] = first_chunk[i] + chunks;
    }
    const int64_t n_chunks = first_chunk[n];
    next_chunk_.store(0, std::memory_order_relaxed);
    pool_.run([&](int, int) {
      int i = 0;
      for (;;) {
        const int64_t c = next_chunk_.fetch_add(1, std::memory_order_relaxed);
        if (c >= n_chunks) break;
        while (c >= first_chunk[i + 1]) ++i;  // claimed chunks only increase
        const int64_t r0 = (c - first_chunk[i]) * chunk_rows[i];
        const int64_t r1 = std::min(tasks[i].w.n_out, r0 + chunk_rows[i]);
        run_rows(*kernels[i], tasks[i].w, acts[i], strides[i], n_tokens, tasks[i].bias, tasks[i].y,
                 r0, r1);
      }
    });
  }

  void attention(const AttentionParams& params, const float* q, int64_t n_q, const KvView& k,
                 const KvView& v, float* out) override {
    std::lock_guard<std::mutex> lock(op_mu_);  // the attention scratch is shared
    attention_.run(pool_, params, q, n_q, k, v, out);
  }

  // A tied embedding that the output head repacked: each row is gathered from its group back
  // into GGUF order, then dequantized as the reference does.
  void get_rows(const WeightMatrix& w, const int32_t* ids, int64_t n, float* y) override {
    if (w.layout != WeightLayout::kX16) {
      RefBackend::get_rows(w, ids, n, y);
      return;
    }
    std::lock_guard<std::mutex> lock(op_mu_);  // embd_row_ is shared
    const size_t stride = row_bytes(w.type, w.n_in);
    if (embd_row_.size() < stride) embd_row_.resize(stride);  // once: the first token
    for (int64_t t = 0; t < n; ++t) {
      LONGCTX_CHECK(ids[t] >= 0 && ids[t] < w.n_out);
      LONGCTX_CHECK(cpu::x16_row(static_cast<uint32_t>(w.type), w.n_in, w.data, stride, ids[t],
                                 embd_row_.data()));
      abort_on_error(dequantize_row(w.type, embd_row_.data(), y + t * w.n_in, w.n_in), "get_rows");
    }
  }

  void rms_norm(const float* x, const float* weight, float eps, int64_t n_rows, int64_t n,
                float* y) override {
    for_rows(n_rows, n, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        abort_on_error(ref::rms_norm(x + r * n, weight, eps, n, y + r * n), "rms_norm");
      }
    });
  }

  void rope(const RopeTable& table, int64_t pos0, int64_t n_tokens, int64_t n_head,
            float* x) override {
    const int64_t hd = table.head_dim();
    for_rows(n_tokens, n_head * hd, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        abort_on_error(ref::rope_apply(table, pos0 + t, n_head, hd, x + t * n_head * hd), "rope");
      }
    });
  }

  void hadamard(float* x, int64_t n_rows, int64_t dim) override {
    for_rows(n_rows, dim,
             [&](int64_t r0, int64_t r1) { ref::hadamard_rows(x + r0 * dim, r1 - r0, dim); });
  }

  void swiglu(const float* gate, const float* up, int64_t n, float* y) override {
    // In chunks of 64 elements so threads never share a cache line of y.
    const int64_t n_chunks = (n + 63) / 64;
    for_rows(n_chunks, 64, [&](int64_t c0, int64_t c1) {
      const int64_t i0 = c0 * 64, i1 = std::min(n, c1 * 64);
      table_.swiglu(gate + i0, up + i0, i1 - i0, y + i0);
    });
  }

  void convert_row(TensorType t, const float* x, int64_t n, void* dst) override {
    const cpu::QuantizeActFn to_bf16 = table_.quantize[static_cast<int>(ActType::kBF16)];
    const cpu::QuantizeActFn to_q8 = table_.quantize[static_cast<int>(ActType::kQ8_0)];
    if (t == TensorType::F16 && table_.to_f16 != nullptr) {
      table_.to_f16(x, static_cast<uint16_t*>(dst), n);
    } else if (t == TensorType::BF16 && to_bf16 != nullptr) {
      to_bf16(x, dst, n);
    } else if (t == TensorType::Q8_0 && to_q8 != nullptr) {
      to_q8(x, dst, n);  // the matmul's activation quantizer: quantize_row's bytes
    } else {
      KernelBackend::convert_row(t, x, n, dst);
    }
  }

 private:
  const MatmulKernel* kernel_for(TensorType type, WeightLayout layout) const {
    const auto id = static_cast<uint32_t>(type);
    if (id >= static_cast<uint32_t>(cpu::kMaxTypeId)) return nullptr;
    const MatmulKernel& k =
        layout == WeightLayout::kX16 ? table_.matmul_x16[id] : table_.matmul[id];
    return k.gemv != nullptr && k.gemm != nullptr ? &k : nullptr;
  }

 public:
  // Q4_K and Q8_0 matrices with a multiple of 16 rows go to the x16 layout when this path has
  // kernels for it (AVX-512); each thread rewrites its share of the row groups.
  // Experts are back to back with the same row size, so with n_out a multiple of 16 every group
  // of 16 rows lies inside one expert: a stack repacks as one tall matrix.
  bool repackable(const WeightMatrix& w) const override {
    return x16_ready(w.type, w.layout, w.n_out);
  }
  bool repackable(const ExpertStack& s) const override {
    return x16_ready(s.type, s.layout, s.n_out);
  }
  bool repack(WeightMatrix* w) override {
    if (!repackable(*w)) return false;
    repack_rows(w->type, w->data, w->n_in, w->n_out);
    w->layout = WeightLayout::kX16;
    return true;
  }
  bool repack(ExpertStack* s) override {
    if (!repackable(*s)) return false;
    repack_rows(s->type, s->data, s->n_in, s->n_out * s->n_expert);
    s->layout = WeightLayout::kX16;
    return true;
  }
  void copy_bytes(void* dst, const void* src, size_t n) override {
    // In 2 MiB units of the destination (a huge page each), so no two threads fault one page.
    constexpr uintptr_t kUnit = uintptr_t{2} << 20;
    const auto d0 = reinterpret_cast<uintptr_t>(dst);
    const int64_t n_units = static_cast<int64_t>((d0 + n + kUnit - 1) / kUnit - d0 / kUnit);
    std::lock_guard<std::mutex> lock(op_mu_);
    pool_.run([&](int ith, int nth) {
      int64_t u0, u1;
      split_range(n_units, ith, nth, &u0, &u1);
      if (u0 >= u1) return;
      const uintptr_t b = std::max(d0, (d0 / kUnit + static_cast<uintptr_t>(u0)) * kUnit);
      const uintptr_t e = std::min(d0 + n, (d0 / kUnit + static_cast<uintptr_t>(u1)) * kUnit);
      std::memcpy(reinterpret_cast<void*>(b), static_cast<const uint8_t*>(src) + (b - d0), e - b);
    });
  }

 private:
  bool x16_ready(TensorType type, WeightLayout layout, int64_t n_out) const {
    const auto id = static_cast<uint32_t>(type);
    return layout == WeightLayout::kGguf && id < static_cast<uint32_t>(cpu::kMaxTypeId) &&
           table_.repack_x16[id] != nullptr && kernel_for(type, WeightLayout::kX16) != nullptr &&
           n_out % cpu::kX16Rows == 0;
  }

  void repack_rows(TensorType type, const void* data, int64_t n_in, int64_t n_rows) {
    const cpu::RepackFn fn = table_.repack_x16[static_cast<uint32_t>(type)];
    const size_t stride = row_bytes(type, n_in);
    auto* base = static_cast<uint8_t*>(const_cast<void*>(data));  // writable: see KernelBackend
    const int64_t n_groups = n_rows / cpu::kX16Rows;
    std::lock_guard<std::mutex> lock(op_mu_);
    pool_.run([&](int ith, int nth) {
      int64_t g0, g1;
      split_range(n_groups, ith, nth, &g0, &g1);
      if (g0 < g1) {
        fn(n_in, base + g0 * cpu::kX16Rows * stride, stride, (g1 - g0) * cpu::kX16Rows);
      }
    });
  }

  // Thread ith's rows of y = W a (+ bias): one activation row goes to gemv, several to gemm in
  // blocks of rows (kept hot in L1/L2) x tokens.
  static void run_rows(const MatmulKernel& k, const WeightMatrix& w, const void* a, size_t a_stride,
                       int64_t n_tokens, const float* bias, float* y, int64_t r0, int64_t r1) {
    const size_t w_stride = row_bytes(w.type, w.n_in);
    const auto* wbase = static_cast<const uint8_t*>(w.data);
    const auto* abase = static_cast<const uint8_t*>(a);
    if (n_tokens == 1) {
      k.gemv(w.n_in, wbase + r0 * w_stride, w_stride, r1 - r0, a, y + r0);
    } else {
      const int64_t rb = gemm_rows(w, w_stride);
      for (int64_t rs = r0; rs < r1; rs += rb) {
        const int64_t nr = std::min(rb, r1 - rs);
        for (int64_t cs = 0; cs < n_tokens; cs += kColBlock) {
          const int64_t nc = std::min(kColBlock, n_tokens - cs);
          k.gemm(w.n_in, wbase + rs * w_stride, w_stride, nr, abase + cs * a_stride, a_stride, nc,
                 y + cs * w.n_out + rs, static_cast<size_t>(w.n_out));
        }
      }
    }
    if (bias != nullptr) {
      for (int64_t t = 0; t < n_tokens; ++t) {
        float* yt = y + t * w.n_out;
        for (int64_t r = r0; r < r1; ++r) yt[r] += bias[r];
      }
    }
  }

  // Rows of a chunk come in multiples of the kernels' register tile height (4; 16 for an x16
  // matrix, whose kernels take whole groups), so no chunk ends in a ragged tile in the middle
  // of the matrix.
  static int64_t row_granule(WeightLayout layout) {
    return layout == WeightLayout::kX16 ? cpu::kX16Rows : 4;
  }

  // Rows of w_stride bytes that fill about `bytes`, a multiple of the granule (at least one).
  static int64_t rows_per(size_t bytes, size_t w_stride, WeightLayout layout) {
    const int64_t granule = row_granule(layout);
    const int64_t rows = static_cast<int64_t>(bytes / std::max<size_t>(w_stride, 1));
    return std::max<int64_t>(granule, rows / granule * granule);
  }

  // Rows of one gemm call: about kRowBlockBytes of weights (kept hot while the call sweeps its
  // columns), and for x16 Q8_0 at least 4 groups: that kernel builds a table of its columns'
  // activation sums per call, which costs as much as a quarter of one group's products.
  static int64_t gemm_rows(const WeightMatrix& w, size_t w_stride) {
    const int64_t r = rows_per(kRowBlockBytes, w_stride, w.layout);
    if (w.layout == WeightLayout::kX16 && w.type == TensorType::Q8_0) {
      return std::max<int64_t>(r, 4 * cpu::kX16Rows);
    }
    return r;
  }

  // rows rounded up to the layout's row granule.
  static int64_t round_rows(int64_t rows, WeightLayout layout) {
    const int64_t granule = row_granule(layout);
    return (rows + granule - 1) / granule * granule;
  }

  // Runs fn(begin, end) over rows of `width` elements, on the pool when the op is large.
  template <class Fn>
  void for_rows(int64_t n_rows, int64_t width, Fn&& fn) {
    if (n_rows * width < kParallelElements || n_rows < 2 || pool_.size() == 1) {
      fn(int64_t{0}, n_rows);
      return;
    }
    pool_.run([&](int ith, int nth) {
      int64_t r0, r1;
      split_range(n_rows, ith, nth, &r0, &r1);
      if (r0 < r1) fn(r0, r1);
    });
  }

  // Converts x[n_tokens][n_in] into an activation format at dst (rows a_stride apart).
  void quantize_activations(ActType act, const float* x, int64_t n_tokens, int64_t n_in,
                            size_t a_stride, uint8_t* dst) {
    const cpu::QuantizeActFn q = table_.quantize[static_cast<int>(act)];
    LONGCTX_CHECK(q != nullptr);
    for_rows(n_tokens, n_in, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) q(x + t * n_in, dst + t * a_stride, n_in);
    });
  }

  // Types no path has a kernel for: decode each weight row to f32 once, dot with every token.
  void matmul_fallback(const WeightMatrix& w, const float* x, int64_t n_tokens, const float* bias,
                       float* y) {
    const size_t row_size = row_bytes(w.type, w.n_in);
    const auto* base = static_cast<const uint8_t*>(w.data);
    pool_.run([&](int ith, int nth) {
      std::vector<float>& row = rows_[static_cast<size_t>(ith)];
      if (row.size() < static_cast<size_t>(w.n_in)) {
        row.reserve(static_cast<size_t>(w.n_in));
        row.resize(static_cast<size_t>(w.n_in));
      }
      int64_t r0, r1;
      split_range(w.n_out, ith, nth, &r0, &r1);
      for (int64_t r = r0; r < r1; ++r) {
        abort_on_error(dequantize_row(w.type, base + r * row_size, row.data(), w.n_in), "matmul");
        const float b = bias ? bias[r] : 0.0f;
        for (int64_t t = 0; t < n_tokens; ++t) {
          y[t * w.n_out + r] = dot_f32(row.data(), x + t * w.n_in, w.n_in) + b;
        }
      }
    });
  }

  ThreadPool pool_;
  std::mutex op_mu_;  // serialises the ops that use shared scratch (matmul, attention)
  std::atomic<int64_t> next_chunk_{0};  // matmul work chunks claimed so far
  cpu::Isa isa_;
  const cpu::KernelTable& table_;
  cpu::CpuAttention attention_;
  std::vector<uint8_t> act_buf_[cpu::kNumActTypes];  // converted activations per format, grown
                                                     // to the largest batch of products
  std::vector<std::vector<float>> rows_;             // fallback: per thread, one decoded weight row
  std::vector<uint8_t> embd_row_;                    // get_rows: one row of an x16 embedding
};

}  // namespace

Result<std::unique_ptr<KernelBackend>> make_cpu_backend(int n_threads, std::string_view isa) {
  auto path = cpu::select_isa(isa);
  if (!path) return path.status();
  const int threads = n_threads > 0 ? n_threads : ThreadPool::default_threads();
  return std::unique_ptr<KernelBackend>(std::make_unique<CpuBackend>(threads, *path));
}

}  // namespace longctx
