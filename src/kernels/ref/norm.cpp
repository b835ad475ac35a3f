// RMSNorm reference. HF's Qwen3RMSNorm computes variance = mean(x^2) in fp32, multiplies x by
// rsqrt(variance + eps) and then by the weight; we accumulate in double (more accurate than any
// fp32 order) and apply the same two multiplications, so results agree to a few fp32 ulps.
#include "kernels/ref/norm.h"

#include <cmath>
#include <string>

namespace longctx::ref {

Status rms_norm(const float* x, const float* weight, float eps, int64_t n, float* y) {
  if (n < 1) return invalid_argument("rms_norm: n must be >= 1, got " + std::to_string(n));
  if (!(eps >= 0.0f)) return invalid_argument("rms_norm: eps must be >= 0");
  double sum_sq = 0.0;
  for (int64_t i = 0; i < n; ++i) sum_sq += static_cast<double>(x[i]) * x[i];
  // inv_rms = 1 / sqrt(mean(x^2) + eps), rounded once to fp32 as HF's rsqrt result is.
  const float inv_rms = static_cast<float>(
      1.0 / std::sqrt(sum_sq / static_cast<double>(n) + static_cast<double>(eps)));
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] * inv_rms) * weight[i];
  return Status::ok();
}

Status rms_norm_heads(const float* x, const float* weight, float eps, int64_t n_head,
                      int64_t head_dim, float* y) {
  if (n_head < 1) {
    return invalid_argument("rms_norm_heads: n_head must be >= 1, got " + std::to_string(n_head));
  }
  for (int64_t h = 0; h < n_head; ++h) {
    LONGCTX_RETURN_IF_ERROR(rms_norm(x + h * head_dim, weight, eps, head_dim, y + h * head_dim)
                                .with_context("head " + std::to_string(h)));
  }
  return Status::ok();
}

}  // namespace longctx::ref
