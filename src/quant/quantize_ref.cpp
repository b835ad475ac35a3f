// Scalar reference quantizers for F32, F16, BF16 and the legacy 32-element block types. Each
// follows ggml's quantize_row_*_ref step for step (same float operations in the same order), so
// the bytes match ggml and the gguf Python package exactly.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "quant/float16.h"
#include "quant/ref_kernels.h"

namespace longctx::ref {
namespace {

template <class Block>
void store_block(const Block& b, uint8_t* dst, int64_t i) {
  std::memcpy(dst + i * static_cast<int64_t>(sizeof(Block)), &b, sizeof(Block));
}

// Signed element of largest magnitude; the first one wins a tie (ggml's strict '<').
float signed_absmax(const float* x) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < kQK; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void min_max(const float* x, float* min, float* max) {
  *min = x[0];
  *max = x[0];
  for (int j = 1; j < kQK; ++j) {
    if (x[j] < *min) *min = x[j];
    if (x[j] > *max) *max = x[j];
  }
}

// Truncation toward zero of a value that lies in [0, 33) for sane input; the callers add 0.5
// first, which makes this round-half-up. Extreme finite input can still produce NaN here (a range
// max - min that overflows to Inf gives id = 0 and Inf * 0); that maps to 0, as ggml's cast does
// on x86, instead of undefined behaviour.
int trunc_small(float v) {
  if (!(v >= 0.0f)) return 0;
  return v < 127.0f ? static_cast<int>(v) : 127;
}

// Round half away from zero to int8 (ggml's roundf then int8 store). |v| <= 127 whenever the
// inverse scale is finite; an infinite inverse scale (amax below ~1.5e-36, so d is subnormal and
// 1 / d overflows) yields Inf or NaN, which maps to 0 as on x86 ggml instead of being UB.
int8_t round_to_int8(float v) {
  if (!std::isfinite(v)) return 0;
  return static_cast<int8_t>(std::clamp(std::round(v), -128.0f, 127.0f));
}

}  // namespace

void quantize_f32(const float* src, uint8_t* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void quantize_f16(const float* src, uint8_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t h = fp32_to_fp16(src[i]);
    std::memcpy(dst + 2 * i, &h, 2);
  }
}

void quantize_bf16(const float* src, uint8_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t h = fp32_to_bf16(src[i]);
    std::memcpy(dst + 2 * i, &h, 2);
  }
}

// Q4_0: the signed extreme value maps to q = 0, i.e. d = max / -8, so that -8 * d = max is
// represented exactly and the other side reaches at most +7 * |d|. q = trunc(x / d + 8.5) is
// round-half-up of x / d + 8, clamped to 15 (x = -max would give 16).
void quantize_q4_0(const float* src, uint8_t* dst, int64_t n_blocks) {
  for (int64_t i = 0; i < n_blocks; ++i, src += kQK) {
    const float max = signed_absmax(src);
    const float d = max / -8;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockQ4_0 b{};
    b.d = fp32_to_fp16(d);
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = std::min(15, trunc_small(src[j] * id + 8.5f));
      const int q1 = std::min(15, trunc_small(src[j + kQK / 2] * id + 8.5f));
      b.qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
    store_block(b, dst, i);
  }
}

// Q4_1: affine over [min, max] with 16 levels: d = (max - min) / 15, m = min,
// q = round-half-up((x - min) / d), clamped to 15.
void quantize_q4_1(const float* src, uint8_t* dst, int64_t n_blocks) {
  for (int64_t i = 0; i < n_blocks; ++i, src += kQK) {
    float min, max;
    min_max(src, &min, &max);
    const float d = (max - min) / 15;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockQ4_1 b{};
    b.d = fp32_to_fp16(d);
    b.m = fp32_to_fp16(min);
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = std::min(15, trunc_small((src[j] - min) * id + 0.5f));
      const int q1 = std::min(15, trunc_small((src[j + kQK / 2] - min) * id + 0.5f));
      b.qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
    store_block(b, dst, i);
  }
}

// Q5_0: as Q4_0 with 32 levels: d = max / -16, q = min(31, trunc(x / d + 16.5)). The low
// nibbles pair elements j and j + 16 in one byte; bit 4 of q[j] goes to bit j of qh.
void quantize_q5_0(const float* src, uint8_t* dst, int64_t n_blocks) {
  for (int64_t i = 0; i < n_blocks; ++i, src += kQK) {
    const float max = signed_absmax(src);
    const float d = max / -16;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockQ5_0 b{};
    b.d = fp32_to_fp16(d);
    uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = std::min(31, trunc_small(src[j] * id + 16.5f));
      const int q1 = std::min(31, trunc_small(src[j + kQK / 2] * id + 16.5f));
      b.qs[j] = static_cast<uint8_t>((q0 & 0xf) | ((q1 & 0xf) << 4));
      qh |= static_cast<uint32_t>(q0 >> 4) << j;
      qh |= static_cast<uint32_t>(q1 >> 4) << (j + kQK / 2);
    }
    std::memcpy(b.qh, &qh, 4);
    store_block(b, dst, i);
  }
}

// Q5_1: as Q4_1 with 32 levels: d = (max - min) / 31. (x - min) / d never exceeds 31 by more
// than rounding, so round-half-up needs no clamp; we clamp anyway, which changes nothing.
void quantize_q5_1(const float* src, uint8_t* dst, int64_t n_blocks) {
  for (int64_t i = 0; i < n_blocks; ++i, src += kQK) {
    float min, max;
    min_max(src, &min, &max);
    const float d = (max - min) / 31;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockQ5_1 b{};
    b.d = fp32_to_fp16(d);
    b.m = fp32_to_fp16(min);
    uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = std::min(31, trunc_small((src[j] - min) * id + 0.5f));
      const int q1 = std::min(31, trunc_small((src[j + kQK / 2] - min) * id + 0.5f));
      b.qs[j] = static_cast<uint8_t>((q0 & 0xf) | ((q1 & 0xf) << 4));
      qh |= static_cast<uint32_t>(q0 >> 4) << j;
      qh |= static_cast<uint32_t>(q1 >> 4) << (j + kQK / 2);
    }
    std::memcpy(b.qh, &qh, 4);
    store_block(b, dst, i);
  }
}

// Q8_0: symmetric, d = amax / 127, q = round-half-away-from-zero(x / d) in -127..127.
void quantize_q8_0(const float* src, uint8_t* dst, int64_t n_blocks) {
  for (int64_t i = 0; i < n_blocks; ++i, src += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(src[j]));
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockQ8_0 b{};
    b.d = fp32_to_fp16(d);
    for (int j = 0; j < kQK; ++j) b.qs[j] = round_to_int8(src[j] * id);
    store_block(b, dst, i);
  }
}

}  // namespace longctx::ref
