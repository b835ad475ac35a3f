// BatchRunner: stacks several sessions' tokens into one forward pass (see batch.h).
#include "runtime/batch.h"

#include <algorithm>
#include <string>

#include "core/large_buffer.h"

namespace longctx {

BatchRunner::BatchRunner(Engine& engine, ForwardScratch scratch, int64_t max_seqs)
    : engine_(&engine), scratch_(std::move(scratch)), max_seqs_(max_seqs) {
  slices_.reserve(static_cast<size_t>(max_seqs));
  tokens_.reserve(static_cast<size_t>(scratch_.n_batch));
  last_row_.reserve(static_cast<size_t>(max_seqs));
  logits_.resize(static_cast<size_t>(max_seqs * engine.hparams().n_vocab));
}

Result<BatchRunner> BatchRunner::create(Engine& engine, int64_t n_batch, int64_t max_seqs) {
  if (n_batch < 1 || n_batch > 65536) {
    return invalid_argument("batch size must be in [1, 65536], got " + std::to_string(n_batch));
  }
  if (max_seqs < 1 || max_seqs > n_batch) {
    return invalid_argument("sequences per step must be in [1, " + std::to_string(n_batch) +
                            "], got " + std::to_string(max_seqs));
  }
  return BatchRunner(engine, ForwardScratch::create(engine.hparams(), n_batch), max_seqs);
}

Status BatchRunner::step(std::span<const BatchItem> items) {
  const int64_t n_items = static_cast<int64_t>(items.size());
  if (n_items < 1 || n_items > max_seqs_) {
    return invalid_argument("a batched step takes 1.." + std::to_string(max_seqs_) +
                            " sessions, got " + std::to_string(n_items));
  }
  int64_t rows = 0;
  for (int64_t i = 0; i < n_items; ++i) {
    const Session* s = items[i].session;
    if (s == nullptr || &s->engine() != engine_) {
      return invalid_argument("a batched step's sessions must belong to its engine");
    }
    for (int64_t j = 0; j < i; ++j) {
      if (items[j].session == s) return invalid_argument("a session appears twice in one step");
    }
    if (s->expert_count() != items[0].session->expert_count()) {
      return invalid_argument("the sessions of one step must use the same expert count");
    }
    rows += static_cast<int64_t>(items[i].tokens.size());
  }
  if (rows > scratch_.n_batch) {
    return invalid_argument(std::to_string(rows) + " tokens exceed the step's " +
                            std::to_string(scratch_.n_batch) + "-row batch");
  }
  // A CUDA engine: each session runs its tokens on the device by itself (batched decode of
  // several sequences on the GPU is not built yet), with the same checks and results.
  if (engine_->cuda_weights()) {
    // Every item checked before any runs, as below: a bad one leaves the others untouched.
    for (const BatchItem& it : items) LONGCTX_RETURN_IF_ERROR(it.session->check_append(it.tokens));
    for (const BatchItem& it : items) {
      auto r = it.session->eval(it.tokens);
      if (!r) return r.status();
    }
    return Status::ok();
  }
  // Each session checks its part and positions its RoPE window; only then is anything run.
  slices_.clear();
  tokens_.clear();
  last_row_.clear();
  for (const BatchItem& it : items) {
    auto slice = it.session->begin_batch(it.tokens, static_cast<int64_t>(tokens_.size()));
    if (!slice) return slice.status();
    slices_.push_back(*slice);
    tokens_.insert(tokens_.end(), it.tokens.begin(), it.tokens.end());
    last_row_.push_back(static_cast<int64_t>(tokens_.size()) - 1);
  }
  ForwardContext ctx;
  ctx.backend = &engine_->backend();
  ctx.model = &engine_->model();
  ctx.s = &scratch_;
  ctx.n_tokens = rows;
  ctx.n_expert_used = items[0].session->expert_count();
  ctx.seqs = slices_;
  forward_chunk(ctx, tokens_.data());
  // One product with the output matrix for every session's last row.
  compute_logits_rows(ctx, last_row_.data(), n_items, logits_.data());
  const int64_t n_vocab = engine_->hparams().n_vocab;
  for (int64_t i = 0; i < n_items; ++i) {
    items[i].session->finish_batch(items[i].tokens, logits_.data() + i * n_vocab);
  }
  return Status::ok();
}

void BatchRunner::release_memory() {
  scratch_.release();
  release_pages(logits_.data(), logits_.size() * sizeof(float));
}

}  // namespace longctx
