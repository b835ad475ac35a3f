// The Walsh-Hadamard rotation of KV heads against its definition: the Sylvester matrix
// H[i][j] = (-1)^popcount(i & j) / sqrt(b) applied to every block of b = the largest power of two
// dividing the row width, in double; plus the properties attention relies on (its own inverse,
// dot products kept).
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>
#include <vector>

#include "kernels/ref/hadamard.h"

namespace longctx::ref {
namespace {

TEST(Hadamard, BlockIsTheLargestPowerOfTwoDividingTheWidth) {
  EXPECT_EQ(hadamard_block(128), 128);
  EXPECT_EQ(hadamard_block(96), 32);
  EXPECT_EQ(hadamard_block(80), 16);
  EXPECT_EQ(hadamard_block(64), 64);
  EXPECT_EQ(hadamard_block(1), 1);
  EXPECT_EQ(hadamard_block(6), 2);
}

TEST(Hadamard, MatchesTheSylvesterMatrix) {
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (int64_t dim : {1, 2, 8, 32, 80, 96, 128, 256}) {
    const int64_t rows = 3, b = hadamard_block(dim);
    std::vector<float> x(static_cast<size_t>(rows * dim));
    for (float& v : x) v = dist(rng);
    std::vector<float> y = x;
    hadamard_rows(y.data(), rows, dim);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t o = 0; o < dim; o += b) {
        for (int64_t i = 0; i < b; ++i) {
          double want = 0.0;
          for (int64_t j = 0; j < b; ++j) {
            const double sign = std::popcount(static_cast<uint64_t>(i & j)) % 2 ? -1.0 : 1.0;
            want += sign * x[r * dim + o + j];
          }
          want /= std::sqrt(double(b));
          // log2(b) stages of one rounding each on values of magnitude <= sqrt(b) max |x|.
          const double tol = (std::log2(double(b)) + 2) * 6e-8 * std::sqrt(double(b)) * 4.0;
          ASSERT_NEAR(y[r * dim + o + i], want, tol) << "dim " << dim << " row " << r << " i " << i;
        }
      }
    }
  }
}

TEST(Hadamard, IsItsOwnInverseAndKeepsDotProducts) {
  std::mt19937 rng(4);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  const int64_t dim = 128;
  std::vector<float> a(dim), b(dim);
  for (float& v : a) v = dist(rng);
  for (float& v : b) v = dist(rng);
  std::vector<float> ha = a, hb = b;
  hadamard_rows(ha.data(), 1, dim);
  hadamard_rows(hb.data(), 1, dim);
  double dot = 0, hdot = 0;
  for (int64_t i = 0; i < dim; ++i) {
    dot += double(a[i]) * b[i];
    hdot += double(ha[i]) * hb[i];
  }
  EXPECT_NEAR(hdot, dot, 1e-4 * (1 + std::fabs(dot)));
  hadamard_rows(ha.data(), 1, dim);
  for (int64_t i = 0; i < dim; ++i) EXPECT_NEAR(ha[i], a[i], 1e-5f * (1 + std::fabs(a[i])));
}

// An outlier channel is spread evenly: after the rotation no element holds more than
// 1 / sqrt(b) of it.
TEST(Hadamard, SpreadsAnOutlierOverTheBlock) {
  std::vector<float> x(128, 0.0f);
  x[63] = 100.0f;
  hadamard_rows(x.data(), 1, 128);
  for (float v : x) EXPECT_NEAR(std::fabs(v), 100.0f / std::sqrt(128.0f), 1e-3f);
}

}  // namespace
}  // namespace longctx::ref
