// Softmax, SiLU/SwiGLU and selection helpers. Sums run in double; each output rounds once.
#include "kernels/ref/activations.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

namespace longctx::ref {

Status softmax(const float* x, int64_t n, const SoftmaxParams& params, float* y) {
  const int64_t v = params.n_visible < 0 ? n : params.n_visible;
  if (n < 1 || v < 1 || v > n) {
    return invalid_argument("softmax: need 1 <= n_visible <= n, got n=" + std::to_string(n) +
                            " n_visible=" + std::to_string(params.n_visible));
  }
  double m = -INFINITY;
  bool nan = false;
  for (int64_t i = 0; i < v; ++i) {
    const double s = static_cast<double>(params.scale) * x[i];
    nan = nan || std::isnan(s);
    m = std::max(m, s);
  }
  if (nan || m == -INFINITY) {
    // As torch.softmax: a NaN anywhere, or no visible entry above -inf, gives NaN everywhere.
    // It is data, not a programming error: callers see NaN logits, never an abort.
    for (int64_t i = 0; i < v; ++i) y[i] = NAN;
    for (int64_t i = v; i < n; ++i) y[i] = 0.0f;
    return Status::ok();
  }
  double sum = 0.0;
  for (int64_t i = 0; i < v; ++i) sum += std::exp(static_cast<double>(params.scale) * x[i] - m);
  for (int64_t i = 0; i < v; ++i) {
    y[i] = static_cast<float>(std::exp(static_cast<double>(params.scale) * x[i] - m) / sum);
  }
  for (int64_t i = v; i < n; ++i) y[i] = 0.0f;
  return Status::ok();
}

float silu(float x) {
  return static_cast<float>(static_cast<double>(x) / (1.0 + std::exp(-static_cast<double>(x))));
}

void swiglu(const float* gate, const float* up, int64_t n, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = silu(gate[i]) * up[i];
}

int64_t argmax(const float* x, int64_t n) {
  int64_t best = -1;
  for (int64_t i = 0; i < n; ++i) {
    if (std::isnan(x[i])) continue;
    if (best < 0 || x[i] > x[best]) best = i;  // strict: the first of equal maxima stays
  }
  return best < 0 ? 0 : best;
}

Result<std::vector<int64_t>> top_k(const float* x, int64_t n, int64_t k) {
  if (k < 1 || k > n) {
    return invalid_argument("top_k: need 1 <= k <= n, got k=" + std::to_string(k) +
                            " n=" + std::to_string(n));
  }
  for (int64_t i = 0; i < n; ++i) {
    if (std::isnan(x[i])) return invalid_argument("top_k: NaN at index " + std::to_string(i));
  }
  std::vector<int64_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), int64_t{0});
  // Larger value first; among equal values, the lower index first.
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                    [x](int64_t a, int64_t b) { return x[a] > x[b] || (x[a] == x[b] && a < b); });
  idx.resize(static_cast<size_t>(k));
  return idx;
}

}  // namespace longctx::ref
