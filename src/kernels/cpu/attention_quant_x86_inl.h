// 256-bit helpers of the quantized-KV attention's traits, shared by its AVX2 and AVX-512
// instantiations (attention_quant_avx2.cpp / attention_quant_avx512.cpp): one value block of a
// key as 32 int8 in a ymm register, from Q8_0's int8 or Q4_0's nibbles, and 4 keys' blocks
// handed to the traits' transpose. Include only from files
// built with AVX2 or wider; internal linkage (the build rule in KERNELS.md).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace longctx::cpu {
namespace {

// Q8_0: the block's 32 int8 as they are.
static inline __m256i quant_row_q8(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// Q4_0: 16 bytes of nibbles to the block's 32 values, low nibbles (elements 0-15) then high
// (16-31), minus 8.
static inline __m256i quant_row_q4(const uint8_t* p) {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i lo = _mm_and_si128(x, _mm_set1_epi8(0x0F));
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(x, 4), _mm_set1_epi8(0x0F));
  return _mm256_sub_epi8(_mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1),
                         _mm256_set1_epi8(8));
}

// The traits' vt_q8 / vt_q4: 4 keys' blocks (rows r) through T::vt_rows.
template <class T>
static inline void quant_vt_q8(const uint8_t* const* r, int32_t neg, int32_t* out) {
  T::vt_rows(quant_row_q8(r[0]), quant_row_q8(r[1]), quant_row_q8(r[2]), quant_row_q8(r[3]), neg,
             out);
}
template <class T>
static inline void quant_vt_q4(const uint8_t* const* r, int32_t neg, int32_t* out) {
  T::vt_rows(quant_row_q4(r[0]), quant_row_q4(r[1]), quant_row_q4(r[2]), quant_row_q4(r[3]), neg,
             out);
}

}  // namespace
}  // namespace longctx::cpu
