// Reference matmul against "dequantize the whole matrix, then a naive fp32 dot" for every type
// with a dequantizer, odd shapes and misaligned weight pointers; batch == per-vector; bias; GGUF
// tensor views (2-D and per expert); rejected shapes and types.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/ref/matmul.h"
#include "oracle.h"
#include "quant/blocks.h"
#include "quant/float16.h"
#include "quant/quantize.h"

namespace longctx::ref {
namespace {

using testing::kU;

// n_out rows of n_in random elements packed as `type`, placed `misalign` bytes into the buffer.
// Types with a quantizer get quantized Gaussian data; Q2_K / Q3_K (no quantizer) get random
// bytes with their fp16 super-block scales set to a finite 0.01 so every value is finite.
std::vector<uint8_t> make_weights(TensorType type, int64_t n_in, int64_t n_out, size_t misalign,
                                  std::mt19937& rng) {
  const size_t rb = row_bytes(type, n_in);
  std::vector<uint8_t> buf(misalign + rb * n_out);
  uint8_t* base = buf.data() + misalign;
  if (has_quantizer(type)) {
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::vector<float> row(static_cast<size_t>(n_in));
    for (int64_t r = 0; r < n_out; ++r) {
      for (float& f : row) f = nd(rng);
      EXPECT_TRUE(quantize_row(type, row.data(), base + rb * r, n_in).is_ok());
    }
    return buf;
  }
  for (size_t i = misalign; i < buf.size(); ++i) buf[i] = static_cast<uint8_t>(rng());
  const uint16_t scale = fp32_to_fp16(0.01f);
  const size_t bb = traits(type).block_bytes;
  for (size_t b = 0; b < rb * n_out / bb; ++b) {
    uint8_t* blk = base + b * bb;
    if (type == TensorType::Q2_K) {
      std::memcpy(blk + offsetof(BlockQ2_K, d), &scale, 2);
      std::memcpy(blk + offsetof(BlockQ2_K, dmin), &scale, 2);
    } else {
      std::memcpy(blk + offsetof(BlockQ3_K, d), &scale, 2);
    }
  }
  return buf;
}

struct Shape {
  int64_t n_in, n_out;
};

class MatmulTypes : public ::testing::TestWithParam<TensorType> {};

TEST_P(MatmulTypes, MatchesDequantizedNaiveDot) {
  const TensorType type = GetParam();
  const int64_t bs = traits(type).block_size;
  const std::vector<Shape> shapes = bs == 1 ? std::vector<Shape>{{1, 1}, {7, 5}, {33, 13}, {256, 3}}
                                            : std::vector<Shape>{{bs, 1}, {bs, 7}, {3 * bs, 5}};
  std::mt19937 rng(42);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (const Shape s : shapes) {
    for (size_t misalign : {0u, 1u, 3u}) {
      const std::vector<uint8_t> buf = make_weights(type, s.n_in, s.n_out, misalign, rng);
      const WeightMatrix w{type, buf.data() + misalign, s.n_in, s.n_out};
      const int64_t n_tok = 3;
      std::vector<float> x(static_cast<size_t>(n_tok * s.n_in)), bias(s.n_out);
      for (float& f : x) f = nd(rng);
      for (float& f : bias) f = nd(rng);
      // The naive oracle: the whole matrix dequantized, then fp32 sums in index order.
      std::vector<float> dense(static_cast<size_t>(s.n_in * s.n_out));
      for (int64_t r = 0; r < s.n_out; ++r) {
        ASSERT_TRUE(dequantize_row(type, buf.data() + misalign + row_bytes(type, s.n_in) * r,
                                   dense.data() + r * s.n_in, s.n_in)
                        .is_ok());
      }
      std::vector<float> y(static_cast<size_t>(n_tok * s.n_out));
      ASSERT_TRUE(matmul_batch(w, x.data(), n_tok, bias.data(), y.data()).is_ok());
      for (int64_t t = 0; t < n_tok; ++t) {
        std::vector<float> y1(static_cast<size_t>(s.n_out));
        ASSERT_TRUE(matmul(w, x.data() + t * s.n_in, bias.data(), y1.data()).is_ok());
        for (int64_t r = 0; r < s.n_out; ++r) {
          float naive = 0.0f;
          double mag = std::fabs(bias[r]);
          for (int64_t i = 0; i < s.n_in; ++i) {
            naive += dense[r * s.n_in + i] * x[t * s.n_in + i];
            mag += std::fabs(double(dense[r * s.n_in + i]) * x[t * s.n_in + i]);
          }
          naive += bias[r];
          // A recursive fp32 sum of n_in + 1 terms errs by <= (n_in + 1) u sum|terms|; ours is
          // within u/2 of exact. Batched and single-vector paths must agree bit for bit.
          const std::string where = std::string(type_name(type)) + " " + std::to_string(s.n_in) +
                                    "x" + std::to_string(s.n_out) + " misalign " +
                                    std::to_string(misalign) + " t=" + std::to_string(t) +
                                    " r=" + std::to_string(r);
          EXPECT_NEAR(y[t * s.n_out + r], naive, (s.n_in + 2) * kU * mag) << where;
          EXPECT_EQ(y[t * s.n_out + r], y1[r]) << where;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllDequantizable, MatmulTypes,
                         ::testing::Values(TensorType::F32, TensorType::F16, TensorType::BF16,
                                           TensorType::Q4_0, TensorType::Q4_1, TensorType::Q5_0,
                                           TensorType::Q5_1, TensorType::Q8_0, TensorType::Q2_K,
                                           TensorType::Q3_K, TensorType::Q4_K, TensorType::Q5_K,
                                           TensorType::Q6_K),
                         [](const auto& info) { return std::string(type_name(info.param)); });

TEST(Matmul, BiasIsAddedAndOptional) {
  const std::vector<float> w = {1, 2, 3, 4, 5, 6};  // 2 rows of 3
  const std::vector<float> x = {1, 0, -1}, bias = {10, 20};
  std::vector<float> y(2);
  ASSERT_TRUE(
      matmul(WeightMatrix{TensorType::F32, w.data(), 3, 2}, x.data(), nullptr, y.data()).is_ok());
  EXPECT_EQ(y, (std::vector<float>{-2, -2}));
  ASSERT_TRUE(matmul(WeightMatrix{TensorType::F32, w.data(), 3, 2}, x.data(), bias.data(), y.data())
                  .is_ok());
  EXPECT_EQ(y, (std::vector<float>{8, 18}));
}

TEST(Matmul, GgufViewsAndExpertSlices) {
  // 3 experts of a 32 -> 2 Q8_0 projection; expert e's matmul must equal a 2-D view of its slice.
  std::mt19937 rng(7);
  const std::vector<uint8_t> buf = make_weights(TensorType::Q8_0, 32, 6, 0, rng);
  GgufTensorInfo info{"blk.0.ffn_up_exps.weight", {32, 2, 3}, TensorType::Q8_0, 0, 192, 0};
  Result<ExpertStack> stack = expert_stack(info, buf.data());
  ASSERT_TRUE(stack.is_ok()) << stack.status().message();
  std::vector<float> x(32, 0.5f), ye(2), y2(2);
  for (int64_t e = 0; e < 3; ++e) {
    const WeightMatrix m = expert_matrix(*stack, e);
    EXPECT_EQ(static_cast<const uint8_t*>(m.data), buf.data() + e * 2 * 34);
    GgufTensorInfo slice{"slice", {32, 2}, TensorType::Q8_0, 0, 64, 0};
    Result<WeightMatrix> w2 = weight_matrix(slice, buf.data() + e * 2 * 34);
    ASSERT_TRUE(w2.is_ok());
    ASSERT_TRUE(matmul(m, x.data(), nullptr, ye.data()).is_ok());
    ASSERT_TRUE(matmul(*w2, x.data(), nullptr, y2.data()).is_ok());
    EXPECT_EQ(ye, y2);
  }
  Result<WeightMatrix> wrong = weight_matrix(info, buf.data());  // 3-D tensor as a matrix
  ASSERT_FALSE(wrong.is_ok());
  EXPECT_NE(wrong.status().message().find("blk.0.ffn_up_exps.weight"), std::string::npos);
}

TEST(Matmul, RejectsBadShapesAndTypes) {
  std::vector<uint8_t> buf(1024);
  std::vector<float> x(64), y(64);
  Status st =
      matmul(WeightMatrix{TensorType::Q8_0, buf.data(), 33, 2}, x.data(), nullptr, y.data());
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("n_in=33"), std::string::npos) << st.message();
  st = matmul(WeightMatrix{TensorType::IQ2_XXS, buf.data(), 256, 1}, x.data(), nullptr, y.data());
  EXPECT_EQ(st.code(), ErrorCode::kUnsupported);
  EXPECT_FALSE(
      matmul(WeightMatrix{TensorType::F32, nullptr, 4, 1}, x.data(), nullptr, y.data()).is_ok());
  EXPECT_FALSE(
      matmul_batch(WeightMatrix{TensorType::F32, buf.data(), 4, 1}, x.data(), 0, nullptr, y.data())
          .is_ok());
  GgufTensorInfo no_experts{"e", {32, 2, 0}, TensorType::Q8_0, 0, 0, 0};
  EXPECT_FALSE(expert_stack(no_experts, buf.data()).is_ok());
}

}  // namespace
}  // namespace longctx::ref
