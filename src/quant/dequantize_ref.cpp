// Scalar reference dequantizers for F32, F16, BF16, the legacy 32-element blocks and the K-quant
// 256-element super-blocks. Products are formed in the order ggml and the gguf package use
// ((d * sc) * q - dmin * m), which makes the results bit-exact with both.
#include <cstring>

#include "quant/blocks.h"
#include "quant/float16.h"
#include "quant/ref_kernels.h"

namespace longctx::ref {
namespace {

// Copies block i out of an unaligned byte stream (blocks are packed back to back in a row).
template <class Block>
Block load_block(const uint8_t* src, int64_t i) {
  Block b;
  std::memcpy(&b, src + i * static_cast<int64_t>(sizeof(Block)), sizeof(Block));
  return b;
}

}  // namespace

void dequantize_f32(const uint8_t* src, float* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void dequantize_f16(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, src + 2 * i, 2);
    dst[i] = fp16_to_fp32(h);
  }
}

void dequantize_bf16(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, src + 2 * i, 2);
    dst[i] = bf16_to_fp32(h);
  }
}

void dequantize_q4_0(const uint8_t* src, float* dst, int64_t n_blocks) {
  for (int64_t i = 0; i < n_blocks; ++i, dst += kQK) {
    const auto b = load_block<BlockQ4_0>(src, i);
    const float d = fp16_to_fp32(b.d);
    for (int j = 0; j < kQK / 2; ++j) {
      dst[j] = d * static_cast<float>((b.qs[j] & 0xf) - 8);
      dst[j + kQK / 2] = d * static_cast<float>((b.qs[j] >> 4) - 8);
    }
  }
}

void dequantize_q4_1(const uint8_t* src, float* dst, int64_t n_blocks) {
  for (int64_t i = 0; i < n_blocks; ++i, dst += kQK) {
    const auto b = load_block<BlockQ4_1>(src, i);
    const float d = fp16_to_fp32(b.d);
    const float m = fp16_to_fp32(b.m);
    for (int j = 0; j < kQK / 2; ++j) {
      dst[j] = d * static_cast<float>(b.qs[j] & 0xf) + m;
      dst[j + kQK / 2] = d * static_cast<float>(b.qs[j] >> 4) + m;
    }
  }
}

void dequantize_q5_0(const uint8_t* src, float* dst, int64_t n_blocks) {
  for (int64_t i = 0; i < n_blocks; ++i, dst += kQK) {
    const auto b = load_block<BlockQ5_0>(src, i);
    const float d = fp16_to_fp32(b.d);
    uint32_t qh;
    std::memcpy(&qh, b.qh, 4);
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = (b.qs[j] & 0xf) | static_cast<int>(((qh >> j) & 1u) << 4);
      const int q1 = (b.qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
      dst[j] = d * static_cast<float>(q0 - 16);
      dst[j + kQK / 2] = d * static_cast<float>(q1 - 16);
    }
  }
}

void dequantize_q5_1(const uint8_t* src, float* dst, int64_t n_blocks) {
  for (int64_t i = 0; i < n_blocks; ++i, dst += kQK) {
    const auto b = load_block<BlockQ5_1>(src, i);
    const float d = fp16_to_fp32(b.d);
    const float m = fp16_to_fp32(b.m);
    uint32_t qh;
    std::memcpy(&qh, b.qh, 4);
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = (b.qs[j] & 0xf) | static_cast<int>(((qh >> j) & 1u) << 4);
      const int q1 = (b.qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
      dst[j] = d * static_cast<float>(q0) + m;
      dst[j + kQK / 2] = d * static_cast<float>(q1) + m;
    }
  }
}

void dequantize_q8_0(const uint8_t* src, float* dst, int64_t n_blocks) {
  for (int64_t i = 0; i < n_blocks; ++i, dst += kQK) {
    const auto b = load_block<BlockQ8_0>(src, i);
    const float d = fp16_to_fp32(b.d);
    for (int j = 0; j < kQK; ++j) dst[j] = static_cast<float>(b.qs[j]) * d;
  }
}

void dequantize_q2_K(const uint8_t* src, float* dst, int64_t n_blocks) {
  for (int64_t i = 0; i < n_blocks; ++i, dst += kQKK) {
    const auto b = load_block<BlockQ2_K>(src, i);
    const float d = fp16_to_fp32(b.d);
    const float dmin = fp16_to_fp32(b.dmin);
    for (int e = 0; e < kQKK; ++e) {
      // e = 128h + 32k + l: two bits at position 2k of qs[32h + l]; sub-block e / 16.
      const int h = e / 128, k = (e / 32) % 4, l = e % 32;
      const int q = (b.qs[32 * h + l] >> (2 * k)) & 3;
      const uint8_t sc = b.scales[e / 16];
      const float dl = d * static_cast<float>(sc & 0xf);
      const float ml = dmin * static_cast<float>(sc >> 4);
      dst[e] = dl * static_cast<float>(q) - ml;
    }
  }
}

void dequantize_q3_K(const uint8_t* src, float* dst, int64_t n_blocks) {
  for (int64_t i = 0; i < n_blocks; ++i, dst += kQKK) {
    const auto b = load_block<BlockQ3_K>(src, i);
    const float d = fp16_to_fp32(b.d);
    // Sub-block scale s (0..15): low nibble s of bytes 0..7 (bytes s % 8, nibble s / 8), top
    // two bits from byte 8 + s % 4 at bit 2 * (s / 4); stored with a +32 bias.
    int scales[16];
    for (int s = 0; s < 16; ++s) {
      const int lo = (b.scales[s % 8] >> (4 * (s / 8))) & 0xf;
      const int hi = (b.scales[8 + s % 4] >> (2 * (s / 4))) & 3;
      scales[s] = (lo | (hi << 4)) - 32;
    }
    for (int e = 0; e < kQKK; ++e) {
      // Low two bits as in Q2_K; the high bit of element 32k + l (k = 0..7) is bit k of
      // hmask[l]. A *clear* high bit subtracts 4, so q ranges over -4..3.
      const int h = e / 128, k = (e / 32) % 4, l = e % 32;
      const int lo = (b.qs[32 * h + l] >> (2 * k)) & 3;
      const int hbit = (b.hmask[e % 32] >> (e / 32)) & 1;
      const int q = lo - (hbit ? 0 : 4);
      const float dl = d * static_cast<float>(scales[e / 16]);
      dst[e] = dl * static_cast<float>(q);
    }
  }
}

void dequantize_q4_K(const uint8_t* src, float* dst, int64_t n_blocks) {
  for (int64_t i = 0; i < n_blocks; ++i, dst += kQKK) {
    const auto b = load_block<BlockQ4_K>(src, i);
    const float d = fp16_to_fp32(b.d);
    const float dmin = fp16_to_fp32(b.dmin);
    for (int s = 0; s < 8; ++s) {  // sub-block s covers elements 32s .. 32s + 31
      uint8_t sc, m;
      unpack_scale_min_k4(s, b.scales, &sc, &m);
      const float ds = d * static_cast<float>(sc);
      const float ms = dmin * static_cast<float>(m);
      const uint8_t* qs = b.qs + 32 * (s / 2);  // chunk of 64 elements shares 32 bytes
      const int shift = 4 * (s % 2);            // even sub-block: low nibble, odd: high
      for (int l = 0; l < 32; ++l) {
        dst[32 * s + l] = ds * static_cast<float>((qs[l] >> shift) & 0xf) - ms;
      }
    }
  }
}

void dequantize_q5_K(const uint8_t* src, float* dst, int64_t n_blocks) {
  for (int64_t i = 0; i < n_blocks; ++i, dst += kQKK) {
    const auto b = load_block<BlockQ5_K>(src, i);
    const float d = fp16_to_fp32(b.d);
    const float dmin = fp16_to_fp32(b.dmin);
    for (int s = 0; s < 8; ++s) {
      uint8_t sc, m;
      unpack_scale_min_k4(s, b.scales, &sc, &m);
      const float ds = d * static_cast<float>(sc);
      const float ms = dmin * static_cast<float>(m);
      const uint8_t* qs = b.qs + 32 * (s / 2);
      const int shift = 4 * (s % 2);
      for (int l = 0; l < 32; ++l) {
        const int q = ((qs[l] >> shift) & 0xf) | (((b.qh[l] >> s) & 1) << 4);
        dst[32 * s + l] = ds * static_cast<float>(q) - ms;
      }
    }
  }
}

void dequantize_q6_K(const uint8_t* src, float* dst, int64_t n_blocks) {
  for (int64_t i = 0; i < n_blocks; ++i, dst += kQKK) {
    const auto b = load_block<BlockQ6_K>(src, i);
    const float d = fp16_to_fp32(b.d);
    for (int e = 0; e < kQKK; ++e) {
      // Low nibble: e = 128h + 64k + t -> nibble k of ql[64h + t].
      // High bits:  e = 128h + 32k + l -> bits 2k..2k+1 of qh[32h + l].
      const int h = e / 128, r = e % 128;
      const int lo = (b.ql[64 * h + r % 64] >> (4 * (r / 64))) & 0xf;
      const int hi = (b.qh[32 * h + r % 32] >> (2 * (r / 32))) & 3;
      const int q = (lo | (hi << 4)) - 32;
      const float ds = d * static_cast<float>(b.scales[e / 16]);
      dst[e] = ds * static_cast<float>(q);
    }
  }
}

}  // namespace longctx::ref
