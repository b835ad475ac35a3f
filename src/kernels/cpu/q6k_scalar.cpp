// Scalar Q6_K x Q8_K dot kernels (the portable path and the oracle the SIMD paths are held to).
// Per super-block the sum is exact in int32: sum_s sc[s] * (sum_j q_j a_j - 32 * bsum[s]); it is
// then scaled once by d_w * d_a in float.
#include <cstring>

#include "kernels/cpu/cpu_kernels.h"
#include "quant/blocks.h"
#include "quant/float16.h"

namespace longctx::cpu {
namespace {

// Integer part of one super-block dot product. |result| <= 256 * 63 * 127 * 128 + 32 * 16 * 2032 *
// 128 < 2^31, so int32 cannot overflow.
int32_t block_dot(const BlockQ6_K& w, const BlockQ8K& a) {
  int32_t total = 0;
  for (int h = 0; h < 2; ++h) {
    const uint8_t* ql = w.ql + 64 * h;
    const uint8_t* qh = w.qh + 32 * h;
    const int8_t* qa = a.qs + 128 * h;
    // Element 128h + 32k + l: k = 0, 1 take the low nibbles of ql[l], ql[32 + l]; k = 2, 3 the
    // high nibbles; the top two bits come from bits 2k..2k+1 of qh[l].
    int32_t sums[8] = {};
    for (int l = 0; l < 32; ++l) {
      const int q0 = (ql[l] & 15) | ((qh[l] & 3) << 4);
      const int q1 = (ql[32 + l] & 15) | (((qh[l] >> 2) & 3) << 4);
      const int q2 = (ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4);
      const int q3 = (ql[32 + l] >> 4) | (((qh[l] >> 6) & 3) << 4);
      const int sub = l >> 4;  // sub-block within each 32-element run
      sums[0 + sub] += q0 * qa[l];
      sums[2 + sub] += q1 * qa[32 + l];
      sums[4 + sub] += q2 * qa[64 + l];
      sums[6 + sub] += q3 * qa[96 + l];
    }
    for (int s = 0; s < 8; ++s) {
      total += w.scales[8 * h + s] * (sums[s] - 32 * a.bsums[8 * h + s]);
    }
  }
  return total;
}

float row_dot(int64_t nb, const uint8_t* w, const uint8_t* a) {
  float acc = 0.0f;
  for (int64_t i = 0; i < nb; ++i) {
    // Copies: the pointers may have any alignment.
    BlockQ6_K wb;
    BlockQ8K ab;
    std::memcpy(&wb, w + i * sizeof(BlockQ6_K), sizeof wb);
    std::memcpy(&ab, a + i * sizeof(BlockQ8K), sizeof ab);
    acc += fp16_to_fp32(wb.d) * ab.d * static_cast<float>(block_dot(wb, ab));
  }
  return acc;
}

void gemv(int64_t n, const void* w, size_t w_stride, int64_t nr, const void* a, float* y) {
  const int64_t nb = n / kQKK;
  for (int64_t r = 0; r < nr; ++r) {
    y[r] =
        row_dot(nb, static_cast<const uint8_t*>(w) + r * w_stride, static_cast<const uint8_t*>(a));
  }
}

void gemm(int64_t n, const void* w, size_t w_stride, int64_t nr, const void* a, size_t a_stride,
          int64_t nc, float* y, size_t ldy) {
  for (int64_t c = 0; c < nc; ++c) {
    gemv(n, w, w_stride, nr, static_cast<const uint8_t*>(a) + c * a_stride, y + c * ldy);
  }
}

}  // namespace

void register_q6k_scalar(KernelTable* t) { t->matmul[14] = {ActType::kQ8_K, gemv, gemm}; }

}  // namespace longctx::cpu
