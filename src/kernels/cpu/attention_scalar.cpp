// Portable attention tile kernel (any head_dim): the same 16-key tiles and online softmax as the
// SIMD paths, in plain loops. Used by the scalar path and for head sizes the SIMD paths skip.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/attention_kernels.h"
#include "quant/float16.h"

namespace longctx::cpu {
namespace {

constexpr int64_t kTile = kAttnKeyTile;

// Widens nk keys of hd elements (row stride `stride` elements, any alignment) into dst[nk][hd].
void widen(int type, const void* src, int64_t stride, int64_t nk, int64_t hd, float* dst) {
  const auto* s = static_cast<const uint8_t*>(src);
  const int64_t bytes = type == 0 ? 4 : 2;
  for (int64_t j = 0; j < nk; ++j) {
    const uint8_t* row = s + j * stride * bytes;
    if (type == 0) {
      std::memcpy(dst + j * hd, row, static_cast<size_t>(hd) * 4);
      continue;
    }
    for (int64_t d = 0; d < hd; ++d) {
      uint16_t h;
      std::memcpy(&h, row + 2 * d, 2);
      dst[j * hd + d] = type == 1 ? fp16_to_fp32(h) : bf16_to_fp32(h);
    }
  }
}

}  // namespace

void attention_tile_scalar(const AttnTileJob& jb) {
  const int64_t hd = jb.head_dim;
  float* kf = jb.work;
  float* vf = kf + kTile * hd;
  float* s = vf + kTile * hd;
  const int64_t bytes = jb.kv_type == 0 ? 4 : 2;
  for (int64_t jt = jb.j0; jt < jb.j1; jt += kTile) {
    const int64_t nk = jb.j1 - jt < kTile ? jb.j1 - jt : kTile;
    const int64_t t_first = jt - jb.pos0;  // rows of earlier queries cannot see this tile
    const int64_t r0 = t_first <= 0 ? 0 : t_first * jb.group;
    if (r0 >= jb.n_rows) break;
    const auto* kt = static_cast<const uint8_t*>(jb.k) + jt * jb.kv_stride * bytes;
    const auto* vt = static_cast<const uint8_t*>(jb.v) + jt * jb.kv_stride * bytes;
    for (int64_t h = 0; h < jb.n_heads; ++h) {
      widen(jb.kv_type, kt + h * hd * bytes, jb.kv_stride, nk, hd, kf);
      widen(jb.kv_type, vt + h * hd * bytes, jb.kv_stride, nk, hd, vf);
      float* ms = jb.m + h * jb.n_rows;
      float* ls = jb.l + h * jb.n_rows;
      for (int64_t r = r0; r < jb.n_rows; ++r) {
        int64_t nv = jb.pos0 + r / jb.group + 1 - jt;  // visible keys of this row in the tile
        nv = nv < nk ? nv : nk;
        if (nv <= 0) continue;
        const float* q = jb.q + (h * jb.n_rows + r) * hd;
        float* sr = s + r * kTile;
        float mt = -INFINITY;
        for (int64_t j = 0; j < nv; ++j) {
          float dot = 0.0f;
          for (int64_t d = 0; d < hd; ++d) dot += q[d] * kf[j * hd + d];
          sr[j] = dot;
          mt = dot > mt ? dot : mt;
        }
        const float m_old = ms[r];
        const float m_new = mt > m_old ? mt : m_old;
        float* o = jb.acc + (h * jb.n_rows + r) * hd;
        float l = ls[r];
        if (m_new > m_old) {
          const float alpha = std::exp2(m_old - m_new);  // 0 on the first tile (m_old = -inf)
          for (int64_t d = 0; d < hd; ++d) o[d] *= alpha;
          l *= alpha;
          ms[r] = m_new;
        }
        for (int64_t j = 0; j < nv; ++j) {
          const float p = std::exp2(sr[j] - m_new);
          l += p;
          for (int64_t d = 0; d < hd; ++d) o[d] += p * vf[j * hd + d];
        }
        ls[r] = l;
      }
    }
  }
}

}  // namespace longctx::cpu
