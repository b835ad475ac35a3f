// RoPE (none / linear / YaRN) against transformers' Qwen3RotaryEmbedding + apply_rotary_pos_emb,
// the YaRN frequencies and attention factor against ROPE_INIT_FUNCTIONS["yarn"], and argument
// checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/ref/rope.h"
#include "oracle.h"

namespace longctx::ref {
namespace {

using testing::floats;
using testing::kU;
using testing::oracle;

RopeParams params_of(const nlohmann::json& c) {
  RopeParams p;
  p.head_dim = c["head_dim"];
  p.theta = c["theta"];
  const std::string type = c.contains("type") ? c["type"].get<std::string>() : "yarn";
  if (type == "linear") p.scaling.type = RopeScalingType::kLinear;
  if (type == "yarn") p.scaling.type = RopeScalingType::kYarn;
  p.scaling.factor = c["factor"];
  p.scaling.original_context = c["original_context"];
  if (c.contains("truncate")) p.scaling.truncate_correction = c["truncate"];
  return p;
}

// HF computes theta^(2j/d) with an fp32 pow: the exponent's rounding (u) is magnified by
// ln(theta), the pow, reciprocal, factor and ramp blend add a few ulps. So HF's inv_freq has a
// relative error of at most (2 ln theta + 16) u; ours (double) is exact to fp32 precision.
double inv_freq_rel_tol(double theta) { return (2.0 * std::log(theta) + 16.0) * kU; }

TEST(Rope, YarnFrequenciesMatchTransformers) {
  ASSERT_TRUE(oracle().contains("yarn_params"));
  for (const auto& c : oracle()["yarn_params"]) {
    const RopeParams p = params_of(c);
    Result<RopeFrequencies> f = rope_frequencies(p);
    ASSERT_TRUE(f.is_ok()) << f.status().message();
    const std::vector<float> want = floats(c["inv_freq"]);
    ASSERT_EQ(f->inv_freq.size(), want.size());
    for (size_t j = 0; j < want.size(); ++j) {
      EXPECT_NEAR(f->inv_freq[j], want[j], inv_freq_rel_tol(p.theta) * want[j])
          << "head_dim=" << p.head_dim << " truncate=" << p.scaling.truncate_correction
          << " j=" << j;
    }
    // Both sides evaluate 0.1 ln(factor) + 1 in double.
    EXPECT_NEAR(f->attention_factor, c["attention_factor"].get<double>(), 1e-12);
  }
}

TEST(Rope, TruncationChangesTheRamp) {
  // The fixture's first two cases differ only in `truncate`; the oracle says they differ, so
  // a kernel ignoring the flag fails the test above. Check ours distinguishes them too.
  RopeParams p = params_of(oracle()["yarn_params"].at(0));
  Result<RopeFrequencies> a = rope_frequencies(p);
  p.scaling.truncate_correction = !p.scaling.truncate_correction;
  Result<RopeFrequencies> b = rope_frequencies(p);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_NE(a->inv_freq, b->inv_freq);
}

TEST(Rope, RotationMatchesApplyRotaryPosEmb) {
  ASSERT_TRUE(oracle().contains("rope"));
  for (const auto& c : oracle()["rope"]) {
    const RopeParams p = params_of(c);
    const std::string name = c["type"].get<std::string>() + " theta=" + std::to_string(p.theta);
    Result<RopeTable> table = RopeTable::build(p, 512);
    ASSERT_TRUE(table.is_ok()) << table.status().message();
    const double attn = c["attention_factor"];
    EXPECT_NEAR(table->frequencies().attention_factor, attn, 1e-12) << name;
    const std::vector<float> hf_inv = floats(c["inv_freq"]);
    const int64_t n_head = c["n_head"], d = p.head_dim, half = d / 2;
    const std::vector<float> x = floats(c["x"]), want = floats(c["y"]);
    const auto positions = c["positions"].get<std::vector<int64_t>>();
    for (size_t i = 0; i < positions.size(); ++i) {
      const int64_t pos = positions[i];
      std::vector<float> v(x.begin() + i * n_head * d, x.begin() + (i + 1) * n_head * d);
      ASSERT_TRUE(rope_apply(*table, pos, n_head, d, v.data()).is_ok());
      for (int64_t h = 0; h < n_head; ++h) {
        for (int64_t j = 0; j < d; ++j) {
          const int64_t pair = j % half;
          const float a = x[(i * n_head + h) * d + pair], b = x[(i * n_head + h) * d + pair + half];
          // HF's fp32 angle pos * inv_freq carries inv_freq's relative error plus one rounding;
          // cos/sin, the attention scale and a*c -/+ b*s add ~4 ulps of (|a| + |b|).
          const double angle_err = pos * hf_inv[pair] * (inv_freq_rel_tol(p.theta) + 2 * kU);
          const double tol = attn * (std::fabs(a) + std::fabs(b)) * (angle_err + 4 * kU) + 1e-30;
          const size_t k = static_cast<size_t>((i * n_head + h) * d + j);
          EXPECT_NEAR(v[h * d + j], want[k], tol)
              << name << " pos=" << pos << " head=" << h << " j=" << j;
        }
      }
    }
  }
}

TEST(Rope, PositionZeroIsIdentityTimesAttentionFactor) {
  RopeParams p{8, 10000.0, {RopeScalingType::kYarn, 4.0, 16}};
  Result<RopeTable> t = RopeTable::build(p, 4);
  ASSERT_TRUE(t.is_ok());
  const float f = static_cast<float>(t->frequencies().attention_factor);
  EXPECT_NEAR(f, 0.1 * std::log(4.0) + 1.0, 1e-6);
  std::vector<float> v = {1, 2, 3, 4, 5, 6, 7, 8};
  ASSERT_TRUE(rope_apply(*t, 0, 1, 8, v.data()).is_ok());
  for (int j = 0; j < 8; ++j) EXPECT_EQ(v[j], static_cast<float>(j + 1) * f) << j;
}

TEST(Rope, DotProductDependsOnlyOnRelativePosition) {
  // Rotations compose: (R_p q) . (R_{p+k} k) = (R_0 q) . (R_k k), and YaRN's cos/sin scale
  // multiplies every dot by attention_factor^2. Error budget, in units of sum|q||k| factor^2:
  // 8 d u for the rotations' fp32 products and sums, 300 u for the table's rounding of angles up
  // to 300 rad, and a factor 4 since both vectors on both sides carry them.
  RopeParams p{16, 10000.0, {RopeScalingType::kYarn, 4.0, 32}};
  Result<RopeTable> t = RopeTable::build(p, 400);
  ASSERT_TRUE(t.is_ok());
  const double f2 = t->frequencies().attention_factor * t->frequencies().attention_factor;
  const std::vector<float> q0 = {0.3f, -1.2f, 0.7f,  2.0f, -0.4f, 0.9f,  1.1f, -0.6f,
                                 0.2f, 0.8f,  -1.5f, 0.1f, 0.5f,  -0.3f, 1.4f, -0.9f};
  std::vector<float> k0 = q0;
  std::reverse(k0.begin(), k0.end());
  auto rotated_dot = [&](int64_t pq, int64_t pk) {
    std::vector<float> q = q0, k = k0;
    EXPECT_TRUE(rope_apply(*t, pq, 1, 16, q.data()).is_ok());
    EXPECT_TRUE(rope_apply(*t, pk, 1, 16, k.data()).is_ok());
    double dot = 0.0;
    for (int i = 0; i < 16; ++i) dot += double(q[i]) * k[i];
    return dot;
  };
  double mag = 0.0;
  for (int i = 0; i < 16; ++i) mag += std::fabs(double(q0[i])) * std::fabs(double(k0[i]));
  const double tol = (8 * 16 * kU + 300 * kU) * mag * f2 * 4;
  for (int64_t delta : {0, 1, 7, 40}) {
    const double ref = rotated_dot(0, delta);
    EXPECT_NEAR(rotated_dot(100, 100 + delta), ref, tol) << "delta " << delta;
    EXPECT_NEAR(rotated_dot(300, 300 + delta), ref, tol) << "delta " << delta;
  }
  double plain = 0.0;
  for (int i = 0; i < 16; ++i) plain += double(q0[i]) * k0[i];
  EXPECT_NEAR(rotated_dot(5, 5), plain * f2, tol);  // same position: rotation cancels
}

TEST(Rope, RejectsBadParameters) {
  EXPECT_FALSE(RopeTable::build(RopeParams{7, 10000.0, {}}, 4).is_ok());  // odd head_dim
  EXPECT_FALSE(RopeTable::build(RopeParams{8, 1.0, {}}, 4).is_ok());      // theta <= 1
  EXPECT_FALSE(RopeTable::build(RopeParams{8, 10000.0, {}}, 0).is_ok());  // no positions
  EXPECT_FALSE(RopeTable::build(RopeParams{8, 10000.0, {}}, int64_t{1} << 40).is_ok());
  // 2^22 positions are allowed, but not with 2^15 pairs each (2^37 entries).
  Result<RopeTable> huge = RopeTable::build(RopeParams{65536, 10000.0, {}}, int64_t{1} << 22);
  ASSERT_FALSE(huge.is_ok());
  EXPECT_NE(huge.status().message().find("exceeds"), std::string::npos);
  RopeParams yarn{8, 10000.0, {RopeScalingType::kYarn, 4.0, 0}};
  Result<RopeTable> r = RopeTable::build(yarn, 4);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("original_context"), std::string::npos);
  RopeParams lin{8, 10000.0, {RopeScalingType::kLinear, 0.0}};
  EXPECT_FALSE(RopeTable::build(lin, 4).is_ok());

  Result<RopeTable> t = RopeTable::build(RopeParams{8, 10000.0, {}}, 4);
  ASSERT_TRUE(t.is_ok());
  std::vector<float> v(16);
  Status st = rope_apply(*t, 4, 2, 8, v.data());
  EXPECT_NE(st.message().find("position 4"), std::string::npos) << st.message();
  EXPECT_FALSE(rope_apply(*t, 0, 1, 16, v.data()).is_ok());  // head_dim mismatch
}

}  // namespace
}  // namespace longctx::ref
