// Row conversions on the device: embedding rows dequantized from any weight format (get_rows),
// and activations converted into a KV cache's type (convert_rows) with the bytes the CPU's
// quantize_row_lenient writes, so a cache is the same whichever backend filled it.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_api.h"
#include "kernels/cuda/units.cuh"

namespace longctx::cuda {
namespace {

// One block per token, one thread per unit (the row's n_in / 32 units).
template <TensorType T>
__global__ void get_rows_kernel(const uint8_t* __restrict__ w, int64_t row_bytes, int64_t n_in,
                                const int32_t* __restrict__ ids, float* __restrict__ y) {
  const uint8_t* row = w + int64_t(ids[blockIdx.x]) * row_bytes;
  float* out = y + int64_t(blockIdx.x) * n_in;
  for (int64_t u = threadIdx.x; u < n_in / kUnit; u += blockDim.x) {
    float v[kUnit];
    Unit<T>::load(row, u, v);
#pragma unroll
    for (int i = 0; i < kUnit; ++i) out[u * kUnit + i] = v[i];
  }
}

// Plain types: one thread per element.
__global__ void convert_plain_kernel(TensorType t, const float* __restrict__ src, int64_t n,
                                     uint8_t* __restrict__ dst) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float x = src[i];
  if (t == TensorType::F32) {
    reinterpret_cast<float*>(dst)[i] = x;
  } else if (t == TensorType::F16) {
    // NaN keeps its sign and payload's top bits, as quant/float16.h (the device's conversion
    // writes one canonical NaN).
    const uint32_t b = __float_as_uint(x);
    if ((b & 0x7fffffffu) > 0x7f800000u) {
      reinterpret_cast<uint16_t*>(dst)[i] =
          uint16_t(((b >> 16) & 0x8000u) | 0x7e00u | ((b & 0x7fffffu) >> 13));
    } else {
      reinterpret_cast<__half*>(dst)[i] = __float2half_rn(x);
    }
  } else {
    // bf16, round to nearest even; NaN stays a quiet NaN (as quant/float16.h).
    const uint32_t b = __float_as_uint(x);
    const uint16_t h = (b & 0x7fffffffu) > 0x7f800000u
                           ? uint16_t((b >> 16) | 0x40)
                           : uint16_t((b + 0x7fffu + ((b >> 16) & 1)) >> 16);
    reinterpret_cast<uint16_t*>(dst)[i] = h;
  }
}

// Q8_0 / Q4_0: one warp per 32-element block, lane j holding element j.
__global__ void convert_block_kernel(TensorType t, const float* __restrict__ src, int64_t n_blocks,
                                     uint8_t* __restrict__ dst) {
  const int64_t blk = int64_t(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
  const int j = threadIdx.x % 32;
  if (blk >= n_blocks) return;
  float x = src[blk * 32 + j];
  if (!isfinite(x)) x = 0.0f;  // lenient: a non-finite element is stored as 0
  // |x| maximum; for Q4_0 its signed value at the first index holding it (ties: lowest j).
  float amax = fabsf(x);
  int at = j;
  for (int off = 16; off > 0; off /= 2) {
    const float oa = __shfl_xor_sync(0xffffffffu, amax, off);
    const int oj = __shfl_xor_sync(0xffffffffu, at, off);
    if (oa > amax || (oa == amax && oj < at)) amax = oa, at = oj;
  }
  if (t == TensorType::Q8_0) {
    uint8_t* b = dst + blk * 34;
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const float v = __fmul_rn(x, id);
    const int q = isfinite(v) ? int(fminf(fmaxf(roundf(v), -128.0f), 127.0f)) : 0;
    b[2 + j] = uint8_t(int8_t(q));
    if (j == 0) *reinterpret_cast<__half*>(b) = __float2half_rn(d);
  } else {  // Q4_0
    uint8_t* b = dst + blk * 18;
    const float max = __shfl_sync(0xffffffffu, x, at);
    const float d = max / -8;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const float v = __fadd_rn(__fmul_rn(x, id), 8.5f);  // two roundings, as the CPU: no FMA
    const int q = !(v >= 0.0f) ? 0 : min(15, v < 127.0f ? int(v) : 127);
    const int hi = __shfl_down_sync(0xffffffffu, q, 16);
    if (j < 16) b[2 + j] = uint8_t(q | (hi << 4));
    if (j == 0) *reinterpret_cast<__half*>(b) = __float2half_rn(d);
  }
}

}  // namespace

Status get_rows(TensorType type, const void* d_w, int64_t n_in, const int32_t* d_ids, int64_t n,
                float* d_y) {
  if (!matvec_supported(type) || n_in % kUnit != 0 ||
      n_in % int64_t(traits(type).block_size) != 0) {
    return Status(ErrorCode::kUnsupported, std::string("CUDA get_rows: cannot read ") +
                                               type_name(type) + " rows of " +
                                               std::to_string(n_in));
  }
  if (n < 1) return Status::ok();
  const auto* w = static_cast<const uint8_t*>(d_w);
  const int64_t rb = int64_t(row_bytes(type, uint64_t(n_in)));
  const unsigned threads = unsigned(n_in / kUnit < 256 ? n_in / kUnit : 256);
  switch (type) {
#define LONGCTX_CASE(T)                                                   \
  case TensorType::T:                                                     \
    get_rows_kernel<TensorType::T>                                        \
        <<<unsigned(n), threads, 0, stream()>>>(w, rb, n_in, d_ids, d_y); \
    break;
    LONGCTX_CUDA_WEIGHT_TYPES(LONGCTX_CASE)
#undef LONGCTX_CASE
    default:
      break;
  }
  return launch_status("get_rows");
}

bool kv_type_supported(TensorType t) {
  return t == TensorType::F32 || t == TensorType::F16 || t == TensorType::BF16 ||
         t == TensorType::Q8_0 || t == TensorType::Q4_0;
}

Status convert_rows(TensorType t, const float* d_src, int64_t n, void* d_dst) {
  if (!kv_type_supported(t)) {
    return Status(ErrorCode::kUnsupported,
                  std::string("CUDA: a KV cache of type ") + type_name(t) + " is not supported");
  }
  if (n < 1) return Status::ok();
  auto* dst = static_cast<uint8_t*>(d_dst);
  if (t == TensorType::Q8_0 || t == TensorType::Q4_0) {
    if (n % 32 != 0) return invalid_argument("CUDA convert_rows: not whole blocks");
    const int64_t nb = n / 32;
    convert_block_kernel<<<ceil_div(nb, 8), 256, 0, stream()>>>(t, d_src, nb, dst);
  } else {
    convert_plain_kernel<<<ceil_div(n, 256), 256, 0, stream()>>>(t, d_src, n, dst);
  }
  return launch_status("convert_rows");
}

}  // namespace longctx::cuda
