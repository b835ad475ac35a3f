// Causal GQA attention over a KV cache on the device, split over the keys so a single decoded
// token still spreads over every SM (flash-decoding): block (query t, head h, split s) runs an
// online softmax over its share of the visible keys, one key per warp at a time, and writes its
// partial (max m, sum l, unnormalized output); a second kernel merges the splits:
//   M = max_s m_s,  out = sum_s e^(m_s - M) o_s / sum_s e^(m_s - M) l_s.
// K and V are read in their cache type (f32, f16, bf16, or Q8_0 / Q4_0 blocks), element by
// element; q stays fp32.
#include <cuda_fp16.h>

#include <algorithm>
#include <utility>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_api.h"
#include "kernels/cuda/units.cuh"

namespace longctx::cuda {
namespace {

constexpr int kWarps = 4;         // warps per block
constexpr int kMaxHeadDim = 256;  // head_dim and head_dim_v up to this
constexpr int kPerLane = kMaxHeadDim / 32;
constexpr int kKeysPerSplit = 512;  // a split's share of the keys, at least

// Element e of a head row of type t.
__device__ __forceinline__ float kv_elem(TensorType t, const uint8_t* row, int e) {
  switch (t) {
    case TensorType::F32:
      return reinterpret_cast<const float*>(row)[e];
    case TensorType::F16:
      return __half2float(reinterpret_cast<const __half*>(row)[e]);
    case TensorType::BF16:
      return __uint_as_float(uint32_t(reinterpret_cast<const uint16_t*>(row)[e]) << 16);
    case TensorType::Q8_0: {
      const uint8_t* b = row + (e / 32) * 34;
      const float d = half_at(b);
      return d * float(int8_t(b[2 + e % 32]));
    }
    default: {  // Q4_0
      const uint8_t* b = row + (e / 32) * 18;
      const float d = half_at(b);
      const int j = e % 32;
      const int q = j < 16 ? (b[2 + j] & 15) : (b[2 + j - 16] >> 4);
      return d * float(q - 8);
    }
  }
}

struct Args {
  AttentionArgs a;
  int64_t k_row, v_row;  // bytes of one head row of K / V
  int n_splits;
};

// grid (n_q * n_head, n_splits), block kWarps * 32.
__global__ void __launch_bounds__(kWarps * 32)
    attention_split_kernel(Args p, const float* __restrict__ q, float* __restrict__ part_o,
                           float* __restrict__ part_ml) {
  const AttentionArgs& a = p.a;
  const int64_t qh = blockIdx.x;  // t * n_head + h
  const int64_t t = qh / a.n_head, h = qh % a.n_head;
  const int64_t g = h / (a.n_head / a.n_head_kv);
  const int64_t visible = a.q_pos0 + t + 1;
  const int64_t per = (visible + p.n_splits - 1) / p.n_splits;
  const int64_t j0 = int64_t(blockIdx.y) * per, j1 = min(visible, j0 + per);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const float* qv = q + qh * a.head_dim;
  float qr[kPerLane];
#pragma unroll
  for (int i = 0; i < kPerLane; ++i) {
    const int e = lane + 32 * i;
    qr[i] = e < a.head_dim ? qv[e] * a.scale : 0.0f;
  }
  float m = -INFINITY, l = 0.0f, o[kPerLane];
#pragma unroll
  for (int i = 0; i < kPerLane; ++i) o[i] = 0.0f;
  const auto* kb = static_cast<const uint8_t*>(a.d_k);
  const auto* vb = static_cast<const uint8_t*>(a.d_v);
  for (int64_t j = j0 + warp; j < j1; j += kWarps) {
    const uint8_t* kr = kb + (j * a.n_head_kv + g) * p.k_row;
    float s = 0.0f;
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) {
      const int e = lane + 32 * i;
      if (e < a.head_dim) s += qr[i] * kv_elem(a.type_k, kr, e);
    }
    for (int off = 16; off > 0; off /= 2) s += __shfl_xor_sync(0xffffffffu, s, off);
    const float m_new = fmaxf(m, s);
    const float c = expf(m - m_new), pj = expf(s - m_new);
    const uint8_t* vr = vb + (j * a.n_head_kv + g) * p.v_row;
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) {
      const int e = lane + 32 * i;
      o[i] = o[i] * c + (e < a.head_dim_v ? pj * kv_elem(a.type_v, vr, e) : 0.0f);
    }
    l = l * c + pj;
    m = m_new;
  }
  // Merge the warps of this block.
  __shared__ float sm[kWarps], sl[kWarps], so[kWarps][kMaxHeadDim];
  if (lane == 0) sm[warp] = m, sl[warp] = l;
#pragma unroll
  for (int i = 0; i < kPerLane; ++i) so[warp][lane + 32 * i] = o[i];
  __syncthreads();
  float M = -INFINITY;
  for (int w = 0; w < kWarps; ++w) M = fmaxf(M, sm[w]);
  const int64_t out = qh * p.n_splits + blockIdx.y;
  for (int e = threadIdx.x; e < a.head_dim_v; e += blockDim.x) {
    float acc = 0.0f;
    for (int w = 0; w < kWarps; ++w) {
      if (sm[w] != -INFINITY) acc += expf(sm[w] - M) * so[w][e];
    }
    part_o[out * a.head_dim_v + e] = acc;
  }
  if (threadIdx.x == 0) {
    float L = 0.0f;
    for (int w = 0; w < kWarps; ++w) {
      if (sm[w] != -INFINITY) L += expf(sm[w] - M) * sl[w];
    }
    part_ml[2 * out] = M;
    part_ml[2 * out + 1] = L;
  }
}

// grid n_q * n_head, block 128: out[qh][e] from the splits' partials.
__global__ void attention_merge_kernel(int n_splits, int64_t head_dim_v,
                                       const float* __restrict__ part_o,
                                       const float* __restrict__ part_ml, float* __restrict__ out) {
  const int64_t qh = blockIdx.x;
  float M = -INFINITY;
  for (int s = 0; s < n_splits; ++s) M = fmaxf(M, part_ml[2 * (qh * n_splits + s)]);
  float L = 0.0f;
  for (int s = 0; s < n_splits; ++s) {
    const float ms = part_ml[2 * (qh * n_splits + s)];
    if (ms != -INFINITY) L += expf(ms - M) * part_ml[2 * (qh * n_splits + s) + 1];
  }
  for (int64_t e = threadIdx.x; e < head_dim_v; e += blockDim.x) {
    float acc = 0.0f;
    for (int s = 0; s < n_splits; ++s) {
      const float ms = part_ml[2 * (qh * n_splits + s)];
      if (ms != -INFINITY) acc += expf(ms - M) * part_o[(qh * n_splits + s) * head_dim_v + e];
    }
    out[qh * head_dim_v + e] = acc / L;
  }
}

// Splits of the keys: enough blocks to fill the GPU for a decoded token, none for a long
// prefill chunk (which fills it already), so n_qh * splits stays within max(n_qh, kMaxBlocks).
constexpr int64_t kMaxBlocks = 2048;
int splits_for(int64_t longest, int64_t n_qh) {
  const int64_t by_keys = (longest + kKeysPerSplit - 1) / kKeysPerSplit;
  return int(std::max<int64_t>(1, std::min({int64_t{64}, by_keys, kMaxBlocks / n_qh})));
}

}  // namespace

size_t attention_scratch_bytes(int64_t n_q, int64_t n_head, int64_t head_dim_v) {
  const int64_t n_qh = n_q * n_head;
  return size_t(std::max(n_qh, kMaxBlocks)) * size_t(head_dim_v + 2) * sizeof(float);
}

Status attention(const AttentionArgs& a, const float* d_q, int64_t n_q, float* d_out) {
  if (!kv_type_supported(a.type_k) || !kv_type_supported(a.type_v)) {
    return Status(ErrorCode::kUnsupported, "CUDA attention: unsupported KV type");
  }
  if (a.n_head < 1 || a.n_head_kv < 1 || a.n_head % a.n_head_kv != 0 || a.head_dim < 1 ||
      a.head_dim > kMaxHeadDim || a.head_dim_v < 1 || a.head_dim_v > kMaxHeadDim || n_q < 1 ||
      a.q_pos0 < 0 || a.q_pos0 + n_q > a.n_kv || a.d_scratch == nullptr) {
    return invalid_argument("CUDA attention: bad shape");
  }
  for (auto [t, dim] : {std::pair{a.type_k, a.head_dim}, std::pair{a.type_v, a.head_dim_v}}) {
    if (dim % int64_t(traits(t).block_size) != 0) {
      return invalid_argument("CUDA attention: a head of " + std::to_string(dim) +
                              " is not whole " + type_name(t) + " blocks");
    }
  }
  Args p;
  p.a = a;
  if (p.a.scale == 0.0f) p.a.scale = float(1.0 / sqrt(double(a.head_dim)));
  p.k_row = int64_t(row_bytes(a.type_k, uint64_t(a.head_dim)));
  p.v_row = int64_t(row_bytes(a.type_v, uint64_t(a.head_dim_v)));
  const int64_t longest = a.q_pos0 + n_q;
  const int64_t n_qh = n_q * a.n_head;
  p.n_splits = splits_for(longest, n_qh);
  float* part_o = a.d_scratch;
  float* part_ml = part_o + n_qh * p.n_splits * a.head_dim_v;
  attention_split_kernel<<<dim3(unsigned(n_qh), unsigned(p.n_splits)), kWarps * 32, 0, stream()>>>(
      p, d_q, part_o, part_ml);
  LONGCTX_RETURN_IF_ERROR(launch_status("attention"));
  attention_merge_kernel<<<unsigned(n_qh), 128, 0, stream()>>>(p.n_splits, a.head_dim_v, part_o,
                                                               part_ml, d_out);
  return launch_status("attention merge");
}

}  // namespace longctx::cuda
