// The architecture registry, scratch sizing and the whole-model forward pass over one chunk.
#include "model/forward.h"

#include <algorithm>

#include "core/large_buffer.h"

namespace longctx {

extern const Architecture kArchQwen3;
extern const Architecture kArchQwen3Moe;
extern const Architecture kArchQwen2;

const Architecture* find_architecture(const std::string& name) {
  for (const Architecture* a : {&kArchQwen3, &kArchQwen3Moe, &kArchQwen2}) {
    if (name == a->name) return a;
  }
  return nullptr;
}

namespace {

// Element counts of every scratch buffer, in one place for create() and bytes_for().
struct ScratchSizes {
  size_t x, h, q, k, v, attn, gate, up;                                   // floats
  size_t router, chosen, chosen_w, rows, rows_w, offsets, xe, ye, probs;  // MoE
};

ScratchSizes scratch_sizes(const ModelHparams& hp, int64_t n_batch) {
  const auto sz = [n_batch](int64_t width) { return static_cast<size_t>(n_batch * width); };
  ScratchSizes z{};
  z.x = z.h = sz(hp.n_embd);
  z.q = sz(int64_t{hp.n_head} * hp.head_dim);
  z.k = sz(int64_t{hp.n_head_kv} * hp.head_dim);
  z.v = sz(int64_t{hp.n_head_kv} * hp.head_dim_v);
  z.attn = sz(int64_t{hp.n_head} * hp.head_dim_v);
  // MoE models may carry a dense feed_forward_length they never use: size by what runs.
  z.gate = z.up = sz(hp.is_moe() ? hp.n_ff_expert : hp.n_ff);
  if (hp.is_moe()) {
    const int64_t e = hp.n_expert;  // room for any --experts override up to all experts
    z.router = z.chosen = z.chosen_w = z.rows = z.rows_w = sz(e);
    z.offsets = static_cast<size_t>(e + 1);
    z.xe = z.ye = sz(hp.n_embd);
    z.probs = static_cast<size_t>(e);
  }
  return z;
}

}  // namespace

ForwardScratch ForwardScratch::create(const ModelHparams& hp, int64_t n_batch) {
  const ScratchSizes z = scratch_sizes(hp, n_batch);
  ForwardScratch s;
  s.n_batch = n_batch;
  s.x.resize(z.x);
  s.h.resize(z.h);
  s.q.resize(z.q);
  s.k.resize(z.k);
  s.v.resize(z.v);
  s.attn.resize(z.attn);
  s.gate.resize(z.gate);
  s.up.resize(z.up);
  s.router.resize(z.router);
  s.chosen.resize(z.chosen);
  s.chosen_w.resize(z.chosen_w);
  s.rows.resize(z.rows);
  s.rows_w.resize(z.rows_w);
  s.offsets.resize(z.offsets);
  s.xe.resize(z.xe);
  s.ye.resize(z.ye);
  s.probs.resize(z.probs);
  return s;
}

uint64_t ForwardScratch::bytes_for(const ModelHparams& hp, int64_t n_batch) {
  const ScratchSizes z = scratch_sizes(hp, n_batch);
  const size_t floats = z.x + z.h + z.q + z.k + z.v + z.attn + z.gate + z.up + z.router +
                        z.chosen_w + z.rows_w + z.xe + z.ye + z.probs;
  const size_t ints = z.chosen + z.rows + z.offsets;
  return floats * sizeof(float) + ints * sizeof(int32_t);
}

uint64_t ForwardScratch::bytes() const {
  uint64_t b = 0;
  for (const auto* v :
       {&x, &h, &q, &k, &v, &attn, &gate, &up, &router, &chosen_w, &rows_w, &xe, &ye, &probs}) {
    b += v->size() * sizeof(float);
  }
  for (const auto* v : {&chosen, &rows, &offsets}) b += v->size() * sizeof(int32_t);
  return b;
}

void ForwardScratch::release() {
  for (auto* buf :
       {&x, &h, &q, &k, &v, &attn, &gate, &up, &router, &chosen_w, &rows_w, &xe, &ye, &probs}) {
    release_pages(buf->data(), buf->size() * sizeof(float));
  }
  for (auto* buf : {&chosen, &rows, &offsets}) {
    release_pages(buf->data(), buf->size() * sizeof(int32_t));
  }
}

void forward_chunk(ForwardContext& ctx, const int32_t* tokens) {
  const ModelHparams& hp = ctx.model->hparams();
  LONGCTX_CHECK(ctx.n_tokens >= 1 && ctx.n_tokens <= ctx.s->n_batch);
  const SeqSlice one{ctx.kv, ctx.rope, ctx.pos0, 0, ctx.n_tokens};
  if (ctx.seqs.empty()) ctx.seqs = std::span<const SeqSlice>(&one, 1);
  int64_t rows = 0;
  for (const SeqSlice& sq : ctx.seqs) {
    LONGCTX_CHECK(sq.row0 == rows && sq.n_tokens >= 1);
    LONGCTX_CHECK(sq.pos0 >= 0 && sq.pos0 + sq.n_tokens <= sq.kv->n_ctx());
    rows += sq.n_tokens;
  }
  LONGCTX_CHECK(rows == ctx.n_tokens);
  const ModelWeights& w = ctx.model->weights();
  ctx.backend->get_rows(w.token_embd, tokens, ctx.n_tokens, ctx.s->x.data());
  for (int64_t il = 0; il < hp.n_layer; ++il) ctx.model->architecture().layer(ctx, il);
  for (const SeqSlice& sq : ctx.seqs) sq.kv->set_n_past(sq.pos0 + sq.n_tokens);
  if (ctx.seqs.data() == &one) ctx.seqs = {};  // not left pointing at this frame
  ctx.backend->rms_norm(ctx.s->x.data(), w.output_norm.data(), static_cast<float>(hp.rms_eps),
                        ctx.n_tokens, hp.n_embd, ctx.s->x.data());
}

void compute_logits(ForwardContext& ctx, int64_t row0, int64_t n_rows, float* logits) {
  const int64_t d = ctx.model->hparams().n_embd;
  LONGCTX_CHECK(row0 >= 0 && row0 + n_rows <= ctx.n_tokens);
  ctx.backend->matmul(ctx.model->weights().output, ctx.s->x.data() + row0 * d, n_rows, nullptr,
                      logits);
}

void compute_logits_rows(ForwardContext& ctx, const int64_t* rows, int64_t n_rows, float* logits) {
  const int64_t d = ctx.model->hparams().n_embd;
  LONGCTX_CHECK(n_rows >= 1 && n_rows <= ctx.n_tokens);
  float* h = ctx.s->h.data();
  for (int64_t i = 0; i < n_rows; ++i) {
    LONGCTX_CHECK(rows[i] >= 0 && rows[i] < ctx.n_tokens);
    std::copy_n(ctx.s->x.data() + rows[i] * d, d, h + i * d);
  }
  ctx.backend->matmul(ctx.model->weights().output, h, n_rows, nullptr, logits);
}

}  // namespace longctx
