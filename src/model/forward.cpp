// The architecture registry, scratch sizing and the whole-model forward pass over one chunk.
#include "model/forward.h"

#include <algorithm>

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

ForwardScratch ForwardScratch::create(const ModelHparams& hp, int64_t n_batch) {
  ForwardScratch s;
  s.n_batch = n_batch;
  const auto sz = [n_batch](int64_t width) { return static_cast<size_t>(n_batch * width); };
  s.x.resize(sz(hp.n_embd));
  s.h.resize(sz(hp.n_embd));
  s.q.resize(sz(int64_t{hp.n_head} * hp.head_dim));
  s.k.resize(sz(int64_t{hp.n_head_kv} * hp.head_dim));
  s.v.resize(sz(int64_t{hp.n_head_kv} * hp.head_dim_v));
  s.attn.resize(sz(int64_t{hp.n_head} * hp.head_dim_v));
  const int64_t ff = std::max<int64_t>(hp.n_ff, hp.n_ff_expert);
  s.gate.resize(sz(ff));
  s.up.resize(sz(ff));
  if (hp.is_moe()) {
    const int64_t e = hp.n_expert;  // room for any --experts override up to all experts
    s.router.resize(sz(e));
    s.chosen.resize(sz(e));
    s.chosen_w.resize(sz(e));
    s.rows.resize(sz(e));
    s.rows_w.resize(sz(e));
    s.offsets.resize(static_cast<size_t>(e + 1));
    s.xe.resize(sz(hp.n_embd));
    s.ye.resize(sz(hp.n_embd));
    s.probs.resize(static_cast<size_t>(e));
  }
  return s;
}

uint64_t ForwardScratch::bytes() const {
  uint64_t b = 0;
  for (const auto* v : {&x, &h, &q, &k, &v, &attn, &gate, &up, &router, &chosen_w, &rows_w, &xe,
                        &ye, &probs}) {
    b += v->size() * sizeof(float);
  }
  for (const auto* v : {&chosen, &rows, &offsets}) b += v->size() * sizeof(int32_t);
  return b;
}

void forward_chunk(ForwardContext& ctx, const int32_t* tokens) {
  const ModelHparams& hp = ctx.model->hparams();
  LONGCTX_CHECK(ctx.n_tokens >= 1 && ctx.n_tokens <= ctx.s->n_batch);
  LONGCTX_CHECK(ctx.pos0 + ctx.n_tokens <= ctx.kv->n_ctx());
  const ModelWeights& w = ctx.model->weights();
  ctx.backend->get_rows(w.token_embd, tokens, ctx.n_tokens, ctx.s->x.data());
  for (int64_t il = 0; il < hp.n_layer; ++il) ctx.model->architecture().layer(ctx, il);
  ctx.kv->set_n_past(ctx.pos0 + ctx.n_tokens);
  ctx.backend->rms_norm(ctx.s->x.data(), w.output_norm.data(), static_cast<float>(hp.rms_eps),
                        ctx.n_tokens, hp.n_embd, ctx.s->x.data());
}

void compute_logits(ForwardContext& ctx, int64_t row0, int64_t n_rows, float* logits) {
  const int64_t d = ctx.model->hparams().n_embd;
  LONGCTX_CHECK(row0 >= 0 && row0 + n_rows <= ctx.n_tokens);
  ctx.backend->matmul(ctx.model->weights().output, ctx.s->x.data() + row0 * d, n_rows, nullptr,
                      logits);
}

}  // namespace longctx
