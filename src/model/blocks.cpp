// Shared Qwen-family blocks: attention with the KV cache, dense SwiGLU FFN, MoE FFN.
#include "model/blocks.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace longctx::blocks {
namespace {

// x[n][d] += y[n][d]
void add_into(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

}  // namespace

void attention(ForwardContext& ctx, int64_t il, const AttentionVariant& variant) {
  const ModelHparams& hp = ctx.model->hparams();
  const LayerWeights& L = ctx.model->weights().layers[static_cast<size_t>(il)];
  ForwardScratch& s = *ctx.s;
  KernelBackend& be = *ctx.backend;
  const int64_t n = ctx.n_tokens, d = hp.n_embd, hd = hp.head_dim;

  // 1. h = rms_norm(x) * attn_norm
  be.rms_norm(s.x.data(), L.attn_norm.data(), static_cast<float>(hp.rms_eps), n, d, s.h.data());
  // 2. q, k, v projections (+ bias for Qwen2)
  {
    const WeightMatrix ws[3] = {L.attn_q, L.attn_k, L.attn_v};
    const float* biases[3] = {L.attn_q_bias.data(), L.attn_k_bias.data(), L.attn_v_bias.data()};
    float* ys[3] = {s.q.data(), s.k.data(), s.v.data()};
    be.matmul_multi(ws, 3, s.h.data(), n, variant.qkv_bias ? biases : nullptr, ys);
  }
  // 3. Qwen3: RMSNorm over head_dim of every q and k head, with one weight per layer
  if (variant.qk_norm) {
    const float eps = static_cast<float>(hp.rms_eps);
    be.rms_norm(s.q.data(), L.attn_q_norm.data(), eps, n * hp.n_head, hd, s.q.data());
    be.rms_norm(s.k.data(), L.attn_k_norm.data(), eps, n * hp.n_head_kv, hd, s.k.data());
  }
  // 4-5. Per sequence of the pass (one for a session's own eval; several when a batch decodes
  //      sequences together): RoPE at its positions, the cache rotation, its cache, attention.
  const int64_t q_row = hp.n_head * hd, k_row = hp.n_head_kv * hd;
  const int64_t v_row = hp.n_head_kv * hp.head_dim_v, o_row = hp.n_head * hp.head_dim_v;
  for (const SeqSlice& sq : ctx.seqs) {
    const int64_t m = sq.n_tokens;
    float* q = s.q.data() + sq.row0 * q_row;
    float* k = s.k.data() + sq.row0 * k_row;
    float* v = s.v.data() + sq.row0 * v_row;
    float* o = s.attn.data() + sq.row0 * o_row;
    // 4. RoPE on q and k at positions pos0 .. pos0 + m - 1
    be.rope(*sq.rope, sq.pos0, m, hp.n_head, q);
    be.rope(*sq.rope, sq.pos0, m, hp.n_head_kv, k);
    // 4b. A quantized cache half is stored rotated per head (Walsh-Hadamard,
    //     kernels/ref/hadamard.h): q.k = (Hq).(Hk) and sum_j p_j v_j = H (sum_j p_j H v_j), so
    //     attention is unchanged, but a few large channels are spread over the head before 4 or
    //     8 bits have to hold them.
    const KvCacheOptions& kvo = sq.kv->options();
    if (kvo.rotates_k()) {
      be.hadamard(q, m * hp.n_head, hd);
      be.hadamard(k, m * hp.n_head_kv, hd);
    }
    if (kvo.rotates_v()) be.hadamard(v, m * hp.n_head_kv, hp.head_dim_v);
    // 5. append k, v to the cache, then attend over everything cached so far (causal)
    sq.kv->store(
        il, sq.pos0, m, k, v,
        [](void* b, TensorType t, const float* src, int64_t count, void* dst) {
          static_cast<KernelBackend*>(b)->convert_row(t, src, count, dst);
        },
        &be);
    const int64_t n_kv = sq.pos0 + m;
    AttentionParams ap;
    ap.shape = {hp.n_head, hp.n_head_kv, hd};
    ap.q_pos0 = sq.pos0;
    const KvView kv_k{kvo.type_k, sq.kv->k_data(il), n_kv};
    const KvView kv_v{kvo.type_v, sq.kv->v_data(il), n_kv};
    be.attention(ap, q, m, kv_k, kv_v, o);
    if (kvo.rotates_v()) be.hadamard(o, m * hp.n_head, hp.head_dim_v);  // H^-1 = H
  }
  // 6. x += attn · W_o
  be.matmul(L.attn_out, s.attn.data(), n, nullptr, s.h.data());
  add_into(s.x.data(), s.h.data(), n * d);
}

void ffn_swiglu(ForwardContext& ctx, int64_t il) {
  const ModelHparams& hp = ctx.model->hparams();
  const LayerWeights& L = ctx.model->weights().layers[static_cast<size_t>(il)];
  ForwardScratch& s = *ctx.s;
  KernelBackend& be = *ctx.backend;
  const int64_t n = ctx.n_tokens, d = hp.n_embd, f = hp.n_ff;

  be.rms_norm(s.x.data(), L.ffn_norm.data(), static_cast<float>(hp.rms_eps), n, d, s.h.data());
  {
    const WeightMatrix ws[2] = {L.ffn_gate, L.ffn_up};
    float* ys[2] = {s.gate.data(), s.up.data()};
    be.matmul_multi(ws, 2, s.h.data(), n, nullptr, ys);
  }
  be.swiglu(s.gate.data(), s.up.data(), n * f, s.gate.data());
  be.matmul(L.ffn_down, s.gate.data(), n, nullptr, s.h.data());
  add_into(s.x.data(), s.h.data(), n * d);
}

namespace {

// Router for one token: p = softmax(logits[E]); the k largest p (ties: lower expert first),
// weights p or p / sum(chosen p). Writes ids[k], w[k]; probs[E] is scratch.
void route_token(const float* logits, int64_t n_expert, int64_t k, bool renorm, float* probs,
                 int32_t* ids, float* w) {
  float m = -std::numeric_limits<float>::infinity();
  for (int64_t e = 0; e < n_expert; ++e) m = std::max(m, logits[e]);
  double sum = 0.0;
  for (int64_t e = 0; e < n_expert; ++e) {
    probs[e] = std::exp(logits[e] - m);
    sum += probs[e];
  }
  for (int64_t e = 0; e < n_expert; ++e) probs[e] = static_cast<float>(probs[e] / sum);
  // Selection by repeated maximum: k <= 128 and E <= a few hundred, and it needs no buffer.
  double chosen_sum = 0.0;
  for (int64_t j = 0; j < k; ++j) {
    int32_t best = -1;
    for (int64_t e = 0; e < n_expert; ++e) {
      bool taken = false;
      for (int64_t i = 0; i < j; ++i) taken = taken || ids[i] == e;
      if (!taken && (best < 0 || probs[e] > probs[best])) best = static_cast<int32_t>(e);
    }
    ids[j] = best;
    w[j] = probs[best];
    chosen_sum += probs[best];
  }
  if (renorm) {
    for (int64_t j = 0; j < k; ++j) w[j] = static_cast<float>(w[j] / chosen_sum);
  }
}

// One token (decode): its k experts share the input, so the k gate and k up projections run as
// one batch (one activation conversion, one dispatch), then the k down projections as another.
// The weighted sum adds experts in increasing id, as the grouped path does, so both give the
// same bits.
void moe_decode_one_token(ForwardContext& ctx, const LayerWeights& L, int64_t k, int64_t f) {
  ForwardScratch& s = *ctx.s;
  KernelBackend& be = *ctx.backend;
  const int64_t d = ctx.model->hparams().n_embd;
  int32_t* ids = s.chosen.data();
  float* w = s.chosen_w.data();
  for (int64_t i = 1; i < k; ++i) {  // insertion sort by expert id (k is small)
    for (int64_t j = i; j > 0 && ids[j - 1] > ids[j]; --j) {
      std::swap(ids[j - 1], ids[j]);
      std::swap(w[j - 1], w[j]);
    }
  }
  KernelBackend::MatmulTask tasks[KernelBackend::kMaxMatmulTasks];
  for (int64_t j = 0; j < k; ++j) {
    tasks[2 * j] = {ref::expert_matrix(L.ffn_gate_exps, ids[j]), s.h.data(), nullptr,
                    s.gate.data() + j * f};
    tasks[2 * j + 1] = {ref::expert_matrix(L.ffn_up_exps, ids[j]), s.h.data(), nullptr,
                        s.up.data() + j * f};
  }
  be.matmul_tasks(tasks, static_cast<int>(2 * k), 1);
  be.swiglu(s.gate.data(), s.up.data(), k * f, s.gate.data());
  for (int64_t j = 0; j < k; ++j) {
    tasks[j] = {ref::expert_matrix(L.ffn_down_exps, ids[j]), s.gate.data() + j * f, nullptr,
                s.ye.data() + j * d};
  }
  be.matmul_tasks(tasks, static_cast<int>(k), 1);
  float* x = s.x.data();
  for (int64_t j = 0; j < k; ++j) {
    const float* y = s.ye.data() + j * d;
    for (int64_t i = 0; i < d; ++i) x[i] += w[j] * y[i];
  }
}

}  // namespace

void ffn_moe(ForwardContext& ctx, int64_t il) {
  const ModelHparams& hp = ctx.model->hparams();
  const LayerWeights& L = ctx.model->weights().layers[static_cast<size_t>(il)];
  ForwardScratch& s = *ctx.s;
  KernelBackend& be = *ctx.backend;
  const int64_t n = ctx.n_tokens, d = hp.n_embd, E = hp.n_expert, k = ctx.n_expert_used;
  LONGCTX_CHECK(k >= 1 && k <= E);

  // 1. h = rms_norm(x); router logits [n][E]; top-k experts and weights per token
  be.rms_norm(s.x.data(), L.ffn_norm.data(), static_cast<float>(hp.rms_eps), n, d, s.h.data());
  be.matmul(L.ffn_router, s.h.data(), n, nullptr, s.router.data());
  for (int64_t t = 0; t < n; ++t) {
    route_token(s.router.data() + t * E, E, k, hp.norm_topk_prob, s.probs.data(),
                s.chosen.data() + t * k, s.chosen_w.data() + t * k);
  }
  const int64_t f = hp.n_ff_expert;
  if (n == 1 && 2 * k <= KernelBackend::kMaxMatmulTasks &&
      static_cast<size_t>(k * f) <= s.gate.size() && static_cast<size_t>(k * d) <= s.ye.size()) {
    moe_decode_one_token(ctx, L, k, f);
    return;
  }
  // 2. group the (token, expert) pairs by expert: counting sort into rows / rows_w
  std::fill(s.offsets.begin(), s.offsets.end(), 0);
  for (int64_t i = 0; i < n * k; ++i) ++s.offsets[static_cast<size_t>(s.chosen[i]) + 1];
  for (int64_t e = 0; e < E; ++e) s.offsets[e + 1] += s.offsets[e];
  // offsets[e] is advanced as rows are placed, then restored from offsets[e + 1] below
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t j = 0; j < k; ++j) {
      const int32_t e = s.chosen[t * k + j];
      const int32_t slot = s.offsets[e]++;
      s.rows[slot] = static_cast<int32_t>(t);
      s.rows_w[slot] = s.chosen_w[t * k + j];
    }
  }
  for (int64_t e = E; e > 0; --e) s.offsets[e] = s.offsets[e - 1];
  s.offsets[0] = 0;
  // 3. each used expert runs once over its tokens: xe -> SwiGLU FFN -> ye; x += w * ye
  for (int64_t e = 0; e < E; ++e) {
    const int32_t r0 = s.offsets[e], r1 = s.offsets[e + 1];
    const int64_t m = r1 - r0;
    if (m == 0) continue;
    for (int64_t r = 0; r < m; ++r) {
      const float* src = s.h.data() + static_cast<int64_t>(s.rows[r0 + r]) * d;
      std::copy(src, src + d, s.xe.data() + r * d);
    }
    const WeightMatrix ws[2] = {ref::expert_matrix(L.ffn_gate_exps, e),
                                ref::expert_matrix(L.ffn_up_exps, e)};
    float* ys[2] = {s.gate.data(), s.up.data()};
    be.matmul_multi(ws, 2, s.xe.data(), m, nullptr, ys);
    be.swiglu(s.gate.data(), s.up.data(), m * f, s.gate.data());
    be.matmul(ref::expert_matrix(L.ffn_down_exps, e), s.gate.data(), m, nullptr, s.ye.data());
    for (int64_t r = 0; r < m; ++r) {
      float* dst = s.x.data() + static_cast<int64_t>(s.rows[r0 + r]) * d;
      const float* y = s.ye.data() + r * d;
      const float w = s.rows_w[r0 + r];
      for (int64_t i = 0; i < d; ++i) dst[i] += w * y[i];
    }
  }
}

}  // namespace longctx::blocks
