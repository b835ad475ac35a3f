// Key re-rotation for context shifts and RoPE changes (kv_ops.h has the math).
#include "kv/kv_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "kernels/ref/hadamard.h"
#include "quant/quantize.h"

namespace longctx {
namespace {

// Angles of one position, per pair: cos, sin and the magnitude factor to apply.
using AngleFn = std::function<void(int64_t pos, double* angle)>;

// Rewrites the keys of positions [p_begin, p_end) of every layer: each row turned by the
// angles `angles(pos)` gives and scaled by `scale`. Layers run on up to hardware-concurrency
// threads (a shift of a long context moves and turns millions of rows).
Status transform_keys(KvCache& kv, int64_t p_begin, int64_t p_end, const AngleFn& angles,
                      double scale) {
  const KvShape& sh = kv.shape();
  const TensorType t = kv.options().type_k;
  const bool hadamard = kv.options().rotates_k();
  const int64_t hd = sh.head_dim_k, half = hd / 2;
  const size_t row = row_bytes(t, static_cast<uint64_t>(hd));
  const int n_threads = static_cast<int>(
      std::max<int64_t>(1, std::min<int64_t>(sh.n_layer, std::thread::hardware_concurrency())));
  std::vector<Status> errors(static_cast<size_t>(n_threads));
  auto work = [&](int ith) {
    std::vector<float> x(static_cast<size_t>(hd));
    std::vector<double> ang(static_cast<size_t>(half));
    std::vector<float> c(static_cast<size_t>(half)), s(static_cast<size_t>(half));
    for (int64_t il = ith; il < sh.n_layer; il += n_threads) {
      auto* base = static_cast<uint8_t*>(kv.k_data(il));
      for (int64_t p = p_begin; p < p_end; ++p) {
        angles(p, ang.data());
        for (int64_t j = 0; j < half; ++j) {
          c[j] = static_cast<float>(std::cos(ang[j]) * scale);
          s[j] = static_cast<float>(std::sin(ang[j]) * scale);
        }
        for (int64_t h = 0; h < sh.n_head_kv; ++h) {
          uint8_t* r =
              base + static_cast<size_t>(p) * kv.k_token_bytes() + static_cast<size_t>(h) * row;
          Status st = dequantize_row(t, r, x.data(), hd);
          if (!st.is_ok()) {
            errors[ith] = st;
            return;
          }
          if (hadamard) ref::hadamard_rows(x.data(), 1, hd);
          for (int64_t j = 0; j < half; ++j) {
            const float a = x[j], b = x[j + half];
            x[j] = a * c[j] - b * s[j];
            x[j + half] = b * c[j] + a * s[j];
          }
          if (hadamard) ref::hadamard_rows(x.data(), 1, hd);
          st = quantize_row_lenient(t, x.data(), r, hd);
          if (!st.is_ok()) {
            errors[ith] = st;
            return;
          }
        }
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 1; i < n_threads; ++i) threads.emplace_back(work, i);
  work(0);
  for (std::thread& th : threads) th.join();
  for (const Status& st : errors) LONGCTX_RETURN_IF_ERROR(st);
  return Status::ok();
}

}  // namespace

Status kv_remove(KvCache& kv, int64_t p0, int64_t p1, const ref::RopeParams& rope) {
  const int64_t n = kv.n_past();
  if (p0 < 0 || p1 < p0 || p1 > n) {
    return invalid_argument("kv_remove: range [" + std::to_string(p0) + ", " + std::to_string(p1) +
                            ") is outside the " + std::to_string(n) + " cached positions");
  }
  if (p0 == p1) return Status::ok();
  auto freq = ref::rope_frequencies(rope);
  if (!freq) return freq.status();
  if (static_cast<int64_t>(freq->inv_freq.size()) * 2 != kv.shape().head_dim_k) {
    return invalid_argument("kv_remove: RoPE over " + std::to_string(rope.head_dim) +
                            " dims, keys of " + std::to_string(kv.shape().head_dim_k));
  }
  const int64_t d = p1 - p0, moved = n - p1;
  for (int64_t il = 0; il < kv.shape().n_layer; ++il) {
    auto* k = static_cast<uint8_t*>(kv.k_data(il));
    auto* v = static_cast<uint8_t*>(kv.v_data(il));
    std::memmove(k + p0 * kv.k_token_bytes(), k + p1 * kv.k_token_bytes(),
                 static_cast<size_t>(moved) * kv.k_token_bytes());
    std::memmove(v + p0 * kv.v_token_bytes(), v + p1 * kv.v_token_bytes(),
                 static_cast<size_t>(moved) * kv.v_token_bytes());
  }
  kv.set_n_past(n - d);
  // Every moved key turns back by d positions: the same angle -d inv_freq_i at every position.
  const std::vector<double>& inv = freq->inv_freq;
  return transform_keys(
      kv, p0, p0 + moved,
      [&](int64_t, double* a) {
        for (size_t j = 0; j < inv.size(); ++j) a[j] = -static_cast<double>(d) * inv[j];
      },
      1.0);
}

Status kv_rerotate(KvCache& kv, const ref::RopeParams& from, const ref::RopeParams& to) {
  auto fa = ref::rope_frequencies(from);
  if (!fa) return fa.status();
  auto fb = ref::rope_frequencies(to);
  if (!fb) return fb.status();
  if (fa->inv_freq.size() != fb->inv_freq.size() ||
      static_cast<int64_t>(fa->inv_freq.size()) * 2 != kv.shape().head_dim_k) {
    return invalid_argument("kv_rerotate: the RoPE settings and the keys differ in head size");
  }
  const std::vector<double>&ia = fa->inv_freq, &ib = fb->inv_freq;
  return transform_keys(
      kv, 0, kv.n_past(),
      [&](int64_t p, double* a) {
        for (size_t j = 0; j < ia.size(); ++j) a[j] = static_cast<double>(p) * (ib[j] - ia[j]);
      },
      fb->attention_factor / fa->attention_factor);
}

Status kv_copy(const KvCache& src, KvCache& dst, int64_t n) {
  const KvShape& a = src.shape();
  const KvShape& b = dst.shape();
  if (a.n_layer != b.n_layer || a.n_head_kv != b.n_head_kv || a.head_dim_k != b.head_dim_k ||
      a.head_dim_v != b.head_dim_v || src.options().type_k != dst.options().type_k ||
      src.options().type_v != dst.options().type_v ||
      src.options().rotates_k() != dst.options().rotates_k() ||
      src.options().rotates_v() != dst.options().rotates_v()) {
    return invalid_argument("kv_copy: the two caches differ in shape, types or rotation");
  }
  if (n < 0 || n > src.n_past() || n > dst.n_ctx()) {
    return invalid_argument("kv_copy: " + std::to_string(n) + " positions of a cache holding " +
                            std::to_string(src.n_past()) + " into one of " +
                            std::to_string(dst.n_ctx()));
  }
  // Layer by layer: positions are the outer index, so [0, n) is one contiguous run per layer.
  for (int64_t il = 0; il < a.n_layer; ++il) {
    std::memcpy(dst.k_data(il), src.k_data(il), static_cast<size_t>(n) * src.k_token_bytes());
    std::memcpy(dst.v_data(il), src.v_data(il), static_cast<size_t>(n) * src.v_token_bytes());
  }
  dst.set_n_past(n);
  return Status::ok();
}

}  // namespace longctx
