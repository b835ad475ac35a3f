// Reference attention: decode the visible K/V rows of one kv head to fp32, form the scores,
// softmax them (kernels/ref/activations.h) and mix V, all accumulations in double.
#include "kernels/ref/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/ref/activations.h"
#include "quant/float16.h"

namespace longctx::ref {
namespace {

// Element i of a K/V buffer; memcpy because the buffer may have any alignment.
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

Status check_kv(const char* name, const KvView& kv) {
  if (kv.type != TensorType::F32 && kv.type != TensorType::F16 && kv.type != TensorType::BF16) {
    return unsupported(std::string("attention: ") + name + " type " + type_name(kv.type) +
                       " (reference supports f32, f16, bf16)");
  }
  if (kv.data == nullptr || kv.n_kv < 1) {
    return invalid_argument(std::string("attention: ") + name +
                            " needs data and n_kv >= 1, got n_kv=" + std::to_string(kv.n_kv));
  }
  return Status::ok();
}

}  // namespace

Status attention(const AttentionParams& params, const float* q, int64_t n_q, const KvView& k,
                 const KvView& v, float* out) {
  const AttentionShape& s = params.shape;
  if (s.n_head < 1 || s.n_head_kv < 1 || s.head_dim < 1 || s.n_head % s.n_head_kv != 0) {
    return invalid_argument("attention: bad shape n_head=" + std::to_string(s.n_head) +
                            " n_head_kv=" + std::to_string(s.n_head_kv) +
                            " head_dim=" + std::to_string(s.head_dim));
  }
  LONGCTX_RETURN_IF_ERROR(check_kv("K", k));
  LONGCTX_RETURN_IF_ERROR(check_kv("V", v));
  if (k.n_kv != v.n_kv) {
    return invalid_argument("attention: K has " + std::to_string(k.n_kv) + " tokens, V has " +
                            std::to_string(v.n_kv));
  }
  if (n_q < 1 || params.q_pos0 < 0 || params.q_pos0 + n_q > k.n_kv) {
    return invalid_argument("attention: queries [" + std::to_string(params.q_pos0) + ", " +
                            std::to_string(params.q_pos0 + n_q) + ") exceed the " +
                            std::to_string(k.n_kv) + " KV tokens");
  }
  const float scale =
      params.scale != 0.0f ? params.scale : static_cast<float>(1.0 / std::sqrt(s.head_dim));
  const int64_t group = s.n_head / s.n_head_kv;
  const int64_t kv_row = s.n_head_kv * s.head_dim;  // elements per token in K and V
  std::vector<float> scores(static_cast<size_t>(k.n_kv));
  std::vector<double> acc(static_cast<size_t>(s.head_dim));
  for (int64_t t = 0; t < n_q; ++t) {
    const int64_t n_visible = params.q_pos0 + t + 1;  // causal: keys 0..q_pos0+t
    for (int64_t h = 0; h < s.n_head; ++h) {
      const float* qh = q + (t * s.n_head + h) * s.head_dim;
      const int64_t g = h / group;
      for (int64_t j = 0; j < n_visible; ++j) {
        double dot = 0.0;
        for (int64_t d = 0; d < s.head_dim; ++d) {
          dot += static_cast<double>(qh[d]) * load(k.type, k.data, j * kv_row + g * s.head_dim + d);
        }
        scores[j] = static_cast<float>(dot);
      }
      LONGCTX_RETURN_IF_ERROR(
          softmax(scores.data(), n_visible, SoftmaxParams{scale, n_visible}, scores.data()));
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t j = 0; j < n_visible; ++j) {
        for (int64_t d = 0; d < s.head_dim; ++d) {
          acc[d] += static_cast<double>(scores[j]) *
                    load(v.type, v.data, j * kv_row + g * s.head_dim + d);
        }
      }
      float* oh = out + (t * s.n_head + h) * s.head_dim;
      for (int64_t d = 0; d < s.head_dim; ++d) oh[d] = static_cast<float>(acc[d]);
    }
  }
  return Status::ok();
}

}  // namespace longctx::ref
