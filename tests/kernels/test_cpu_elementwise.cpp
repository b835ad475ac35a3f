// The element-wise kernels of every instruction-set path against the scalar references: SwiGLU
// against ref::swiglu (silu in double), fp32 -> fp16 bit-exact against quant/float16.h.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "kernels/cpu/isa.h"
#include "kernels/ref/activations.h"
#include "quant/float16.h"

namespace longctx::cpu {
namespace {

class Elementwise : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (!isa_supported(GetParam())) GTEST_SKIP() << "CPU cannot run " << isa_name(GetParam());
  }
  const KernelTable& table() const { return kernel_table(GetParam()); }
};

TEST_P(Elementwise, SwigluMatchesTheReference) {
  // Every length 0..40 (tails of the 8- and 16-wide loops) and a long one; gate values over the
  // whole range where silu changes shape, plus the clamped ends of the vector exp.
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> wide(-30.0f, 30.0f);
  for (int64_t n : {0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 40, 4099}) {
    std::vector<float> g(static_cast<size_t>(n)), u(g.size()), want(g.size()), got(g.size());
    for (size_t i = 0; i < g.size(); ++i) {
      g[i] = wide(rng);
      u[i] = wide(rng);
    }
    if (n > 4) {
      g[0] = -100.0f;  // e^100 overflows unless clamped: silu -> -0
      g[1] = 100.0f;   // silu(x) -> x
      g[2] = 0.0f;
      g[3] = -87.5f;
    }
    ref::swiglu(g.data(), u.data(), n, want.data());
    table().swiglu(g.data(), u.data(), n, got.data());
    for (size_t i = 0; i < g.size(); ++i) {
      // The vector exp has a relative error of ~1e-7 and the division and products add a few
      // float roundings: 8 ulp-sized relative steps (1e-6) bound them with room.
      EXPECT_NEAR(got[i], want[i], 1e-6f * std::fabs(want[i]) + 1e-30f)
          << "n " << n << " i " << i << " gate " << g[i];
    }
  }
}

TEST_P(Elementwise, SwigluGivesTheSameBitsInTheTailAsInTheBody) {
  // An element's result must not depend on whether it falls in a full vector or in the tail.
  std::vector<float> g(40), u(40), full(40);
  for (size_t i = 0; i < g.size(); ++i) {
    g[i] = -6.0f + 0.3f * static_cast<float>(i);
    u[i] = 1.0f + 0.01f * static_cast<float>(i);
  }
  table().swiglu(g.data(), u.data(), 40, full.data());
  for (int64_t n = 1; n < 40; ++n) {
    std::vector<float> part(static_cast<size_t>(n));
    table().swiglu(g.data(), u.data(), n, part.data());
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(part[i], full[i]) << "n " << n << " i " << i;
  }
}

TEST_P(Elementwise, SwigluAliasesItsInput) {
  std::vector<float> g = {-2.0f, -0.5f, 0.25f, 3.0f, 1.0f, -1.0f, 0.0f, 5.0f, 2.0f};
  std::vector<float> u = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f};
  std::vector<float> want(g.size());
  table().swiglu(g.data(), u.data(), static_cast<int64_t>(g.size()), want.data());
  table().swiglu(g.data(), u.data(), static_cast<int64_t>(g.size()), g.data());
  EXPECT_EQ(g, want);
}

TEST_P(Elementwise, ToF16IsBitExact) {
  std::vector<float> x;
  const float inf = std::numeric_limits<float>::infinity();
  for (float v : {0.0f, -0.0f, 1.0f, -1.0f, 65504.0f, 65519.0f, 65520.0f, 1e10f, -1e10f, inf, -inf,
                  6.1e-5f, 5.96e-8f, 2.98e-8f, 2.99e-8f, 1e-9f, 3.0e-6f, 0.1f, 1.0009765625f}) {
    x.push_back(v);
  }
  x.push_back(std::bit_cast<float>(0x7fc00001u));  // quiet NaN with payload
  x.push_back(std::bit_cast<float>(0xff812345u));  // signalling NaN, negative
  std::mt19937 rng(3);
  std::uniform_int_distribution<uint32_t> bits;
  for (int i = 0; i < 20000; ++i) x.push_back(std::bit_cast<float>(bits(rng)));
  // Halfway cases of every exponent: the mantissa's dropped 13 bits exactly 0x1000.
  for (uint32_t e = 100; e < 145; ++e) x.push_back(std::bit_cast<float>(e << 23 | 0x1000u));
  for (size_t start : {size_t{0}, size_t{1}, size_t{3}}) {
    const int64_t n = static_cast<int64_t>(x.size() - start);
    std::vector<uint16_t> got(x.size(), 0xdead);
    table().to_f16(x.data() + start, got.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(got[static_cast<size_t>(i)], fp32_to_fp16(x[start + static_cast<size_t>(i)]))
          << "x bits " << std::hex << std::bit_cast<uint32_t>(x[start + static_cast<size_t>(i)]);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllPaths, Elementwise,
                         ::testing::Values(Isa::kScalar, Isa::kAvx2, Isa::kAvx512),
                         [](const ::testing::TestParamInfo<Isa>& info) {
                           return std::string(isa_name(info.param));
                         });

}  // namespace
}  // namespace longctx::cpu
