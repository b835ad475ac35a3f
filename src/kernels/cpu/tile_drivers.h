// Loops that drive a register-tile kernel over a whole gemv / gemm call, shared by the per-ISA
// files (they are plain C++ templates: each including file instantiates them with its own
// kernels). Everything here has internal linkage, as the build rule of cpu_kernels.h requires.
//
// A kernel K provides tile<R, C>(n, w, w_stride, a, a_stride, y, ldy) for R <= K::kRows,
// C <= K::kCols, and K::kGemvRows. Rows are the outer loop of gemm: an R-row strip of weights is
// read from memory once and stays in L1 while every activation column passes over it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/cpu_kernels.h"

namespace longctx::cpu {
namespace {  // NOLINT(build/namespaces): internal linkage in every per-ISA translation unit

template <class K, int R, int C>
void strip(int64_t n, const uint8_t* w, size_t ws, const uint8_t* a, size_t as, int64_t nc,
           float* y, size_t ldy) {
  int64_t c = 0;
  for (; c + C <= nc; c += C) K::template tile<R, C>(n, w, ws, a + c * as, as, y + c * ldy, ldy);
  for (; c < nc; ++c) K::template tile<R, 1>(n, w, ws, a + c * as, as, y + c * ldy, ldy);
}

template <class K>
void gemm(int64_t n, const void* w, size_t w_stride, int64_t nr, const void* a, size_t a_stride,
          int64_t nc, float* y, size_t ldy) {
  const auto* wp = static_cast<const uint8_t*>(w);
  const auto* ap = static_cast<const uint8_t*>(a);
  int64_t r = 0;
  for (; r + K::kRows <= nr; r += K::kRows) {
    strip<K, K::kRows, K::kCols>(n, wp + r * w_stride, w_stride, ap, a_stride, nc, y + r, ldy);
  }
  for (; r < nr; ++r)
    strip<K, 1, K::kCols>(n, wp + r * w_stride, w_stride, ap, a_stride, nc, y + r, ldy);
}

template <class K>
void gemv(int64_t n, const void* w, size_t w_stride, int64_t nr, const void* a, float* y) {
  const auto* wp = static_cast<const uint8_t*>(w);
  const auto* ap = static_cast<const uint8_t*>(a);
  int64_t r = 0;
  for (; r + K::kGemvRows <= nr; r += K::kGemvRows) {
    K::template tile<K::kGemvRows, 1>(n, wp + r * w_stride, w_stride, ap, 0, y + r, 1);
  }
  for (; r < nr; ++r) K::template tile<1, 1>(n, wp + r * w_stride, w_stride, ap, 0, y + r, 1);
}

template <class K>
MatmulKernel kernel(ActType act) {
  return {act, &gemv<K>, &gemm<K>};
}

}  // namespace
}  // namespace longctx::cpu
