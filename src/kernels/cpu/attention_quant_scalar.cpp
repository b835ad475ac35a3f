// Portable instantiation of the quantized-KV attention (attention_quant_inl.h has the scheme):
// "vectors" of 8 lanes as plain arrays, every operation a loop the compiler may vectorise for the
// baseline target. The scalar path's kernel, and the reading of the template without intrinsics.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/attention_kernels.h"
#include "kernels/cpu/attention_quant_inl.h"
#include "quant/float16.h"

namespace longctx::cpu {
namespace {

struct QVecScalar {
  static constexpr int64_t kLanes = 8;
  struct Vec {
    float v[kLanes];
  };
  struct IVec {
    int32_t v[kLanes];
  };
  static constexpr int kMixRows = 2, kMixVecs = 2;
  static constexpr int64_t kQ8Planes = 1;
  static void prefetch(const void* p) { __builtin_prefetch(p, 0, 2); }
  static constexpr int32_t kQ8Offset = 0;

  template <class F>
  static Vec map(F f) {
    Vec r;
    for (int64_t i = 0; i < kLanes; ++i) r.v[i] = f(i);
    return r;
  }
  template <class F>
  static IVec imap(F f) {
    IVec r;
    for (int64_t i = 0; i < kLanes; ++i) r.v[i] = f(i);
    return r;
  }
  static Vec zero() { return set1(0.0f); }
  static Vec set1(float x) {
    return map([&](int64_t) { return x; });
  }
  static Vec load(const float* p) {
    return map([&](int64_t i) { return p[i]; });
  }
  static void store(float* p, const Vec& v) { std::memcpy(p, v.v, sizeof v.v); }
  static Vec bcast(const float* p) { return set1(*p); }
  static Vec sub(const Vec& a, const Vec& b) {
    return map([&](int64_t i) { return a.v[i] - b.v[i]; });
  }
  static Vec mul(const Vec& a, const Vec& b) {
    return map([&](int64_t i) { return a.v[i] * b.v[i]; });
  }
  static Vec fmadd(const Vec& a, const Vec& b, const Vec& c) {
    return map([&](int64_t i) { return std::fma(a.v[i], b.v[i], c.v[i]); });
  }
  static Vec exp2(const Vec& x) {
    return map([&](int64_t i) { return std::exp2(x.v[i]); });
  }
  static float exp2_1(float x) { return std::exp2(x); }
  static float hsum(const Vec& v) {
    float s = 0.0f;
    for (float x : v.v) s += x;
    return s;
  }
  static float hmax(const Vec& v) {
    float m = -INFINITY;
    for (float x : v.v) m = x > m ? x : m;
    return m;
  }
  static Vec mask_keys(const Vec& s, int64_t n) {
    return map([&](int64_t i) { return i < n ? s.v[i] : -INFINITY; });
  }
  static Vec zero_above(const Vec& p, int64_t n) {
    return map([&](int64_t i) { return i < n ? p.v[i] : 0.0f; });
  }
  static float f16_to_f32(uint16_t h) { return fp16_to_fp32(h); }

  static IVec iset1(int32_t x) {
    return imap([&](int64_t) { return x; });
  }
  static IVec iload(const int32_t* p) {
    return imap([&](int64_t i) { return p[i]; });
  }
  static void istore(int32_t* p, const IVec& v) { std::memcpy(p, v.v, sizeof v.v); }
  static int32_t word(const uint8_t* p) {
    int32_t x;
    std::memcpy(&x, p, 4);
    return x;
  }
  static IVec ibcast32(const uint8_t* p) { return iset1(word(p)); }
  static void load_tile16x4(const uint8_t* p, const int64_t* off, IVec* out) {
    for (int64_t i = 0; i < 4; ++i) {
      out[i] = imap([&](int64_t j) { return word(p + off[j] + 4 * i); });
    }
  }
  static IVec nib_lo(const IVec& x) {
    return imap([&](int64_t i) { return x.v[i] & 0x0F0F0F0F; });
  }
  static IVec nib_hi(const IVec& x) {
    return imap([&](int64_t i) { return (x.v[i] >> 4) & 0x0F0F0F0F; });
  }
  static Vec cvt(const IVec& x) {
    return map([&](int64_t i) { return static_cast<float>(x.v[i]); });
  }
  static void prep_q8(const IVec& raw, int32_t* dst) { istore(dst, raw); }
  // acc + the sums of 4 byte products per lane: k bytes signed (Q8_0) or unsigned (nibbles).
  template <bool kSigned>
  static IVec dot(const IVec& acc, const IVec& k, const IVec& q) {
    return imap([&](int64_t i) {
      int32_t s = acc.v[i];
      for (int b = 0; b < 4; ++b) {
        const uint8_t kb = static_cast<uint8_t>(static_cast<uint32_t>(k.v[i]) >> (8 * b));
        const int8_t qb = static_cast<int8_t>(static_cast<uint32_t>(q.v[i]) >> (8 * b));
        s += (kSigned ? static_cast<int32_t>(static_cast<int8_t>(kb)) : int32_t{kb}) * qb;
      }
      return s;
    });
  }
  static IVec dot_q8(const IVec& acc, const int32_t* k, const IVec& q) {
    return dot<true>(acc, iload(k), q);
  }
  static IVec dot_u8(const IVec& acc, const IVec& k, const IVec& q) {
    return dot<false>(acc, k, q);
  }

  static Vec load_f32(const uint8_t* p) {
    return map([&](int64_t i) {
      float f;
      std::memcpy(&f, p + 4 * i, 4);
      return f;
    });
  }
  static Vec load_f16(const uint8_t* p) {
    return map([&](int64_t i) {
      uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      return fp16_to_fp32(h);
    });
  }
  static Vec load_bf16(const uint8_t* p) {
    return map([&](int64_t i) {
      uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      return bf16_to_fp32(h);
    });
  }
  static Vec abs(const Vec& x) {
    return map([&](int64_t i) { return std::fabs(x.v[i]); });
  }

  // Integer P V (attention_quant_inl.h): dims in order, 4 keys' bytes per dword.
  static constexpr int kPMax = 255, kPvRows = 2;
  static void sign_bytes(const uint16_t* dh, uint8_t* out) {
    for (int64_t j = 0; j < kLanes; ++j) out[j] = (dh[j] & 0x8000) ? 0xFF : 0;
  }
  // The block's 32 values of 4 keys (int8, or nibble - 8), negated (saturating) where the
  // key's byte of neg is 0xFF.
  template <class F>
  static void vt(F value, int32_t neg, int32_t* out) {
    for (int64_t d = 0; d < 32; ++d) {
      uint32_t w = 0;
      for (int k = 0; k < 4; ++k) {
        int32_t x = value(k, d);
        if ((static_cast<uint32_t>(neg) >> (8 * k)) & 0xFF) x = x == -128 ? 127 : -x;
        w |= uint32_t(uint8_t(x)) << (8 * k);
      }
      out[d] = static_cast<int32_t>(w);
    }
  }
  static void vt_q8(const uint8_t* const* r, int32_t neg, int32_t* out) {
    vt([&](int k, int64_t d) { return int32_t(static_cast<int8_t>(r[k][d])); }, neg, out);
  }
  static void vt_q4(const uint8_t* const* r, int32_t neg, int32_t* out) {
    vt([&](int k, int64_t d) { return int32_t(d < 16 ? r[k][d] & 0x0F : r[k][d - 16] >> 4) - 8; },
       neg, out);
  }
  static constexpr int64_t vt_dim(int64_t p) { return p; }
  // w rounded (0..65535) to its base-256 digits.
  static void pack_digits(const Vec& w, uint8_t* hi, uint8_t* lo) {
    for (int64_t i = 0; i < kLanes; ++i) {
      const auto c = static_cast<uint32_t>(std::nearbyint(w.v[i]));
      hi[i] = static_cast<uint8_t>(c >> 8);
      lo[i] = static_cast<uint8_t>(c);
    }
  }
  static void pack_u8(const Vec& w, uint8_t* out) {
    for (int64_t i = 0; i < kLanes; ++i) out[i] = static_cast<uint8_t>(std::nearbyint(w.v[i]));
  }
  static IVec ishl_digit(const IVec& x) {
    return imap([&](int64_t i) { return x.v[i] * 256; });
  }
  // acc + the sums of 4 products u8 weight x int8 value per lane.
  static IVec dot_pv(const IVec& acc, const IVec& w, const IVec& v) {
    return imap([&](int64_t i) {
      int32_t s = acc.v[i];
      for (int b = 0; b < 4; ++b) {
        const uint8_t wb = static_cast<uint8_t>(static_cast<uint32_t>(w.v[i]) >> (8 * b));
        const int8_t vb = static_cast<int8_t>(static_cast<uint32_t>(v.v[i]) >> (8 * b));
        s += int32_t{wb} * vb;
      }
      return s;
    });
  }
};

}  // namespace

void attention_quant_scalar(const AttnTileJob& job) { quant_run<QVecScalar>(job); }

}  // namespace longctx::cpu
