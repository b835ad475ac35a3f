// Scalar reference quantizers for Q4_K, Q5_K and Q6_K: the same search as ggml's
// quantize_row_q{4,5,6}_K_ref (re-derived here, float operations in the same order), so files we
// write decode identically in llama.cpp. Clarity over speed; these are the oracle for fast paths.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "quant/float16.h"
#include "quant/ref_kernels.h"

namespace longctx::ref {
namespace {

// Round to nearest, ties to even, for |v| < 2^22. Adding 1.5 * 2^23 moves v into the binade
// [2^23, 2^24) where the float spacing is exactly 1, so the FPU's own round-to-nearest-even
// does the rounding; the integer then sits in the low 23 mantissa bits, offset by 2^22.
// Defined for any input (no float->int conversion), so garbage cannot trigger UB.
int nearest_int(float v) {
  const float shifted = v + 12582912.0f;
  uint32_t bits;
  std::memcpy(&bits, &shifted, 4);
  return static_cast<int>(bits & 0x007fffffu) - 0x00400000;
}

// Fits x[i] ~ scale * L[i] - the_min over n elements with L in 0..nmax, minimising the
// weighted squared error sum w[i] * (scale * L[i] + min - x[i])^2 with min <= 0.
// Start: min/max quantization. Then try nstep + 1 candidate inverse scales
// (nmax + rmin + rdelta * is) / (max - min); for each, round to get L, then solve the 2x2
// weighted least-squares problem for (scale, min) in closed form:
//   D = Sw * Sll - Sl^2,  scale = (Sw * Sxl - Sx * Sl) / D,  min = (Sll * Sx - Sl * Sxl) / D
// (if that min is positive, pin it to 0 and refit scale = Sxl / Sll), and keep the candidate
// with the smallest error. Returns scale; *the_min receives -min (>= 0).
float fit_scale_min(int n, int nmax, const float* x, const float* w, uint8_t* L, float* the_min,
                    float rmin, float rdelta, int nstep) {
  uint8_t Laux[32];
  float min = x[0], max = x[0];
  float sum_w = w[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  if (min > 0) min = 0;  // the offset can only be subtracted: ranges always include zero
  if (max == min) {
    std::fill(L, L + n, uint8_t{0});
    *the_min = -min;
    return 0.0f;
  }
  float iscale = nmax / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    const int l = std::clamp(nearest_int(iscale * (x[i] - min)), 0, nmax);
    L[i] = static_cast<uint8_t>(l);
    const float diff = scale * L[i] + min - x[i];
    best_error += w[i] * (diff * diff);
  }
  for (int is = 0; is <= nstep; ++is) {
    iscale = (rmin + rdelta * is + nmax) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(nearest_int(iscale * (x[i] - min)), 0, nmax);
      Laux[i] = static_cast<uint8_t>(l);
      sum_l += w[i] * l;
      sum_l2 += w[i] * l * l;
      sum_xl += w[i] * l * x[i];
    }
    const float D = sum_w * sum_l2 - sum_l * sum_l;
    if (!(D > 0)) continue;  // singular (all levels equal) or NaN: no fit
    float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
    float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
    if (this_min > 0) {
      this_min = 0;
      this_scale = sum_xl / sum_l2;
    }
    float cur_error = 0;
    for (int i = 0; i < n; ++i) {
      const float diff = this_scale * Laux[i] + this_min - x[i];
      cur_error += w[i] * (diff * diff);
    }
    if (cur_error < best_error) {
      std::copy(Laux, Laux + n, L);
      best_error = cur_error;
      scale = this_scale;
      min = this_min;
    }
  }
  *the_min = -min;
  return scale;
}

// Symmetric fit x[i] ~ scale * (L[i] - nmax) with L - nmax in -nmax..nmax-1, weights x^2.
// The initial inverse scale maps the signed extreme to -nmax; 18 nearby inverse scales
// -(nmax + 0.1 * is) / max are tried, each scored by the optimal scale's error reduction
// Sxl^2 / Sll (larger is better). Returns the least-squares scale of the best candidate.
float fit_symmetric_scale(int n, int nmax, const float* x, int8_t* L) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < 1e-15f) {  // all (near) zero
    std::fill(L, L + n, int8_t{0});
    return 0.0f;
  }
  auto level = [&](float iscale, int i) {
    return std::clamp(nearest_int(iscale * x[i]), -nmax, nmax - 1);
  };
  float iscale = -nmax / max;
  float sum_lx = 0, sum_l2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = level(iscale, i);
    L[i] = static_cast<int8_t>(l + nmax);
    const float w = x[i] * x[i];
    sum_lx += w * x[i] * l;
    sum_l2 += w * l * l;
  }
  float scale = sum_l2 != 0 ? sum_lx / sum_l2 : 0.0f;
  float best = scale * sum_lx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(nmax + 0.1f * is) / max;
    sum_lx = sum_l2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = level(iscale, i);
      const float w = x[i] * x[i];
      sum_lx += w * x[i] * l;
      sum_l2 += w * l * l;
    }
    if (sum_l2 > 0 && sum_lx * sum_lx > best * sum_l2) {
      for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(level(iscale, i) + nmax);
      scale = sum_lx / sum_l2;
      best = scale * sum_lx;
    }
  }
  return scale;
}

// Packs 6-bit sub-block scales ls[8] and mins lm[8] into 12 bytes (inverse of
// unpack_scale_min_k4 in blocks.h).
void pack_scale_min_k4(const uint8_t* ls, const uint8_t* lm, uint8_t* b) {
  std::memset(b, 0, kKScaleBytes);
  for (int s = 0; s < 8; ++s) {
    if (s < 4) {
      b[s] = ls[s];
      b[s + 4] = lm[s];
    } else {
      b[s + 4] = static_cast<uint8_t>((ls[s] & 0xf) | ((lm[s] & 0xf) << 4));
      b[s - 4] |= static_cast<uint8_t>((ls[s] >> 4) << 6);
      b[s] |= static_cast<uint8_t>((lm[s] >> 4) << 6);
    }
  }
}

// The scale part of a Q4_K / Q5_K super-block, laid out as in BlockQ4_K.
struct KScales {
  uint16_t d;     // fp16 scale of the 6-bit sub-block scales
  uint16_t dmin;  // fp16 scale of the 6-bit sub-block mins
  uint8_t scales[kKScaleBytes];
};

// Shared first half of Q4_K / Q5_K (nmax = 15 or 31) for one super-block x[256]:
// 1. per sub-block of 32, fit (scale_s, min_s) with weights w = rms(x) + |x| (favouring large
//    elements) by fit_scale_min;
// 2. quantize the 8 scales and 8 mins to 6 bits relative to their maxima:
//    d = max_scale / 63, sc_s = round(63 * scale_s / max_scale) (dmin, m_s likewise);
// 3. re-round every element against the *stored* fp16-rounded scales: q = round((x + dm) / ds),
//    so the levels compensate for the scale quantization. Sub-blocks whose stored scale is 0
//    keep the levels of step 1.
// Returns d, dmin (fp16 bits) and the 12 packed scale bytes; writes the levels L[256].
KScales fit_k_superblock(const float* x, int nmax, float rmin, int nstep, uint8_t* L) {
  float scales[8], mins[8];
  float max_scale = 0, max_min = 0;
  for (int s = 0; s < 8; ++s) {
    const float* xs = x + 32 * s;
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += xs[l] * xs[l];
    const float av_x = std::sqrt(sum_x2 / 32);
    float w[32];
    for (int l = 0; l < 32; ++l) w[l] = av_x + std::fabs(xs[l]);
    scales[s] = fit_scale_min(32, nmax, xs, w, L + 32 * s, &mins[s], rmin, 0.1f, nstep);
    max_scale = std::max(max_scale, scales[s]);
    max_min = std::max(max_min, mins[s]);
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  uint8_t ls[8], lm[8];
  for (int s = 0; s < 8; ++s) {
    // Like ggml, narrow to 8 bits before clamping to 63: the products lie in [0, 63] for any
    // sane fit, and an out-of-range one (a negative fitted scale) then clamps identically.
    ls[s] = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_scale * scales[s])));
    lm[s] = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_min * mins[s])));
  }
  KScales k{};
  pack_scale_min_k4(ls, lm, k.scales);
  k.d = fp32_to_fp16(max_scale / 63.f);
  k.dmin = fp32_to_fp16(max_min / 63.f);
  for (int s = 0; s < 8; ++s) {
    uint8_t sc, m;
    unpack_scale_min_k4(s, k.scales, &sc, &m);
    const float ds = fp16_to_fp32(k.d) * sc;
    if (ds == 0.0f) continue;
    const float dm = fp16_to_fp32(k.dmin) * m;
    for (int l = 0; l < 32; ++l) {
      L[32 * s + l] =
          static_cast<uint8_t>(std::clamp(nearest_int((x[32 * s + l] + dm) / ds), 0, nmax));
    }
  }
  return k;
}

}  // namespace

void quantize_q4_K(const float* src, uint8_t* dst, int64_t n_blocks) {
  for (int64_t i = 0; i < n_blocks; ++i, src += kQKK) {
    uint8_t L[kQKK];
    const KScales k = fit_k_superblock(src, 15, -1.0f, 20, L);
    BlockQ4_K b{};
    b.d = k.d;
    b.dmin = k.dmin;
    std::memcpy(b.scales, k.scales, kKScaleBytes);
    for (int c = 0; c < 4; ++c) {  // chunk c: sub-blocks 2c (low nibbles) and 2c + 1 (high)
      for (int l = 0; l < 32; ++l) {
        b.qs[32 * c + l] = static_cast<uint8_t>(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
      }
    }
    std::memcpy(dst + i * static_cast<int64_t>(sizeof(b)), &b, sizeof(b));
  }
}

void quantize_q5_K(const float* src, uint8_t* dst, int64_t n_blocks) {
  for (int64_t i = 0; i < n_blocks; ++i, src += kQKK) {
    uint8_t L[kQKK];
    const KScales k = fit_k_superblock(src, 31, -0.5f, 15, L);
    BlockQ5_K b{};
    b.d = k.d;
    b.dmin = k.dmin;
    std::memcpy(b.scales, k.scales, kKScaleBytes);
    for (int s = 0; s < 8; ++s) {
      const int c = s / 2, shift = 4 * (s % 2);
      for (int l = 0; l < 32; ++l) {
        const int q = L[32 * s + l];
        b.qs[32 * c + l] |= static_cast<uint8_t>((q & 0xf) << shift);
        b.qh[l] |= static_cast<uint8_t>((q >> 4) << s);
      }
    }
    std::memcpy(dst + i * static_cast<int64_t>(sizeof(b)), &b, sizeof(b));
  }
}

// Q6_K: 16 sub-blocks of 16 with a symmetric 6-bit fit each (levels -32..31), then the 16
// scales are quantized to signed 8 bits against the one of largest magnitude, which maps to
// -128: d = max_scale / -128, sc_s = min(127, round(-128 * scale_s / max_scale)). As in Q4_K,
// levels are then re-rounded against the stored scales: q = round(x / (d * sc_s)).
void quantize_q6_K(const float* src, uint8_t* dst, int64_t n_blocks) {
  for (int64_t i = 0; i < n_blocks; ++i, src += kQKK) {
    int8_t L[kQKK];
    float scales[16];
    float max_scale = 0, max_abs_scale = 0;
    for (int s = 0; s < 16; ++s) {
      scales[s] = fit_symmetric_scale(16, 32, src + 16 * s, L + 16 * s);
      if (std::fabs(scales[s]) > max_abs_scale) {
        max_abs_scale = std::fabs(scales[s]);
        max_scale = scales[s];
      }
    }
    BlockQ6_K b{};
    if (max_abs_scale < 1e-15f) {  // an all-zero super-block: every byte 0
      std::memcpy(dst + i * static_cast<int64_t>(sizeof(b)), &b, sizeof(b));
      continue;
    }
    const float iscale = -128.f / max_scale;
    b.d = fp32_to_fp16(1 / iscale);
    for (int s = 0; s < 16; ++s) {
      b.scales[s] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[s])));
    }
    for (int s = 0; s < 16; ++s) {
      const float ds = fp16_to_fp32(b.d) * b.scales[s];
      if (ds == 0.0f) continue;
      for (int l = 0; l < 16; ++l) {
        const int q = std::clamp(nearest_int(src[16 * s + l] / ds), -32, 31);
        L[16 * s + l] = static_cast<int8_t>(q + 32);
      }
    }
    // Element 128h + 64k + t -> nibble k of ql[64h + t]; element 128h + 32k + l -> bits 2k..2k+1
    // of qh[32h + l] (the inverse of the layout in blocks.h).
    for (int e = 0; e < kQKK; ++e) {
      const int h = e / 128, r = e % 128;
      const int q = L[e];
      b.ql[64 * h + r % 64] |= static_cast<uint8_t>((q & 0xf) << (4 * (r / 64)));
      b.qh[32 * h + r % 32] |= static_cast<uint8_t>((q >> 4) << (2 * (r / 32)));
    }
    std::memcpy(dst + i * static_cast<int64_t>(sizeof(b)), &b, sizeof(b));
  }
}

}  // namespace longctx::ref
