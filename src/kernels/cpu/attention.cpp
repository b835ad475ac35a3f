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
#include "kernels/cpu/isa.h"
#include "kernels/ref_backend.h"

namespace longctx::cpu {
namespace {

using TileFn = void (*)(const AttnTileJob&);

// Query rows (queries x heads of a GQA group) per kv head in a block: every block re-reads K and
// V, so prefill wants many (64 measured ~35% faster than 16 at depth 4096); the block's state,
// n_head_kv x 64 x (head_dim + 2) floats, still fits in L2.
constexpr int64_t kRowsPerBlock = 64;
// Key chunks are only cut when blocks x kv heads would leave threads idle; a chunk holds at
// least this many keys so the merge stays negligible. (512 left decode below 1024 positions on
// one thread: 0.6B Q8_0 tg64 at depth 900, 2 threads, alternating, 43.2-45.1 t/s against
// 45.7-46.7 with 128; at depth 400 42.8-44.2 against 43.6-45.1.)
constexpr int64_t kMinChunkKeys = 128;

Status check(const ref::AttentionParams& params, int64_t n_q, const ref::KvView& k,
             const ref::KvView& v) {
  const ref::AttentionShape& s = params.shape;
  if (s.n_head < 1 || s.n_head_kv < 1 || s.head_dim < 1 || s.n_head % s.n_head_kv != 0) {
    return invalid_argument("attention: bad shape n_head=" + std::to_string(s.n_head) +
                            " n_head_kv=" + std::to_string(s.n_head_kv) +
                            " head_dim=" + std::to_string(s.head_dim));
  }
  for (const ref::KvView* kv : {&k, &v}) {
    if (!ref::is_kv_type(kv->type)) {
      return unsupported(std::string("attention: K/V type ") + type_name(kv->type));
    }
    if (ref::is_quantized_kv_type(kv->type) && s.head_dim % 32 != 0) {
      return invalid_argument(std::string("attention: a ") + type_name(kv->type) +
                              " cache needs head_dim to be a multiple of 32, got " +
                              std::to_string(s.head_dim));
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

// How one call is cut into work items, and the scratch it needs.
struct CallPlan {
  int64_t qb = 1;         // queries per block
  int64_t n_blocks = 1;   // query blocks
  int64_t n_chunks = 1;   // key chunks per block
  int64_t chunk = 0;      // keys per chunk
  int64_t all_rows = 0;   // n_head_kv x query rows of a full block
  int64_t state = 0;      // floats of one item's state: m and l ([all_rows] each), acc
  size_t per_thread = 0;  // floats of one thread's work area (the float or the quantized kernels')
  size_t q8_floats = 0;   // of which the quantized kernels' Q8_0 query blocks
  size_t partial = 0;     // floats of the per-item states (0 unless the keys are chunked)
};

CallPlan plan_call(const ref::AttentionShape& sh, int64_t n_q, int64_t kv_max, int nth) {
  const int64_t hd = sh.head_dim, n_kvh = sh.n_head_kv, group = sh.n_head / sh.n_head_kv;
  CallPlan p;
  p.qb = std::min(n_q, std::max<int64_t>(1, kRowsPerBlock / group));
  p.n_blocks = (n_q + p.qb - 1) / p.qb;
  const int64_t rows_max = p.qb * group;  // rows per kv head of a full block
  if (p.n_blocks < 4 * nth) {
    const int64_t want = (4 * nth + p.n_blocks - 1) / p.n_blocks;
    p.n_chunks = std::max<int64_t>(1, std::min(want, kv_max / kMinChunkKeys));
  }
  p.chunk = (kv_max + p.n_chunks - 1) / p.n_chunks;
  p.chunk = (p.chunk + kAttnKeyTile - 1) / kAttnKeyTile * kAttnKeyTile;
  p.n_chunks = (kv_max + p.chunk - 1) / p.chunk;
  p.all_rows = n_kvh * rows_max;
  p.state = p.all_rows * (hd + 2);
  // Q8_0 blocks of every query row (34 bytes per 32 dims), in whole floats.
  p.q8_floats = static_cast<size_t>((p.all_rows * ((hd + 31) / 32) * 34 + 3) / 4);
  const int64_t kernel_floats =
      std::max(attn_work_floats(hd, rows_max, n_kvh),
               attn_quant_work_floats(hd, rows_max, n_kvh) + static_cast<int64_t>(p.q8_floats));
  p.per_thread = static_cast<size_t>(p.all_rows * hd + p.state + kernel_floats);
  p.partial = p.n_chunks > 1 ? static_cast<size_t>(p.n_blocks * p.n_chunks * p.state) : 0;
  return p;
}

int kv_code(TensorType t) {
  switch (t) {
    case TensorType::F16:
      return kKvF16;
    case TensorType::BF16:
      return kKvBF16;
    case TensorType::Q8_0:
      return kKvQ8_0;
    case TensorType::Q4_0:
      return kKvQ4_0;
    default:
      return kKvF32;
  }
}

}  // namespace

struct CpuAttention::Impl {
  Isa isa = Isa::kScalar;
  std::vector<std::vector<float>> work;  // per thread: q block, m, l, acc, tile scratch
  std::vector<float> partial;            // per item (m, l, acc) when the keys are chunked
  std::atomic<int64_t> next{0};          // next work item
  QuantizeActFn quantize_q8 = nullptr;   // the path's Q8_0 quantizer (quantize_row's bytes)
};

CpuAttention::CpuAttention(Isa isa) : impl_(new Impl) {
  impl_->isa = isa;
  impl_->quantize_q8 = kernel_table(isa).quantize[static_cast<int>(ActType::kQ8_0)];
}
CpuAttention::~CpuAttention() { delete impl_; }

size_t CpuAttention::scratch_bytes() const {
  size_t floats = impl_->partial.capacity();
  for (const auto& w : impl_->work) floats += w.capacity();
  return floats * sizeof(float);
}

size_t CpuAttention::scratch_bytes_for(const ref::AttentionShape& shape, int64_t n_q_max, int nth) {
  if (shape.n_head < 1 || shape.n_head_kv < 1 || shape.n_head % shape.n_head_kv != 0) return 0;
  // Every call size up to n_q_max, over a cache long enough that the keys are cut as finely as
  // the driver ever cuts them; the two areas grow independently, so each takes its own maximum.
  constexpr int64_t kLongCache = int64_t{1} << 40;
  size_t per_thread = 0, partial = 0;
  for (int64_t n_q = 1; n_q <= n_q_max; ++n_q) {
    const CallPlan p = plan_call(shape, n_q, kLongCache, nth);
    per_thread = std::max(per_thread, p.per_thread);
    partial = std::max(partial, p.partial);
  }
  return (static_cast<size_t>(nth) * per_thread + partial) * sizeof(float);
}

void CpuAttention::run(ThreadPool& pool, const ref::AttentionParams& params, const float* q,
                       int64_t n_q, const ref::KvView& k, const ref::KvView& v, float* out) {
  abort_on_error(check(params, n_q, k, v), "attention");
  const ref::AttentionShape& sh = params.shape;
  const int64_t hd = sh.head_dim, n_head = sh.n_head, n_kvh = sh.n_head_kv;
  const int64_t group = n_head / n_kvh;

  // A block-type K or V, or K and V of two float types, take the quantized-KV kernels (any
  // type pair; head_dim a multiple of 16, which block types already guarantee).
  const bool quant =
      ref::is_quantized_kv_type(k.type) || ref::is_quantized_kv_type(v.type) || k.type != v.type;
  if (quant && hd % 16 != 0) {
    // Mixed float K/V types over an odd head size: never produced by the KV cache.
    abort_on_error(ref::attention(params, q, n_q, k, v, out), "attention");
    return;
  }
  const bool k_blocks = ref::is_quantized_kv_type(k.type);
  TileFn tile = quant ? attention_quant_scalar : attention_tile_scalar;
#ifdef LONGCTX_X86_KERNELS
  if (quant) {
    if (impl_->isa == Isa::kAvx512) {
      tile = attention_quant_avx512;
    } else if (impl_->isa == Isa::kAvx2) {
      tile = attention_quant_avx2;
    }
  } else if (impl_->isa == Isa::kAvx512 && hd % 16 == 0) {
    tile = attention_tile_avx512;
  } else if (impl_->isa != Isa::kScalar && hd % 8 == 0) {
    tile = attention_tile_avx2;
  }
#endif

  // Scores in the log2 domain: q * scale * log2(e), weights 2^(s - m).
  const double scale = params.scale != 0.0f ? params.scale : 1.0 / std::sqrt(double(hd));
  const float qscale = static_cast<float>(scale * 1.4426950408889634);

  const int nth = pool.size();
  const CallPlan cp = plan_call(sh, n_q, params.q_pos0 + n_q, nth);
  const int64_t qb = cp.qb, n_blocks = cp.n_blocks, n_chunks = cp.n_chunks, chunk = cp.chunk;
  const int64_t n_items = n_blocks * n_chunks;
  const int64_t all_rows = cp.all_rows, state = cp.state;

  // Scratch: grows to the largest shape seen, never shrinks (scratch_bytes_for bounds it).
  if (impl_->work.size() < static_cast<size_t>(nth)) impl_->work.resize(nth);
  // reserve() first: resize() alone may round the capacity up to twice the old size.
  for (auto& w : impl_->work) {
    if (w.size() < cp.per_thread) {
      w.reserve(cp.per_thread);
      w.resize(cp.per_thread);
    }
  }
  if (cp.partial > impl_->partial.size()) {
    impl_->partial.reserve(cp.partial);
    impl_->partial.resize(cp.partial);
  }
  impl_->next.store(0, std::memory_order_relaxed);

  const int kvt = kv_code(k.type), kvv = kv_code(v.type);
  const int64_t k_head = static_cast<int64_t>(row_bytes(k.type, static_cast<uint64_t>(hd)));
  const int64_t v_head = static_cast<int64_t>(row_bytes(v.type, static_cast<uint64_t>(hd)));
  const int64_t q8_row = hd / 32 * 34;  // bytes of one query row's Q8_0 blocks

  pool.run([&](int ith, int) {
    float* qbuf = impl_->work[ith].data();
    float* own_state = qbuf + all_rows * hd;
    auto* q8 = reinterpret_cast<uint8_t*>(own_state + state);
    float* scratch = own_state + state + (quant ? cp.q8_floats : 0);
    for (;;) {
      const int64_t item = impl_->next.fetch_add(1, std::memory_order_relaxed);
      if (item >= n_items) break;
      // Later query blocks see more keys: hand them out first so the tail is short.
      const int64_t b = n_blocks - 1 - item / n_chunks, c = item % n_chunks;
      const int64_t t0 = b * qb, nqb = std::min(qb, n_q - t0), rows = nqb * group;
      float* m = n_chunks == 1 ? own_state : impl_->partial.data() + (b * n_chunks + c) * state;
      float* l = m + all_rows;
      float* acc = l + all_rows;
      for (int64_t g = 0; g < n_kvh; ++g) {
        for (int64_t r = 0; r < rows; ++r) {
          const float* src = q + ((t0 + r / group) * n_head + g * group + r % group) * hd;
          if (k_blocks) {
            // Unscaled, so the blocks are those of the reference (ref::attention); the kernel
            // applies qscale to the scores.
            impl_->quantize_q8(src, q8 + (g * rows + r) * q8_row, hd);
          } else {
            float* dst = qbuf + (g * rows + r) * hd;
            for (int64_t d = 0; d < hd; ++d) dst[d] = src[d] * qscale;
          }
          m[g * rows + r] = -INFINITY;
          l[g * rows + r] = 0.0f;
        }
      }
      std::fill(acc, acc + n_kvh * rows * hd, 0.0f);
      const int64_t j0 = c * chunk;
      const int64_t j1 = std::min((c + 1) * chunk, params.q_pos0 + t0 + nqb);
      if (j0 < j1) {
        AttnTileJob job;
        job.head_dim = hd;
        job.n_heads = n_kvh;
        job.n_rows = rows;
        job.group = group;
        job.q = qbuf;
        job.pos0 = params.q_pos0 + t0;
        job.kv_type = kvt;
        job.k = k.data;
        job.v = v.data;
        job.kv_stride = n_kvh * hd;
        job.j0 = j0;
        job.j1 = j1;
        job.m = m;
        job.l = l;
        job.acc = acc;
        job.work = scratch;
        job.k_type = kvt;
        job.v_type = kvv;
        job.k_token_bytes = n_kvh * k_head;
        job.v_token_bytes = n_kvh * v_head;
        job.k_head_bytes = k_head;
        job.v_head_bytes = v_head;
        job.q8 = q8;
        job.qscale = qscale;
        tile(job);
      }
      if (n_chunks > 1) continue;
      for (int64_t g = 0; g < n_kvh; ++g) {
        for (int64_t r = 0; r < rows; ++r) {
          float* dst = out + ((t0 + r / group) * n_head + g * group + r % group) * hd;
          const float* a = acc + (g * rows + r) * hd;
          const float inv = 1.0f / l[g * rows + r];
          for (int64_t d = 0; d < hd; ++d) dst[d] = a[d] * inv;
        }
      }
    }
  });
  if (n_chunks == 1) return;

  // Log-sum-exp merge of the chunks: with M = max_c m_c and w_c = 2^(m_c - M),
  // out = sum_c w_c acc_c / sum_c w_c l_c. Chunks past a row's causal limit have l = 0.
  for (int64_t b = 0; b < n_blocks; ++b) {
    const int64_t t0 = b * qb, rows = std::min(qb, n_q - t0) * group;
    const float* slots = impl_->partial.data() + b * n_chunks * state;
    for (int64_t i = 0; i < n_kvh * rows; ++i) {  // i = g * rows + r
      const int64_t g = i / rows, r = i % rows;
      float mx = -INFINITY;
      for (int64_t c = 0; c < n_chunks; ++c) {
        const float* p = slots + c * state;
        if (p[all_rows + i] > 0.0f) mx = std::max(mx, p[i]);
      }
      float* dst = out + ((t0 + r / group) * n_head + g * group + r % group) * hd;
      std::fill(dst, dst + hd, 0.0f);
      float lsum = 0.0f;
      for (int64_t c = 0; c < n_chunks; ++c) {
        const float* p = slots + c * state;
        if (!(p[all_rows + i] > 0.0f)) continue;
        const float w = std::exp2(p[i] - mx);
        lsum += w * p[all_rows + i];
        const float* a = p + 2 * all_rows + i * hd;
        for (int64_t d = 0; d < hd; ++d) dst[d] += w * a[d];
      }
      const float inv = 1.0f / lsum;
      for (int64_t d = 0; d < hd; ++d) dst[d] *= inv;
    }
  }
}

}  // namespace longctx::cpu
