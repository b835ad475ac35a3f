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
// Total array elements over all metadata, with 4x headroom over the largest real vocabularies (4
// arrays - tokens, scores, types, merges - of ~262k entries). Arrays are stored packed: a scalar
// element costs its own size, a string element 8 bytes plus its bytes (which the file holds), so
// a hostile header can make us allocate at most ~34 MB beyond the file's own string bytes. An
// element that is itself an array is a whole value (~160 bytes) and counts kNestedArrayCost
// elements, which caps those at 262,144 (~42 MB); real files have none or a handful.
constexpr uint64_t kMaxMetadataElements = uint64_t{1} << 22;
constexpr uint64_t kNestedArrayCost = 16;
// Key and tensor counts: real models have tens of keys and at most a few thousand tensors (a
// 94-layer MoE has ~1,100); the caps only stop a corrupt count from driving the parse.
constexpr uint64_t kMaxKeys = uint64_t{1} << 16;
constexpr uint64_t kMaxTensors = uint64_t{1} << 20;

}  // namespace longctx::gguf_limits
