// dequantize_row against the gguf package: bit-exact floats for all 13 supported types on
// random packed blocks with edge-case scales; row slices, unaligned buffers and API errors.
#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <ostream>
#include <string>
#include <vector>

#include "fixture.h"
#include "quant/quantize.h"

namespace longctx {
namespace {

using testing::load_fixture;
using testing::same_float;

struct DequantCase {
  TensorType type;
  const char* fixture;
};

const DequantCase kCases[] = {
    {TensorType::F32, "deq_f32"},   {TensorType::F16, "deq_f16"},   {TensorType::BF16, "deq_bf16"},
    {TensorType::Q4_0, "deq_q4_0"}, {TensorType::Q4_1, "deq_q4_1"}, {TensorType::Q5_0, "deq_q5_0"},
    {TensorType::Q5_1, "deq_q5_1"}, {TensorType::Q8_0, "deq_q8_0"}, {TensorType::Q2_K, "deq_q2_k"},
    {TensorType::Q3_K, "deq_q3_k"}, {TensorType::Q4_K, "deq_q4_k"}, {TensorType::Q5_K, "deq_q5_k"},
    {TensorType::Q6_K, "deq_q6_k"},
};

void PrintTo(const DequantCase& c, std::ostream* os) { *os << type_name(c.type); }

class DequantizeTest : public ::testing::TestWithParam<DequantCase> {};

// Counts elements whose bits differ (NaN matches NaN of the same sign) and reports the first.
int count_mismatches(const float* ours, const float* oracle, size_t n, size_t base = 0) {
  int bad = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!same_float(ours[i], oracle[i]) && bad++ == 0) {
      ADD_FAILURE() << "element " << base + i << ": ours " << ours[i] << " (0x" << std::hex
                    << std::bit_cast<uint32_t>(ours[i]) << ") oracle " << oracle[i] << " (0x"
                    << std::bit_cast<uint32_t>(oracle[i]) << ")";
    }
  }
  return bad;
}

TEST_P(DequantizeTest, WholeFixtureIsBitExact) {
  const DequantCase c = GetParam();
  auto f = load_fixture(c.fixture);
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  ASSERT_EQ(f->type, c.type);
  const int64_t n = static_cast<int64_t>(f->floats.size());
  ASSERT_EQ(f->bytes.size(), row_bytes(c.type, n));
  ASSERT_GE(n / traits(c.type).block_size, 256);  // several hundred blocks (or values)
  std::vector<float> out(n);
  ASSERT_TRUE(dequantize_row(c.type, f->bytes.data(), out.data(), n).is_ok());
  EXPECT_EQ(count_mismatches(out.data(), f->floats.data(), n), 0);
}

// Rows of 1, 2, 3, 7 and 16 blocks starting at varied block offsets, read from an odd address,
// must reproduce the matching slice of the oracle output.
TEST_P(DequantizeTest, RowSlicesAtUnalignedAddresses) {
  const DequantCase c = GetParam();
  auto f = load_fixture(c.fixture);
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  const TypeTraits& tr = traits(c.type);
  const int64_t total_blocks = static_cast<int64_t>(f->floats.size()) / tr.block_size;
  for (int64_t n_blocks : {1, 2, 3, 7, 16}) {
    for (int64_t first : {int64_t{0}, int64_t{5}, total_blocks - n_blocks}) {
      const int64_t n = n_blocks * tr.block_size;
      std::vector<uint8_t> src(row_bytes(c.type, n) + 1);
      std::memcpy(src.data() + 1, f->bytes.data() + first * tr.block_bytes, src.size() - 1);
      std::vector<float> out(n);
      ASSERT_TRUE(dequantize_row(c.type, src.data() + 1, out.data(), n).is_ok());
      EXPECT_EQ(count_mismatches(out.data(), f->floats.data() + first * tr.block_size, n,
                                 first * tr.block_size),
                0)
          << n_blocks << " blocks from block " << first;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, DequantizeTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(type_name(info.param.type)); });

TEST(DequantizeApi, CountMustBeAWholeNumberOfBlocks) {
  std::vector<uint8_t> src(1024);
  std::vector<float> dst(1024);
  Status s = dequantize_row(TensorType::Q4_K, src.data(), dst.data(), 300);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("q4_K"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("n=300"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("block size 256"), std::string::npos) << s.message();
  EXPECT_FALSE(dequantize_row(TensorType::Q8_0, src.data(), dst.data(), 33).is_ok());
  EXPECT_FALSE(dequantize_row(TensorType::Q8_0, src.data(), dst.data(), -32).is_ok());
  EXPECT_FALSE(dequantize_row(TensorType::Q8_0, nullptr, dst.data(), 32).is_ok());
  EXPECT_FALSE(dequantize_row(TensorType::Q8_0, src.data(), nullptr, 32).is_ok());
  // An empty row is valid and touches nothing, even with null buffers.
  EXPECT_TRUE(dequantize_row(TensorType::Q8_0, nullptr, nullptr, 0).is_ok());
  EXPECT_TRUE(dequantize_row(TensorType::F32, nullptr, nullptr, 0).is_ok());
}

TEST(DequantizeApi, UnsupportedTypesAreReportedByName) {
  for (TensorType t : {TensorType::Q8_K, TensorType::IQ2_XXS, TensorType::I32, TensorType::MXFP4}) {
    EXPECT_FALSE(has_dequantizer(t));
    std::vector<uint8_t> src(1024);
    std::vector<float> dst(256);
    Status s = dequantize_row(t, src.data(), dst.data(), 256);
    ASSERT_FALSE(s.is_ok());
    EXPECT_EQ(s.code(), ErrorCode::kUnsupported);
    EXPECT_NE(s.message().find(type_name(t)), std::string::npos) << s.message();
  }
  for (const DequantCase& c : kCases) EXPECT_TRUE(has_dequantizer(c.type)) << type_name(c.type);
}

}  // namespace
}  // namespace longctx
