// KV cache storage and conversion from the f32 activations to the cache type.
#include "kv/kv_cache.h"

#include <cstring>
#include <new>
#include <string>
#include <tuple>

#include "quant/quantize.h"

namespace longctx {
namespace {

constexpr int64_t kMaxCtx = int64_t{1} << 24;

bool is_block_type(TensorType t) { return t == TensorType::Q8_0 || t == TensorType::Q4_0; }

}  // namespace

bool is_kv_cache_type(TensorType t) {
  return t == TensorType::F32 || t == TensorType::F16 || t == TensorType::BF16 || is_block_type(t);
}

bool KvCacheOptions::rotates_k() const { return rotate && is_block_type(type_k); }
bool KvCacheOptions::rotates_v() const { return rotate && is_block_type(type_v); }

uint64_t KvCache::bytes_for(const KvShape& s, const KvCacheOptions& o) {
  const uint64_t per_pos = static_cast<uint64_t>(s.n_head_kv) *
                           (row_bytes(o.type_k, static_cast<uint64_t>(s.head_dim_k)) +
                            row_bytes(o.type_v, static_cast<uint64_t>(s.head_dim_v)));
  return per_pos * static_cast<uint64_t>(s.n_layer) * static_cast<uint64_t>(o.n_ctx);
}

Result<KvCache> KvCache::create(const KvShape& shape, const KvCacheOptions& options) {
  if (!is_kv_cache_type(options.type_k) || !is_kv_cache_type(options.type_v)) {
    return invalid_argument(
        std::string("KV cache type must be f32, f16, bf16, q8_0 or q4_0 (got K ") +
        type_name(options.type_k) + ", V " + type_name(options.type_v) + ")");
  }
  if (options.n_ctx < 1 || options.n_ctx > kMaxCtx) {
    return invalid_argument("context size must be in [1, " + std::to_string(kMaxCtx) + "], got " +
                            std::to_string(options.n_ctx));
  }
  if (shape.n_layer < 1 || shape.n_head_kv < 1 || shape.head_dim_k < 1 || shape.head_dim_v < 1) {
    return invalid_argument("KV cache shape must be positive");
  }
  for (auto [t, hd, what] : {std::tuple{options.type_k, shape.head_dim_k, "K"},
                             std::tuple{options.type_v, shape.head_dim_v, "V"}}) {
    if (is_block_type(t) && hd % 32 != 0) {
      return invalid_argument(
          std::string("a ") + type_name(t) + " " + what +
          " cache needs a head size that is a multiple of 32; this model's is " +
          std::to_string(hd));
    }
  }
  KvCache c;
  c.shape_ = shape;
  c.options_ = options;
  c.bytes_ = bytes_for(shape, options);
  c.k_token_bytes_ = static_cast<size_t>(shape.n_head_kv) *
                     row_bytes(options.type_k, static_cast<uint64_t>(shape.head_dim_k));
  c.v_token_bytes_ = static_cast<size_t>(shape.n_head_kv) *
                     row_bytes(options.type_v, static_cast<uint64_t>(shape.head_dim_v));
  c.k_layer_bytes_ = static_cast<size_t>(options.n_ctx) * c.k_token_bytes_;
  c.v_layer_bytes_ = static_cast<size_t>(options.n_ctx) * c.v_token_bytes_;
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
                static_cast<size_t>(pos0) * k_token_bytes_;
  uint8_t* vd = v_.data() + static_cast<size_t>(il) * v_layer_bytes_ +
                static_cast<size_t>(pos0) * v_token_bytes_;
  if (convert_fn != nullptr) {
    convert_fn(user, options_.type_k, k, n * row_k, kd);
    convert_fn(user, options_.type_v, v, n * row_v, vd);
    return;
  }
  // Whole rows of whole blocks of a type create() accepted: conversion cannot fail.
  LONGCTX_CHECK(quantize_row_lenient(options_.type_k, k, kd, n * row_k).is_ok());
  LONGCTX_CHECK(quantize_row_lenient(options_.type_v, v, vd, n * row_v).is_ok());
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

void* KvCache::k_data(int64_t il) {
  return const_cast<void*>(static_cast<const KvCache*>(this)->k_data(il));
}

void* KvCache::v_data(int64_t il) {
  return const_cast<void*>(static_cast<const KvCache*>(this)->v_data(il));
}

void KvCache::truncate(int64_t n) {
  LONGCTX_CHECK(n >= 0);
  if (n < n_past_) n_past_ = n;
}

}  // namespace longctx
