// Table of GGUF tensor types with their block sizes and bytes per block.
#include "quant/types.h"

#include <cctype>
#include <cstdlib>
#include <iterator>

namespace longctx {
namespace {

// Bytes per block follow ggml's block structs (d/m scales in fp16 plus packed quants).
constexpr TypeTraits kTraits[] = {
    {TensorType::F32, "f32", 1, 4},
    {TensorType::F16, "f16", 1, 2},
    {TensorType::Q4_0, "q4_0", 32, 18},    // d + 16 bytes of nibbles
    {TensorType::Q4_1, "q4_1", 32, 20},    // d, m + 16
    {TensorType::Q5_0, "q5_0", 32, 22},    // d + 4 high bits + 16
    {TensorType::Q5_1, "q5_1", 32, 24},    // d, m + 4 + 16
    {TensorType::Q8_0, "q8_0", 32, 34},    // d + 32 int8
    {TensorType::Q8_1, "q8_1", 32, 36},    // d, s + 32 int8
    {TensorType::Q2_K, "q2_K", 256, 84},   // 16 scales + 64 quants + d, dmin
    {TensorType::Q3_K, "q3_K", 256, 110},  // 32 hmask + 64 quants + 12 scales + d
    {TensorType::Q4_K, "q4_K", 256, 144},  // d, dmin + 12 scales + 128 quants
    {TensorType::Q5_K, "q5_K", 256, 176},  // d, dmin + 12 scales + 32 high bits + 128
    {TensorType::Q6_K, "q6_K", 256, 210},  // 128 low + 64 high + 16 scales + d
    {TensorType::Q8_K, "q8_K", 256, 292},  // f32 d + 256 int8 + 16 int16 sums
    {TensorType::IQ2_XXS, "iq2_xxs", 256, 66},
    {TensorType::IQ2_XS, "iq2_xs", 256, 74},
    {TensorType::IQ3_XXS, "iq3_xxs", 256, 98},
    {TensorType::IQ1_S, "iq1_s", 256, 50},
    {TensorType::IQ4_NL, "iq4_nl", 32, 18},
    {TensorType::IQ3_S, "iq3_s", 256, 110},
    {TensorType::IQ2_S, "iq2_s", 256, 82},
    {TensorType::IQ4_XS, "iq4_xs", 256, 136},
    {TensorType::I8, "i8", 1, 1},
    {TensorType::I16, "i16", 1, 2},
    {TensorType::I32, "i32", 1, 4},
    {TensorType::I64, "i64", 1, 8},
    {TensorType::F64, "f64", 1, 8},
    {TensorType::IQ1_M, "iq1_m", 256, 56},
    {TensorType::BF16, "bf16", 1, 2},
    {TensorType::TQ1_0, "tq1_0", 256, 54},
    {TensorType::TQ2_0, "tq2_0", 256, 66},
    {TensorType::MXFP4, "mxfp4", 32, 17},
};
constexpr size_t kNumTraits = std::size(kTraits);

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

}  // namespace

std::optional<TypeTraits> type_traits(uint32_t type_id) {
  for (size_t i = 0; i < kNumTraits; ++i) {
    if (static_cast<uint32_t>(kTraits[i].type) == type_id) return kTraits[i];
  }
  return std::nullopt;
}

const TypeTraits& traits(TensorType t) {
  for (size_t i = 0; i < kNumTraits; ++i) {
    if (kTraits[i].type == t) return kTraits[i];
  }
  std::abort();  // unreachable for a valid enum value
}

const char* type_name(TensorType t) { return traits(t).name; }

std::optional<TensorType> parse_type_name(std::string_view name) {
  for (size_t i = 0; i < kNumTraits; ++i) {
    if (iequals(kTraits[i].name, name)) return kTraits[i].type;
  }
  return std::nullopt;
}

}  // namespace longctx
