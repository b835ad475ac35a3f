// quantize_row against its oracles: exactly the gguf package's bytes for F16, BF16, Q4_0, Q4_1,
// Q5_0, Q5_1, Q8_0, and exactly ggml's quantize_row_q{4,5,6}_K_ref bytes for the K-quants, over
// 28672 inputs drawn from 14 distributions (see tools/quant_make_fixtures.py).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "fixture.h"
#include "quant/quantize.h"

namespace longctx {
namespace {

using testing::load_fixture;

struct QuantCase {
  TensorType type;
  const char* fixture;
};

const QuantCase kCases[] = {
    {TensorType::F16, "q_f16"},   {TensorType::BF16, "q_bf16"}, {TensorType::Q4_0, "q_q4_0"},
    {TensorType::Q4_1, "q_q4_1"}, {TensorType::Q5_0, "q_q5_0"}, {TensorType::Q5_1, "q_q5_1"},
    {TensorType::Q8_0, "q_q8_0"}, {TensorType::Q4_K, "q_q4_k"}, {TensorType::Q5_K, "q_q5_k"},
    {TensorType::Q6_K, "q_q6_k"},
};

void PrintTo(const QuantCase& c, std::ostream* os) { *os << type_name(c.type); }

class QuantizeTest : public ::testing::TestWithParam<QuantCase> {};

// Number of blocks whose bytes differ; the first one is reported with its byte offset.
int count_block_mismatches(TensorType t, const uint8_t* ours, const uint8_t* oracle,
                           int64_t n_blocks) {
  const uint32_t bb = traits(t).block_bytes;
  int bad = 0;
  for (int64_t b = 0; b < n_blocks; ++b) {
    if (std::memcmp(ours + b * bb, oracle + b * bb, bb) != 0 && bad++ == 0) {
      uint32_t k = 0;
      while (ours[b * bb + k] == oracle[b * bb + k]) ++k;
      ADD_FAILURE() << type_name(t) << " block " << b << " byte " << k << ": ours "
                    << int(ours[b * bb + k]) << " oracle " << int(oracle[b * bb + k]);
    }
  }
  return bad;
}

// F16 inputs include NaN, for which numpy keeps payload bits where we (like F16C hardware)
// return a quiet NaN; test_float16.cpp checks NaN-ness and sign. Here such inputs become 1.0
// with its fp16 encoding 0x3c00 as the expected bytes, so every other byte is compared exactly.
struct Prepared {
  std::vector<float> x;
  std::vector<uint8_t> expected;
};
Prepared prepare(const testing::Fixture& f) {
  Prepared p{f.floats, f.bytes};
  if (f.type != TensorType::F16) return p;
  for (size_t i = 0; i < p.x.size(); ++i) {
    if (std::isnan(p.x[i])) {
      p.x[i] = 1.0f;
      p.expected[2 * i] = 0x00;
      p.expected[2 * i + 1] = 0x3c;
    }
  }
  return p;
}

TEST_P(QuantizeTest, BytesMatchTheOracleExactly) {
  const QuantCase c = GetParam();
  auto f = load_fixture(c.fixture);
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  ASSERT_EQ(f->type, c.type);
  const auto [x, expected] = prepare(*f);
  const int64_t n = static_cast<int64_t>(x.size());
  ASSERT_EQ(expected.size(), row_bytes(c.type, n));
  std::vector<uint8_t> out(expected.size());
  ASSERT_TRUE(quantize_row(c.type, x.data(), out.data(), n).is_ok());
  EXPECT_EQ(
      count_block_mismatches(c.type, out.data(), expected.data(), n / traits(c.type).block_size),
      0);
}

// Short rows at varied offsets, written to an odd address, give the same bytes as the slice
// of the whole-row result: blocks are independent and the output needs no alignment.
TEST_P(QuantizeTest, RowSlicesToUnalignedOutput) {
  const QuantCase c = GetParam();
  auto f = load_fixture(c.fixture);
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  const auto [x, expected] = prepare(*f);
  const TypeTraits& tr = traits(c.type);
  const int64_t total_blocks = static_cast<int64_t>(x.size()) / tr.block_size;
  for (int64_t n_blocks : {1, 3, 8}) {
    for (int64_t first : {int64_t{0}, int64_t{13}, total_blocks - n_blocks}) {
      const int64_t n = n_blocks * tr.block_size;
      std::vector<uint8_t> out(row_bytes(c.type, n) + 3);
      ASSERT_TRUE(
          quantize_row(c.type, x.data() + first * tr.block_size, out.data() + 3, n).is_ok());
      EXPECT_EQ(count_block_mismatches(c.type, out.data() + 3,
                                       expected.data() + first * tr.block_bytes, n_blocks),
                0)
          << n_blocks << " blocks from block " << first;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, QuantizeTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(type_name(info.param.type)); });

TEST(QuantizeApi, F32IsACopy) {
  const std::vector<float> x = {1.5f, -0.0f, std::numeric_limits<float>::infinity(), 3e-42f};
  std::vector<float> out(x.size());
  ASSERT_TRUE(quantize_row(TensorType::F32, x.data(), out.data(), 4).is_ok());
  EXPECT_EQ(std::memcmp(x.data(), out.data(), sizeof(float) * 4), 0);
}

TEST(QuantizeApi, BlockTypesRejectNonFiniteInputWithItsIndex) {
  std::vector<float> x(256, 0.5f);
  x[77] = std::numeric_limits<float>::quiet_NaN();
  std::vector<uint8_t> out(1024);
  for (TensorType t : {TensorType::Q8_0, TensorType::Q4_0, TensorType::Q4_K, TensorType::Q6_K}) {
    Status s = quantize_row(t, x.data(), out.data(), 256);
    ASSERT_FALSE(s.is_ok()) << type_name(t);
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(s.message().find("index 77"), std::string::npos) << s.message();
  }
  x[77] = -std::numeric_limits<float>::infinity();
  EXPECT_FALSE(quantize_row(TensorType::Q5_1, x.data(), out.data(), 256).is_ok());
  // The float formats encode Inf and NaN instead.
  EXPECT_TRUE(quantize_row(TensorType::F16, x.data(), out.data(), 256).is_ok());
  EXPECT_TRUE(quantize_row(TensorType::BF16, x.data(), out.data(), 256).is_ok());
}

// Finite but extreme rows: ranges that overflow to Inf (+-FLT_MAX) and fp32 subnormals whose
// inverse scale overflows. Quantizing must stay defined (it runs under UBSan in CI) and, for the
// subnormal row, decode to within 1e-30 of the input (every fp16 scale rounds to 0 there).
TEST(QuantizeApi, ExtremeFiniteInputIsDefined) {
  const float big = std::numeric_limits<float>::max();
  std::vector<float> huge(256), tiny(256);
  for (int i = 0; i < 256; ++i) {
    huge[i] = (i % 3 == 0) ? big : (i % 3 == 1) ? -big : 0.0f;
    tiny[i] = static_cast<float>((i % 7) - 3) * 1e-40f;
  }
  for (TensorType t : {TensorType::Q4_0, TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1,
                       TensorType::Q8_0, TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K}) {
    std::vector<uint8_t> q(row_bytes(t, 256));
    EXPECT_TRUE(quantize_row(t, huge.data(), q.data(), 256).is_ok()) << type_name(t);
    ASSERT_TRUE(quantize_row(t, tiny.data(), q.data(), 256).is_ok()) << type_name(t);
    std::vector<float> y(256);
    ASSERT_TRUE(dequantize_row(t, q.data(), y.data(), 256).is_ok());
    for (int i = 0; i < 256; ++i) EXPECT_NEAR(y[i], tiny[i], 1e-30f) << type_name(t) << " " << i;
  }
}

TEST(QuantizeApi, CountMustBeAWholeNumberOfBlocks) {
  std::vector<float> x(512, 1.0f);
  std::vector<uint8_t> out(1024);
  Status s = quantize_row(TensorType::Q6_K, x.data(), out.data(), 257);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("q6_K"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("n=257"), std::string::npos) << s.message();
  EXPECT_FALSE(quantize_row(TensorType::Q4_0, x.data(), out.data(), 31).is_ok());
  EXPECT_FALSE(quantize_row(TensorType::Q4_0, x.data(), out.data(), -1).is_ok());
  EXPECT_FALSE(quantize_row(TensorType::Q4_0, x.data(), nullptr, 32).is_ok());
  EXPECT_TRUE(quantize_row(TensorType::Q4_0, nullptr, nullptr, 0).is_ok());
  EXPECT_TRUE(quantize_row(TensorType::F32, nullptr, nullptr, 0).is_ok());
}

TEST(QuantizeApi, TypesWithoutQuantizerAreUnsupported) {
  std::vector<float> x(256, 1.0f);
  std::vector<uint8_t> out(1024);
  for (TensorType t : {TensorType::Q2_K, TensorType::Q3_K, TensorType::Q8_K, TensorType::IQ4_NL}) {
    EXPECT_FALSE(has_quantizer(t));
    Status s = quantize_row(t, x.data(), out.data(), 256);
    ASSERT_FALSE(s.is_ok());
    EXPECT_EQ(s.code(), ErrorCode::kUnsupported);
    EXPECT_NE(s.message().find(type_name(t)), std::string::npos) << s.message();
  }
  for (const QuantCase& c : kCases) EXPECT_TRUE(has_quantizer(c.type)) << type_name(c.type);
}

}  // namespace
}  // namespace longctx
