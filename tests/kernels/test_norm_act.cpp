// RMSNorm, softmax, SiLU and SwiGLU against transformers / torch fixtures; argmax and top-k
// selection rules (ties, NaN); rejected arguments.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/ref/activations.h"
#include "kernels/ref/norm.h"
#include "oracle.h"

namespace longctx::ref {
namespace {

using testing::floats;
using testing::kU;
using testing::oracle;

// Smallest normal fp32: where torch's fp32 and our double-then-round results may legitimately
// differ in absolute terms because one side underflows (e.g. silu(-100): torch exp(100) = inf).
constexpr double kTinyAbs = 1.1754943508222875e-38;

TEST(RmsNorm, MatchesQwen3RMSNorm) {
  ASSERT_TRUE(oracle().contains("rms_norm"));
  for (const auto& c : oracle()["rms_norm"]) {
    const int64_t n = c["n"];
    const std::vector<float> x = floats(c["x"]), w = floats(c["weight"]), want = floats(c["y"]);
    std::vector<float> y(static_cast<size_t>(n));
    ASSERT_TRUE(rms_norm(x.data(), w.data(), c["eps"].get<float>(), n, y.data()).is_ok());
    // torch: n fp32 squares summed (relative error <= n*u of the sum, halved by the square
    // root), rsqrt (~2 ulp), two products: |dy| <= (n/2 + 8) * u * |y|.
    for (int64_t i = 0; i < n; ++i) {
      EXPECT_NEAR(y[i], want[i], (n / 2.0 + 8.0) * kU * std::fabs(want[i]))
          << "n=" << n << " i=" << i;
    }
  }
}

TEST(RmsNorm, PerHeadMatchesQNorm) {
  const auto& c = oracle()["rms_norm_heads"].at(0);
  const int64_t n_head = c["n_head"], head_dim = c["head_dim"];
  const std::vector<float> x = floats(c["x"]), w = floats(c["weight"]), want = floats(c["y"]);
  std::vector<float> y = x;  // in place, as the forward pass uses it
  ASSERT_TRUE(rms_norm_heads(y.data(), w.data(), c["eps"].get<float>(), n_head, head_dim, y.data())
                  .is_ok());
  for (size_t i = 0; i < y.size(); ++i) {
    EXPECT_NEAR(y[i], want[i], (head_dim / 2.0 + 8.0) * kU * std::fabs(want[i])) << i;
  }
}

TEST(RmsNorm, RejectsBadArguments) {
  float x = 1.0f, w = 1.0f, y = 0.0f;
  Status st = rms_norm(&x, &w, 1e-6f, 0, &y);
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("got 0"), std::string::npos) << st.message();
  EXPECT_FALSE(rms_norm(&x, &w, -1.0f, 1, &y).is_ok());
  EXPECT_FALSE(rms_norm_heads(&x, &w, 1e-6f, 0, 1, &y).is_ok());
}

TEST(Softmax, MatchesTorchWithScaleAndMask) {
  for (const auto& c : oracle()["softmax"]) {
    const std::vector<float> x = floats(c["x"]), want = floats(c["y"]);
    const int64_t n = static_cast<int64_t>(x.size());
    const SoftmaxParams p{c["scale"].get<float>(), c["n_visible"].get<int64_t>()};
    std::vector<float> y(x.size());
    ASSERT_TRUE(softmax(x.data(), n, p, y.data()).is_ok());
    // torch rounds scale*x and (scale*x - max) in fp32, each an absolute error of u*|arg| in
    // the exponent, i.e. a relative error of u*|arg| in exp; the fp32 sum adds n*u and the
    // exp and the division a few ulps: |dy_i| <= (2*A + n + 6) * u * y_i, A = max|scale*x|.
    double a = 0.0;
    for (int64_t i = 0; i < p.n_visible; ++i) a = std::max(a, std::fabs(double(p.scale) * x[i]));
    for (int64_t i = 0; i < n; ++i) {
      if (i >= p.n_visible) {
        EXPECT_EQ(y[i], 0.0f) << "masked entry " << i;
        continue;
      }
      EXPECT_NEAR(y[i], want[i], (2 * a + n + 6) * kU * want[i]) << "n=" << n << " i=" << i;
    }
  }
}

TEST(Softmax, HugeLogitsStayFinite) {
  // Without subtracting the maximum, exp(1e30) would overflow to inf and give NaN.
  const std::vector<float> x = {1e30f, 1e30f, -1e30f};
  std::vector<float> y(3);
  ASSERT_TRUE(softmax(x.data(), 3, {}, y.data()).is_ok());
  EXPECT_EQ(y[0], 0.5f);
  EXPECT_EQ(y[1], 0.5f);
  EXPECT_EQ(y[2], 0.0f);
}

TEST(Softmax, RejectsBadVisibleCount) {
  float x[2] = {0, 0}, y[2];
  EXPECT_FALSE(softmax(x, 2, SoftmaxParams{1.0f, 3}, y).is_ok());
  EXPECT_FALSE(softmax(x, 2, SoftmaxParams{1.0f, 0}, y).is_ok());
  EXPECT_FALSE(softmax(x, 0, {}, y).is_ok());
}

// torch.softmax([-inf, -inf]) and softmax([1, nan]) are all NaN: data, not an error.
TEST(Softmax, NanOrAllMaskedInputGivesNanLikeTorch) {
  float y[3];
  const float all_masked[3] = {-INFINITY, -INFINITY, 5.0f};
  ASSERT_TRUE(softmax(all_masked, 3, SoftmaxParams{1.0f, 2}, y).is_ok());
  EXPECT_TRUE(std::isnan(y[0]) && std::isnan(y[1]));
  EXPECT_EQ(y[2], 0.0f);
  const float with_nan[3] = {1.0f, NAN, 2.0f};
  ASSERT_TRUE(softmax(with_nan, 3, {}, y).is_ok());
  for (float v : y) EXPECT_TRUE(std::isnan(v));
}

TEST(Silu, MatchesTorch) {
  const auto& c = oracle()["silu"];
  const std::vector<float> x = floats(c["x"]), want = floats(c["y"]);
  // torch's fp32 x * sigmoid(x) is within a few ulps (exp, add, divide, multiply): 6u|y|.
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_NEAR(silu(x[i]), want[i], 6 * kU * std::fabs(want[i]) + kTinyAbs) << "x=" << x[i];
  }
}

TEST(Swiglu, MatchesTorch) {
  const auto& c = oracle()["silu"];
  const std::vector<float> g = floats(c["gate"]), u = floats(c["up"]), want = floats(c["swiglu"]);
  std::vector<float> y(g.size());
  swiglu(g.data(), u.data(), static_cast<int64_t>(g.size()), y.data());
  for (size_t i = 0; i < y.size(); ++i) {
    EXPECT_NEAR(y[i], want[i], 8 * kU * std::fabs(want[i]) + kTinyAbs) << i;
  }
}

TEST(Argmax, FirstOfEqualMaximaAndSkipsNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> a = {1, 3, 2, 3};
  EXPECT_EQ(argmax(a.data(), 4), 1);
  const std::vector<float> b = {nan, -5, nan, -1, -1};
  EXPECT_EQ(argmax(b.data(), 5), 3);
  const std::vector<float> c = {nan, nan};
  EXPECT_EQ(argmax(c.data(), 2), 0);
}

TEST(TopK, LargestFirstTiesByLowerIndex) {
  const std::vector<float> x = {0.5f, 2.0f, 0.5f, 2.0f, -1.0f, 0.5f};
  Result<std::vector<int64_t>> r = top_k(x.data(), 6, 4);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r, (std::vector<int64_t>{1, 3, 0, 2}));
  Result<std::vector<int64_t>> all = top_k(x.data(), 6, 6);
  ASSERT_TRUE(all.is_ok());
  EXPECT_EQ(*all, (std::vector<int64_t>{1, 3, 0, 2, 5, 4}));
}

TEST(TopK, RejectsNaNAndBadK) {
  const std::vector<float> x = {1.0f, std::numeric_limits<float>::quiet_NaN()};
  Result<std::vector<int64_t>> r = top_k(x.data(), 2, 1);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("index 1"), std::string::npos) << r.status().message();
  EXPECT_FALSE(top_k(x.data(), 1, 2).is_ok());
  EXPECT_FALSE(top_k(x.data(), 1, 0).is_ok());
}

}  // namespace
}  // namespace longctx::ref
