// KV cache storage and conversion from the f32 activations to the cache type.
#include "kv/kv_cache.h"

#include <cstring>
#include <new>
#include <string>

#include "quant/float16.h"

namespace longctx {
namespace {

constexpr int64_t kMaxCtx = int64_t{1} << 24;

bool is_kv_type(TensorType t) {
  return t == TensorType::F32 || t == TensorType::F16 || t == TensorType::BF16;
}

size_t elem_size(TensorType t) { return t == TensorType::F32 ? 4 : 2; }

void convert(TensorType t, const float* src, int64_t n, uint8_t* dst) {
  switch (t) {
    case TensorType::F32:
      std::memcpy(dst, src, static_cast<size_t>(n) * 4);
      return;
    case TensorType::F16: {
      auto* d = reinterpret_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = fp32_to_fp16(src[i]);
      return;
    }
    case TensorType::BF16: {
      auto* d = reinterpret_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = fp32_to_bf16(src[i]);
      return;
    }
    default:
      LONGCTX_CHECK(false && "unsupported KV type");
  }
}

}  // namespace

uint64_t KvCache::bytes_for(const KvShape& s, const KvCacheOptions& o) {
  const uint64_t per_pos = static_cast<uint64_t>(s.n_head_kv) *
                           (static_cast<uint64_t>(s.head_dim_k) * elem_size(o.type_k) +
                            static_cast<uint64_t>(s.head_dim_v) * elem_size(o.type_v));
  return per_pos * static_cast<uint64_t>(s.n_layer) * static_cast<uint64_t>(o.n_ctx);
}

Result<KvCache> KvCache::create(const KvShape& shape, const KvCacheOptions& options) {
  if (!is_kv_type(options.type_k) || !is_kv_type(options.type_v)) {
    return invalid_argument(std::string("KV cache type must be f32, f16 or bf16 (got K ") +
                            type_name(options.type_k) + ", V " + type_name(options.type_v) + ")");
  }
  if (options.n_ctx < 1 || options.n_ctx > kMaxCtx) {
    return invalid_argument("context size must be in [1, " + std::to_string(kMaxCtx) + "], got " +
                            std::to_string(options.n_ctx));
  }
  if (shape.n_layer < 1 || shape.n_head_kv < 1 || shape.head_dim_k < 1 || shape.head_dim_v < 1) {
    return invalid_argument("KV cache shape must be positive");
  }
  KvCache c;
  c.shape_ = shape;
  c.options_ = options;
  c.bytes_ = bytes_for(shape, options);
  c.k_layer_bytes_ = static_cast<size_t>(options.n_ctx * shape.n_head_kv * shape.head_dim_k) *
                     elem_size(options.type_k);
  c.v_layer_bytes_ = static_cast<size_t>(options.n_ctx * shape.n_head_kv * shape.head_dim_v) *
                     elem_size(options.type_v);
  auto k = LargeBuffer::allocate(c.k_layer_bytes_ * static_cast<size_t>(shape.n_layer));
  auto v = k.is_ok() ? LargeBuffer::allocate(c.v_layer_bytes_ * static_cast<size_t>(shape.n_layer))
                     : Result<LargeBuffer>(k.status());
  if (!k.is_ok() || !v.is_ok()) {
    return Status(ErrorCode::kIo, "cannot allocate the KV cache (" + std::to_string(c.bytes_) +
                                      " bytes for " + std::to_string(options.n_ctx) +
                                      " positions): " + (k.is_ok() ? v : k).status().message());
  }
  c.k_ = std::move(k.value());
  c.v_ = std::move(v.value());
  return c;
}

void KvCache::store(int64_t il, int64_t pos0, int64_t n, const float* k, const float* v,
                    ConvertRowFn convert_fn, void* user) {
  LONGCTX_CHECK(il >= 0 && il < shape_.n_layer);
  LONGCTX_CHECK(pos0 >= 0 && n >= 0 && pos0 + n <= options_.n_ctx);
  const int64_t row_k = shape_.n_head_kv * shape_.head_dim_k;
  const int64_t row_v = shape_.n_head_kv * shape_.head_dim_v;
  uint8_t* kd = k_.data() + static_cast<size_t>(il) * k_layer_bytes_ +
                static_cast<size_t>(pos0 * row_k) * elem_size(options_.type_k);
  uint8_t* vd = v_.data() + static_cast<size_t>(il) * v_layer_bytes_ +
                static_cast<size_t>(pos0 * row_v) * elem_size(options_.type_v);
  if (convert_fn != nullptr) {
    convert_fn(user, options_.type_k, k, n * row_k, kd);
    convert_fn(user, options_.type_v, v, n * row_v, vd);
    return;
  }
  convert(options_.type_k, k, n * row_k, kd);
  convert(options_.type_v, v, n * row_v, vd);
}

void KvCache::set_n_past(int64_t n_past) {
  LONGCTX_CHECK(n_past >= 0 && n_past <= options_.n_ctx);
  n_past_ = n_past;
}

const void* KvCache::k_data(int64_t il) const {
  LONGCTX_CHECK(il >= 0 && il < shape_.n_layer);
  return k_.data() + static_cast<size_t>(il) * k_layer_bytes_;
}

const void* KvCache::v_data(int64_t il) const {
  LONGCTX_CHECK(il >= 0 && il < shape_.n_layer);
  return v_.data() + static_cast<size_t>(il) * v_layer_bytes_;
}

void KvCache::truncate(int64_t n) {
  LONGCTX_CHECK(n >= 0);
  if (n < n_past_) n_past_ = n;
}

}  // namespace longctx
