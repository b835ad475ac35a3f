// Scalar reference RMSNorm: over a whole hidden vector (pre-attention / pre-FFN norm) and per head
// (Qwen3's q_norm / k_norm over head_dim). fp32 in and out, the sum of squares in double.
#pragma once

#include <cstdint>

#include "core/status.h"

namespace longctx::ref {

// y[i] = x[i] / sqrt(mean(x^2) + eps) * weight[i], for i in [0, n).
//   x[n], weight[n], y[n]; y may alias x. n >= 1 and eps >= 0 (else kInvalidArgument).
Status rms_norm(const float* x, const float* weight, float eps, int64_t n, float* y);

// The same norm applied to each of n_head consecutive head vectors with one shared weight:
//   x[n_head][head_dim], weight[head_dim], y[n_head][head_dim]; y may alias x.
Status rms_norm_heads(const float* x, const float* weight, float eps, int64_t n_head,
                      int64_t head_dim, float* y);

}  // namespace longctx::ref
