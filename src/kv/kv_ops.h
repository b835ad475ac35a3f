// Sequence operations on a KvCache that rewrite keys in place, without evaluating anything:
//  - kv_remove: positions [p0, p1) leave the cache, the later ones move down, and their keys
//    turn back by p1 - p0 positions (a context shift);
//  - kv_rerotate: every cached key goes from one RoPE setting to another (length-adaptive YaRN
//    stepping up its factor);
//  - kv_copy: the first n positions of one cache into another of the same shape and types (the
//    server's n > 1 choices share one prompt evaluation).
// NeoX RoPE rotates pair (i, i + d/2) of a key at position p by angle p * inv_freq_i and scales
// it by the attention factor a; so the key at position p under setting A becomes the key at
// position p' under setting B by the rotation (p' inv_B,i - p inv_A,i) and the factor a_B / a_A.
// A key row is decoded to f32 (and turned back from the Walsh-Hadamard basis when the cache
// stores it rotated), transformed in double-derived f32 cos/sin, and encoded again: the error
// is one more rounding to the cache type.
#pragma once

#include <cstdint>

#include "core/status.h"
#include "kernels/ref/rope.h"
#include "kv/kv_cache.h"

namespace longctx {

// 0 <= p0 <= p1 <= n_past. Afterwards n_past is n_past - (p1 - p0).
Status kv_remove(KvCache& kv, int64_t p0, int64_t p1, const ref::RopeParams& rope);

// The keys of positions [0, n_past) from `from` to `to` (same head_dim).
Status kv_rerotate(KvCache& kv, const ref::RopeParams& from, const ref::RopeParams& to);

// dst's positions [0, n) become src's (bytes as stored, so exact for every type); dst's n_past
// becomes n. Shapes, types and rotation must match, n <= src.n_past() and n <= dst.n_ctx().
Status kv_copy(const KvCache& src, KvCache& dst, int64_t n);

}  // namespace longctx
