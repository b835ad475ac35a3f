// Helpers shared by the AVX-512 kernels of the interleaved x16 layouts (kquant_x16_avx512.cpp,
// legacy_x16_avx512.cpp). Include only from files built with the AVX-512 flags; everything here
// has internal linkage (the build rule in KERNELS.md).
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace longctx::cpu {
namespace {  // NOLINT(build/namespaces): internal linkage in every per-ISA translation unit

// About 27 KiB: how far ahead the gemv of an x16 matrix fetches. Measured on the 8B Q4_K_M decode
// (2 threads): 2 Q4_K group blocks (4.6 KiB) into L1 was 20% slower than no prefetch, 6-16 blocks
// into L2 2-8% faster; without any prefetch, 20% slower.
constexpr size_t kX16PrefetchBytes = 27 << 10;

// gemv streams the matrix once, in address order: fetch into L2 the group block of kBlockBytes
// that lies kX16PrefetchBytes (rounded to whole blocks) past g. Prefetches never fault, so running
// past the end of the matrix is harmless.
template <size_t kBlockBytes>
static inline void prefetch_x16_block(const uint8_t* g) {
  constexpr size_t kAhead = (kX16PrefetchBytes + kBlockBytes - 1) / kBlockBytes * kBlockBytes;
  const char* next = reinterpret_cast<const char*>(g + kAhead);
  for (size_t i = 0; i < kBlockBytes; i += 64) _mm_prefetch(next + i, _MM_HINT_T1);
}

}  // namespace
}  // namespace longctx::cpu
