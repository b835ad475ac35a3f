// Driver of the cpu attention: cuts the call into work items (query block x kv head x key chunk),
// runs them on the pool through the ISA's tile kernel, and merges key-chunk partial states with
// the log-sum-exp rule. Scratch is per thread and per call shape, grown only when a larger shape
// arrives.
#include "kernels/cpu/attention.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/cpu/attention_kernels.h"
#include "kernels/ref_backend.h"

namespace longctx::cpu {
namespace {

using TileFn = void (*)(const AttnTileJob&);

// Query rows (queries x heads of a GQA group) per block: enough to reuse each K/V tile many
// times from L1, few enough that the block's state stays in L1/L2.
constexpr int64_t kRowsPerBlock = 16;
// Key chunks are only cut when blocks x kv heads would leave threads idle; a chunk holds at
// least this many keys so the merge stays negligible.
constexpr int64_t kMinChunkKeys = 512;

Status check(const ref::AttentionParams& params, int64_t n_q, const ref::KvView& k,
             const ref::KvView& v) {
  const ref::AttentionShape& s = params.shape;
  if (s.n_head < 1 || s.n_head_kv < 1 || s.head_dim < 1 || s.n_head % s.n_head_kv != 0) {
    return invalid_argument("attention: bad shape n_head=" + std::to_string(s.n_head) +
                            " n_head_kv=" + std::to_string(s.n_head_kv) +
                            " head_dim=" + std::to_string(s.head_dim));
  }
  for (const ref::KvView* kv : {&k, &v}) {
    if (kv->type != TensorType::F32 && kv->type != TensorType::F16 &&
        kv->type != TensorType::BF16) {
      return unsupported(std::string("attention: K/V type ") + type_name(kv->type));
    }
    if (kv->data == nullptr) return invalid_argument("attention: K/V without data");
  }
  if (k.n_kv != v.n_kv || n_q < 1 || params.q_pos0 < 0 || params.q_pos0 + n_q > k.n_kv) {
    return invalid_argument("attention: queries [" + std::to_string(params.q_pos0) + ", " +
                            std::to_string(params.q_pos0 + n_q) + ") over K/V of " +
                            std::to_string(k.n_kv) + "/" + std::to_string(v.n_kv) + " tokens");
  }
  return Status::ok();
}

int kv_code(TensorType t) { return t == TensorType::F32 ? 0 : t == TensorType::F16 ? 1 : 2; }

}  // namespace

struct CpuAttention::Impl {
  Isa isa = Isa::kScalar;
  std::vector<std::vector<float>> work;  // per thread: q block, m, l, acc, tile scratch
  std::vector<float> partial;            // per item (m, l, acc) when the keys are chunked
  std::atomic<int64_t> next{0};          // next work item
};

CpuAttention::CpuAttention(Isa isa) : impl_(new Impl) { impl_->isa = isa; }
CpuAttention::~CpuAttention() { delete impl_; }

void CpuAttention::run(ThreadPool& pool, const ref::AttentionParams& params, const float* q,
                       int64_t n_q, const ref::KvView& k, const ref::KvView& v, float* out) {
  abort_on_error(check(params, n_q, k, v), "attention");
  if (k.type != v.type) {
    // Mixed K/V types are legal but never produced by the KV cache: the reference handles them.
    abort_on_error(ref::attention(params, q, n_q, k, v, out), "attention");
    return;
  }
  const ref::AttentionShape& sh = params.shape;
  const int64_t hd = sh.head_dim, n_head = sh.n_head, n_kvh = sh.n_head_kv;
  const int64_t group = n_head / n_kvh;

  TileFn tile = attention_tile_scalar;
#ifdef LONGCTX_X86_KERNELS
  if (impl_->isa == Isa::kAvx512 && hd % 16 == 0) {
    tile = attention_tile_avx512;
  } else if (impl_->isa != Isa::kScalar && hd % 8 == 0) {
    tile = attention_tile_avx2;
  }
#endif

  // Scores in the log2 domain: q * scale * log2(e), weights 2^(s - m).
  const double scale = params.scale != 0.0f ? params.scale : 1.0 / std::sqrt(double(hd));
  const float qscale = static_cast<float>(scale * 1.4426950408889634);

  const int64_t qb = std::min(n_q, std::max<int64_t>(1, kRowsPerBlock / group));
  const int64_t n_blocks = (n_q + qb - 1) / qb;
  const int64_t rows_max = qb * group;
  const int nth = pool.size();
  const int64_t kv_max = params.q_pos0 + n_q;  // keys any query sees
  const int64_t base_items = n_blocks * n_kvh;
  int64_t n_chunks = 1;
  if (base_items < 4 * nth) {
    const int64_t want = (4 * nth + base_items - 1) / base_items;
    n_chunks = std::max<int64_t>(1, std::min(want, kv_max / kMinChunkKeys));
  }
  int64_t chunk = (kv_max + n_chunks - 1) / n_chunks;
  chunk = (chunk + kAttnKeyTile - 1) / kAttnKeyTile * kAttnKeyTile;
  n_chunks = (kv_max + chunk - 1) / chunk;
  const int64_t n_items = base_items * n_chunks;

  // Scratch: grows to the largest shape seen, never shrinks.
  const int64_t state = rows_max * (hd + 2);
  const size_t per_thread =
      static_cast<size_t>(rows_max * hd + state + attn_work_floats(hd, rows_max));
  if (impl_->work.size() < static_cast<size_t>(nth)) impl_->work.resize(nth);
  for (auto& w : impl_->work) {
    if (w.size() < per_thread) w.resize(per_thread);
  }
  if (n_chunks > 1 && impl_->partial.size() < static_cast<size_t>(n_items * state)) {
    impl_->partial.resize(static_cast<size_t>(n_items * state));
  }
  impl_->next.store(0, std::memory_order_relaxed);

  const int kvt = kv_code(k.type);
  const int64_t kv_stride = n_kvh * hd;
  const size_t esize = kvt == 0 ? 4 : 2;
  const int64_t ipb = n_kvh * n_chunks;  // items per query block

  pool.run([&](int ith, int) {
    float* qbuf = impl_->work[ith].data();
    float* m = qbuf + rows_max * hd;
    float* l = m + rows_max;
    float* acc = l + rows_max;
    float* scratch = acc + rows_max * hd;
    for (;;) {
      const int64_t item = impl_->next.fetch_add(1, std::memory_order_relaxed);
      if (item >= n_items) break;
      // Later query blocks see more keys: hand them out first so the tail is short.
      const int64_t b = n_blocks - 1 - item / ipb;
      const int64_t g = item % ipb / n_chunks, c = item % n_chunks;
      const int64_t t0 = b * qb, nqb = std::min(qb, n_q - t0), rows = nqb * group;
      for (int64_t r = 0; r < rows; ++r) {
        const float* src = q + ((t0 + r / group) * n_head + g * group + r % group) * hd;
        for (int64_t d = 0; d < hd; ++d) qbuf[r * hd + d] = src[d] * qscale;
        m[r] = -INFINITY;
        l[r] = 0.0f;
      }
      std::fill(acc, acc + rows * hd, 0.0f);
      const int64_t j0 = c * chunk;
      const int64_t j1 = std::min((c + 1) * chunk, params.q_pos0 + t0 + nqb);
      if (j0 < j1) {
        AttnTileJob job;
        job.head_dim = hd;
        job.n_rows = rows;
        job.group = group;
        job.q = qbuf;
        job.pos0 = params.q_pos0 + t0;
        job.kv_type = kvt;
        job.k = static_cast<const char*>(k.data) + g * hd * esize;
        job.v = static_cast<const char*>(v.data) + g * hd * esize;
        job.kv_stride = kv_stride;
        job.j0 = j0;
        job.j1 = j1;
        job.m = m;
        job.l = l;
        job.acc = acc;
        job.work = scratch;
        tile(job);
      }
      if (n_chunks == 1) {
        for (int64_t r = 0; r < rows; ++r) {
          float* dst = out + ((t0 + r / group) * n_head + g * group + r % group) * hd;
          const float inv = 1.0f / l[r];
          for (int64_t d = 0; d < hd; ++d) dst[d] = acc[r * hd + d] * inv;
        }
      } else {
        float* p = impl_->partial.data() + ((b * n_kvh + g) * n_chunks + c) * state;
        std::copy(m, m + rows, p);
        std::copy(l, l + rows, p + rows_max);
        std::copy(acc, acc + rows * hd, p + 2 * rows_max);
      }
    }
  });
  if (n_chunks == 1) return;

  // Log-sum-exp merge of the chunks: with M = max_c m_c and w_c = 2^(m_c - M),
  // out = sum_c w_c acc_c / sum_c w_c l_c. Chunks past a row's causal limit have l = 0.
  for (int64_t b = 0; b < n_blocks; ++b) {
    const int64_t t0 = b * qb, rows = std::min(qb, n_q - t0) * group;
    for (int64_t g = 0; g < n_kvh; ++g) {
      const float* p0 = impl_->partial.data() + (b * n_kvh + g) * n_chunks * state;
      for (int64_t r = 0; r < rows; ++r) {
        float mx = -INFINITY;
        for (int64_t c = 0; c < n_chunks; ++c) {
          const float* p = p0 + c * state;
          if (p[rows_max + r] > 0.0f) mx = std::max(mx, p[r]);
        }
        float* dst = out + ((t0 + r / group) * n_head + g * group + r % group) * hd;
        std::fill(dst, dst + hd, 0.0f);
        float lsum = 0.0f;
        for (int64_t c = 0; c < n_chunks; ++c) {
          const float* p = p0 + c * state;
          if (!(p[rows_max + r] > 0.0f)) continue;
          const float w = std::exp2(p[r] - mx);
          lsum += w * p[rows_max + r];
          const float* a = p + 2 * rows_max + r * hd;
          for (int64_t d = 0; d < hd; ++d) dst[d] += w * a[d];
        }
        const float inv = 1.0f / lsum;
        for (int64_t d = 0; d < hd; ++d) dst[d] *= inv;
      }
    }
  }
}

}  // namespace longctx::cpu
