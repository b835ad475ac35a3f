// random_blocks writes blocks that the reference dequantizer (bit-exact with the gguf package,
// test_dequantize.cpp) reads as finite, zero-mean values of the requested spread, bounded, with
// the same bytes for the same seed: what makes a `synth --random-blocks` model usable.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <ostream>
#include <vector>

#include "quant/quantize.h"
#include "quant/random_blocks.h"

namespace longctx {
namespace {

const TensorType kTypes[] = {TensorType::F32,  TensorType::F16,  TensorType::BF16, TensorType::Q4_0,
                             TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1, TensorType::Q8_0,
                             TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K};

class RandomBlocks : public testing::TestWithParam<TensorType> {};

TEST_P(RandomBlocks, DequantizeToZeroMeanValuesOfTheRequestedSpread) {
  const TensorType t = GetParam();
  ASSERT_TRUE(has_random_blocks(t));
  constexpr int64_t kRows = 64, kRowLen = 4096;
  const int64_t n = kRows * kRowLen;
  for (const float want_std : {0.02f, 0.5f}) {
    std::vector<uint8_t> q(row_bytes(t, uint64_t(n)));
    random_blocks(t, 1234, want_std, q.data(), n);
    std::vector<float> x(static_cast<size_t>(n));
    ASSERT_TRUE(dequantize_row(t, q.data(), x.data(), n).is_ok());
    double sum = 0, sq = 0, max_abs = 0;
    for (float v : x) {
      ASSERT_TRUE(std::isfinite(v));
      sum += v;
      sq += double(v) * v;
      max_abs = std::max(max_abs, double(std::fabs(v)));
    }
    const double mean = sum / double(n), sd = std::sqrt(sq / double(n) - mean * mean);
    // The scales are fp16 and the integer draws only nearly uniform: the spread is within 5%.
    EXPECT_NEAR(sd, want_std, 0.05 * want_std) << type_name(t);
    // Zero mean: far inside the spread (the sample mean of 262144 values alone has sd
    // 0.002 std; blocks share a scale, so allow more).
    EXPECT_LT(std::fabs(mean), 0.02 * want_std) << type_name(t);
    // Bounded: no value beyond 8 std (a normal would give some at 5).
    EXPECT_LT(max_abs, 8 * want_std) << type_name(t);
    // Each row's mean is near 0 too, so a matrix has no large rank-one component.
    for (int64_t r = 0; r < kRows; ++r) {
      double rs = 0;
      for (int64_t i = 0; i < kRowLen; ++i) rs += x[size_t(r * kRowLen + i)];
      EXPECT_LT(std::fabs(rs / kRowLen), 0.1 * want_std) << type_name(t) << " row " << r;
    }
  }
}

TEST_P(RandomBlocks, SameSeedSameBytesOtherSeedOtherBytes) {
  const TensorType t = GetParam();
  const int64_t n = 2 * 256;
  const size_t nb = row_bytes(t, uint64_t(n));
  std::vector<uint8_t> a(nb), b(nb), c(nb);
  random_blocks(t, 7, 0.02f, a.data(), n);
  random_blocks(t, 7, 0.02f, b.data(), n);
  random_blocks(t, 8, 0.02f, c.data(), n);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

std::string TypeParamName(const testing::TestParamInfo<TensorType>& info) {
  return type_name(info.param);
}

INSTANTIATE_TEST_SUITE_P(Types, RandomBlocks, testing::ValuesIn(kTypes), TypeParamName);

TEST(RandomBlocksTypes, OnlyTheFormatsItWrites) {
  EXPECT_FALSE(has_random_blocks(TensorType::Q2_K));
  EXPECT_FALSE(has_random_blocks(TensorType::Q3_K));
  EXPECT_FALSE(has_random_blocks(TensorType::IQ4_XS));
}

}  // namespace
}  // namespace longctx
