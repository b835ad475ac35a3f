// Reference attention: decode the visible K/V rows of one kv head, form the scores, softmax them
// (kernels/ref/activations.h) and mix V, all accumulations in double. A block-type K (Q8_0, Q4_0)
// is multiplied in integers with the query quantized to Q8_0, as the SIMD kernels do.
#include "kernels/ref/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/ref/activations.h"
#include "quant/blocks.h"
#include "quant/float16.h"
#include "quant/quantize.h"

namespace longctx::ref {
namespace {

// Element i of a float-type K/V buffer; memcpy because the buffer may have any alignment.
float load(TensorType type, const void* data, int64_t i) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  if (type == TensorType::F32) {
    float f;
    std::memcpy(&f, bytes + 4 * i, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, bytes + 2 * i, 2);
  return type == TensorType::F16 ? fp16_to_fp32(h) : bf16_to_fp32(h);
}

// One head row (head_dim elements) of a block-type buffer: its blocks' scales and integers.
struct BlockRow {
  std::vector<float> d;    // [head_dim / 32]
  std::vector<int32_t> q;  // [head_dim]: x_i = d[i / 32] * q[i]
};

void read_block_row(TensorType type, const uint8_t* row, int64_t hd, BlockRow* out) {
  const int64_t nb = hd / kQK;
  out->d.resize(static_cast<size_t>(nb));
  out->q.resize(static_cast<size_t>(hd));
  for (int64_t b = 0; b < nb; ++b) {
    if (type == TensorType::Q8_0) {
      BlockQ8_0 blk;
      std::memcpy(&blk, row + b * sizeof(BlockQ8_0), sizeof blk);
      out->d[b] = fp16_to_fp32(blk.d);
      for (int i = 0; i < kQK; ++i) out->q[b * kQK + i] = blk.qs[i];
    } else {  // Q4_0: low nibbles are elements 0..15, high nibbles 16..31, both offset by 8
      BlockQ4_0 blk;
      std::memcpy(&blk, row + b * sizeof(BlockQ4_0), sizeof blk);
      out->d[b] = fp16_to_fp32(blk.d);
      for (int i = 0; i < kQK / 2; ++i) {
        out->q[b * kQK + i] = (blk.qs[i] & 0x0F) - 8;
        out->q[b * kQK + i + kQK / 2] = (blk.qs[i] >> 4) - 8;
      }
    }
  }
}

Status check_kv(const char* name, const KvView& kv, int64_t head_dim) {
  if (!is_kv_type(kv.type)) {
    return unsupported(std::string("attention: ") + name + " type " + type_name(kv.type) +
                       " (reference supports f32, f16, bf16, q8_0, q4_0)");
  }
  if (is_quantized_kv_type(kv.type) && head_dim % kQK != 0) {
    return invalid_argument(std::string("attention: ") + name + " type " + type_name(kv.type) +
                            " needs head_dim to be a multiple of 32, got " +
                            std::to_string(head_dim));
  }
  if (kv.data == nullptr || kv.n_kv < 1) {
    return invalid_argument(std::string("attention: ") + name +
                            " needs data and n_kv >= 1, got n_kv=" + std::to_string(kv.n_kv));
  }
  return Status::ok();
}

}  // namespace

bool is_kv_type(TensorType t) {
  return t == TensorType::F32 || t == TensorType::F16 || t == TensorType::BF16 ||
         is_quantized_kv_type(t);
}

bool is_quantized_kv_type(TensorType t) { return t == TensorType::Q8_0 || t == TensorType::Q4_0; }

Status attention(const AttentionParams& params, const float* q, int64_t n_q, const KvView& k,
                 const KvView& v, float* out) {
  const AttentionShape& s = params.shape;
  if (s.n_head < 1 || s.n_head_kv < 1 || s.head_dim < 1 || s.n_head % s.n_head_kv != 0) {
    return invalid_argument("attention: bad shape n_head=" + std::to_string(s.n_head) +
                            " n_head_kv=" + std::to_string(s.n_head_kv) +
                            " head_dim=" + std::to_string(s.head_dim));
  }
  LONGCTX_RETURN_IF_ERROR(check_kv("K", k, s.head_dim));
  LONGCTX_RETURN_IF_ERROR(check_kv("V", v, s.head_dim));
  if (k.n_kv != v.n_kv) {
    return invalid_argument("attention: K has " + std::to_string(k.n_kv) + " tokens, V has " +
                            std::to_string(v.n_kv));
  }
  if (n_q < 1 || params.q_pos0 < 0 || params.q_pos0 + n_q > k.n_kv) {
    return invalid_argument("attention: queries [" + std::to_string(params.q_pos0) + ", " +
                            std::to_string(params.q_pos0 + n_q) + ") exceed the " +
                            std::to_string(k.n_kv) + " KV tokens");
  }
  const int64_t hd = s.head_dim;
  const float scale = params.scale != 0.0f ? params.scale : static_cast<float>(1.0 / std::sqrt(hd));
  const int64_t group = s.n_head / s.n_head_kv;
  const int64_t kv_row = s.n_head_kv * hd;  // elements per token in K and V
  const bool k_blocks = is_quantized_kv_type(k.type), v_blocks = is_quantized_kv_type(v.type);
  const uint64_t k_head_bytes = row_bytes(k.type, static_cast<uint64_t>(hd));
  const uint64_t v_head_bytes = row_bytes(v.type, static_cast<uint64_t>(hd));
  std::vector<float> scores(static_cast<size_t>(k.n_kv));
  std::vector<double> acc(static_cast<size_t>(hd));
  std::vector<float> vrow(static_cast<size_t>(hd));
  BlockRow qb, kb;  // the query's and a key's blocks (block-type K)
  std::vector<BlockQ8_0> q8(static_cast<size_t>(hd / kQK + 1));
  for (int64_t t = 0; t < n_q; ++t) {
    const int64_t n_visible = params.q_pos0 + t + 1;  // causal: keys 0..q_pos0+t
    for (int64_t h = 0; h < s.n_head; ++h) {
      const float* qh = q + (t * s.n_head + h) * hd;
      const int64_t g = h / group;
      if (k_blocks) {
        // Lenient as the cache's own conversion is: a non-finite query element (a NaN from
        // upstream, e.g. a tampered session's values) becomes 0 in its block instead of an error
        // that stops the program inside a kernel; the NaN still reaches the logits through V.
        LONGCTX_RETURN_IF_ERROR(quantize_row_lenient(TensorType::Q8_0, qh, q8.data(), hd));
        read_block_row(TensorType::Q8_0, reinterpret_cast<const uint8_t*>(q8.data()), hd, &qb);
      }
      for (int64_t j = 0; j < n_visible; ++j) {
        double dot = 0.0;
        if (k_blocks) {
          const auto* row = static_cast<const uint8_t*>(k.data) +
                            static_cast<uint64_t>(j * s.n_head_kv + g) * k_head_bytes;
          read_block_row(k.type, row, hd, &kb);
          for (int64_t b = 0; b < hd / kQK; ++b) {
            int64_t isum = 0;
            for (int64_t i = b * kQK; i < (b + 1) * kQK; ++i) isum += int64_t{qb.q[i]} * kb.q[i];
            dot += static_cast<double>(qb.d[b]) * kb.d[b] * static_cast<double>(isum);
          }
        } else {
          for (int64_t d = 0; d < hd; ++d) {
            dot += static_cast<double>(qh[d]) * load(k.type, k.data, j * kv_row + g * hd + d);
          }
        }
        scores[j] = static_cast<float>(dot);
      }
      LONGCTX_RETURN_IF_ERROR(
          softmax(scores.data(), n_visible, SoftmaxParams{scale, n_visible}, scores.data()));
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t j = 0; j < n_visible; ++j) {
        if (v_blocks) {
          const auto* row = static_cast<const uint8_t*>(v.data) +
                            static_cast<uint64_t>(j * s.n_head_kv + g) * v_head_bytes;
          LONGCTX_RETURN_IF_ERROR(dequantize_row(v.type, row, vrow.data(), hd));
        } else {
          for (int64_t d = 0; d < hd; ++d) vrow[d] = load(v.type, v.data, j * kv_row + g * hd + d);
        }
        for (int64_t d = 0; d < hd; ++d) acc[d] += static_cast<double>(scores[j]) * vrow[d];
      }
      float* oh = out + (t * s.n_head + h) * hd;
      for (int64_t d = 0; d < hd; ++d) oh[d] = static_cast<float>(acc[d]);
    }
  }
  return Status::ok();
}

}  // namespace longctx::ref
