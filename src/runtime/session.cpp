// Session: chunked evaluation of tokens into the KV cache and the logits that follow.
#include "runtime/session.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "core/large_buffer.h"
#include "kv/kv_ops.h"
#include "model/forward_cuda.h"

namespace longctx {
namespace {

// Rows of logits computed per matmul when every position's logits are wanted: enough to use
// the batched kernel, small enough that [rows][151936] stays at 9.7 MB.
constexpr int64_t kLogitRows = 16;

}  // namespace

Session::Session(Engine& engine, KvCache kv, ForwardScratch scratch, ref::RopeTable rope,
                 int64_t n_expert_used, std::string warning)
    : engine_(engine),
      kv_(std::move(kv)),
      scratch_(std::move(scratch)),
      rope_(std::move(rope)),
      n_expert_used_(n_expert_used),
      warning_(std::move(warning)) {
  const int64_t n_vocab = engine_.hparams().n_vocab;
  logit_rows_.resize(static_cast<size_t>(std::min(kLogitRows, scratch_.n_batch) * n_vocab));
  last_logits_.resize(static_cast<size_t>(n_vocab));
  tokens_.reserve(static_cast<size_t>(kv_.n_ctx()));
}

Session::~Session() = default;

void Session::attach_device(std::unique_ptr<CudaSequence> dev) {
  dev_ = std::move(dev);
  host_valid_ = 0;
}

uint64_t Session::device_bytes() const {
  return dev_ ? dev_->kv_bytes() + dev_->compute_bytes() : 0;
}

Status Session::sync_host_kv() const {
  if (!dev_ || host_valid_ >= n_past()) return Status::ok();
  LONGCTX_RETURN_IF_ERROR(dev_->pull(kv_, host_valid_, n_past()));
  host_valid_ = n_past();
  return Status::ok();
}

Status Session::push_kv(int64_t p0) {
  if (!dev_) return Status::ok();
  LONGCTX_RETURN_IF_ERROR(dev_->push(kv_, p0, n_past()));
  host_valid_ = n_past();
  return Status::ok();
}

// eval() on a CUDA engine: the same chunks, each a device forward pass; only the requested
// logits come back.
Result<bool> Session::eval_on_device(std::span<const int32_t> tokens, const EvalOptions& options) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  const int64_t n_vocab = engine_.hparams().n_vocab;
  const int64_t n_rows = static_cast<int64_t>(logit_rows_.size()) / n_vocab;
  for (int64_t done = 0; done < n;) {
    if (options.cancel && options.cancel->load(std::memory_order_relaxed)) return false;
    const int64_t m = std::min(scratch_.n_batch, n - done);
    const int64_t pos0 = n_past();
    const ref::RopeFrequencies& fr = rope_.frequencies();
    LONGCTX_RETURN_IF_ERROR(dev_->forward(tokens.data() + done, m, pos0, fr.inv_freq,
                                          fr.attention_factor, n_expert_used_));
    host_valid_ = std::min(host_valid_, pos0);  // the device wrote [pos0, pos0 + m)
    kv_.set_n_past(pos0 + m);
    tokens_.insert(tokens_.end(), tokens.begin() + done, tokens.begin() + done + m);
    const bool last_chunk = done + m == n;
    if (options.on_logits) {
      for (int64_t r0 = 0; r0 < m; r0 += n_rows) {
        const int64_t rows = std::min(n_rows, m - r0);
        LONGCTX_RETURN_IF_ERROR(dev_->logits(r0, rows, logit_rows_.data()));
        for (int64_t r = 0; r < rows; ++r) {
          options.on_logits(done + r0 + r, logit_rows_.data() + r * n_vocab);
        }
        if (last_chunk && r0 + rows == m) {
          std::memcpy(last_logits_.data(), logit_rows_.data() + (rows - 1) * n_vocab,
                      static_cast<size_t>(n_vocab) * sizeof(float));
        }
      }
    } else if (last_chunk) {
      LONGCTX_RETURN_IF_ERROR(dev_->logits(m - 1, 1, last_logits_.data()));
    }
    done += m;
    if (options.progress) options.progress(done, n);
  }
  return true;
}

double Session::adaptive_factor(int64_t n, int64_t orig_ctx) {
  if (orig_ctx <= 0 || n <= orig_ctx) return 1.0;
  return static_cast<double>((n + orig_ctx - 1) / orig_ctx);
}

ref::RopeParams Session::adaptive_params(double f) const {
  ref::RopeParams p = rope_params_;
  p.scaling = ref::RopeScaling{};
  if (f > 1.0) {
    p.scaling.type = ref::RopeScalingType::kYarn;
    p.scaling.factor = f;
    p.scaling.original_context = yarn_orig_;
  }
  return p;
}

Status Session::init_rope(const ref::RopeParams& params, bool adaptive, int64_t orig_ctx) {
  rope_params_ = params;
  adaptive_ = adaptive;
  yarn_orig_ = orig_ctx;
  if (adaptive) rope_params_ = adaptive_params(1.0);
  // The table follows the setting in both cases (a static setting other than the one the
  // session was created with, e.g. eval's --kl-base rope=yarn:F, must rotate with it).
  auto t = ref::RopeTable::build(rope_params_, rope_.capacity());
  if (!t) return t.status();
  rope_ = std::move(t.value());
  return Status::ok();
}

Status Session::set_rope_factor(double factor) {
  if (!adaptive_) return invalid_argument("the session's RoPE scaling is static");
  if (!(factor >= 1.0 && factor <= 1024.0)) {
    return invalid_argument("a RoPE factor must be in [1, 1024], got " + std::to_string(factor));
  }
  const ref::RopeParams p = adaptive_params(factor);
  auto t = ref::RopeTable::build(p, rope_.capacity());
  if (!t) return t.status();
  rope_ = std::move(t.value());
  rope_params_ = p;
  return Status::ok();
}

Status Session::prepare_rope(int64_t n_end) {
  if (!adaptive_) return Status::ok();
  const double f = adaptive_factor(n_end, yarn_orig_);
  const double cur =
      rope_params_.scaling.type == ref::RopeScalingType::kYarn ? rope_params_.scaling.factor : 1.0;
  if (f <= cur) return Status::ok();
  const ref::RopeParams next = adaptive_params(f);
  auto t = ref::RopeTable::build(next, rope_.capacity());
  if (!t) return t.status();
  LONGCTX_RETURN_IF_ERROR(sync_host_kv());
  LONGCTX_RETURN_IF_ERROR(kv_rerotate(kv_, rope_params_, next));
  LONGCTX_RETURN_IF_ERROR(push_kv(0));
  rope_ = std::move(t.value());
  rope_params_ = next;
  ++rope_steps_;
  return Status::ok();
}

uint64_t Session::compute_bytes() const {
  const uint64_t rope = 2ull * static_cast<uint64_t>(rope_.capacity() * (rope_.head_dim() / 2));
  return scratch_.bytes() + (logit_rows_.size() + last_logits_.size() + rope) * sizeof(float);
}

uint64_t Session::compute_bytes_for(const ModelHparams& hp, int64_t n_batch) {
  const uint64_t logit_rows = static_cast<uint64_t>(std::min(kLogitRows, n_batch)) * hp.n_vocab;
  const uint64_t rope = 2ull * static_cast<uint64_t>(n_batch) * (hp.head_dim / 2);  // cos + sin
  return ForwardScratch::bytes_for(hp, n_batch) + (logit_rows + hp.n_vocab + rope) * sizeof(float);
}

Status Session::check_append(std::span<const int32_t> tokens) const {
  const int64_t n = static_cast<int64_t>(tokens.size());
  const int64_t n_vocab = engine_.hparams().n_vocab;
  for (int64_t i = 0; i < n; ++i) {
    if (tokens[i] < 0 || tokens[i] >= n_vocab) {
      return invalid_argument("token id " + std::to_string(tokens[i]) + " at index " +
                              std::to_string(i) + " is outside the vocabulary [0, " +
                              std::to_string(n_vocab) + ")");
    }
  }
  if (n > n_ctx() - n_past()) {
    return invalid_argument(std::to_string(n) +
                            " tokens do not fit in the context: " + std::to_string(n_past()) +
                            " of " + std::to_string(n_ctx()) + " positions are used (raise --ctx)");
  }
  return Status::ok();
}

Result<bool> Session::eval(std::span<const int32_t> tokens, const EvalOptions& options) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  const int64_t n_vocab = engine_.hparams().n_vocab;
  if (n == 0) return true;
  LONGCTX_RETURN_IF_ERROR(check_append(tokens));
  // Adaptive YaRN: the factor that covers every position of this call, before any is evaluated.
  LONGCTX_RETURN_IF_ERROR(prepare_rope(n_past() + n));
  if (dev_) return eval_on_device(tokens, options);
  const int64_t n_rows = static_cast<int64_t>(logit_rows_.size()) / n_vocab;
  for (int64_t done = 0; done < n;) {
    if (options.cancel && options.cancel->load(std::memory_order_relaxed)) return false;
    const int64_t m = std::min(scratch_.n_batch, n - done);
    const int64_t pos0 = n_past();
    LONGCTX_RETURN_IF_ERROR(rope_.set_window(pos0, m));
    ForwardContext ctx;
    ctx.backend = &engine_.backend();
    ctx.model = &engine_.model();
    ctx.kv = &kv_;
    ctx.rope = &rope_;
    ctx.s = &scratch_;
    ctx.pos0 = pos0;
    ctx.n_tokens = m;
    ctx.n_expert_used = n_expert_used_;
    forward_chunk(ctx, tokens.data() + done);
    tokens_.insert(tokens_.end(), tokens.begin() + done, tokens.begin() + done + m);
    const bool last_chunk = done + m == n;
    if (options.on_logits) {
      for (int64_t r0 = 0; r0 < m; r0 += n_rows) {
        const int64_t rows = std::min(n_rows, m - r0);
        compute_logits(ctx, r0, rows, logit_rows_.data());
        for (int64_t r = 0; r < rows; ++r) {
          options.on_logits(done + r0 + r, logit_rows_.data() + r * n_vocab);
        }
        if (last_chunk && r0 + rows == m) {
          std::memcpy(last_logits_.data(), logit_rows_.data() + (rows - 1) * n_vocab,
                      static_cast<size_t>(n_vocab) * sizeof(float));
        }
      }
    } else if (last_chunk) {
      compute_logits(ctx, m - 1, 1, last_logits_.data());
    }
    done += m;
    if (options.progress) options.progress(done, n);
  }
  return true;
}

Result<SeqSlice> Session::begin_batch(std::span<const int32_t> tokens, int64_t row0) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (dev_) return invalid_argument("a CUDA session evaluates on its own (BatchRunner::step)");
  if (n < 1 || n > scratch_.n_batch) {
    return invalid_argument("a batched step appends 1.." + std::to_string(scratch_.n_batch) +
                            " tokens to a session, got " + std::to_string(n));
  }
  LONGCTX_RETURN_IF_ERROR(check_append(tokens));
  LONGCTX_RETURN_IF_ERROR(prepare_rope(n_past() + n));
  LONGCTX_RETURN_IF_ERROR(rope_.set_window(n_past(), n));
  return SeqSlice{&kv_, &rope_, n_past(), row0, n};
}

void Session::finish_batch(std::span<const int32_t> tokens, const float* logits) {
  LONGCTX_CHECK(kv_.n_past() == n_past() + static_cast<int64_t>(tokens.size()));
  tokens_.insert(tokens_.end(), tokens.begin(), tokens.end());
  std::memcpy(last_logits_.data(), logits, last_logits_.size() * sizeof(float));
}

Status Session::fill_synthetic(int64_t n) {
  if (n < 0 || n > n_ctx() - n_past()) {
    return invalid_argument("synthetic fill of " + std::to_string(n) +
                            " positions does not fit: " + std::to_string(n_past()) + " of " +
                            std::to_string(n_ctx()) + " positions are used (raise --ctx)");
  }
  LONGCTX_RETURN_IF_ERROR(prepare_rope(n_past() + n));  // a factor step happens before, untimed
  const KvShape& shape = kv_.shape();
  const int64_t k_row = shape.n_head_kv * shape.head_dim_k;
  const int64_t v_row = shape.n_head_kv * shape.head_dim_v;
  // One pattern chunk of kFillChunk positions, stored repeatedly: the values only need to be
  // finite and of a realistic magnitude (post-norm K and V are O(1)).
  constexpr int64_t kFillChunk = 64;
  const int64_t rows = std::min(kFillChunk, std::max<int64_t>(n, 1));
  std::vector<float> k(static_cast<size_t>(rows * k_row)), v(static_cast<size_t>(rows * v_row));
  uint32_t state = 0x12345678u;
  auto next = [&state] {
    state = state * 1664525u + 1013904223u;  // LCG (Numerical Recipes constants)
    return static_cast<float>(state >> 8) / static_cast<float>(1u << 23) - 1.0f;  // [-1, 1)
  };
  for (float& x : k) x = next();
  for (float& x : v) x = next();
  const int64_t pos0 = n_past();
  for (int64_t done = 0; done < n; done += rows) {
    const int64_t m = std::min(rows, n - done);
    for (int64_t il = 0; il < shape.n_layer; ++il) {
      kv_.store(il, pos0 + done, m, k.data(), v.data());
    }
  }
  LONGCTX_RETURN_IF_ERROR(sync_host_kv());  // [0, pos0) only: the stores above are past it
  kv_.set_n_past(pos0 + n);
  tokens_.insert(tokens_.end(), static_cast<size_t>(n), 0);
  return push_kv(pos0);
}

Status Session::set_expert_count(int64_t k) {
  const ModelHparams& hp = engine_.hparams();
  if (!hp.is_moe()) {
    if (k == 0) return Status::ok();
    return invalid_argument("expert count applies to MoE models only");
  }
  if (k < 1 || k > hp.n_expert) {
    return invalid_argument("experts per token must be in 1.." + std::to_string(hp.n_expert) +
                            ", got " + std::to_string(k));
  }
  n_expert_used_ = k;
  return Status::ok();
}

void Session::reset() {
  kv_.clear();
  host_valid_ = 0;
  tokens_.clear();
  snapshot_.n_tokens = -1;
  // An empty adaptive session starts again without scaling.
  if (adaptive_ && rope_params_.scaling.type != ref::RopeScalingType::kNone) {
    LONGCTX_CHECK(set_rope_factor(1.0).is_ok());  // a table of the size built before
  }
}

Status Session::release_memory() {
  if (dev_) return unsupported("a session on the GPU cannot release its memory");
  reset();
  kv_.release();
  scratch_.release();
  release_pages(logit_rows_.data(), logit_rows_.size() * sizeof(float));
  release_pages(last_logits_.data(), last_logits_.size() * sizeof(float));
  std::vector<float>().swap(snapshot_.logits);
  return Status::ok();
}

void Session::truncate(int64_t n) {
  if (n < 0) n = 0;
  if (n >= n_past()) return;
  kv_.truncate(n);
  host_valid_ = std::min(host_valid_, n);
  tokens_.resize(static_cast<size_t>(n));
  if (snapshot_.n_tokens > n) snapshot_.n_tokens = -1;
}

Status Session::remove(int64_t p0, int64_t p1) {
  LONGCTX_RETURN_IF_ERROR(sync_host_kv());
  LONGCTX_RETURN_IF_ERROR(kv_remove(kv_, p0, p1, rope_params_));
  tokens_.erase(tokens_.begin() + p0, tokens_.begin() + p1);
  if (snapshot_.n_tokens > p0) snapshot_.n_tokens = -1;
  return push_kv(p0);  // [p0, n) moved down and re-rotated
}

Status Session::restore(std::span<const int32_t> tokens, const float* logits) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  const int64_t n_vocab = engine_.hparams().n_vocab;
  if (n > n_ctx()) {
    return invalid_argument("a state of " + std::to_string(n) + " tokens does not fit in a " +
                            std::to_string(n_ctx()) + "-token context (raise --ctx)");
  }
  for (int64_t i = 0; i < n; ++i) {
    if (tokens[i] < 0 || tokens[i] >= n_vocab) {
      return invalid_argument("token id " + std::to_string(tokens[i]) + " at index " +
                              std::to_string(i) + " is outside the vocabulary");
    }
  }
  tokens_.assign(tokens.begin(), tokens.end());
  kv_.set_n_past(n);
  std::memcpy(last_logits_.data(), logits, static_cast<size_t>(n_vocab) * sizeof(float));
  snapshot_.n_tokens = -1;
  return push_kv(0);  // a state written into kv_cache() goes to the device
}

void Session::snapshot_logits() {
  snapshot_.n_tokens = n_past();
  snapshot_.logits.assign(last_logits_.begin(), last_logits_.end());
}

Status Session::set_snapshot(int64_t n_tokens, const float* logits) {
  if (n_tokens < 0 || n_tokens > n_past()) {
    return invalid_argument("a logits snapshot at " + std::to_string(n_tokens) +
                            " tokens lies outside the " + std::to_string(n_past()) + " held");
  }
  snapshot_.n_tokens = n_tokens;
  snapshot_.logits.assign(logits, logits + engine_.hparams().n_vocab);
  return Status::ok();
}

Status Session::copy_prefix_from(const Session& src, int64_t n) {
  if (&src == this) return invalid_argument("copy_prefix_from: a session cannot copy itself");
  if (&src.engine_ != &engine_) return invalid_argument("copy_prefix_from: another engine");
  if (n < 1 || n > src.n_past()) {
    return invalid_argument("copy_prefix_from: " + std::to_string(n) + " of " +
                            std::to_string(src.n_past()) + " tokens");
  }
  const float* logits = n == src.n_past()             ? src.logits()
                        : src.snapshot_.n_tokens == n ? src.snapshot_.logits.data()
                                                      : nullptr;
  if (!logits) return invalid_argument("copy_prefix_from: no logits known after that prefix");
  if (src.adaptive_ != adaptive_) {
    return invalid_argument("copy_prefix_from: the sessions' RoPE settings differ");
  }
  const KvCacheOptions &a = src.kv_.options(), &b = kv_.options();
  if (n > n_ctx() || a.type_k != b.type_k || a.type_v != b.type_v ||
      a.rotates_k() != b.rotates_k() || a.rotates_v() != b.rotates_v()) {
    return invalid_argument("copy_prefix_from: the caches differ in types, rotation or room");
  }
  reset();  // nothing below can fail on a valid pair
  if (adaptive_) {
    const double f = src.rope_params_.scaling.type == ref::RopeScalingType::kYarn
                         ? src.rope_params_.scaling.factor
                         : 1.0;
    LONGCTX_RETURN_IF_ERROR(set_rope_factor(f));
  }
  LONGCTX_RETURN_IF_ERROR(src.sync_host_kv());
  LONGCTX_RETURN_IF_ERROR(kv_copy(src.kv_, kv_, n));
  const std::span<const int32_t> toks(src.tokens_.data(), static_cast<size_t>(n));
  LONGCTX_RETURN_IF_ERROR(restore(toks, logits));
  return set_snapshot(n, logits);
}

bool Session::rewind_to_snapshot(int64_t n) {
  if (snapshot_.n_tokens != n || n > n_past() || n < 1) return false;
  kv_.truncate(n);
  host_valid_ = std::min(host_valid_, n);
  tokens_.resize(static_cast<size_t>(n));
  std::memcpy(last_logits_.data(), snapshot_.logits.data(), last_logits_.size() * sizeof(float));
  return true;
}

}  // namespace longctx
