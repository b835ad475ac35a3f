// Tensor element types as numbered in GGUF (ggml's type ids) and their block layout traits.
// Every count of bytes in longctx (GGUF validation, planner, allocation) goes through here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace longctx {

// Ids are fixed by the GGUF format; gaps are ids ggml retired.
enum class TensorType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
  MXFP4 = 39,
};

struct TypeTraits {
  TensorType type;
  const char* name;      // as llama.cpp prints it: "f32", "q4_K", ...
  uint32_t block_size;   // elements per block (1 for plain types)
  uint32_t block_bytes;  // bytes per block
};

// Traits of a type id read from a file; nullopt for ids this build does not know.
std::optional<TypeTraits> type_traits(uint32_t type_id);
// Traits of a known type (never fails).
const TypeTraits& traits(TensorType t);
const char* type_name(TensorType t);
// Parses a type name case-insensitively ("q4_k", "Q4_K", "bf16"); nullopt if unknown.
std::optional<TensorType> parse_type_name(std::string_view name);

// Bytes taken by one row of n elements; n must be a multiple of the block size.
inline uint64_t row_bytes(TensorType t, uint64_t n) {
  const TypeTraits& tr = traits(t);
  return n / tr.block_size * tr.block_bytes;
}

}  // namespace longctx
