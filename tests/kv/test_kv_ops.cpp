// kv_remove and kv_rerotate against their definition: after a shift (or a change of RoPE
// factor) every cached key equals the same pre-RoPE key rotated afresh at its new position (or
// under the new factor) and stored through the same conversion, within the cache type's
// rounding; values move unchanged, the kept prefix is untouched. Every KV type, rotation on
// and off, plain RoPE and YaRN.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/ref/hadamard.h"
#include "kernels/ref/rope.h"
#include "kv/kv_cache.h"
#include "kv/kv_ops.h"
#include "quant/float16.h"
#include "quant/quantize.h"

namespace longctx {
namespace {

constexpr int64_t kLayers = 2, kHeads = 2, kDim = 64, kTokens = 50;

ref::RopeParams rope(double yarn_factor) {
  ref::RopeParams p;
  p.head_dim = kDim;
  p.theta = 1e6;
  if (yarn_factor > 1.0) {
    p.scaling.type = ref::RopeScalingType::kYarn;
    p.scaling.factor = yarn_factor;
    p.scaling.original_context = 32;
  }
  return p;
}

// Pre-RoPE keys [layer][token][head][dim] and values, fixed by a seed.
struct Keys {
  std::vector<float> k, v;
};
Keys make_keys(uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.5f);
  Keys out;
  out.k.resize(kLayers * kTokens * kHeads * kDim);
  out.v.resize(out.k.size());
  for (float& x : out.k) x = dist(rng);
  for (float& x : out.v) x = dist(rng);
  return out;
}

// The model's path into the cache: RoPE at `pos`, the Hadamard rotation when the cache rotates
// keys, then the cache's conversion.
std::vector<float> rotated_row(const KvCache& kv, const ref::RopeParams& p, const float* k,
                               int64_t pos) {
  auto table = ref::RopeTable::build(p, 1);
  EXPECT_TRUE(table.is_ok());
  EXPECT_TRUE(table->set_window(pos, 1).is_ok());
  std::vector<float> x(k, k + kHeads * kDim);
  EXPECT_TRUE(ref::rope_apply(*table, pos, kHeads, kDim, x.data()).is_ok());
  if (kv.options().rotates_k()) ref::hadamard_rows(x.data(), kHeads, kDim);
  return x;
}

void fill(KvCache& kv, const Keys& keys, const ref::RopeParams& p) {
  for (int64_t il = 0; il < kLayers; ++il) {
    for (int64_t t = 0; t < kTokens; ++t) {
      const size_t at = static_cast<size_t>((il * kTokens + t) * kHeads * kDim);
      const std::vector<float> x = rotated_row(kv, p, keys.k.data() + at, t);
      kv.store(il, t, 1, x.data(), keys.v.data() + at);
    }
  }
  kv.set_n_past(kTokens);
}

// Decoded keys of one token of layer il: [heads][dim].
std::vector<float> decoded(const KvCache& kv, int64_t il, int64_t t) {
  std::vector<float> x(kHeads * kDim);
  const auto* base = static_cast<const uint8_t*>(kv.k_data(il)) + t * kv.k_token_bytes();
  EXPECT_TRUE(dequantize_row(kv.options().type_k, base, x.data(), kHeads * kDim).is_ok());
  return x;
}

// Half the rounding step of element i of a decoded row of type t: the block scale for the
// block types, half an ulp for the float types.
double half_step(TensorType t, const std::vector<float>& row, const uint8_t* bytes, int64_t i) {
  if (t == TensorType::Q8_0 || t == TensorType::Q4_0) {
    const size_t bb = t == TensorType::Q8_0 ? 34 : 18;
    uint16_t d;
    std::memcpy(&d, bytes + (i / 32) * bb, 2);
    return 0.5 * std::fabs(fp16_to_fp32(d));
  }
  const int mant = t == TensorType::F16 ? 10 : t == TensorType::BF16 ? 7 : 23;
  const double a = std::fabs(row[i]);
  return a == 0.0 ? 0.0 : 0.5 * std::ldexp(1.0, std::ilogb(a) - mant) + 6e-8;
}

// got vs want per head row, in L2: the rounding of the stored key, of its re-encoding and of
// the fresh one (3 x sqrt(sum of half-steps^2)), plus f32 slack.
void expect_rows_near(const KvCache& kv, const KvCache& fresh, int64_t il, int64_t t_got,
                      int64_t t_want) {
  const TensorType type = kv.options().type_k;
  const std::vector<float> got = decoded(kv, il, t_got), want = decoded(fresh, il, t_want);
  const auto* gb = static_cast<const uint8_t*>(kv.k_data(il)) + t_got * kv.k_token_bytes();
  const auto* wb = static_cast<const uint8_t*>(fresh.k_data(il)) + t_want * fresh.k_token_bytes();
  for (int64_t h = 0; h < kHeads; ++h) {
    double err = 0, steps = 0, norm = 0;
    for (int64_t i = h * kDim; i < (h + 1) * kDim; ++i) {
      err += std::pow(double(got[i]) - want[i], 2);
      const double s = std::max(half_step(type, got, gb, i), half_step(type, want, wb, i));
      steps += s * s;
      norm += double(want[i]) * want[i];
    }
    EXPECT_LE(std::sqrt(err), 3.0 * std::sqrt(steps) + 1e-5 * std::sqrt(norm))
        << type_name(type) << " rot " << kv.options().rotate << " layer " << il << " token "
        << t_got << " head " << h;
  }
}

struct Config {
  TensorType type;
  bool rotate;
};
const Config kConfigs[] = {{TensorType::F32, false}, {TensorType::F16, false},
                           {TensorType::BF16, false}, {TensorType::Q8_0, true},
                           {TensorType::Q8_0, false}, {TensorType::Q4_0, true},
                           {TensorType::Q4_0, false}};

KvCache make_cache(const Config& c) {
  KvCacheOptions o;
  o.n_ctx = 64;
  o.type_k = c.type;
  o.type_v = c.type;
  o.rotate = c.rotate;
  auto kv = KvCache::create({kLayers, kHeads, kDim, kDim}, o);
  EXPECT_TRUE(kv.is_ok()) << kv.status().message();
  return std::move(kv.value());
}

TEST(KvOps, ShiftedKeysEqualKeysRotatedAfreshAtTheirNewPositions) {
  for (double factor : {1.0, 4.0}) {
    const ref::RopeParams p = rope(factor);
    for (const Config& c : kConfigs) {
      const Keys keys = make_keys(3);
      KvCache kv = make_cache(c);
      fill(kv, keys, p);
      const std::vector<uint8_t> v_before(
          static_cast<const uint8_t*>(kv.v_data(1)) + 20 * kv.v_token_bytes(),
          static_cast<const uint8_t*>(kv.v_data(1)) + kTokens * kv.v_token_bytes());
      const std::vector<uint8_t> k_prefix(static_cast<const uint8_t*>(kv.k_data(0)),
                                          static_cast<const uint8_t*>(kv.k_data(0)) +
                                              10 * kv.k_token_bytes());
      ASSERT_TRUE(kv_remove(kv, 10, 20, p).is_ok());
      EXPECT_EQ(kv.n_past(), kTokens - 10);
      // The fresh cache: every token's key rotated at the position it holds after the shift.
      KvCache fresh = make_cache(c);
      for (int64_t il = 0; il < kLayers; ++il) {
        for (int64_t t = 0; t < kTokens; ++t) {
          if (t >= 10 && t < 20) continue;
          const int64_t pos = t < 10 ? t : t - 10;
          const size_t at = static_cast<size_t>((il * kTokens + t) * kHeads * kDim);
          const std::vector<float> x = rotated_row(fresh, p, keys.k.data() + at, pos);
          fresh.store(il, pos, 1, x.data(), keys.v.data() + at);
        }
      }
      for (int64_t il = 0; il < kLayers; ++il) {
        for (int64_t t = 10; t < kTokens - 10; ++t) expect_rows_near(kv, fresh, il, t, t);
      }
      EXPECT_EQ(0, std::memcmp(kv.k_data(0), k_prefix.data(), k_prefix.size()));
      EXPECT_EQ(0, std::memcmp(static_cast<const uint8_t*>(kv.v_data(1)) + 10 * kv.v_token_bytes(),
                               v_before.data(), v_before.size()));
      if (HasFailure()) return;
    }
  }
}

TEST(KvOps, RerotatedKeysEqualKeysRotatedAfreshUnderTheNewFactor) {
  const ref::RopeParams from = rope(2.0), to = rope(4.0);
  for (const Config& c : kConfigs) {
    const Keys keys = make_keys(5);
    KvCache kv = make_cache(c);
    fill(kv, keys, from);
    ASSERT_TRUE(kv_rerotate(kv, from, to).is_ok());
    KvCache fresh = make_cache(c);
    fill(fresh, keys, to);
    for (int64_t il = 0; il < kLayers; ++il) {
      for (int64_t t = 0; t < kTokens; ++t) expect_rows_near(kv, fresh, il, t, t);
    }
    if (HasFailure()) return;
  }
  // No scaling to YaRN: the attention factor appears (0.1 ln 4 + 1).
  const Keys keys = make_keys(6);
  KvCache kv = make_cache(kConfigs[0]);
  fill(kv, keys, rope(1.0));
  ASSERT_TRUE(kv_rerotate(kv, rope(1.0), rope(4.0)).is_ok());
  KvCache fresh = make_cache(kConfigs[0]);
  fill(fresh, keys, rope(4.0));
  for (int64_t t = 0; t < kTokens; ++t) expect_rows_near(kv, fresh, 1, t, t);
}

TEST(KvOps, BadRangesAreErrors) {
  KvCache kv = make_cache(kConfigs[1]);
  fill(kv, make_keys(1), rope(1.0));
  EXPECT_FALSE(kv_remove(kv, 5, 4, rope(1.0)).is_ok());
  EXPECT_FALSE(kv_remove(kv, 0, kTokens + 1, rope(1.0)).is_ok());
  EXPECT_FALSE(kv_remove(kv, -1, 3, rope(1.0)).is_ok());
  ref::RopeParams wrong = rope(1.0);
  wrong.head_dim = 32;
  EXPECT_FALSE(kv_remove(kv, 0, 3, wrong).is_ok());
  EXPECT_EQ(kv.n_past(), kTokens);
  EXPECT_TRUE(kv_remove(kv, 7, 7, rope(1.0)).is_ok());
  EXPECT_EQ(kv.n_past(), kTokens);
}

}  // namespace
}  // namespace longctx
