// Decode matrix-vector products straight from the GGUF block formats. One warp per weight row:
// lane l takes the row's 32-element units l, l + 32, ... (a legacy block, a K-quant sub-block or
// 32 plain values), dequantizes the unit in registers and multiplies it with up to 8 tokens'
// inputs; the lanes' partial sums meet in a shuffle reduction. Adjacent lanes read adjacent
// units, so a warp reads a contiguous stretch of the row.
#include <cuda_fp16.h>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_api.h"

namespace longctx::cuda {
namespace {

constexpr int kUnit = 32;         // elements per unit
constexpr int kRowsPerBlock = 4;  // warps per thread block
constexpr int kMaxTokens = 8;     // tokens per launch

__device__ __forceinline__ float half_at(const uint8_t* p) {
  return __half2float(__ushort_as_half(uint16_t(p[0] | (p[1] << 8))));
}
__device__ __forceinline__ float bf16_at(const uint8_t* p) {
  return __uint_as_float(uint32_t(p[0] | (p[1] << 8)) << 16);
}

// Unit u of a row, as 32 floats (element u * 32 + i at v[i]); block layouts as quant/blocks.h.
template <TensorType T>
struct Unit;

template <>
struct Unit<TensorType::F32> {
  __device__ static void load(const uint8_t* row, int64_t u, float* v) {
    const float* p = reinterpret_cast<const float*>(row) + u * kUnit;
#pragma unroll
    for (int i = 0; i < kUnit; ++i) v[i] = p[i];
  }
};
template <>
struct Unit<TensorType::F16> {
  __device__ static void load(const uint8_t* row, int64_t u, float* v) {
    const uint8_t* p = row + u * kUnit * 2;
#pragma unroll
    for (int i = 0; i < kUnit; ++i) v[i] = half_at(p + 2 * i);
  }
};
template <>
struct Unit<TensorType::BF16> {
  __device__ static void load(const uint8_t* row, int64_t u, float* v) {
    const uint8_t* p = row + u * kUnit * 2;
#pragma unroll
    for (int i = 0; i < kUnit; ++i) v[i] = bf16_at(p + 2 * i);
  }
};
// Q4_0 (18 bytes): d, qs[16]; q[j] low nibble of qs[j], q[j + 16] high nibble; x = d (q - 8).
template <>
struct Unit<TensorType::Q4_0> {
  __device__ static void load(const uint8_t* row, int64_t u, float* v) {
    const uint8_t* b = row + u * 18;
    const float d = half_at(b);
#pragma unroll
    for (int j = 0; j < 16; ++j) {
      v[j] = d * float(int(b[2 + j] & 15) - 8);
      v[j + 16] = d * float(int(b[2 + j] >> 4) - 8);
    }
  }
};
// Q4_1 (20 bytes): d, m, qs[16]; x = d q + m.
template <>
struct Unit<TensorType::Q4_1> {
  __device__ static void load(const uint8_t* row, int64_t u, float* v) {
    const uint8_t* b = row + u * 20;
    const float d = half_at(b), m = half_at(b + 2);
#pragma unroll
    for (int j = 0; j < 16; ++j) {
      v[j] = d * float(b[4 + j] & 15) + m;
      v[j + 16] = d * float(b[4 + j] >> 4) + m;
    }
  }
};
// Q5_0 (22 bytes): d, qh (32 bits LE: bit j = bit 4 of q[j]), qs[16]; x = d (q - 16).
template <>
struct Unit<TensorType::Q5_0> {
  __device__ static void load(const uint8_t* row, int64_t u, float* v) {
    const uint8_t* b = row + u * 22;
    const float d = half_at(b);
    const uint32_t qh =
        uint32_t(b[2]) | uint32_t(b[3]) << 8 | uint32_t(b[4]) << 16 | uint32_t(b[5]) << 24;
#pragma unroll
    for (int j = 0; j < 16; ++j) {
      v[j] = d * float(int((b[6 + j] & 15) | ((qh >> j) & 1) << 4) - 16);
      v[j + 16] = d * float(int((b[6 + j] >> 4) | ((qh >> (j + 16)) & 1) << 4) - 16);
    }
  }
};
// Q5_1 (24 bytes): d, m, qh, qs[16]; x = d q + m.
template <>
struct Unit<TensorType::Q5_1> {
  __device__ static void load(const uint8_t* row, int64_t u, float* v) {
    const uint8_t* b = row + u * 24;
    const float d = half_at(b), m = half_at(b + 2);
    const uint32_t qh =
        uint32_t(b[4]) | uint32_t(b[5]) << 8 | uint32_t(b[6]) << 16 | uint32_t(b[7]) << 24;
#pragma unroll
    for (int j = 0; j < 16; ++j) {
      v[j] = d * float((b[8 + j] & 15) | ((qh >> j) & 1) << 4) + m;
      v[j + 16] = d * float((b[8 + j] >> 4) | ((qh >> (j + 16)) & 1) << 4) + m;
    }
  }
};
// Q8_0 (34 bytes): d, qs[32] signed; x = d q.
template <>
struct Unit<TensorType::Q8_0> {
  __device__ static void load(const uint8_t* row, int64_t u, float* v) {
    const uint8_t* b = row + u * 34;
    const float d = half_at(b);
#pragma unroll
    for (int j = 0; j < 32; ++j) v[j] = d * float(int8_t(b[2 + j]));
  }
};

// Q4_K / Q5_K sub-block s's scale and min (quant/blocks.h, unpack_scale_min_k4).
__device__ __forceinline__ void scale_min_k4(int s, const uint8_t* q, int* sc, int* m) {
  if (s < 4) {
    *sc = q[s] & 63;
    *m = q[s + 4] & 63;
  } else {
    *sc = (q[s + 4] & 15) | ((q[s - 4] >> 6) << 4);
    *m = (q[s + 4] >> 4) | ((q[s] >> 6) << 4);
  }
}

// Q4_K (144 bytes per 256): d, dmin, scales[12], qs[128]; unit = sub-block s of 32 elements:
// low (s even) or high (s odd) nibbles of qs[32 (s / 2) ..]; x = d sc q - dmin m.
template <>
struct Unit<TensorType::Q4_K> {
  __device__ static void load(const uint8_t* row, int64_t u, float* v) {
    const uint8_t* b = row + (u / 8) * 144;
    const int s = int(u % 8);
    int sc, m;
    scale_min_k4(s, b + 4, &sc, &m);
    const float ds = half_at(b) * float(sc), ms = half_at(b + 2) * float(m);
    const uint8_t* qs = b + 16 + 32 * (s / 2);
    const int shift = 4 * (s % 2);
#pragma unroll
    for (int l = 0; l < 32; ++l) v[l] = ds * float((qs[l] >> shift) & 15) - ms;
  }
};
// Q5_K (176 bytes): d, dmin, scales[12], qh[32], qs[128]; bit 4 of element 32 s + l is bit s
// of qh[l].
template <>
struct Unit<TensorType::Q5_K> {
  __device__ static void load(const uint8_t* row, int64_t u, float* v) {
    const uint8_t* b = row + (u / 8) * 176;
    const int s = int(u % 8);
    int sc, m;
    scale_min_k4(s, b + 4, &sc, &m);
    const float ds = half_at(b) * float(sc), ms = half_at(b + 2) * float(m);
    const uint8_t* qh = b + 16;
    const uint8_t* qs = b + 48 + 32 * (s / 2);
    const int shift = 4 * (s % 2);
#pragma unroll
    for (int l = 0; l < 32; ++l) {
      v[l] = ds * float(((qs[l] >> shift) & 15) | (((qh[l] >> s) & 1) << 4)) - ms;
    }
  }
};
// Q6_K (210 bytes): ql[128], qh[64], scales[16] (int8), d; unit (h, j) = elements
// 128 h + 32 j + l: low nibble k = j / 2 of ql[64 h + 32 (j % 2) + l], high bits 2j..2j+1 of
// qh[32 h + l], scale scales[8 h + 2 j + l / 16]; x = d sc (q - 32).
template <>
struct Unit<TensorType::Q6_K> {
  __device__ static void load(const uint8_t* row, int64_t u, float* v) {
    const uint8_t* b = row + (u / 8) * 210;
    const int h = int(u % 8) / 4, j = int(u % 4);
    const float d = half_at(b + 208);
    const uint8_t* ql = b + 64 * h + 32 * (j % 2);
    const uint8_t* qh = b + 128 + 32 * h;
    const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192) + 8 * h + 2 * j;
    const float d0 = d * float(sc[0]), d1 = d * float(sc[1]);
    const int lo_shift = 4 * (j / 2), hi_shift = 2 * j;
#pragma unroll
    for (int l = 0; l < 32; ++l) {
      const int q = (((ql[l] >> lo_shift) & 15) | (((qh[l] >> hi_shift) & 3) << 4)) - 32;
      v[l] = (l < 16 ? d0 : d1) * float(q);
    }
  }
};

template <TensorType T, int NT>
__global__ void __launch_bounds__(kRowsPerBlock * 32)
    matvec_kernel(const uint8_t* __restrict__ w, int64_t row_bytes, int64_t n_out, int64_t n_in,
                  const float* __restrict__ x, int nt, const float* __restrict__ bias,
                  float* __restrict__ y) {
  const int64_t row = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= n_out) return;
  const uint8_t* wr = w + row * row_bytes;
  float acc[NT];
#pragma unroll
  for (int t = 0; t < NT; ++t) acc[t] = 0.0f;
  const int64_t n_units = n_in / kUnit;
  for (int64_t u = lane; u < n_units; u += 32) {
    float v[kUnit];
    Unit<T>::load(wr, u, v);
#pragma unroll
    for (int t = 0; t < NT; ++t) {
      if (t < nt) {
        const float4* xt = reinterpret_cast<const float4*>(x + t * n_in + u * kUnit);
        float s = 0.0f;
#pragma unroll
        for (int i = 0; i < kUnit / 4; ++i) {
          const float4 q = xt[i];
          s += v[4 * i] * q.x + v[4 * i + 1] * q.y + v[4 * i + 2] * q.z + v[4 * i + 3] * q.w;
        }
        acc[t] += s;
      }
    }
  }
#pragma unroll
  for (int t = 0; t < NT; ++t) {
#pragma unroll
    for (int off = 16; off > 0; off /= 2) acc[t] += __shfl_xor_sync(0xffffffffu, acc[t], off);
  }
  if (lane == 0) {
    const float b = bias ? bias[row] : 0.0f;
#pragma unroll
    for (int t = 0; t < NT; ++t) {
      if (t < nt) y[t * n_out + row] = acc[t] + b;
    }
  }
}

template <TensorType T>
void launch(const void* w, int64_t n_out, int64_t n_in, const float* x, int nt, const float* bias,
            float* y) {
  const dim3 grid(ceil_div(n_out, kRowsPerBlock)), block(kRowsPerBlock * 32);
  const auto* wb = static_cast<const uint8_t*>(w);
  const int64_t rb = int64_t(row_bytes(T, uint64_t(n_in)));
  if (nt == 1) {
    matvec_kernel<T, 1><<<grid, block>>>(wb, rb, n_out, n_in, x, nt, bias, y);
  } else if (nt == 2) {
    matvec_kernel<T, 2><<<grid, block>>>(wb, rb, n_out, n_in, x, nt, bias, y);
  } else if (nt <= 4) {
    matvec_kernel<T, 4><<<grid, block>>>(wb, rb, n_out, n_in, x, nt, bias, y);
  } else {
    matvec_kernel<T, kMaxTokens><<<grid, block>>>(wb, rb, n_out, n_in, x, nt, bias, y);
  }
}

}  // namespace

bool matvec_supported(TensorType t) {
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

Status matvec(TensorType type, const void* d_w, int64_t n_out, int64_t n_in, const float* d_x,
              int64_t n_tokens, const float* d_bias, float* d_y) {
  if (!matvec_supported(type)) {
    return Status(ErrorCode::kUnsupported,
                  std::string("CUDA matvec: no kernel for ") + type_name(type));
  }
  if (n_in % kUnit != 0 || n_in % int64_t(traits(type).block_size) != 0 || n_out < 1 ||
      n_tokens < 1) {
    return invalid_argument("CUDA matvec: bad shape " + std::to_string(n_out) + " x " +
                            std::to_string(n_in) + " for " + std::to_string(n_tokens) + " tokens");
  }
  for (int64_t t0 = 0; t0 < n_tokens; t0 += kMaxTokens) {
    const int nt = int(n_tokens - t0 < kMaxTokens ? n_tokens - t0 : kMaxTokens);
    const float* x = d_x + t0 * n_in;
    float* y = d_y + t0 * n_out;
    switch (type) {
#define LONGCTX_CASE(T)                                        \
  case TensorType::T:                                          \
    launch<TensorType::T>(d_w, n_out, n_in, x, nt, d_bias, y); \
    break;
      LONGCTX_CASE(F32)
      LONGCTX_CASE(F16)
      LONGCTX_CASE(BF16)
      LONGCTX_CASE(Q4_0)
      LONGCTX_CASE(Q4_1)
      LONGCTX_CASE(Q5_0)
      LONGCTX_CASE(Q5_1)
      LONGCTX_CASE(Q8_0)
      LONGCTX_CASE(Q4_K)
      LONGCTX_CASE(Q5_K)
      LONGCTX_CASE(Q6_K)
#undef LONGCTX_CASE
      default:
        break;
    }
    LONGCTX_RETURN_IF_ERROR(launch_status("matvec"));
  }
  return Status::ok();
}

}  // namespace longctx::cuda
