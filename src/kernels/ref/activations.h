// Scalar reference element-wise and reduction ops: softmax (stable, scaled, causally masked),
// SiLU, SwiGLU, argmax and top-k selection.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"

namespace longctx::ref {

struct SoftmaxParams {
  float scale = 1.0f;      // applied to x before the exponential (attention's 1/sqrt(head_dim))
  int64_t n_visible = -1;  // entries [n_visible, n) are masked (weight 0); -1 = none masked
};

// y[i] = exp(scale*x[i] - m) / sum_{j < v} exp(scale*x[j] - m) for i < v, 0 beyond, where
// v = n_visible and m = max_{j < v} scale*x[j] (subtracting m keeps every exp <= 1, so nothing
// overflows and the largest term is exactly 1). x[n], y[n]; y may alias x. Needs 1 <= v <= n
// (else kInvalidArgument). As torch.softmax, a NaN among the visible entries, or none above -inf,
// makes every visible output NaN.
Status softmax(const float* x, int64_t n, const SoftmaxParams& params, float* y);

// silu(x) = x * sigmoid(x) = x / (1 + exp(-x)).
float silu(float x);
// y[i] = silu(gate[i]) * up[i]: the gated FFN activation of Qwen. gate[n], up[n], y[n]; y may
// alias either input.
void swiglu(const float* gate, const float* up, int64_t n, float* y);

// Index of the largest x[i]; ties go to the lowest index; NaN entries are never chosen unless
// all are NaN (then 0). n >= 1.
int64_t argmax(const float* x, int64_t n);

// The k largest entries' indices, largest first; equal values are ordered lowest index first
// (so the selection is deterministic and matches torch.topk on distinct values). NaN input is
// kInvalidArgument (naming the index); 1 <= k <= n.
Result<std::vector<int64_t>> top_k(const float* x, int64_t n, int64_t k);

}  // namespace longctx::ref
