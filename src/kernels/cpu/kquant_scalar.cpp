// Scalar K-quant kernels: the Q8_K activation quantizer (the byte-exact reference for the SIMD
// paths) and the Q4_K / Q5_K x Q8_K dot products, written for clarity. Each super-block of 256
// is dotted in integers per 32-element sub-block and scaled in float once per super-block.
#include <cmath>
#include <cstring>

#include "kernels/cpu/cpu_kernels.h"
#include "quant/blocks.h"
#include "quant/float16.h"

namespace longctx::cpu {
namespace {

constexpr int kTypeQ4K = 12;  // GGUF type ids (quant/types.h)
constexpr int kTypeQ5K = 13;

// Q8_K, as ggml's quantize_row_q8_K_ref: per block of 256, `max` is the first element of largest
// magnitude (its sign kept), iscale = -127 / max, q = min(127, rne(iscale * x)) with the product
// rounded to float first and rne = round half to even, d = 1 / iscale, bsums[g] = sum of the 16
// q of group g. The extreme element becomes exactly -127 (iscale * max rounds to -127), so q is in
// [-127, 127]; d < 0 when max > 0. An all-zero block stores d = 0 and zeros.
void quantize_q8k(const float* x, void* dst, int64_t n) {
  auto* out = static_cast<uint8_t*>(dst);
  for (int64_t b = 0; b < n / kQKK; ++b, x += kQKK, out += sizeof(BlockQ8K)) {
    BlockQ8K blk;
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQKK; ++j) {
      const float ax = std::fabs(x[j]);
      if (ax > amax) {
        amax = ax;
        max = x[j];
      }
    }
    if (amax == 0.0f) {
      std::memset(&blk, 0, sizeof(blk));
    } else {
      const float iscale = -127.0f / max;
      for (int j = 0; j < kQKK; ++j) {
        const long v = std::lrint(iscale * x[j]);  // default rounding mode: half to even
        blk.qs[j] = static_cast<int8_t>(v > 127 ? 127 : v);
      }
      for (int g = 0; g < kQKK / 16; ++g) {
        int sum = 0;
        for (int l = 0; l < 16; ++l) sum += blk.qs[16 * g + l];
        blk.bsums[g] = static_cast<int16_t>(sum);
      }
      blk.d = 1.0f / iscale;
    }
    std::memcpy(out, &blk, sizeof(blk));
  }
}

// One super-block of Q4_K (kQ5 = false) or Q5_K (true) against one Q8_K block:
//   sum_j w_j * a_j = d_a * (d * sum_s sc_s * sum_l q_l a_l - dmin * sum_s m_s * sum_l a_l),
// where sum_l a_l over sub-block s is bsums[2s] + bsums[2s + 1].
template <bool kQ5>
float dot_block(const uint8_t* wb, const BlockQ8K& a) {
  uint16_t dh, mh;
  std::memcpy(&dh, wb, 2);
  std::memcpy(&mh, wb + 2, 2);
  const uint8_t* scales = wb + 4;
  const uint8_t* qh = wb + 4 + kKScaleBytes;
  const uint8_t* qs = kQ5 ? qh + kQKK / 8 : qh;
  int32_t sumi = 0, summ = 0;
  for (int s = 0; s < 8; ++s) {
    uint8_t sc, m;
    unpack_scale_min_k4(s, scales, &sc, &m);
    const uint8_t* q = qs + 32 * (s / 2);
    const int shift = 4 * (s % 2);
    int32_t dot = 0;
    for (int l = 0; l < 32; ++l) {
      int v = (q[l] >> shift) & 15;
      if (kQ5) v |= ((qh[l] >> s) & 1) << 4;
      dot += v * a.qs[32 * s + l];
    }
    sumi += sc * dot;
    summ += m * (a.bsums[2 * s] + a.bsums[2 * s + 1]);
  }
  return a.d * (fp16_to_fp32(dh) * static_cast<float>(sumi) -
                fp16_to_fp32(mh) * static_cast<float>(summ));
}

template <bool kQ5>
void gemv(int64_t n, const void* w, size_t w_stride, int64_t nr, const void* a, float* y) {
  constexpr size_t kBlockBytes = kQ5 ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
  const int64_t nb = n / kQKK;
  for (int64_t r = 0; r < nr; ++r) {
    const uint8_t* row = static_cast<const uint8_t*>(w) + r * w_stride;
    float sum = 0.0f;
    for (int64_t b = 0; b < nb; ++b) {
      BlockQ8K ab;
      std::memcpy(&ab, static_cast<const uint8_t*>(a) + b * sizeof(BlockQ8K), sizeof(ab));
      sum += dot_block<kQ5>(row + b * kBlockBytes, ab);
    }
    y[r] = sum;
  }
}

template <bool kQ5>
void gemm(int64_t n, const void* w, size_t w_stride, int64_t nr, const void* a, size_t a_stride,
          int64_t nc, float* y, size_t ldy) {
  for (int64_t c = 0; c < nc; ++c) {
    gemv<kQ5>(n, w, w_stride, nr, static_cast<const uint8_t*>(a) + c * a_stride, y + c * ldy);
  }
}

}  // namespace

void register_kquant_scalar(KernelTable* t) {
  t->quantize[static_cast<int>(ActType::kQ8_K)] = quantize_q8k;
  t->matmul[kTypeQ4K] = {ActType::kQ8_K, gemv<false>, gemm<false>};
  t->matmul[kTypeQ5K] = {ActType::kQ8_K, gemv<true>, gemm<true>};
}

}  // namespace longctx::cpu
