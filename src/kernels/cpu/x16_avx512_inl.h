// Helpers shared by the AVX-512 kernels of the interleaved x16 layouts (kquant_x16_avx512.cpp,
// legacy_x16_avx512.cpp). Include only from files built with the AVX-512 flags; everything here
// has internal linkage (the build rule in KERNELS.md).
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace longctx::cpu {
namespace {  // NOLINT(build/namespaces): internal linkage in every per-ISA translation unit

// How far ahead the gemv of an x16 matrix fetches: two group blocks (4.6 KiB of Q4_K, 1.1 KiB of
// Q8_0). Measured with the weights on huge pages (seq_bench in docs/PERFORMANCE.md, the 8B's
// sequence of dispatches, 2 threads, median ratio to a pure read in the same process): Q4_K 0.90-
// 1.00 against 0.82-0.90 with the 27 KiB used before; Q8_0 1.03-1.06 against 0.93-0.96 in a
// low-bandwidth phase of the VM and 1.23 against 0.85-0.86 in a high one. One thread: Q4_K 22.3-
// 24.5 GB/s against 18.7-21.8; no prefetch 10.4, every other line 11.8, into L1 (T0) 13.3.
// The 27 KiB came from a comparison, with the weights on 4 KiB pages, of 2 blocks into L1 (20%
// slower than no prefetch) with 6-16 blocks into L2; 2 blocks into L2 was not among them. On 4 KiB
// pages 2 blocks still read Q4_K at 0.95-0.98 of the pure read against 0.81-0.87.
constexpr size_t kX16PrefetchBlocks = 2;

// gemv streams the matrix once, in address order: fetch into L2 the group block of kBlockBytes
// that lies kX16PrefetchBlocks blocks past g. Prefetches never fault, so running past the end of
// the matrix is harmless.
template <size_t kBlockBytes>
static inline void prefetch_x16_block(const uint8_t* g) {
  const char* next = reinterpret_cast<const char*>(g + kX16PrefetchBlocks * kBlockBytes);
  for (size_t i = 0; i < kBlockBytes; i += 64) _mm_prefetch(next + i, _MM_HINT_T1);
}

}  // namespace
}  // namespace longctx::cpu
