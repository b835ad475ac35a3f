// The kernel interface the model code calls: matmul over packed weights, embedding rows, RMSNorm,
// RoPE, attention over the KV cache, SwiGLU. A backend says which tensor types it supports; the
// engine picks one backend at load and the model code never names a kernel. Today: "ref" (the
// scalar oracle of kernels/ref); SIMD and CUDA backends implement the same interface.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "kernels/ref/attention.h"
#include "kernels/ref/matmul.h"
#include "kernels/ref/rope.h"
#include "quant/types.h"

namespace longctx {

using ref::AttentionParams;
using ref::ExpertStack;
using ref::KvView;
using ref::RopeTable;
using ref::WeightLayout;
using ref::WeightMatrix;

enum class KernelOp {
  kMatmul,     // type = weight type
  kGetRows,    // type = embedding type
  kAttention,  // type = K/V cache type
};

// What forward passes ask of a backend, so it can bound its own scratch (converted activations,
// attention work areas) before the first token.
struct ScratchNeeds {
  int64_t n_batch = 1;   // most tokens of one call
  int64_t n_inputs = 1;  // most distinct inputs of one matmul_tasks call (a token's k experts)
  ref::AttentionShape attention;
  struct Matrix {
    TensorType type = TensorType::F32;
    int64_t n_in = 0;
  };
  std::vector<Matrix> matrices;  // every matrix multiplied with (its type and row length)
};

// Shapes and pointers are programmer invariants here (the loader has checked every tensor), so
// the calls return nothing and check with LONGCTX_CHECK.
class KernelBackend {
 public:
  virtual ~KernelBackend() = default;
  virtual const char* name() const = 0;
  // A one-line description for logs and benchmarks (e.g. "cpu avx512": backend and instruction
  // set).
  virtual std::string describe() const { return name(); }
  virtual bool supports(KernelOp op, TensorType type) const = 0;

  // y[t][r] = sum_i W[r][i] * x[t][i] (+ bias[r]):  x[n_tokens][n_in], y[n_tokens][n_out],
  // bias[n_out] or nullptr. y must not alias x.
  virtual void matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, const float* bias,
                      float* y) = 0;
  // The most bytes of scratch the backend itself allocates (beyond the caller's buffers) for
  // forward passes with these needs, and what it holds now (<= that bound after such passes).
  virtual uint64_t scratch_bytes_for(const ScratchNeeds& needs) const {
    (void)needs;
    return 0;
  }
  virtual uint64_t scratch_bytes() const { return 0; }
  // Several products of the same input, e.g. the q/k/v or gate/up projections: for each i < n,
  // ys[i] = ws[i] x (+ biases[i], which may be nullptr; biases itself may be nullptr). One pass
  // lets a backend convert x once and run all products in one dispatch.
  virtual void matmul_multi(const WeightMatrix* ws, int n, const float* x, int64_t n_tokens,
                            const float* const* biases, float* const* ys) {
    for (int i = 0; i < n; ++i) matmul(ws[i], x, n_tokens, biases ? biases[i] : nullptr, ys[i]);
  }
  // Independent products run as one batch, e.g. the k experts of a decoded token: task i computes
  // y = w x (+ bias) over n_tokens rows. Tasks may share inputs (converted once per format then)
  // but no y may alias any x. 1 <= n <= kMaxMatmulTasks.
  struct MatmulTask {
    WeightMatrix w;
    const float* x = nullptr;
    const float* bias = nullptr;
    float* y = nullptr;
  };
  static constexpr int kMaxMatmulTasks = 64;
  virtual void matmul_tasks(const MatmulTask* tasks, int n, int64_t n_tokens) {
    for (int i = 0; i < n; ++i) matmul(tasks[i].w, tasks[i].x, n_tokens, tasks[i].bias, tasks[i].y);
  }
  // memcpy(dst, src, n) (no overlap) on the backend's threads. Placing weights in new memory
  // uses it: there the kernel's page faults and zeroing of fresh pages cost as much as the copy.
  virtual void copy_bytes(void* dst, const void* src, size_t n);
  // Rewrites a matrix (or every expert of a stack) in place, same bytes, into a layout this
  // backend's matmul reads faster, when it has one for the type and shape; returns whether it did
  // (then `layout` names the new layout). The bytes must be writable and, from then on, read by
  // this backend only (its matmul, and its get_rows for a tied embedding), never by another.
  // Whether repack would rewrite it.
  virtual bool repackable(const WeightMatrix& w) const {
    (void)w;
    return false;
  }
  virtual bool repackable(const ExpertStack& s) const {
    (void)s;
    return false;
  }
  virtual bool repack(WeightMatrix* w) {
    (void)w;
    return false;
  }
  virtual bool repack(ExpertStack* s) {
    (void)s;
    return false;
  }
  // y[t] = row ids[t] of W, dequantized: y[n][n_in]. ids are in [0, n_out).
  virtual void get_rows(const WeightMatrix& w, const int32_t* ids, int64_t n, float* y) = 0;
  // RMSNorm of each of n_rows rows of width n: x[n_rows][n] -> y (may alias x), weight[n].
  virtual void rms_norm(const float* x, const float* weight, float eps, int64_t n_rows, int64_t n,
                        float* y) = 0;
  // NeoX RoPE in place on x[n_tokens][n_head][head_dim], token t at position pos0 + t; the
  // table's window must cover those positions.
  virtual void rope(const RopeTable& table, int64_t pos0, int64_t n_tokens, int64_t n_head,
                    float* x) = 0;
  // Causal GQA attention of n_q queries (at positions q_pos0 + t) over the first n_kv cached
  // keys/values: q[n_q][n_head][head_dim] -> out[n_q][n_head][head_dim].
  virtual void attention(const AttentionParams& params, const float* q, int64_t n_q,
                         const KvView& k, const KvView& v, float* out) = 0;
  // Writes n floats as type t (a KV cache row: F32, F16, BF16 rounding to nearest even as
  // quant/float16.h does, or Q8_0 / Q4_0 blocks with the bytes of quantize_row_lenient) at dst.
  virtual void convert_row(TensorType t, const float* x, int64_t n, void* dst);
  // y[i] = silu(gate[i]) * up[i] over n elements; y may alias gate or up.
  virtual void swiglu(const float* gate, const float* up, int64_t n, float* y) = 0;
  // The Walsh-Hadamard rotation of ref::hadamard_rows, in place on x[n_rows][dim] (the heads of
  // q, k, v or the attention output when a KV cache type is quantized).
  virtual void hadamard(float* x, int64_t n_rows, int64_t dim);
};

// The scalar reference backend (single-threaded, double accumulation): the oracle.
std::unique_ptr<KernelBackend> make_ref_backend();

// The multithreaded CPU backend (n_threads <= 0: all cores) on an instruction-set path: "auto"
// (the best this CPU runs, or the LONGCTX_ISA environment variable), "scalar", "avx2", "avx512".
// Error if the CPU cannot run the named path.
Result<std::unique_ptr<KernelBackend>> make_cpu_backend(int n_threads, std::string_view isa);

// A backend by name: "ref", "cpu" (path chosen by `isa`), "cpu-scalar" / "cpu-avx2" /
// "cpu-avx512" (that path, whatever `isa` says); "auto" = "cpu". Unknown names are an error
// listing the known ones.
Result<std::unique_ptr<KernelBackend>> make_backend(std::string_view name, int n_threads,
                                                    std::string_view isa = "auto");

}  // namespace longctx
