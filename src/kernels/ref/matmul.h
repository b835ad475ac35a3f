// Scalar reference matrix-vector products y = W x (+ b) for weights stored as GGUF tensors of
// any type with a dequantizer, one input vector or a batch. Each packed row is decoded with
// quant/quantize.h's dequantize_row and dotted in double precision.
#pragma once

#include <cstdint>

#include "core/status.h"
#include "gguf/gguf.h"
#include "quant/types.h"

namespace longctx::ref {

// How a matrix's bytes are arranged: as in the GGUF file (rows one after another), or rearranged
// in place at load by a backend (KernelBackend::repack) for its own kernels: then only that
// backend's matmul may read them.
enum class WeightLayout : uint8_t {
  kGguf = 0,
  // Groups of 16 rows interleaved per block (the cpu backend's AVX-512 Q4_K / Q8_0 kernels).
  kX16 = 1,
};

// A 2-D weight in ggml layout: n_out rows of n_in elements, each row packed with `type` and
// taking row_bytes(type, n_in) bytes; rows are contiguous. `data` may have any alignment.
struct WeightMatrix {
  TensorType type = TensorType::F32;
  const void* data = nullptr;
  int64_t n_in = 0;   // dims[0]: input features, the packed row length
  int64_t n_out = 0;  // dims[1]: output features, the number of rows
  WeightLayout layout = WeightLayout::kGguf;
};

// The experts of one MoE projection: n_expert matrices of the WeightMatrix layout stored back to
// back (GGUF dims [n_in, n_out, n_expert], experts outermost).
struct ExpertStack {
  TensorType type = TensorType::F32;
  const void* data = nullptr;
  int64_t n_in = 0;
  int64_t n_out = 0;
  int64_t n_expert = 0;
  WeightLayout layout = WeightLayout::kGguf;
};

// Views a 2-D GGUF tensor (dims [n_in, n_out]) whose bytes start at `data`.
Result<WeightMatrix> weight_matrix(const GgufTensorInfo& info, const uint8_t* data);
// Views a 3-D GGUF tensor (dims [n_in, n_out, n_expert]) as a stack of expert matrices.
Result<ExpertStack> expert_stack(const GgufTensorInfo& info, const uint8_t* data);
// Expert e of a stack (0 <= e < n_expert, checked as an invariant).
WeightMatrix expert_matrix(const ExpertStack& stack, int64_t e);

// y[r] = sum_i W[r][i] * x[i] (+ bias[r]) for r in [0, n_out).
//   x[n_in], bias[n_out] or nullptr, y[n_out]; y must not alias x.
Status matmul(const WeightMatrix& w, const float* x, const float* bias, float* y);

// The same for n_tokens input vectors, decoding each weight row once:
//   x[n_tokens][n_in], bias[n_out] or nullptr, y[n_tokens][n_out].
Status matmul_batch(const WeightMatrix& w, const float* x, int64_t n_tokens, const float* bias,
                    float* y);

}  // namespace longctx::ref
