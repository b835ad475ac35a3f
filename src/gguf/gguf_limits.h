// Format constants and sanity limits shared by the GGUF reader and writer (see docs/GGUF.md
// for why each limit has the value it has).
#pragma once

#include <cstdint>

namespace longctx::gguf_limits {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr uint64_t kDefaultAlignment = 32;
// Largest accepted general.alignment: covers 2 MiB huge pages with room to spare, and keeps the
// padding a reader skips small.
constexpr uint64_t kMaxAlignment = uint64_t{1} << 24;
// ggml tensors have at most 4 dimensions; names are stored in 64-byte fields including the NUL.
constexpr uint32_t kMaxDims = 4;
constexpr uint64_t kMaxTensorName = 63;
// Nested arrays deeper than this are rejected (gguf-py writes them; nobody needs depth > 2).
constexpr int kMaxArrayDepth = 8;
// Total array elements over all metadata. Each parsed element costs ~100 bytes of memory, so this
// bounds the memory a hostile header can demand (~1.6 GB) while leaving >50x headroom over the
// largest real vocabularies (3 arrays x 256k tokens).
constexpr uint64_t kMaxMetadataElements = uint64_t{1} << 24;

}  // namespace longctx::gguf_limits
