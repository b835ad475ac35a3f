// fp16 / bf16 scalar conversions against numpy (float16) and the gguf package (bf16): every
// 16-bit pattern widened, and ~16k fp32 inputs (random bits + rounding boundaries) narrowed.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "fixture.h"
#include "quant/float16.h"

namespace longctx {
namespace {

using testing::Fixture;
using testing::load_fixture;

uint16_t u16_at(const Fixture& f, size_t i) {
  uint16_t h;
  std::memcpy(&h, f.bytes.data() + 2 * i, 2);
  return h;
}

// Widening is exact, so the bits must match for all 65536 patterns, NaN payloads included
// (numpy keeps the payload and does not quiet signalling NaNs; neither do we).
TEST(Float16, WidenAllFp16PatternsMatchesNumpy) {
  auto f = load_fixture("deq_f16");
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  ASSERT_EQ(f->floats.size(), 65536u);
  int mismatches = 0;
  for (size_t i = 0; i < 65536; ++i) {
    const float ours = fp16_to_fp32(u16_at(*f, i));
    if (std::bit_cast<uint32_t>(ours) != std::bit_cast<uint32_t>(f->floats[i]) && ++mismatches < 5)
      ADD_FAILURE() << "fp16 0x" << std::hex << i;
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(Float16, WidenAllBf16PatternsMatchesGguf) {
  auto f = load_fixture("deq_bf16");
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  ASSERT_EQ(f->floats.size(), 65536u);
  for (size_t i = 0; i < 65536; ++i) {
    ASSERT_EQ(std::bit_cast<uint32_t>(bf16_to_fp32(u16_at(*f, i))),
              std::bit_cast<uint32_t>(f->floats[i]))
        << "bf16 0x" << std::hex << i;
  }
}

// Narrowing: exact bits for every non-NaN input. For NaN, numpy keeps a different subset of the
// payload than F16C hardware / ggml, so only NaN-ness and the sign are required (and that the
// result is quiet, bit 9 set, so it can never be mistaken for Inf).
TEST(Float16, NarrowToFp16MatchesNumpy) {
  auto f = load_fixture("q_f16");
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  ASSERT_EQ(f->bytes.size(), 2 * f->floats.size());
  for (size_t i = 0; i < f->floats.size(); ++i) {
    const float x = f->floats[i];
    const uint16_t ours = fp32_to_fp16(x), oracle = u16_at(*f, i);
    if (std::isnan(x)) {
      EXPECT_EQ(ours & 0x7e00, 0x7e00) << i;
      EXPECT_EQ(ours & 0x8000, oracle & 0x8000) << i;
    } else {
      ASSERT_EQ(ours, oracle) << "input " << x << " (0x" << std::hex << std::bit_cast<uint32_t>(x)
                              << ")";
    }
  }
}

TEST(Float16, NarrowToBf16MatchesGguf) {
  auto f = load_fixture("q_bf16");
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  for (size_t i = 0; i < f->floats.size(); ++i) {
    ASSERT_EQ(fp32_to_bf16(f->floats[i]), u16_at(*f, i))
        << "input 0x" << std::hex << std::bit_cast<uint32_t>(f->floats[i]);
  }
}

// Every non-NaN 16-bit value survives widen-then-narrow unchanged (the widening is exact and
// the value is its own nearest neighbour).
TEST(Float16, WidenNarrowRoundTripIsIdentity) {
  for (uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<uint16_t>(i);
    if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue;  // fp16 NaN
    ASSERT_EQ(fp32_to_fp16(fp16_to_fp32(h)), h) << std::hex << i;
    if ((h & 0x7f80) == 0x7f80 && (h & 0x7f)) continue;  // bf16 NaN
    ASSERT_EQ(fp32_to_bf16(bf16_to_fp32(h)), h) << std::hex << i;
  }
}

// Hand-derived boundaries, independent of any oracle.
TEST(Float16, RoundingBoundaries) {
  EXPECT_EQ(fp32_to_fp16(65504.0f), 0x7bff);  // largest finite
  EXPECT_EQ(fp32_to_fp16(std::nextafter(65520.0f, 0.f)), 0x7bff);
  EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7c00);  // tie, odd mantissa -> Inf
  EXPECT_EQ(fp32_to_fp16(-1e30f), 0xfc00);
  EXPECT_EQ(fp32_to_fp16(1.0f + 0x1p-11f), 0x3c00);  // tie to even (down)
  EXPECT_EQ(fp32_to_fp16(1.0f + 0x3p-11f), 0x3c02);  // tie to even (up)
  EXPECT_EQ(fp32_to_fp16(0x1p-24f), 0x0001);         // smallest subnormal
  EXPECT_EQ(fp32_to_fp16(0x1p-25f), 0x0000);         // tie with 0 -> even 0
  EXPECT_EQ(fp32_to_fp16(0x3p-25f), 0x0002);         // 1.5 ulp tie -> 2
  EXPECT_EQ(fp32_to_fp16(0x5p-25f), 0x0002);         // 2.5 ulp tie -> 2
  EXPECT_EQ(fp32_to_fp16(0x1.ff8p-15f), 0x03ff);     // largest subnormal
  EXPECT_EQ(fp32_to_fp16(std::nextafter(0x1.ffcp-15f, 0.f)), 0x03ff);
  EXPECT_EQ(fp32_to_fp16(0x1.ffcp-15f), 0x0400);  // tie -> even: smallest normal
  EXPECT_EQ(fp16_to_fp32(0x0001), 0x1p-24f);
  EXPECT_EQ(fp16_to_fp32(0x03ff), 0x1.ff8p-15f);
  EXPECT_EQ(fp32_to_bf16(1.0f + 0x1p-8f), 0x3f80);                     // tie to even (down)
  EXPECT_EQ(fp32_to_bf16(1.0f + 0x3p-8f), 0x3f82);                     // tie to even (up)
  EXPECT_EQ(fp32_to_bf16(std::numeric_limits<float>::max()), 0x7f80);  // rounds to Inf
  EXPECT_EQ(fp32_to_bf16(std::bit_cast<float>(0x7f800001u)), 0x7fc0);  // sNaN -> quiet NaN
}

}  // namespace
}  // namespace longctx
