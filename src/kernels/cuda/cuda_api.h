// The CUDA backend's kernels and device queries, behind a plain C++ interface (no CUDA header
// leaks out, so the rest of the project builds the same with or without the toolkit). Built from
// the .cu files of this folder when CMake finds nvcc (LONGCTX_CUDA); otherwise cuda_absent.cpp
// answers every call with "built without CUDA". Pointers named d_* are device memory.
//
// Status: these kernels compile here (nvcc 13) but have only run where a GPU was lent; see
// docs/CUDA.md for what has been verified on a device and what has not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "quant/types.h"

namespace longctx::cuda {

// Whether this binary contains the CUDA backend.
bool built_with_cuda();

struct DeviceInfo {
  int index = 0;
  std::string name;  // e.g. "NVIDIA H100 80GB HBM3"
  int cc_major = 0, cc_minor = 0;
  int sm_count = 0;
  uint64_t total_memory = 0;  // bytes
  uint64_t free_memory = 0;   // bytes, when queried
  // Memory clock x bus width x 2 (DDR), bytes/s; 0 where the driver does not report them.
  double peak_bandwidth = 0;
};

// The GPUs the CUDA runtime sees. An error (never a crash) when the binary has no CUDA, the
// driver is missing or too old for this build, or there is no device; the message says which.
Result<std::vector<DeviceInfo>> devices();

// Read bandwidth of device `index` in bytes/s: a kernel sums a `bytes`-sized buffer (the best of
// a few runs after a warm-up), which is what a decode step does with the weights.
Result<double> measure_read_bandwidth(int index, uint64_t bytes);

// Bytes of device `index`'s memory in use (total - free, all processes), for comparing what a
// run planned with what the driver says it took.
Result<uint64_t> device_memory_in_use(int index);

// Device memory owned by one object (cudaMalloc / cudaFree on the current device).
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  static Result<DeviceBuffer> allocate(size_t bytes);
  DeviceBuffer(DeviceBuffer&& o) noexcept : p_(o.p_), n_(o.n_) { o.p_ = nullptr, o.n_ = 0; }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
  ~DeviceBuffer();
  void* data() const { return p_; }
  size_t size() const { return n_; }
  template <class T>
  T* as() const {
    return static_cast<T*>(p_);
  }

 private:
  void* p_ = nullptr;
  size_t n_ = 0;
};

Status copy_to_device(void* d_dst, const void* src, size_t bytes);
Status copy_to_host(void* dst, const void* d_src, size_t bytes);
// Waits for the device and reports the first error of a kernel launched before.
Status synchronize();
// Milliseconds of device time `launch` takes (its launches between two events), the best of
// `reps` runs after one warm-up.
Result<double> time_ms(const std::function<Status()>& launch, int reps);

// --- streams and graphs -------------------------------------------------------------------------

// The stream this thread's kernels launch on (nullptr: the legacy default stream).
void* current_stream();
// A stream of one's own (blocking: work on the legacy default stream, such as copy_to_host,
// waits for it), created on first use.
class Stream {
 public:
  Stream() = default;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  ~Stream();
  Result<void*> get();

 private:
  void* s_ = nullptr;
};
// Makes `stream` the calling thread's current stream while it lives.
class StreamScope {
 public:
  explicit StreamScope(void* stream);
  ~StreamScope();
  StreamScope(const StreamScope&) = delete;
  StreamScope& operator=(const StreamScope&) = delete;

 private:
  void* prev_;
};
// A decode step as one CUDA graph: run() captures what `body` launches on `stream` (the body must
// only launch kernels and async work there), updates the instantiated graph in place when the
// shapes match the last capture (only arguments such as the position changed) or instantiates
// it anew, and launches it. Launching ~700 kernels one by one costs more than a decode step's
// memory traffic on a fast GPU; a graph launches them back to back.
class Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  ~Graph();
  // *graph_failed tells a failure of the graph machinery (capture, instantiation, launch: the
  // caller may run the body without a graph) from an error of the body itself.
  Status run(void* stream, const std::function<Status()>& body, bool* graph_failed);
  // Steps launched as a graph so far.
  int64_t launches() const { return launches_; }

 private:
  void* exec_ = nullptr;  // cudaGraphExec_t
  int64_t launches_ = 0;
};
// copy_to_device on the current stream, ordered with its kernels (and allowed before a capture).
Status copy_to_device_async(void* d_dst, const void* src, size_t bytes);

// --- kernels (launched on the current stream; check with synchronize()) -----------------------

// Whether matvec reads weights of type t straight from their GGUF blocks.
bool matvec_supported(TensorType t);
// y[t][r] = sum_i W[r][i] x[t][i] (+ bias[r]) for t < n_tokens: W is n_out rows of n_in elements
// in its GGUF block format (row r at d_w + r * row_bytes(type, n_in)), x[n_tokens][n_in],
// y[n_tokens][n_out], d_bias[n_out] or nullptr. Decode-sized n_tokens (any count is correct; the
// kernel is built for up to 8 and loops over groups of 8). One warp per row. d_x must be
// 16-byte aligned (it is read as float4).
Status matvec(TensorType type, const void* d_w, int64_t n_out, int64_t n_in, const float* d_x,
              int64_t n_tokens, const float* d_bias, float* d_y);

// RMSNorm of n_rows rows of width n: y = x / sqrt(mean(x^2) + eps) * w (y may alias x).
Status rms_norm(const float* d_x, const float* d_w, float eps, int64_t n_rows, int64_t n,
                float* d_y);
// NeoX RoPE in place on x[n_tokens][n_head][head_dim], token t at position pos0 + t:
// angle = pos * inv_freq[i] (computed in double, as the CPU table is), cos and sin scaled by
// attention_factor. d_inv_freq has head_dim / 2 doubles.
Status rope_neox(const double* d_inv_freq, double attention_factor, int64_t pos0, int64_t n_tokens,
                 int64_t n_head, int64_t head_dim, float* d_x);
// y[i] = silu(gate[i]) * up[i] (y may alias gate or up).
Status swiglu(const float* d_gate, const float* d_up, int64_t n, float* d_y);
// ref::hadamard_rows in place on n_rows rows of dim floats (quantized KV halves are stored
// rotated).
Status hadamard(float* d_x, int64_t n_rows, int64_t dim);
// x[i] += y[i].
Status add_into(float* d_x, const float* d_y, int64_t n);

// Rows ids[t] (device int32, each in [0, rows)) of a weight of type `type` with rows of n_in
// elements, dequantized: y[n][n_in]. The embedding lookup.
Status get_rows(TensorType type, const void* d_w, int64_t n_in, const int32_t* d_ids, int64_t n,
                float* d_y);

// The KV cache types the CUDA kernels store and read: f32, f16, bf16, q8_0, q4_0.
bool kv_type_supported(TensorType t);
// n floats written as type t at d_dst (a run of KV cache rows): the bytes of the CPU's
// quantize_row_lenient (round to nearest even for f16 / bf16; ggml's Q8_0 / Q4_0 rounding;
// a non-finite element of a block type stored as 0).
Status convert_rows(TensorType t, const float* d_src, int64_t n, void* d_dst);

// Causal GQA attention as ref::attention: query t (at position q_pos0 + t) of head h attends to
// keys 0 .. q_pos0 + t of kv head h / (n_head / n_head_kv):
//   q[n_q][n_head][head_dim] -> out[n_q][n_head][head_dim_v]
// over K [n_kv][n_head_kv][head_dim] of type_k and V [n_kv][n_head_kv][head_dim_v] of type_v
// (any kv_type_supported type), head sizes up to 256. scale 0 = 1 / sqrt(head_dim).
struct AttentionArgs {
  int64_t n_head = 0, n_head_kv = 0, head_dim = 0, head_dim_v = 0;
  int64_t q_pos0 = 0;
  float scale = 0.0f;
  TensorType type_k = TensorType::F16, type_v = TensorType::F16;
  const void* d_k = nullptr;
  const void* d_v = nullptr;
  int64_t n_kv = 0;
  float* d_scratch = nullptr;  // attention_scratch_bytes(n_q, n_head, head_dim_v) bytes
};
// Device scratch one attention call of n_q queries needs (the splits' partial results).
size_t attention_scratch_bytes(int64_t n_q, int64_t n_head, int64_t head_dim_v);
Status attention(const AttentionArgs& args, const float* d_q, int64_t n_q, float* d_out);

// MoE router: for each of n_tokens rows of logits[n_expert], p = softmax, the k largest p (ties:
// lower expert first), written in increasing expert id: ids[t][k], w[t][k] = p or, with renorm,
// p / sum of the chosen p. n_expert <= 1024, k <= 128.
Status moe_route(const float* d_logits, int64_t n_tokens, int64_t n_expert, int64_t k, bool renorm,
                 int32_t* d_ids, float* d_w);
// Pair p < n_pairs: y[p][n_out] = W_{ids[p]} x[p / x_group], the expert matrices stacked in
// d_stack (expert e at e * n_out * row_bytes(type, n_in)). x_group = k shares each token's input
// among its k experts (gate, up); 1 gives every pair its own input (down).
Status matvec_experts(TensorType type, const void* d_stack, int64_t n_out, int64_t n_in,
                      const int32_t* d_ids, int64_t n_pairs, int64_t x_group, const float* d_x,
                      float* d_y);
// x[t][i] += sum_j w[t][j] ye[t * k + j][i] for t < n_tokens, i < d, j in order.
Status moe_combine(const float* d_ye, const float* d_w, int64_t n_tokens, int64_t k, int64_t d,
                   float* d_x);

}  // namespace longctx::cuda
