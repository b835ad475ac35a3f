// The element-wise kernels (SwiGLU with a vector exp, fp32 -> fp16), written once over the vector
// layer (F32x8 in vec_avx2_inl.h, F32x16 in vec_avx512_inl.h) and instantiated by
// elementwise_avx2.cpp and elementwise_avx512.cpp with their own flags. Everything here has
// internal linkage (the build rule in KERNELS.md).
#pragma once

#include <cstdint>

namespace longctx::cpu {
namespace {

// e^x for x in [-87, 88]: x = n ln2 + r with |r| <= ln2/2 (ln2 split in two parts so n ln2 is
// exact in the first subtraction), e^r = 1 + r + r^2 p(r) with the Cephes expf polynomial
// (relative error ~1e-7), scaled by 2^n (n + 127 in [1, 254]: a normal float on every path).
template <class V>
static inline typename V::Vec exp_v(typename V::Vec x) {
  x = V::min(V::max(x, V::set1(-87.0f)), V::set1(88.0f));
  const auto n = V::round(V::mul(x, V::set1(1.44269504088896341f)));
  auto r = V::fnmadd(n, V::set1(0.693359375f), x);
  r = V::fnmadd(n, V::set1(-2.12194440e-4f), r);
  auto p = V::set1(1.9875691500e-4f);
  p = V::fmadd(p, r, V::set1(1.3981999507e-3f));
  p = V::fmadd(p, r, V::set1(8.3334519073e-3f));
  p = V::fmadd(p, r, V::set1(4.1665795894e-2f));
  p = V::fmadd(p, r, V::set1(1.6666665459e-1f));
  p = V::fmadd(p, r, V::set1(5.0000001201e-1f));
  const auto e = V::add(V::fmadd(V::mul(r, r), p, r), V::set1(1.0f));
  return V::ldexp(e, n);
}

// silu(g) u = g u / (1 + e^-g), lane by lane; the partial last vector goes through the same
// arithmetic, so an element's bits do not depend on where it falls.
template <class V>
static inline typename V::Vec swiglu_v(typename V::Vec g, typename V::Vec u) {
  const auto den = V::add(V::set1(1.0f), exp_v<V>(V::sub(V::zero(), g)));
  return V::mul(V::div(g, den), u);
}

template <class V>
static void swiglu_gen(const float* gate, const float* up, int64_t n, float* y) {
  int64_t i = 0;
  for (; i + V::kLanes <= n; i += V::kLanes) {
    V::store(y + i, swiglu_v<V>(V::load(gate + i), V::load(up + i)));
  }
  if (i < n) {
    const int64_t k = n - i;
    V::store_part(y + i, k, swiglu_v<V>(V::load_part(gate + i, k), V::load_part(up + i, k)));
  }
}

template <class V>
static void to_f16_gen(const float* x, uint16_t* y, int64_t n) {
  int64_t i = 0;
  for (; i + V::kLanes <= n; i += V::kLanes) V::store_f16(y + i, V::load(x + i));
  if (i < n) V::store_f16_part(y + i, n - i, V::load_part(x + i, n - i));
}

}  // namespace
}  // namespace longctx::cpu
