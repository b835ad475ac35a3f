// Portable legacy kernels: F32 / BF16 / Q8_0 activation quantizers and the F32, F16, BF16, Q8_0
// and Q4_0 dot kernels. The fallback on CPUs without AVX2 and the path the SIMD ones are compared
// with: quantized blocks are dotted in exact integer arithmetic, then scaled once per block.
#include <cmath>
#include <cstring>

#include "kernels/cpu/cpu_kernels.h"
#include "quant/blocks.h"
#include "quant/float16.h"

namespace longctx::cpu {
namespace {

constexpr int kF32 = 0, kF16 = 1, kQ4_0 = 2, kQ8_0 = 8, kBF16 = 30;  // GGUF type ids

void quantize_f32(const float* x, void* dst, int64_t n) {
  std::memcpy(dst, x, static_cast<size_t>(n) * sizeof(float));
}

void quantize_bf16(const float* x, void* dst, int64_t n) {
  auto* out = static_cast<uint8_t*>(dst);
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t b = fp32_to_bf16(x[i]);
    std::memcpy(out + 2 * i, &b, 2);
  }
}

// Exactly the reference Q8_0 step: d = amax / 127 (fp32, stored as fp16), q = round(x * (1/d))
// with ties away from zero, clamped to int8.
void quantize_q8_0(const float* x, void* dst, int64_t n) {
  auto* out = static_cast<uint8_t*>(dst);
  for (int64_t b = 0; b < n / kQK; ++b, x += kQK, out += sizeof(BlockQ8_0)) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) {
      const float v = std::fabs(x[j]);
      amax = amax < v ? v : amax;
    }
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockQ8_0 blk;
    blk.d = fp32_to_fp16(d);
    for (int j = 0; j < kQK; ++j) {
      float v = x[j] * id;
      if (!std::isfinite(v)) v = 0.0f;
      v = std::round(v);
      v = v < -128.0f ? -128.0f : (v > 127.0f ? 127.0f : v);
      blk.qs[j] = static_cast<int8_t>(v);
    }
    std::memcpy(out, &blk, sizeof(blk));
  }
}

uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

float load_f32(const uint8_t* p) {
  float v;
  std::memcpy(&v, p, 4);
  return v;
}

// Element loaders of the float weight formats (any alignment).
struct F32W {
  static float get(const uint8_t* p, int64_t i) { return load_f32(p + 4 * i); }
};
// fp16 -> fp32 without branches (selects only, so loops over it vectorise): exponent and mantissa
// moved to fp32's position and rebiased by 112 for normal halves; a subnormal m * 2^-24 is an
// exact int -> float conversion and scaling; exponent 31 (Inf / NaN) maps to 255.
static inline float half_to_float(uint16_t h) {
  const uint32_t exp = h & 0x7c00u;
  const uint32_t em = static_cast<uint32_t>(h & 0x7fffu) << 13;
  const float sub = static_cast<float>(h & 0x3ffu) * 0x1p-24f;
  uint32_t sub_bits;
  std::memcpy(&sub_bits, &sub, 4);
  uint32_t bits = exp == 0x7c00u ? (em | 0x7f800000u) : (exp == 0 ? sub_bits : em + (112u << 23));
  bits |= static_cast<uint32_t>(h & 0x8000u) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

struct F16W {
  static float get(const uint8_t* p, int64_t i) { return half_to_float(load_u16(p + 2 * i)); }
};

// Float weights x f32 activations (any n): 8 independent partial sums (short dependency chains and
// a rounding error growing with n / 8 rather than n), added pairwise at the end.
template <class W>
float dot_float(int64_t n, const uint8_t* w, const uint8_t* a) {
  float s[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) s[k] += W::get(w, i + k) * load_f32(a + 4 * (i + k));
  }
  for (int k = 0; i < n; ++i, ++k) s[k] += W::get(w, i) * load_f32(a + 4 * i);
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

// BF16 weights x bf16 activations: every product is exact in fp32 (8-bit x 8-bit mantissas), so
// only the 8 partial sums round.
float dot_bf16(int64_t n, const uint8_t* w, const uint8_t* a) {
  float s[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) {
      s[k] += bf16_to_fp32(load_u16(w + 2 * (i + k))) * bf16_to_fp32(load_u16(a + 2 * (i + k)));
    }
  }
  for (int k = 0; i < n; ++i, ++k) {
    s[k] += bf16_to_fp32(load_u16(w + 2 * i)) * bf16_to_fp32(load_u16(a + 2 * i));
  }
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

// Q8_0 x Q8_0: the 32 products of a block summed exactly in int32 (|sum| <= 32 * 128 * 128 <
// 2^24, so the float conversion is exact too), scaled by d_w * d_a (exact: two 11-bit mantissas).
float dot_q8_0(int64_t n, const uint8_t* w, const uint8_t* a) {
  float s0 = 0.0f, s1 = 0.0f;
  const int64_t nb = n / kQK;
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* wb = w + b * sizeof(BlockQ8_0);
    const uint8_t* ab = a + b * sizeof(BlockQ8_0);
    const auto* wq = reinterpret_cast<const int8_t*>(wb + 2);
    const auto* aq = reinterpret_cast<const int8_t*>(ab + 2);
    int32_t isum = 0;
    for (int j = 0; j < kQK; ++j) isum += static_cast<int32_t>(wq[j]) * aq[j];
    const float dd = fp16_to_fp32(load_u16(wb)) * fp16_to_fp32(load_u16(ab));
    if (b & 1) {
      s1 += static_cast<float>(isum) * dd;
    } else {
      s0 += static_cast<float>(isum) * dd;
    }
  }
  return s0 + s1;
}

// Q4_0 x Q8_0: element j of a block is (nibble - 8); low nibbles hold j < 16, high ones j >= 16.
float dot_q4_0(int64_t n, const uint8_t* w, const uint8_t* a) {
  float s0 = 0.0f, s1 = 0.0f;
  const int64_t nb = n / kQK;
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* wb = w + b * sizeof(BlockQ4_0);
    const uint8_t* ab = a + b * sizeof(BlockQ8_0);
    const uint8_t* qs = wb + 2;
    const auto* aq = reinterpret_cast<const int8_t*>(ab + 2);
    // Unpacked first so the dot is one plain loop over 32 bytes (vectorisable).
    int8_t q[kQK];
    for (int j = 0; j < kQK / 2; ++j) {
      q[j] = static_cast<int8_t>((qs[j] & 0xf) - 8);
      q[j + kQK / 2] = static_cast<int8_t>((qs[j] >> 4) - 8);
    }
    int32_t isum = 0;
    for (int j = 0; j < kQK; ++j) isum += static_cast<int32_t>(q[j]) * aq[j];
    const float dd = fp16_to_fp32(load_u16(wb)) * fp16_to_fp32(load_u16(ab));
    if (b & 1) {
      s1 += static_cast<float>(isum) * dd;
    } else {
      s0 += static_cast<float>(isum) * dd;
    }
  }
  return s0 + s1;
}

using DotFn = float (*)(int64_t, const uint8_t*, const uint8_t*);

template <DotFn Dot>
void gemv(int64_t n, const void* w, size_t w_stride, int64_t nr, const void* a, float* y) {
  const auto* wp = static_cast<const uint8_t*>(w);
  const auto* ap = static_cast<const uint8_t*>(a);
  for (int64_t r = 0; r < nr; ++r) y[r] = Dot(n, wp + r * w_stride, ap);
}

// Columns outermost: the activation row stays in L1 while the weight block is streamed, and the
// caller keeps the weight block small enough for L2.
template <DotFn Dot>
void gemm(int64_t n, const void* w, size_t w_stride, int64_t nr, const void* a, size_t a_stride,
          int64_t nc, float* y, size_t ldy) {
  const auto* ap = static_cast<const uint8_t*>(a);
  for (int64_t c = 0; c < nc; ++c) gemv<Dot>(n, w, w_stride, nr, ap + c * a_stride, y + c * ldy);
}

template <DotFn Dot>
MatmulKernel kernel(ActType act) {
  return {act, &gemv<Dot>, &gemm<Dot>};
}

}  // namespace

void register_legacy_scalar(KernelTable* t) {
  t->quantize[static_cast<int>(ActType::kF32)] = quantize_f32;
  t->quantize[static_cast<int>(ActType::kBF16)] = quantize_bf16;
  t->quantize[static_cast<int>(ActType::kQ8_0)] = quantize_q8_0;
  t->matmul[kF32] = kernel<dot_float<F32W>>(ActType::kF32);
  t->matmul[kF16] = kernel<dot_float<F16W>>(ActType::kF32);
  t->matmul[kBF16] = kernel<dot_bf16>(ActType::kBF16);
  t->matmul[kQ8_0] = kernel<dot_q8_0>(ActType::kQ8_0);
  t->matmul[kQ4_0] = kernel<dot_q4_0>(ActType::kQ8_0);
}

}  // namespace longctx::cpu
