// Test-side map of a valid GGUF header: where each count, length, type id, dimension and offset
// field sits, so mutation tests can overwrite exactly those fields with hostile values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace longctx::testing_util {

enum class FieldKind {
  kVersion,
  kTensorCount,
  kKvCount,
  kKeyLength,
  kValueType,
  kStringLength,
  kArrayType,
  kArrayCount,
  kTensorNameLength,
  kNDims,
  kDim,
  kTensorType,
  kTensorOffset,
  kAlignmentValue,
};

struct HeaderField {
  FieldKind kind;
  uint64_t pos;      // byte offset in the file
  int width;         // 4 or 8 bytes
  std::string what;  // e.g. "key 't.arr.str' array count"
};

// Walks a well-formed little-endian GGUF header (aborts on a malformed one: test input only).
std::vector<HeaderField> map_header(const std::vector<uint8_t>& file);

// Overwrites a 4- or 8-byte little-endian field.
void poke(std::vector<uint8_t>& file, uint64_t pos, int width, uint64_t value);
uint64_t peek(const std::vector<uint8_t>& file, uint64_t pos, int width);

}  // namespace longctx::testing_util
