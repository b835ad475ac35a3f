// The KV cache of one sequence: per layer, K and V of every stored position, in f16 (default),
// bf16, f32 or the Q8_0 / Q4_0 blocks of the weight formats, sized once for the context.
// Attention reads it as a contiguous [pos][head][row] array; the sequence operations (clear,
// truncate) are the only way callers change it.
#pragma once

#include <cstdint>
#include <vector>

#include "core/large_buffer.h"
#include "core/status.h"
#include "quant/types.h"

namespace longctx {

struct KvShape {
  int64_t n_layer = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim_k = 0;
  int64_t head_dim_v = 0;
};

struct KvCacheOptions {
  int64_t n_ctx = 4096;  // positions the cache holds
  TensorType type_k = TensorType::F16;
  TensorType type_v = TensorType::F16;
  // Walsh-Hadamard rotation of the quantized halves (model/blocks.cpp applies it): keys (and the
  // queries that meet them) when type_k is a block type, values (and the attention output, rotated
  // back) when type_v is. The cache stores what it is given; the flag records how to read it.
  bool rotate = true;
  bool rotates_k() const;
  bool rotates_v() const;
};

// The types a KV cache holds: f32, f16, bf16, q8_0, q4_0.
bool is_kv_cache_type(TensorType t);

class KvCache {
 public:
  // Bytes the cache of this shape and options takes (what create() allocates):
  //   n_ctx * n_layer * n_head_kv * (row_bytes(type_k, head_dim_k) + row_bytes(type_v,
  //   head_dim_v)).
  static uint64_t bytes_for(const KvShape& shape, const KvCacheOptions& options);
  // Types other than the KV cache types, a block type over a head size that is not a multiple of
  // 32, a context < 1 or above 2^24, or a shape <= 0 is kInvalidArgument; a failed allocation
  // is an error naming the size.
  static Result<KvCache> create(const KvShape& shape, const KvCacheOptions& options);

  const KvShape& shape() const { return shape_; }
  const KvCacheOptions& options() const { return options_; }
  int64_t n_ctx() const { return options_.n_ctx; }
  uint64_t bytes() const { return bytes_; }
  // Bytes of one position of one layer: all kv heads of K / of V.
  size_t k_token_bytes() const { return k_token_bytes_; }
  size_t v_token_bytes() const { return v_token_bytes_; }

  // Positions [0, n_past) hold valid K/V.
  int64_t n_past() const { return n_past_; }

  // Converts and stores K/V of n tokens at positions [pos0, pos0 + n) of layer il:
  //   k[n][n_head_kv][head_dim_k], v[n][n_head_kv][head_dim_v] (f32).
  // The caller checked pos0 + n <= n_ctx (an invariant here).
  // `convert` (optional) writes n floats as type t at dst in place of the scalar reference
  // conversion (quantize_row), e.g. a kernel backend's SIMD one; `user` is passed through. A
  // block type's rows are whole blocks (head sizes are multiples of 32), so a run of rows
  // converts as one.
  using ConvertRowFn = void (*)(void* user, TensorType t, const float* src, int64_t n, void* dst);
  void store(int64_t il, int64_t pos0, int64_t n, const float* k, const float* v,
             ConvertRowFn convert = nullptr, void* user = nullptr);
  // Marks [0, n_past) valid after all layers have stored a chunk.
  void set_n_past(int64_t n_past);

  // Layer il's K / V: [n_ctx][n_head_kv] rows of head_dim elements of type_k / type_v.
  const void* k_data(int64_t il) const;
  const void* v_data(int64_t il) const;
  // The same, writable: sequence operations and session loading write positions in place.
  void* k_data(int64_t il);
  void* v_data(int64_t il);

  // Sequence operations: forget everything; keep only positions [0, n).
  void clear() { n_past_ = 0; }
  void truncate(int64_t n);
  // Forgets everything and gives the cache's pages back to the system (a sleeping server); the
  // cache stays usable and takes pages again as positions are stored.
  void release() {
    n_past_ = 0;
    k_.release();
    v_.release();
  }

 private:
  KvShape shape_;
  KvCacheOptions options_;
  uint64_t bytes_ = 0;
  int64_t n_past_ = 0;
  size_t k_token_bytes_ = 0, v_token_bytes_ = 0;
  size_t k_layer_bytes_ = 0, v_layer_bytes_ = 0;
  LargeBuffer k_;  // [n_layer][n_ctx][n_head_kv][row of head_dim_k]
  LargeBuffer v_;  // [n_layer][n_ctx][n_head_kv][row of head_dim_v]
};

}  // namespace longctx
