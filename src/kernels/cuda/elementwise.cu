// RMSNorm, NeoX RoPE, SwiGLU and a residual add on device memory.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_api.h"

namespace longctx::cuda {
namespace {

constexpr int kNormThreads = 256;

// One block per row: the sum of squares in fp32 per thread, then across warps in shared memory.
__global__ void rms_norm_kernel(const float* x, const float* __restrict__ w, float eps, int64_t n,
                                float* y) {
  const float* xr = x + int64_t(blockIdx.x) * n;
  float* yr = y + int64_t(blockIdx.x) * n;
  float s = 0.0f;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += xr[i] * xr[i];
  for (int off = 16; off > 0; off /= 2) s += __shfl_xor_sync(0xffffffffu, s, off);
  __shared__ float warp_sums[kNormThreads / 32];
  if (threadIdx.x % 32 == 0) warp_sums[threadIdx.x / 32] = s;
  __syncthreads();
  if (threadIdx.x < 32) {
    s = threadIdx.x < blockDim.x / 32 ? warp_sums[threadIdx.x] : 0.0f;
    for (int off = 16; off > 0; off /= 2) s += __shfl_xor_sync(0xffffffffu, s, off);
    if (threadIdx.x == 0) warp_sums[0] = s;
  }
  __syncthreads();
  // As the CPU reference: 1 / sqrt(mean + eps) rounded once to fp32, then (x * inv) * w.
  const float inv = float(1.0 / sqrt(double(warp_sums[0]) / double(n) + double(eps)));
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) yr[i] = (xr[i] * inv) * w[i];
}

// One thread per (token, head, pair i): (a, b) = (x[i], x[i + d/2]) rotated by pos * inv_freq[i].
__global__ void rope_kernel(const double* __restrict__ inv_freq, double attention_factor,
                            int64_t pos0, int64_t n_tokens, int64_t n_head, int64_t head_dim,
                            float* x) {
  const int64_t half = head_dim / 2;
  const int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= n_tokens * n_head * half) return;
  const int64_t i = idx % half, th = idx / half, t = th / n_head;
  double sn, cs;
  sincos(double(pos0 + t) * inv_freq[i], &sn, &cs);
  const float c = float(cs * attention_factor), s = float(sn * attention_factor);
  float* p = x + th * head_dim;
  const float a = p[i], b = p[i + half];
  p[i] = a * c - b * s;
  p[i + half] = b * c + a * s;
}

__global__ void swiglu_kernel(const float* gate, const float* up, int64_t n, float* y) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float g = gate[i];
  y[i] = g / (1.0f + expf(-g)) * up[i];
}

__global__ void add_kernel(float* x, const float* y, int64_t n) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) x[i] += y[i];
}

// One block per row, the row in shared memory: for each block of b elements (b a power of two,
// the largest dividing dim), log2 b butterfly stages, then the 1 / sqrt(b) scale, as
// ref::hadamard_rows computes it (the same additions in the same order: bit-exact).
__global__ void hadamard_kernel(float* x, int64_t dim, int64_t b, float scale) {
  extern __shared__ float v[];
  float* row = x + int64_t(blockIdx.x) * dim;
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) v[i] = row[i];
  __syncthreads();
  for (int64_t h = 1; h < b; h *= 2) {
    // Pair i (in run i0 = floor(i / h) * 2h, offset i % h) with i + h, over dim / 2 pairs.
    for (int64_t p = threadIdx.x; p < dim / 2; p += blockDim.x) {
      const int64_t i = (p / h) * 2 * h + p % h;
      const float a = v[i], c = v[i + h];
      v[i] = a + c;
      v[i + h] = a - c;
    }
    __syncthreads();
  }
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) row[i] = v[i] * scale;
}

}  // namespace

Status hadamard(float* d_x, int64_t n_rows, int64_t dim) {
  if (n_rows < 1) return Status::ok();
  if (dim < 1 || dim > 4096) return invalid_argument("CUDA hadamard: bad row size");
  int64_t b = 1;
  while (dim % (2 * b) == 0) b *= 2;
  const float scale = float(1.0 / sqrt(double(b)));
  hadamard_kernel<<<unsigned(n_rows), 128, size_t(dim) * sizeof(float), stream()>>>(d_x, dim, b,
                                                                                    scale);
  return launch_status("hadamard");
}

Status rms_norm(const float* d_x, const float* d_w, float eps, int64_t n_rows, int64_t n,
                float* d_y) {
  if (n_rows < 1 || n < 1) return invalid_argument("CUDA rms_norm: empty shape");
  rms_norm_kernel<<<unsigned(n_rows), kNormThreads, 0, stream()>>>(d_x, d_w, eps, n, d_y);
  return launch_status("rms_norm");
}

Status rope_neox(const double* d_inv_freq, double attention_factor, int64_t pos0, int64_t n_tokens,
                 int64_t n_head, int64_t head_dim, float* d_x) {
  if (head_dim < 2 || head_dim % 2 != 0 || n_tokens < 1 || n_head < 1 || pos0 < 0) {
    return invalid_argument("CUDA rope: bad shape");
  }
  const int64_t n = n_tokens * n_head * (head_dim / 2);
  rope_kernel<<<ceil_div(n, 256), 256, 0, stream()>>>(d_inv_freq, attention_factor, pos0, n_tokens,
                                                      n_head, head_dim, d_x);
  return launch_status("rope");
}

Status swiglu(const float* d_gate, const float* d_up, int64_t n, float* d_y) {
  if (n < 1) return Status::ok();
  swiglu_kernel<<<ceil_div(n, 256), 256, 0, stream()>>>(d_gate, d_up, n, d_y);
  return launch_status("swiglu");
}

Status add_into(float* d_x, const float* d_y, int64_t n) {
  if (n < 1) return Status::ok();
  add_kernel<<<ceil_div(n, 256), 256, 0, stream()>>>(d_x, d_y, n);
  return launch_status("add");
}

}  // namespace longctx::cuda
