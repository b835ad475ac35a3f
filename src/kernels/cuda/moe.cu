// Mixture-of-experts on the device: the router's softmax and top-k per token (ids kept on the
// device, so no host round trip per layer), products with the chosen experts' matrices read
// straight from the expert stack, and the weighted sum back into the residual stream.
#include <algorithm>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_api.h"
#include "kernels/cuda/units.cuh"

namespace longctx::cuda {
namespace {

constexpr int kMaxExperts = 1024;
constexpr int kMaxK = 128;  // experts per token (Qwen3-MoE has 128 in all)

// One warp per token: p = softmax(logits); the k largest p (ties: lower expert first), written
// in increasing expert id with weights p or p / sum(chosen p).
__global__ void route_kernel(const float* __restrict__ logits, int n_expert, int k, bool renorm,
                             int32_t* __restrict__ ids, float* __restrict__ w) {
  __shared__ float probs[kMaxExperts];
  __shared__ int chosen[kMaxK];
  __shared__ float chosen_p[kMaxK];
  const int lane = threadIdx.x;
  const float* lt = logits + int64_t(blockIdx.x) * n_expert;
  float mx = -INFINITY;
  for (int e = lane; e < n_expert; e += 32) mx = fmaxf(mx, lt[e]);
  for (int off = 16; off > 0; off /= 2) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, off));
  float sum = 0.0f;
  for (int e = lane; e < n_expert; e += 32) {
    probs[e] = expf(lt[e] - mx);
    sum += probs[e];
  }
  for (int off = 16; off > 0; off /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, off);
  __syncwarp();
  for (int e = lane; e < n_expert; e += 32) probs[e] /= sum;
  __syncwarp();
  for (int j = 0; j < k; ++j) {
    float best = -1.0f;
    int at = n_expert;
    for (int e = lane; e < n_expert; e += 32) {
      if (probs[e] > best) best = probs[e], at = e;  // lowest e of a tie within the lane
    }
    for (int off = 16; off > 0; off /= 2) {
      const float ob = __shfl_xor_sync(0xffffffffu, best, off);
      const int oa = __shfl_xor_sync(0xffffffffu, at, off);
      if (ob > best || (ob == best && oa < at)) best = ob, at = oa;
    }
    // A NaN logit makes every p NaN and no expert wins: take expert j (valid; the NaN weights
    // carry the fault to the logits, where the generation loop reports it).
    if (at >= n_expert) at = j, best = probs[j];
    if (lane == 0) {
      chosen[j] = at;
      chosen_p[j] = best;
      probs[at] = -1.0f;  // taken
    }
    __syncwarp();
  }
  if (lane == 0) {
    // The sum in selection order (as the CPU), then an insertion sort by id.
    float s = 0.0f;
    for (int j = 0; j < k; ++j) s += chosen_p[j];
    for (int i = 1; i < k; ++i) {
      for (int j = i; j > 0 && chosen[j - 1] > chosen[j]; --j) {
        const int ti = chosen[j - 1];
        chosen[j - 1] = chosen[j];
        chosen[j] = ti;
        const float tp = chosen_p[j - 1];
        chosen_p[j - 1] = chosen_p[j];
        chosen_p[j] = tp;
      }
    }
    for (int j = 0; j < k; ++j) {
      ids[int64_t(blockIdx.x) * k + j] = chosen[j];
      w[int64_t(blockIdx.x) * k + j] = renorm ? chosen_p[j] / s : chosen_p[j];
    }
  }
}

// grid (rows / 4, pairs), 4 warps: pair p multiplies expert ids[p] with input row p / x_group.
template <TensorType T>
__global__ void __launch_bounds__(128)
    experts_kernel(const uint8_t* __restrict__ stack, int64_t expert_bytes, int64_t row_bytes,
                   int64_t n_out, int64_t n_in, const int32_t* __restrict__ ids, int x_group,
                   const float* __restrict__ x, float* __restrict__ y) {
  const int64_t row = int64_t(blockIdx.x) * 4 + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= n_out) return;
  const int64_t p = blockIdx.y;
  const uint8_t* wr = stack + int64_t(ids[p]) * expert_bytes + row * row_bytes;
  const float* xr = x + (p / x_group) * n_in;
  float acc = 0.0f;
  for (int64_t u = lane; u < n_in / kUnit; u += 32) {
    float v[kUnit];
    Unit<T>::load(wr, u, v);
#pragma unroll
    for (int i = 0; i < kUnit; ++i) acc += v[i] * xr[u * kUnit + i];
  }
  for (int off = 16; off > 0; off /= 2) acc += __shfl_xor_sync(0xffffffffu, acc, off);
  if (lane == 0) y[p * n_out + row] = acc;
}

__global__ void combine_kernel(const float* __restrict__ ye, const float* __restrict__ w, int k,
                               int64_t d, int64_t n, float* __restrict__ x) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n * d) return;
  const int64_t t = i / d, c = i % d;
  float acc = x[i];
  for (int j = 0; j < k; ++j) acc += w[t * k + j] * ye[(t * k + j) * d + c];
  x[i] = acc;
}

}  // namespace

Status moe_route(const float* d_logits, int64_t n_tokens, int64_t n_expert, int64_t k, bool renorm,
                 int32_t* d_ids, float* d_w) {
  if (n_expert < 1 || n_expert > kMaxExperts || k < 1 || k > kMaxK || k > n_expert) {
    return invalid_argument("CUDA moe_route: " + std::to_string(k) + " of " +
                            std::to_string(n_expert) + " experts is not supported");
  }
  if (n_tokens < 1) return Status::ok();
  route_kernel<<<unsigned(n_tokens), 32, 0, stream()>>>(d_logits, int(n_expert), int(k), renorm,
                                                        d_ids, d_w);
  return launch_status("moe_route");
}

Status matvec_experts(TensorType type, const void* d_stack, int64_t n_out, int64_t n_in,
                      const int32_t* d_ids, int64_t n_pairs, int64_t x_group, const float* d_x,
                      float* d_y) {
  if (!matvec_supported(type) || n_in % kUnit != 0 ||
      n_in % int64_t(traits(type).block_size) != 0 || x_group < 1) {
    return invalid_argument(std::string("CUDA matvec_experts: cannot multiply ") + type_name(type) +
                            " rows of " + std::to_string(n_in));
  }
  if (n_pairs < 1) return Status::ok();
  const int64_t rb = int64_t(row_bytes(type, uint64_t(n_in)));
  const int64_t eb = rb * n_out;
  const auto* w = static_cast<const uint8_t*>(d_stack);
  // gridDim.y is at most 65535: larger pair counts go in several launches, each starting at
  // a multiple of x_group so p / x_group stays the token of its own launch.
  const int64_t max_pairs = 65535 / x_group * x_group;
  for (int64_t p0 = 0; p0 < n_pairs; p0 += max_pairs) {
    const int64_t np = std::min(max_pairs, n_pairs - p0);
    const dim3 grid(ceil_div(n_out, 4), unsigned(np));
    const int32_t* ids = d_ids + p0;
    const float* x = d_x + (p0 / x_group) * n_in;
    float* y = d_y + p0 * n_out;
    switch (type) {
#define LONGCTX_CASE(T)                                                                \
  case TensorType::T:                                                                  \
    experts_kernel<TensorType::T>                                                      \
        <<<grid, 128, 0, stream()>>>(w, eb, rb, n_out, n_in, ids, int(x_group), x, y); \
    break;
      LONGCTX_CUDA_WEIGHT_TYPES(LONGCTX_CASE)
#undef LONGCTX_CASE
      default:
        break;
    }
    LONGCTX_RETURN_IF_ERROR(launch_status("matvec_experts"));
  }
  return Status::ok();
}

Status moe_combine(const float* d_ye, const float* d_w, int64_t n_tokens, int64_t k, int64_t d,
                   float* d_x) {
  if (n_tokens < 1) return Status::ok();
  combine_kernel<<<ceil_div(n_tokens * d, 256), 256, 0, stream()>>>(d_ye, d_w, int(k), d, n_tokens,
                                                                    d_x);
  return launch_status("moe_combine");
}

}  // namespace longctx::cuda
