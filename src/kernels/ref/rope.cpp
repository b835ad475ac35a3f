// RoPE frequency schedules and the cos/sin table. All frequency math is in double; the table
// rounds once to fp32. YaRN follows Hugging Face transformers' _compute_yarn_parameters.
#include "kernels/ref/rope.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

namespace longctx::ref {
namespace {

// Caps on the table: 2^24 positions (16M tokens) and 2^28 cos entries (1 GiB per cos / sin
// array), so a bad context size can never drive a huge allocation.
constexpr int64_t kMaxPositions = int64_t{1} << 24;
constexpr int64_t kMaxTableEntries = int64_t{1} << 28;
constexpr int64_t kMaxPositionValue = int64_t{1} << 40;  // far beyond any context

// The dimension index (in [0, d)) whose wavelength fits `rotations` full turns into the
// original context L. Pair j rotates at theta^(-2j/d) rad per position, so over L positions it
// turns L * theta^(-2j/d) / (2 pi) times; setting that equal to r and solving for 2j gives
//   dim(r) = d * ln(L / (2 pi r)) / (2 ln theta).
double correction_dim(double rotations, int64_t dim, double theta, double original_context) {
  return static_cast<double>(dim) *
         std::log(original_context / (rotations * 2.0 * std::numbers::pi)) /
         (2.0 * std::log(theta));
}

Status check_params(const RopeParams& p) {
  if (p.head_dim < 2 || p.head_dim % 2 != 0 || p.head_dim > 65536) {
    return invalid_argument("rope: head_dim must be even and in [2, 65536], got " +
                            std::to_string(p.head_dim));
  }
  if (!(p.theta > 1.0) || !std::isfinite(p.theta)) {
    return invalid_argument("rope: theta (freq_base) must be finite and > 1, got " +
                            std::to_string(p.theta));
  }
  const RopeScaling& s = p.scaling;
  if (s.type != RopeScalingType::kNone && (!(s.factor > 0.0) || !std::isfinite(s.factor))) {
    return invalid_argument("rope: scaling factor must be finite and > 0, got " +
                            std::to_string(s.factor));
  }
  if (s.type == RopeScalingType::kYarn) {
    if (s.original_context < 1) {
      return invalid_argument("rope: YaRN needs original_context >= 1, got " +
                              std::to_string(s.original_context));
    }
    if (!(s.beta_fast > 0.0) || !(s.beta_slow > 0.0)) {
      return invalid_argument("rope: YaRN beta_fast and beta_slow must be > 0");
    }
  }
  return Status::ok();
}

}  // namespace

Result<RopeFrequencies> rope_frequencies(const RopeParams& params) {
  LONGCTX_RETURN_IF_ERROR(check_params(params));
  const int64_t d = params.head_dim;
  const int64_t half = d / 2;
  const RopeScaling& s = params.scaling;
  RopeFrequencies f;
  f.inv_freq.resize(static_cast<size_t>(half));
  // Unscaled ("extrapolation") frequency of pair j: theta^(-2j/d).
  for (int64_t j = 0; j < half; ++j) {
    f.inv_freq[j] =
        1.0 / std::pow(params.theta, static_cast<double>(2 * j) / static_cast<double>(d));
  }
  if (s.type == RopeScalingType::kLinear) {
    // Linear interpolation: angle = (pos / factor) * inv_freq, folded into the frequency.
    for (double& v : f.inv_freq) v /= s.factor;
  } else if (s.type == RopeScalingType::kYarn) {
    // YaRN ("NTK-by-parts"): fast-rotating pairs (many turns over the original context) keep
    // their frequency, slow ones (under one turn) are interpolated by 1/factor, and a linear
    // ramp over dimension indices [low, high] blends the two.
    const double L = static_cast<double>(s.original_context);
    double low = correction_dim(s.beta_fast, d, params.theta, L);
    double high = correction_dim(s.beta_slow, d, params.theta, L);
    if (s.truncate_correction) {
      low = std::floor(low);
      high = std::ceil(high);
    }
    low = std::max(low, 0.0);
    high = std::min(high, static_cast<double>(d - 1));
    if (low == high) high += 0.001;  // HF's guard against a zero-width ramp
    for (int64_t j = 0; j < half; ++j) {
      // ramp(j) = clamp((j - low) / (high - low), 0, 1); the extrapolation weight is 1 - ramp.
      const double ramp = std::clamp((static_cast<double>(j) - low) / (high - low), 0.0, 1.0);
      const double extrapolation = 1.0 - ramp;
      const double base = f.inv_freq[j];
      f.inv_freq[j] = (base / s.factor) * (1.0 - extrapolation) + base * extrapolation;
    }
    // Attention temperature: sqrt(1/t) = 0.1 ln(s) + 1 (YaRN paper, eq. 22), 1 for s <= 1;
    // applied to both cos and sin, hence to both q and k.
    f.attention_factor = s.attention_factor > 0.0 ? s.attention_factor
                         : s.factor <= 1.0        ? 1.0
                                                  : 0.1 * std::log(s.factor) + 1.0;
  }
  return f;
}

Result<RopeTable> RopeTable::build(const RopeParams& params, int64_t n_pos) {
  if (n_pos < 1 || n_pos > kMaxPositions) {
    return invalid_argument("rope: n_pos must be in [1, " + std::to_string(kMaxPositions) +
                            "], got " + std::to_string(n_pos));
  }
  if (params.head_dim > 0 && n_pos * (params.head_dim / 2) > kMaxTableEntries) {
    return invalid_argument("rope: table of " + std::to_string(n_pos) + " positions x " +
                            std::to_string(params.head_dim / 2) + " pairs exceeds " +
                            std::to_string(kMaxTableEntries) + " entries");
  }
  Result<RopeFrequencies> freq = rope_frequencies(params);
  if (!freq) return freq.status();
  RopeTable t;
  t.head_dim_ = params.head_dim;
  t.capacity_ = n_pos;
  t.freq_ = std::move(freq.value());
  const int64_t half = params.head_dim / 2;
  t.cos_.resize(static_cast<size_t>(n_pos * half));
  t.sin_.resize(static_cast<size_t>(n_pos * half));
  LONGCTX_RETURN_IF_ERROR(t.set_window(0, n_pos));
  return t;
}

Status RopeTable::set_window(int64_t pos0, int64_t n) {
  if (pos0 < 0 || n < 1 || n > capacity_ || pos0 > kMaxPositionValue - n) {
    return invalid_argument("rope: window of " + std::to_string(n) + " positions at " +
                            std::to_string(pos0) + " outside the table's capacity " +
                            std::to_string(capacity_));
  }
  pos0_ = pos0;
  n_pos_ = n;
  const int64_t half = head_dim_ / 2;
  for (int64_t p = 0; p < n; ++p) {
    for (int64_t j = 0; j < half; ++j) {
      // The angle in double: at position 10^6 a float angle would lose ~0.06 rad.
      const double angle = static_cast<double>(pos0 + p) * freq_.inv_freq[j];
      cos_[p * half + j] = static_cast<float>(std::cos(angle) * freq_.attention_factor);
      sin_[p * half + j] = static_cast<float>(std::sin(angle) * freq_.attention_factor);
    }
  }
  return Status::ok();
}

Status rope_apply(const RopeTable& table, int64_t pos, int64_t n_head, int64_t head_dim, float* x) {
  if (head_dim != table.head_dim()) {
    return invalid_argument("rope: head_dim " + std::to_string(head_dim) +
                            " differs from the table's " + std::to_string(table.head_dim()));
  }
  if (pos < table.pos0() || pos >= table.pos0() + table.n_pos()) {
    return invalid_argument("rope: position " + std::to_string(pos) + " outside the table [" +
                            std::to_string(table.pos0()) + ", " +
                            std::to_string(table.pos0() + table.n_pos()) + ")");
  }
  if (n_head < 0) return invalid_argument("rope: n_head must be >= 0");
  const int64_t half = head_dim / 2;
  const float* c = table.cos_row(pos);
  const float* s = table.sin_row(pos);
  for (int64_t h = 0; h < n_head; ++h) {
    float* v = x + h * head_dim;
    for (int64_t j = 0; j < half; ++j) {
      const float a = v[j];
      const float b = v[j + half];
      v[j] = a * c[j] - b * s[j];
      v[j + half] = b * c[j] + a * s[j];
    }
  }
  return Status::ok();
}

}  // namespace longctx::ref
