// Decode matrix-vector products straight from the GGUF block formats. One warp per weight row:
// lane l takes the row's 32-element units l, l + 32, ... (a legacy block, a K-quant sub-block or
// 32 plain values), dequantizes the unit in registers and multiplies it with up to 8 tokens'
// inputs; the lanes' partial sums meet in a shuffle reduction. Adjacent lanes read adjacent
// units, so a warp reads a contiguous stretch of the row.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_api.h"
#include "kernels/cuda/units.cuh"

namespace longctx::cuda {
namespace {

constexpr int kRowsPerBlock = 4;  // warps per thread block
constexpr int kMaxTokens = 8;     // tokens per launch

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
    matvec_kernel<T, 1><<<grid, block, 0, stream()>>>(wb, rb, n_out, n_in, x, nt, bias, y);
  } else if (nt == 2) {
    matvec_kernel<T, 2><<<grid, block, 0, stream()>>>(wb, rb, n_out, n_in, x, nt, bias, y);
  } else if (nt <= 4) {
    matvec_kernel<T, 4><<<grid, block, 0, stream()>>>(wb, rb, n_out, n_in, x, nt, bias, y);
  } else {
    matvec_kernel<T, kMaxTokens><<<grid, block, 0, stream()>>>(wb, rb, n_out, n_in, x, nt, bias, y);
  }
}

}  // namespace

bool matvec_supported(TensorType t) {
  switch (t) {
#define LONGCTX_CASE(T) case TensorType::T:
    LONGCTX_CUDA_WEIGHT_TYPES(LONGCTX_CASE)
#undef LONGCTX_CASE
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
      LONGCTX_CUDA_WEIGHT_TYPES(LONGCTX_CASE)
#undef LONGCTX_CASE
      default:
        break;
    }
    LONGCTX_RETURN_IF_ERROR(launch_status("matvec"));
  }
  return Status::ok();
}

}  // namespace longctx::cuda
