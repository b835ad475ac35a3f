// Random blocks per format. The quant fields are uniformly random bytes (every bit pattern is a
// valid q), and the scales are chosen so the dequantized values have the requested spread:
//   legacy types   x = d (q - z) with |d| fixed and its sign random (q - z has mean -1/2, so the
//                  sign flip makes the mean 0); Q4_1 / Q5_1 get m = -d * mean(q) instead;
//   Q4_K / Q5_K    x = d sc q - dmin m with m = sc and dmin = d * mean(q): each sub-block's mean
//                  is 0; the 6-bit sc are uniform in [16, 63] (bounded, never 0);
//   Q6_K           x = d sc (q - 32) with |sc| uniform in [16, 127] and a random sign;
//   floats         an Irwin-Hall sum of four uniforms, scaled: near-normal and bounded by
//                  3.5 std.
// d follows from std / rms(sc) / rms(q - z): rms of a uniform integer q in [a, b] about c is
// sqrt(var + (mean - c)^2) with var = ((b - a + 1)^2 - 1) / 12.
#include "quant/random_blocks.h"

#include <cmath>
#include <cstring>

#include "core/status.h"
#include "quant/blocks.h"
#include "quant/float16.h"

namespace longctx {
namespace {

struct Rng {  // splitmix64
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  void bytes(uint8_t* p, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const uint64_t v = next();
      std::memcpy(p + i, &v, 8);
    }
    if (i < n) {
      const uint64_t v = next();
      std::memcpy(p + i, &v, n - i);
    }
  }
  // d with a random sign, as fp16 bits.
  uint16_t signed_half(float d) { return fp32_to_fp16((next() & 1) ? -d : d); }
};

// rms about c of a uniform integer in [a, b].
double rms_uniform(double a, double b, double c) {
  const double n = b - a + 1, mean = (a + b) / 2;
  return std::sqrt((n * n - 1) / 12 + (mean - c) * (mean - c));
}

// Packs 8 six-bit scales and mins as unpack_scale_min_k4 reads them.
void pack_scale_min_k4(const uint8_t* sc, const uint8_t* m, uint8_t* b) {
  for (int s = 0; s < 4; ++s) {
    b[s] = uint8_t(sc[s] | ((sc[s + 4] >> 4) << 6));
    b[s + 4] = uint8_t(m[s] | ((m[s + 4] >> 4) << 6));
    b[s + 8] = uint8_t((sc[s + 4] & 15) | ((m[s + 4] & 15) << 4));
  }
}

// Q4_K / Q5_K: sub-block scales uniform in [16, 63], mins equal to them, dmin = d * mean(q).
template <class Block>
void kquant_4_5(Rng& rng, float std, double q_max, Block* out, int64_t nb) {
  const double rms_sc = rms_uniform(16, 63, 0);
  const float d = float(std / (rms_sc * rms_uniform(0, q_max, q_max / 2)));
  const uint16_t dh = fp32_to_fp16(d), dminh = fp32_to_fp16(float(d * q_max / 2));
  for (int64_t i = 0; i < nb; ++i) {
    Block& b = out[i];
    rng.bytes(reinterpret_cast<uint8_t*>(&b), sizeof(Block));
    uint8_t sc[8];
    const uint64_t r = rng.next();
    for (int s = 0; s < 8; ++s) sc[s] = uint8_t(16 + ((((r >> (8 * s)) & 0xff) * 48) >> 8));
    pack_scale_min_k4(sc, sc, b.scales);
    b.d = dh;
    b.dmin = dminh;
  }
}

}  // namespace

bool has_random_blocks(TensorType t) {
  switch (t) {
    case TensorType::F32:
    case TensorType::F16:
    case TensorType::BF16:
    case TensorType::Q4_0:
    case TensorType::Q4_1:
    case TensorType::Q5_0:
    case TensorType::Q5_1:
    case TensorType::Q8_0:
    case TensorType::Q4_K:
    case TensorType::Q5_K:
    case TensorType::Q6_K:
      return true;
    default:
      return false;
  }
}

void random_blocks(TensorType t, uint64_t seed, float std, void* dst, int64_t n) {
  LONGCTX_CHECK(has_random_blocks(t));
  const TypeTraits& tr = traits(t);
  LONGCTX_CHECK(n % tr.block_size == 0);
  const int64_t nb = n / tr.block_size;
  Rng rng{seed};
  switch (t) {
    case TensorType::F32:
    case TensorType::F16:
    case TensorType::BF16: {
      // Irwin-Hall: four 16-bit uniforms per value; the sum has variance 4/12.
      const float scale = float(std * std::sqrt(3.0) / 65536.0);
      for (int64_t i = 0; i < n; ++i) {
        const uint64_t r = rng.next();
        const float u =
            float((r & 0xffff) + ((r >> 16) & 0xffff) + ((r >> 32) & 0xffff) + (r >> 48)) -
            2 * 65535.0f;
        const float x = u * scale;
        if (t == TensorType::F32) {
          static_cast<float*>(dst)[i] = x;
        } else {
          static_cast<uint16_t*>(dst)[i] = t == TensorType::F16 ? fp32_to_fp16(x) : fp32_to_bf16(x);
        }
      }
      return;
    }
    case TensorType::Q4_0: {
      auto* b = static_cast<BlockQ4_0*>(dst);
      const float d = float(std / rms_uniform(0, 15, 8));
      for (int64_t i = 0; i < nb; ++i) {
        rng.bytes(b[i].qs, sizeof b[i].qs);
        b[i].d = rng.signed_half(d);
      }
      return;
    }
    case TensorType::Q5_0: {
      auto* b = static_cast<BlockQ5_0*>(dst);
      const float d = float(std / rms_uniform(0, 31, 16));
      for (int64_t i = 0; i < nb; ++i) {
        rng.bytes(b[i].qh, sizeof b[i].qh + sizeof b[i].qs);
        b[i].d = rng.signed_half(d);
      }
      return;
    }
    case TensorType::Q8_0: {
      auto* b = static_cast<BlockQ8_0*>(dst);
      const float d = float(std / rms_uniform(-128, 127, 0));
      for (int64_t i = 0; i < nb; ++i) {
        rng.bytes(reinterpret_cast<uint8_t*>(b[i].qs), sizeof b[i].qs);
        b[i].d = rng.signed_half(d);
      }
      return;
    }
    case TensorType::Q4_1: {
      auto* b = static_cast<BlockQ4_1*>(dst);
      const float d = float(std / rms_uniform(0, 15, 7.5));
      for (int64_t i = 0; i < nb; ++i) {
        rng.bytes(b[i].qs, sizeof b[i].qs);
        b[i].d = fp32_to_fp16(d);
        b[i].m = fp32_to_fp16(-7.5f * d);
      }
      return;
    }
    case TensorType::Q5_1: {
      auto* b = static_cast<BlockQ5_1*>(dst);
      const float d = float(std / rms_uniform(0, 31, 15.5));
      for (int64_t i = 0; i < nb; ++i) {
        rng.bytes(b[i].qh, sizeof b[i].qh + sizeof b[i].qs);
        b[i].d = fp32_to_fp16(d);
        b[i].m = fp32_to_fp16(-15.5f * d);
      }
      return;
    }
    case TensorType::Q4_K:
      kquant_4_5(rng, std, 15, static_cast<BlockQ4_K*>(dst), nb);
      return;
    case TensorType::Q5_K:
      kquant_4_5(rng, std, 31, static_cast<BlockQ5_K*>(dst), nb);
      return;
    case TensorType::Q6_K: {
      auto* b = static_cast<BlockQ6_K*>(dst);
      const float d = float(std / (rms_uniform(16, 127, 0) * rms_uniform(0, 63, 32)));
      for (int64_t i = 0; i < nb; ++i) {
        rng.bytes(b[i].ql, sizeof b[i].ql + sizeof b[i].qh);
        for (int s = 0; s < 16; s += 8) {
          const uint64_t r = rng.next();
          for (int k = 0; k < 8; ++k) {
            const uint8_t byte = uint8_t(r >> (8 * k));
            const int mag = 16 + (((byte & 0x7f) * 112) >> 7);
            b[i].scales[s + k] = int8_t((byte & 0x80) ? -mag : mag);
          }
        }
        b[i].d = fp32_to_fp16(d);
      }
      return;
    }
    default:
      LONGCTX_CHECK(false);
  }
}

}  // namespace longctx
