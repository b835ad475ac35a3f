// Benchmark tests of a session: test lists, per-token costs, timed repetitions.
#include "runtime/bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "model/tensors.h"

namespace longctx {
namespace {

// Token ids of the timed parts: a fixed LCG sequence over the vocabulary, so every repetition
// and every run evaluates the same ids (kernel speed does not depend on them).
std::vector<int32_t> bench_tokens(int64_t n, int64_t n_vocab, uint32_t seed) {
  std::vector<int32_t> ids(static_cast<size_t>(n));
  uint32_t state = seed;
  for (int32_t& id : ids) {
    state = state * 1664525u + 1013904223u;
    id = static_cast<int32_t>((state >> 8) % static_cast<uint32_t>(n_vocab));
  }
  return ids;
}

// Runs the timed part of a test once on a session prepared at its depth: the prompt in one
// eval (chunked by n_batch inside), or n_gen single-token evals.
Status eval_timed_part(Session& session, const BenchTest& test, const std::vector<int32_t>& ids) {
  if (test.n_prompt > 0) {
    auto r = session.eval(std::span<const int32_t>(ids.data(), static_cast<size_t>(test.n_prompt)));
    if (!r) return r.status();
  }
  for (int64_t i = 0; i < test.n_gen; ++i) {
    auto r = session.eval(std::span<const int32_t>(ids.data() + test.n_prompt + i, 1));
    if (!r) return r.status();
  }
  return Status::ok();
}

Status fill_depth(Session& session, int64_t n_depth, DepthFill fill, int64_t n_vocab) {
  if (n_depth == 0) return Status::ok();
  if (fill == DepthFill::kSynthetic) return session.fill_synthetic(n_depth);
  const std::vector<int32_t> ids = bench_tokens(n_depth, n_vocab, 0xD1u);
  auto r = session.eval(ids);
  return r ? Status::ok() : r.status();
}

}  // namespace

std::string BenchTest::name() const {
  std::string s;
  if (n_prompt > 0) s = "pp" + std::to_string(n_prompt);
  if (n_gen > 0) s += (s.empty() ? "tg" : "+tg") + std::to_string(n_gen);
  if (n_seq > 1) s += " x" + std::to_string(n_seq);
  if (n_depth > 0) s += " @ d" + std::to_string(n_depth);
  return s;
}

Result<std::vector<BenchTest>> make_bench_tests(const std::vector<int64_t>& n_prompt,
                                                const std::vector<int64_t>& n_gen,
                                                const std::vector<int64_t>& n_depth,
                                                const std::vector<int64_t>& n_seq) {
  // 2^24 positions is the largest KV cache there is (kv/kv_cache.h); the bound also keeps the
  // sum of depth, prompt and generated tokens far from overflowing.
  constexpr int64_t kMax = int64_t{1} << 24;
  auto check = [](const std::vector<int64_t>& v, const char* flag) -> Status {
    for (int64_t x : v) {
      if (x < 0 || x > kMax) {
        return invalid_argument(std::string(flag) + " must be in 0.." + std::to_string(kMax) +
                                ", got " + std::to_string(x));
      }
    }
    return Status::ok();
  };
  LONGCTX_RETURN_IF_ERROR(check(n_prompt, "-p (prompt tokens)"));
  LONGCTX_RETURN_IF_ERROR(check(n_gen, "-n (generated tokens)"));
  LONGCTX_RETURN_IF_ERROR(check(n_depth, "-d (depth)"));
  for (int64_t x : n_seq) {
    if (x < 1 || x > 256) {
      return invalid_argument("--parallel (sequences) must be in 1..256, got " + std::to_string(x));
    }
  }
  std::vector<BenchTest> tests;
  for (int64_t p : n_prompt) {
    if (p == 0) continue;
    for (int64_t d : n_depth) tests.push_back({.n_prompt = p, .n_gen = 0, .n_depth = d});
  }
  for (int64_t n : n_gen) {
    if (n == 0) continue;
    for (int64_t q : n_seq) {
      for (int64_t d : n_depth) {
        tests.push_back({.n_prompt = 0, .n_gen = n, .n_depth = d, .n_seq = q});
      }
    }
  }
  if (tests.empty()) {
    return invalid_argument("nothing to measure: every -p and -n is 0 (or -d is empty)");
  }
  return tests;
}

const char* depth_fill_name(DepthFill f) {
  return f == DepthFill::kSynthetic ? "synthetic" : "prefill";
}

TokenCosts token_costs(const Model& model, int64_t n_expert_used, TensorType type_k,
                       TensorType type_v) {
  const ModelHparams& hp = model.hparams();
  const GgufFile& file = model.gguf();
  TokenCosts c;
  const bool moe = hp.is_moe();
  const uint64_t k =
      moe ? static_cast<uint64_t>(n_expert_used > 0 ? n_expert_used : hp.n_expert_used) : 1;
  for (const TensorDesc& d : model_tensors(hp)) {
    const GgufTensorInfo* t = file.find_tensor(d.name);
    LONGCTX_CHECK(t != nullptr);  // Model::load bound every tensor of the list
    const bool expert = d.role == TensorRole::kFfnGateExps || d.role == TensorRole::kFfnUpExps ||
                        d.role == TensorRole::kFfnDownExps;
    if (d.role == TensorRole::kTokenEmbd) {
      // Tied: the head multiplies with the whole table every token.
      c.weight_bytes += hp.tied_embeddings ? t->n_bytes : row_bytes(t->type, hp.n_embd);
    } else if (expert) {
      // Experts are stacked in one tensor of n_expert equal slices.
      c.weight_bytes += t->n_bytes / hp.n_expert * k;
      c.matmul_flops += 2 * t->n_elements / hp.n_expert * k;
    } else {
      c.weight_bytes += t->n_bytes;
      if (!d.is_norm_or_bias() && d.role != TensorRole::kOutput)
        c.matmul_flops += 2 * t->n_elements;
    }
  }
  c.head_flops = 2ull * hp.n_embd * hp.n_vocab;
  c.kv_bytes_per_position = model.summary().kv_bytes_per_token(type_k, type_v);
  c.attn_flops_per_position =
      2ull * hp.n_layer * hp.n_head * (uint64_t{hp.head_dim} + hp.head_dim_v);
  return c;
}

void mean_stddev(const std::vector<double>& v, double* mean, double* stddev) {
  double sum = 0;
  for (double x : v) sum += x;
  *mean = v.empty() ? 0 : sum / static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - *mean) * (x - *mean);
  *stddev = v.size() < 2 ? 0 : std::sqrt(ss / static_cast<double>(v.size() - 1));
}

Result<BenchResult> run_bench_test(Session& session, const BenchTest& test,
                                   const BenchOptions& options,
                                   const std::function<void(int, int)>& progress) {
  if (options.repetitions < 1) {
    return invalid_argument("repetitions (-r) must be >= 1, got " +
                            std::to_string(options.repetitions));
  }
  if (test.n_seq != 1) {
    return invalid_argument("test '" + test.name() +
                            "' decodes several sequences (run_bench_batch)");
  }
  if (test.n_prompt < 0 || test.n_gen < 0 || test.n_depth < 0 || test.n_prompt + test.n_gen == 0) {
    return invalid_argument("test '" + test.name() + "' has nothing to time");
  }
  if (test.positions() > session.n_ctx()) {
    return invalid_argument("test " + test.name() + " needs " + std::to_string(test.positions()) +
                            " positions (depth + prompt + generated) but the context holds " +
                            std::to_string(session.n_ctx()) + " (raise --ctx)");
  }
  const int64_t n_vocab = session.engine().hparams().n_vocab;
  const std::vector<int32_t> ids = bench_tokens(test.n_prompt + test.n_gen, n_vocab, 0x5EEDu);

  if (options.warmup) {
    // One token from an empty cache reads every active weight (faulting in the mapped pages)
    // and wakes the thread pool, which is what a warm-up is for; a whole prompt chunk would
    // cost as much as a repetition with the current kernels.
    session.reset();
    auto r = session.eval(std::span<const int32_t>(ids.data(), 1));
    if (!r) return r.status();
  }

  BenchResult res;
  res.test = test;
  std::vector<double> ns;
  for (int rep = 0; rep < options.repetitions; ++rep) {
    session.reset();
    LONGCTX_RETURN_IF_ERROR(fill_depth(session, test.n_depth, options.depth_fill, n_vocab));
    const auto t0 = std::chrono::steady_clock::now();
    LONGCTX_RETURN_IF_ERROR(eval_timed_part(session, test, ids));
    const auto t1 = std::chrono::steady_clock::now();
    // At least 1 ns, so a sample is always a positive rate.
    const uint64_t dt =
        std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
    res.samples_ns.push_back(dt);
    ns.push_back(static_cast<double>(dt));
    res.samples_ts.push_back(static_cast<double>(test.n_prompt + test.n_gen) * 1e9 /
                             static_cast<double>(dt));
    if (progress) progress(rep + 1, options.repetitions);
  }
  session.reset();
  mean_stddev(ns, &res.avg_ns, &res.stddev_ns);
  mean_stddev(res.samples_ts, &res.avg_ts, &res.stddev_ts);

  const KvCacheOptions& kvo = session.kv().options();
  const TokenCosts c =
      token_costs(session.engine().model(), session.expert_count(), kvo.type_k, kvo.type_v);
  const double d = static_cast<double>(test.n_depth);
  if (test.n_gen > 0 && test.n_prompt == 0) {
    // Step i (0-based) attends over d + i + 1 positions: on average d + (n + 1) / 2.
    const double positions = d + (static_cast<double>(test.n_gen) + 1) / 2;
    res.bytes_per_token = static_cast<double>(c.weight_bytes) +
                          static_cast<double>(c.kv_bytes_per_position) * positions;
    res.gbps = res.bytes_per_token * res.avg_ts / 1e9;
  }
  if (test.n_prompt > 0 && test.n_gen == 0) {
    // Prompt token i attends over d + i + 1 positions; the head runs once (last token).
    const double p = static_cast<double>(test.n_prompt);
    const double total = p * static_cast<double>(c.matmul_flops) +
                         static_cast<double>(c.head_flops) +
                         static_cast<double>(c.attn_flops_per_position) * (p * d + p * (p + 1) / 2);
    res.flops_per_token = total / p;
    res.gflops = res.flops_per_token * res.avg_ts / 1e9;
  }
  return res;
}

Result<BenchResult> run_bench_batch(std::span<Session* const> sessions, BatchRunner& runner,
                                    const BenchTest& test, const BenchOptions& options,
                                    const std::function<void(int, int)>& progress) {
  if (options.repetitions < 1) {
    return invalid_argument("repetitions (-r) must be >= 1, got " +
                            std::to_string(options.repetitions));
  }
  const auto n = static_cast<size_t>(test.n_seq);
  if (test.n_prompt != 0 || test.n_gen < 1 || test.n_depth < 0 || test.n_seq < 2 ||
      sessions.size() != n || test.n_seq > runner.max_seqs() || test.n_seq > runner.n_batch()) {
    return invalid_argument("test '" + test.name() + "' is not a batched decode test for " +
                            std::to_string(sessions.size()) + " sessions");
  }
  for (Session* s : sessions) {
    if (test.positions() > s->n_ctx()) {
      return invalid_argument("test " + test.name() + " needs " + std::to_string(test.positions()) +
                              " positions per sequence but the context holds " +
                              std::to_string(s->n_ctx()) + " (raise --ctx)");
    }
  }
  const int64_t n_vocab = sessions[0]->engine().hparams().n_vocab;
  // Each sequence its own ids (a rotation of one sequence), so rows differ within a step.
  const std::vector<int32_t> ids =
      bench_tokens(test.n_gen + static_cast<int64_t>(n), n_vocab, 0x5EEDu);
  std::vector<BatchItem> items(n);
  auto step = [&](int64_t i) {
    for (size_t q = 0; q < n; ++q) {
      items[q] = {sessions[q], std::span<const int32_t>(&ids[static_cast<size_t>(i) + q], 1)};
    }
    return runner.step(items);
  };
  if (options.warmup) {
    for (Session* s : sessions) s->reset();
    LONGCTX_RETURN_IF_ERROR(step(0));
  }
  BenchResult res;
  res.test = test;
  std::vector<double> ns;
  for (int rep = 0; rep < options.repetitions; ++rep) {
    for (Session* s : sessions) {
      s->reset();
      LONGCTX_RETURN_IF_ERROR(fill_depth(*s, test.n_depth, options.depth_fill, n_vocab));
    }
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < test.n_gen; ++i) LONGCTX_RETURN_IF_ERROR(step(i));
    const auto t1 = std::chrono::steady_clock::now();
    const uint64_t dt =
        std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
    res.samples_ns.push_back(dt);
    ns.push_back(static_cast<double>(dt));
    res.samples_ts.push_back(static_cast<double>(test.n_gen * test.n_seq) * 1e9 /
                             static_cast<double>(dt));
    if (progress) progress(rep + 1, options.repetitions);
  }
  for (Session* s : sessions) s->reset();
  mean_stddev(ns, &res.avg_ns, &res.stddev_ns);
  mean_stddev(res.samples_ts, &res.avg_ts, &res.stddev_ts);
  return res;
}

}  // namespace longctx
