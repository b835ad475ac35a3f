// Human-readable summary of a parsed GGUF file, as printed by `longctx info`: header facts,
// every metadata key with its type and (abbreviated) value, parameter and byte totals per
// tensor type, and optionally the full tensor table.
#pragma once

#include <cstdint>
#include <string>

#include "gguf/gguf.h"

namespace longctx {

struct GgufInfoOptions {
  bool list_tensors = false;   // append the full tensor table (name, type, dims, bytes, offset)
  size_t max_array_elems = 8;  // arrays longer than this are shown abbreviated
};

// Parameter count in human units: 596M, 7.6B, 30.5B, 950K.
std::string human_count(uint64_t n);
// Byte count in binary units: 1.50 GiB, 12.0 MiB, 512 B.
std::string human_bytes(uint64_t n);

// The whole report; `file_size` is the size of the file on disk.
std::string format_gguf_info(const GgufFile& f, uint64_t file_size, const GgufInfoOptions& opts);

}  // namespace longctx
