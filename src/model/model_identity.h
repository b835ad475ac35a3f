// An identity of a model file for session files: two files with the same shape but different
// weights must differ, and checking it must not read a 20 GB file. It hashes (XXH3-128) the
// whole GGUF header (metadata and tensor table) and three 4 KiB samples of every tensor's data
// (start, middle, end), a few MiB at most.
#pragma once

#include <cstdint>
#include <string>

#include "gguf/gguf.h"

namespace longctx {

struct ModelIdentity {
  uint64_t hash_hi = 0, hash_lo = 0;  // XXH3-128 of the header and the samples
  uint64_t file_size = 0;
  bool operator==(const ModelIdentity&) const = default;
  std::string hex() const;  // 32 hex digits of the hash
};

// Reads the header and the samples through the file's mapping (the pages of each sample are
// released again afterwards, so the resident set does not grow).
ModelIdentity model_identity(const GgufFile& file);

}  // namespace longctx
