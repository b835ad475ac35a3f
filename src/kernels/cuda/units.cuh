// Dequantizing one 32-element unit of a weight row on the device, for every GGUF format the CUDA
// kernels read (layouts as in quant/blocks.h): a legacy block, a K-quant sub-block, or 32 plain
// values. matvec, get_rows and the expert products share these.
#pragma once

#include <cuda_fp16.h>

#include <cstdint>

#include "quant/types.h"

// The weight formats every kernel over weight rows reads (a Unit<T> exists for each): X(T) for
// each TensorType name, for the kernels' type switches.
#define LONGCTX_CUDA_WEIGHT_TYPES(X) \
  X(F32) X(F16) X(BF16) X(Q4_0) X(Q4_1) X(Q5_0) X(Q5_1) X(Q8_0) X(Q4_K) X(Q5_K) X(Q6_K)

namespace longctx::cuda {

constexpr int kUnit = 32;  // elements per unit

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

}  // namespace longctx::cuda
