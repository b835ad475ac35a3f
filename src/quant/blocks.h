// Packed block structs of the GGUF quantized tensor types, byte for byte as stored in a file
// (little-endian; fp16 scales held as raw uint16_t bits). Element j of a block is written x[j].
// Every field has only byte or uint16 members, so the structs carry no padding.
#pragma once

#include <bit>
#include <cstdint>

namespace longctx {

static_assert(std::endian::native == std::endian::little, "GGUF block layouts are little-endian");

inline constexpr int kQK = 32;           // elements per block of the legacy types (Q4_0 ... Q8_0)
inline constexpr int kQKK = 256;         // elements per super-block of the K-quants
inline constexpr int kKScaleBytes = 12;  // packed 6-bit scales + mins of Q4_K / Q5_K

// Q4_0: x[j] = d * (q[j] - 8), q in 0..15.
struct BlockQ4_0 {
  uint16_t d;           // fp16 scale
  uint8_t qs[kQK / 2];  // [16]: low nibble = q[j], high nibble = q[j + 16]
};
static_assert(sizeof(BlockQ4_0) == 18);

// Q4_1: x[j] = d * q[j] + m, q in 0..15.
struct BlockQ4_1 {
  uint16_t d;           // fp16 scale
  uint16_t m;           // fp16 offset (the block minimum)
  uint8_t qs[kQK / 2];  // [16]: low nibble = q[j], high nibble = q[j + 16]
};
static_assert(sizeof(BlockQ4_1) == 20);

// Q5_0: x[j] = d * (q[j] - 16), q in 0..31 split into a low nibble and a fifth bit.
struct BlockQ5_0 {
  uint16_t d;           // fp16 scale
  uint8_t qh[4];        // 32 bits, little-endian: bit j = bit 4 of q[j]
  uint8_t qs[kQK / 2];  // [16]: low nibble = q[j] & 15, high nibble = q[j + 16] & 15
};
static_assert(sizeof(BlockQ5_0) == 22);

// Q5_1: x[j] = d * q[j] + m, q in 0..31 (low nibble + fifth bit as in Q5_0).
struct BlockQ5_1 {
  uint16_t d;           // fp16 scale
  uint16_t m;           // fp16 offset (the block minimum)
  uint8_t qh[4];        // 32 bits, little-endian: bit j = bit 4 of q[j]
  uint8_t qs[kQK / 2];  // [16]: low nibble = q[j] & 15, high nibble = q[j + 16] & 15
};
static_assert(sizeof(BlockQ5_1) == 24);

// Q8_0: x[j] = d * q[j], q signed 8-bit.
struct BlockQ8_0 {
  uint16_t d;      // fp16 scale
  int8_t qs[kQK];  // [32]: q[j]
};
static_assert(sizeof(BlockQ8_0) == 34);

// Q2_K: 16 sub-blocks of 16; x = d * (sc & 15) * q - dmin * (sc >> 4), q in 0..3.
struct BlockQ2_K {
  uint8_t scales[kQKK / 16];  // [16]: low nibble = 4-bit scale, high nibble = 4-bit min
  uint8_t qs[kQKK / 4];       // [64]: element 128h + 32k + l is bits 2k..2k+1 of qs[32h + l]
  uint16_t d;                 // fp16 super-block scale of the scales
  uint16_t dmin;              // fp16 super-block scale of the mins
};
static_assert(sizeof(BlockQ2_K) == 84);

// Q3_K: 16 sub-blocks of 16; x = d * (s - 32) * (q - 4 * !hbit), 6-bit s, 2-bit q.
struct BlockQ3_K {
  uint8_t hmask[kQKK / 8];  // [32]: element 32k + l has its high bit at bit k of hmask[l]
  uint8_t qs[kQKK / 4];     // [64]: low 2 bits, same layout as Q2_K.qs
  uint8_t scales[12];       // 16 x 6 bits: low 4 in bytes 0..7 (nibbles), high 2 in bytes 8..11
  uint16_t d;               // fp16 super-block scale
};
static_assert(sizeof(BlockQ3_K) == 110);

// Q4_K: 8 sub-blocks of 32; x = d * sc[s] * q - dmin * m[s], 6-bit sc and m, q in 0..15.
struct BlockQ4_K {
  uint16_t d;                    // fp16 super-block scale of the sub-block scales
  uint16_t dmin;                 // fp16 super-block scale of the sub-block mins
  uint8_t scales[kKScaleBytes];  // 8 scales + 8 mins, 6 bits each (see unpack_scale_min_k4)
  uint8_t qs[kQKK / 2];          // [128]: in each 64-element chunk c, element 64c + l is the
                                 // low nibble and 64c + 32 + l the high nibble of qs[32c + l]
};
static_assert(sizeof(BlockQ4_K) == 144);

// Q5_K: as Q4_K with a fifth bit per element; q in 0..31.
struct BlockQ5_K {
  uint16_t d;                    // fp16 super-block scale of the sub-block scales
  uint16_t dmin;                 // fp16 super-block scale of the sub-block mins
  uint8_t scales[kKScaleBytes];  // as in Q4_K
  uint8_t qh[kQKK / 8];          // [32]: element 32s + l has bit 4 at bit s of qh[l]
  uint8_t qs[kQKK / 2];          // [128]: low 4 bits, same layout as Q4_K.qs
};
static_assert(sizeof(BlockQ5_K) == 176);

// Q6_K: 16 sub-blocks of 16; x = d * scales[s] * (q - 32), q in 0..63.
struct BlockQ6_K {
  uint8_t ql[kQKK / 2];      // [128]: element 128h + 64k + t is nibble k of ql[64h + t]
  uint8_t qh[kQKK / 4];      // [64]: element 128h + 32k + l has bits 4..5 at bits 2k..2k+1
                             //       of qh[32h + l]
  int8_t scales[kQKK / 16];  // [16]: signed 8-bit sub-block scales
  uint16_t d;                // fp16 super-block scale
};
static_assert(sizeof(BlockQ6_K) == 210);

// Q4_K / Q5_K pack 8 six-bit scales sc[s] and mins m[s] into 12 bytes:
//   s < 4:  sc = b[s] & 63,                          m = b[s + 4] & 63
//   s >= 4: sc = (b[s + 4] & 15) | (b[s - 4] >> 6) << 4, m = (b[s + 4] >> 4) | (b[s] >> 6) << 4
// i.e. bytes 0..7 hold the first four of each in their low 6 bits and lend their top 2 bits to
// the last four, whose low nibbles sit in bytes 8..11.
inline void unpack_scale_min_k4(int s, const uint8_t* b, uint8_t* sc, uint8_t* m) {
  if (s < 4) {
    *sc = b[s] & 63;
    *m = b[s + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((b[s + 4] & 0xf) | ((b[s - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((b[s + 4] >> 4) | ((b[s] >> 6) << 4));
  }
}

}  // namespace longctx
