// Rotary position embedding, NeoX / Hugging Face style (element i pairs with i + head_dim/2, as
// in rotate_half), over the full head_dim, with no / linear / YaRN frequency scaling. A
// RopeTable precomputes cos and sin per position so applying RoPE needs no transcendental math.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"

namespace longctx::ref {

enum class RopeScalingType { kNone, kLinear, kYarn };

struct RopeScaling {
  RopeScalingType type = RopeScalingType::kNone;
  double factor = 1.0;              // linear: positions / factor; YaRN: context extension
  int64_t original_context = 0;     // YaRN: the pretrained context (original_max_position_...)
  double beta_fast = 32.0;          // YaRN: rotations per context where extrapolation ends
  double beta_slow = 1.0;           // YaRN: rotations per context where interpolation starts
  bool truncate_correction = true;  // YaRN: floor/ceil the correction range (HF's `truncate`)
  double attention_factor = 0.0;    // YaRN: cos/sin scale; 0 = 0.1 * ln(factor) + 1
};

struct RopeParams {
  int64_t head_dim = 0;    // rotated dimensions (all of head_dim for Qwen3); even
  double theta = 10000.0;  // frequency base (Qwen3: 1e6)
  RopeScaling scaling;
};

// The per-pair inverse frequencies and the cos/sin scale that `params` implies (see
// docs/KERNELS.md for the YaRN derivation). inv_freq has head_dim / 2 entries.
struct RopeFrequencies {
  std::vector<double> inv_freq;   // [head_dim/2], radians per position
  double attention_factor = 1.0;  // multiplies cos and sin (so q.k scales by its square)
};
Result<RopeFrequencies> rope_frequencies(const RopeParams& params);

// cos/sin of position p times inv_freq[i], scaled by attention_factor, for p in a window
// [pos0, pos0 + n_pos): built for [0, n_pos), then moved over a long sequence chunk by chunk
// with set_window, so a 1M-token context never needs a 1M-row table.
class RopeTable {
 public:
  // n_pos in [1, 2^24] and n_pos * head_dim / 2 <= 2^28 (bounds the allocation).
  static Result<RopeTable> build(const RopeParams& params, int64_t n_pos);

  // Recomputes the table for positions [pos0, pos0 + n) in place, without allocating:
  // 0 <= pos0, 1 <= n <= capacity() (the n_pos it was built with), else kInvalidArgument.
  Status set_window(int64_t pos0, int64_t n);

  int64_t head_dim() const { return head_dim_; }
  int64_t pos0() const { return pos0_; }
  int64_t n_pos() const { return n_pos_; }
  int64_t capacity() const { return capacity_; }
  const RopeFrequencies& frequencies() const { return freq_; }
  // Row of head_dim/2 values for position pos (pos0 <= pos < pos0 + n_pos).
  const float* cos_row(int64_t pos) const { return cos_.data() + (pos - pos0_) * (head_dim_ / 2); }
  const float* sin_row(int64_t pos) const { return sin_.data() + (pos - pos0_) * (head_dim_ / 2); }

 private:
  int64_t head_dim_ = 0;
  int64_t pos0_ = 0;
  int64_t n_pos_ = 0;
  int64_t capacity_ = 0;
  RopeFrequencies freq_;
  std::vector<float> cos_;  // [n_pos][head_dim/2]
  std::vector<float> sin_;  // [n_pos][head_dim/2]
};

// Rotates n_head head vectors at position pos in place: x[n_head][head_dim]. For each pair
// (a, b) = (x[i], x[i + d/2]) with c = cos_row(pos)[i], s = sin_row(pos)[i]:
//   x[i] = a*c - b*s,   x[i + d/2] = b*c + a*s.
// head_dim must equal the table's; pos outside the window is kInvalidArgument.
Status rope_apply(const RopeTable& table, int64_t pos, int64_t n_head, int64_t head_dim, float* x);

}  // namespace longctx::ref
