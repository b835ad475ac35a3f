// Model identity: XXH3-128 over the GGUF header and samples of every tensor.
#include "model/model_identity.h"

#include <xxhash.h>

#include <algorithm>
#include <cstdio>

namespace longctx {
namespace {

constexpr uint64_t kSample = 4096;

}  // namespace

std::string ModelIdentity::hex() const {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(hash_hi),
                static_cast<unsigned long long>(hash_lo));
  return buf;
}

ModelIdentity model_identity(const GgufFile& file) {
  XXH3_state_t* st = XXH3_createState();
  LONGCTX_CHECK(st != nullptr);
  XXH3_128bits_reset(st);
  const uint8_t* base = file.bytes();
  XXH3_128bits_update(st, base, static_cast<size_t>(file.data_offset()));
  for (const GgufTensorInfo& t : file.tensors()) {
    const uint8_t* p = file.tensor_data(t);
    const uint64_t n = t.n_bytes;
    const uint64_t len = std::min(n, kSample);
    for (uint64_t at : {uint64_t{0}, (n - len) / 2, n - len}) {
      XXH3_128bits_update(st, p + at, static_cast<size_t>(len));
      // The whole pages the sample touched (release drops only pages wholly inside a range).
      const uint64_t off = static_cast<uint64_t>(p + at - base);
      const uint64_t b = off / kSample * kSample;
      const uint64_t e = std::min<uint64_t>(file.file_size(), (off + len + kSample - 1) / kSample * kSample);
      file.release(base + b, static_cast<size_t>(e - b));
    }
  }
  const XXH128_hash_t h = XXH3_128bits_digest(st);
  XXH3_freeState(st);
  ModelIdentity id;
  id.hash_hi = h.high64;
  id.hash_lo = h.low64;
  id.file_size = file.file_size();
  return id;
}

}  // namespace longctx
