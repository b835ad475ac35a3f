// Scalar conversions between fp32 and the two 16-bit float formats stored in GGUF files:
// IEEE binary16 (fp16) and bfloat16 (bf16). Round-to-nearest-even, Inf/NaN/subnormals exact.
// These are the reference conversions every quantizer and every SIMD kernel is checked against.
#pragma once

#include <bit>
#include <cstdint>

namespace longctx {

// fp16 -> fp32 is exact: every binary16 value is representable in binary32.
//   normal:    (-1)^s * 2^(e-15) * 1.m   ->  fp32 exponent e - 15 + 127 = e + 112
//   subnormal: (-1)^s * 2^-24 * m        ->  normalised by shifting m until bit 10 is set
//   e == 31:   Inf (m == 0) or NaN; the payload is kept in the top mantissa bits, unchanged.
inline float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {
    // Subnormal: value = m * 2^-24. With the leading one at bit p, value = 1.f * 2^(p-24), so
    // the fp32 exponent field is p + 103. Shifting the leading one up to bit 10 takes 10 - p
    // steps, so counting down from 113 once per step lands on p + 103.
    uint32_t e = 113;
    while ((mant & 0x400u) == 0) {
      mant <<= 1;
      --e;
    }
    bits = sign | (e << 23) | ((mant & 0x3ffu) << 13);
  }
  return std::bit_cast<float>(bits);
}

// fp32 -> fp16 with round-to-nearest-even.
//   |x| >= 65520 (halfway between 65504, the largest fp16, and 65536) rounds to Inf;
//   NaN stays NaN: sign kept, quiet bit set, top 9 payload bits kept (what F16C hardware does);
//   |x| < 2^-14 becomes an fp16 subnormal k * 2^-24 with k rounded to nearest even.
inline uint16_t fp32_to_fp16(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t abs = bits & 0x7fffffffu;
  if (abs > 0x7f800000u) {  // NaN
    return static_cast<uint16_t>(sign | 0x7e00u | ((abs & 0x7fffffu) >> 13));
  }
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow or Inf
  if (abs >= 0x38800000u) {
    // Normal range: rebias the exponent (127 -> 15) and drop 13 mantissa bits with RNE. A carry
    // out of the mantissa correctly bumps the exponent (and 65504 < |x| < 65520 stays finite).
    uint32_t h = ((abs >> 23) - 112) << 10 | ((abs & 0x7fffffu) >> 13);
    const uint32_t rem = abs & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  if (abs <= 0x33000000u) return sign;  // |x| <= 2^-25: ties to the even neighbour, zero
  // Subnormal result: |x| = m * 2^(e-150) with the implicit bit in m; in units of 2^-24 that is
  // m * 2^(e-126), i.e. m shifted right by 126 - e (between 14 and 24 here), rounded RNE.
  // Rounding 0x3ff up gives 0x400, which is exactly the encoding of the smallest normal.
  const uint32_t e = abs >> 23;
  const uint32_t m = (abs & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126 - e;
  uint32_t h = m >> shift;
  const uint32_t rem = m & ((1u << shift) - 1);
  const uint32_t half = 1u << (shift - 1);
  if (rem > half || (rem == half && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
}

// bf16 is the top half of an fp32, so widening is a shift and is exact (NaN payloads included).
inline float bf16_to_fp32(uint16_t b) {
  return std::bit_cast<float>(static_cast<uint32_t>(b) << 16);
}

// fp32 -> bf16 with round-to-nearest-even on the dropped 16 bits. Adding 0x7fff plus the lowest
// kept bit carries into the kept half exactly when the dropped half is above one half, or equal
// to one half with an odd kept half. Finite values near the top round to Inf, as RNE requires.
// NaN is truncated and forced quiet (bit 6 of the bf16), so it cannot round into Inf.
inline uint16_t fp32_to_bf16(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);
  return static_cast<uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

}  // namespace longctx
