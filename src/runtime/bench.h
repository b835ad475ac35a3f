// Speed measurement of a session, as llama-bench does it: prefill tests (pp512: n_prompt tokens
// evaluated in chunks of n_batch) and decode tests (tg128: n_gen single-token steps), each
// optionally at a depth (the KV cache already holds n_depth positions), with repetitions; and
// batched decode (tg128 x4: n_seq sequences, each at the depth, decoding together in one forward
// pass per step, as the server's continuous batching does, llama-batched-bench's S_TG).
// Also what a token costs (bytes read, FLOPs), to turn times into GB/s and GFLOP/s.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "runtime/batch.h"
#include "runtime/session.h"

namespace longctx {

struct BenchTest {
  int64_t n_prompt = 0;  // > 0 for a prefill test
  int64_t n_gen = 0;     // > 0 for a decode test
  int64_t n_depth = 0;   // positions in the cache before the timed part
  int64_t n_seq = 1;     // decode tests: sequences stepped together (each n_gen tokens)
  // llama-bench's name: "pp512", "tg128", "pp512+tg128", " x4" for 4 sequences, with " @ d4096"
  // at depth.
  std::string name() const;
  int64_t positions() const { return n_depth + n_prompt + n_gen; }
};

// llama-bench's test list: every prompt size, then every generation size, each at every depth
// (zero sizes are skipped), each decode test once per sequence count of n_seq (1..256). Sizes
// and depths must be in 0..2^24.
Result<std::vector<BenchTest>> make_bench_tests(const std::vector<int64_t>& n_prompt,
                                                const std::vector<int64_t>& n_gen,
                                                const std::vector<int64_t>& n_depth,
                                                const std::vector<int64_t>& n_seq = {1});

enum class DepthFill {
  kSynthetic,  // Session::fill_synthetic: synthetic K/V, no model evaluation (the default)
  kPrefill,    // a real, untimed prefill of n_depth token ids (what llama-bench does)
};
const char* depth_fill_name(DepthFill f);

struct BenchOptions {
  int repetitions = 3;
  DepthFill depth_fill = DepthFill::kSynthetic;
  bool warmup = true;  // one untimed single-token evaluation before the repetitions
};

// What one token costs, from the model's tensor table, the experts per token and the KV types.
struct TokenCosts {
  // Decode: bytes of the weights one token reads. Every matrix and norm, the output head in
  // full, one row of token_embd (only the row of the token is gathered; all of it when tied,
  // since the head reads it), and k / n_expert of each routed-expert tensor (MoE).
  uint64_t weight_bytes = 0;
  uint64_t kv_bytes_per_position = 0;  // K + V of one position, all layers
  // FLOPs: 2 per multiply-add. Matrix products of one token except the head; the head (computed
  // for the last prompt token only in prefill); attention per query per cached position:
  // 2 x layers x heads x (head_dim_k + head_dim_v) (Q.K and the weighted sum of V).
  uint64_t matmul_flops = 0;
  uint64_t head_flops = 0;
  uint64_t attn_flops_per_position = 0;
};
TokenCosts token_costs(const Model& model, int64_t n_expert_used, TensorType type_k,
                       TensorType type_v);

struct BenchResult {
  BenchTest test;
  std::vector<uint64_t> samples_ns;  // one per repetition, timed part only
  std::vector<double> samples_ts;    // tokens / second per repetition
  double avg_ns = 0, stddev_ns = 0, avg_ts = 0, stddev_ts = 0;
  // Decode tests: bytes read per generated token (weights + the KV cache averaged over the
  // steps) and the achieved GB/s at avg_ts; 0 for prefill tests.
  double bytes_per_token = 0, gbps = 0;
  // Prefill tests: FLOPs per prompt token and achieved GFLOP/s at avg_ts; 0 for decode tests.
  double flops_per_token = 0, gflops = 0;
};

// Runs one test `repetitions` times. Each repetition starts from an empty cache (reset), fills
// the depth (untimed) and times the prompt or the decode steps. Token ids are a fixed
// pseudo-random sequence; decode feeds fixed ids (no sampling cost). The session needs
// n_ctx >= test.positions() (kInvalidArgument otherwise, suggesting --ctx). progress, when set,
// is called after each repetition with (done, total).
Result<BenchResult> run_bench_test(Session& session, const BenchTest& test,
                                   const BenchOptions& options,
                                   const std::function<void(int, int)>& progress = nullptr);

// A batched decode test (test.n_seq > 1): the sessions (test.n_seq distinct sessions of one
// engine, each with room for test.positions()) are reset and filled to the depth, then n_gen
// steps of the runner each append one token to every session. Rates count the tokens of all
// sequences; bytes_per_token and gbps stay 0 (what a step reads depends on how the sequences'
// rows share the weights, and for MoE on their experts).
Result<BenchResult> run_bench_batch(std::span<Session* const> sessions, BatchRunner& runner,
                                    const BenchTest& test, const BenchOptions& options,
                                    const std::function<void(int, int)>& progress = nullptr);

// Mean and sample standard deviation (n - 1 in the denominator; 0 for fewer than 2 values).
void mean_stddev(const std::vector<double>& v, double* mean, double* stddev);

}  // namespace longctx
