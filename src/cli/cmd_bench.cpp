// `longctx bench -m FILE [-p 512] [-n 128] [-d 0,4096] [-r 3] [-o md|json] [--bw GB/s]`: prefill
// and decode speed in the manner of llama-bench (same test names and JSON fields, so its scripts
// read ours), with the bytes and FLOPs per token turned into achieved GB/s and GFLOP/s and the
// share of the measured memory-bandwidth limit.
#include <sys/resource.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/engine_args.h"
#include "core/bandwidth.h"
#include "core/system_memory.h"
#include "core/thread_pool.h"
#include "core/utc_time.h"
#include "kernels/cuda/cuda_api.h"
#include "model/forward_cuda.h"
#include "model/quant_preset.h"
#include "plan/planner.h"
#include "runtime/bench.h"
#include "runtime/speed_probe.h"

namespace longctx::cli {
namespace {

struct BenchArgs {
  EngineArgs engine;
  std::vector<int64_t> n_prompt{512}, n_gen{128}, n_depth{0}, n_seq{1};
  int repetitions = 3;
  std::string output = "md";
  std::string bw = "measured";
  int64_t bw_mib = 1024;
  std::string depth_fill = "synthetic";
  bool no_probe = false;
};

int fail(const std::string& msg) {
  std::fprintf(stderr, "longctx bench: %s\n", msg.c_str());
  return 1;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// "qwen3 0.6B Q8_0", as llama.cpp describes a model: architecture, size class, file type
// (millions below 0.1B, so test models do not read "0.0B").
std::string model_type(const Model& m) {
  const double n = static_cast<double>(m.n_params());
  std::string s =
      m.hparams().arch + " " + (n >= 1e8 ? fmt("%.1fB", n / 1e9) : fmt("%.0fM", n / 1e6));
  if (auto ft = m.gguf().get_uint("general.file_type")) {
    for (QuantPreset p : all_presets()) {
      if (preset_file_type(p) == *ft) return s + " " + preset_name(p);
    }
  }
  return s;
}

struct Limit {
  double gbps = 0;
  std::string how;      // "measured: ..." or "--bw"
  double end_gbps = 0;  // measured: the same probe after the tests (0: --bw given)
};

// Share by which the bandwidth read after the tests differs from the one before them above
// which bench warns: a shared host whose bandwidth moved during the run makes every share of
// the limit, and every prediction beside a measurement, unreliable.
constexpr double kBandwidthDriftWarn = 0.10;

Result<Limit> bandwidth_limit(const BenchArgs& a, int n_threads) {
  Limit l;
  if (a.bw != "measured") {
    size_t used = 0;
    try {
      l.gbps = std::stod(a.bw, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != a.bw.size() || !(l.gbps > 0) || l.gbps > 1e6) {
      return invalid_argument("--bw must be 'measured' or a bandwidth in GB/s > 0, got '" + a.bw +
                              "'");
    }
    l.how = "given with --bw";
    return l;
  }
  if (a.bw_mib < 1 || a.bw_mib > 1024) {
    return invalid_argument("--bw-size must be in 1..1024 MiB, got " + std::to_string(a.bw_mib));
  }
  if (a.engine.backend == "cuda") {
    // The GPU's own read probe (1 GiB: far beyond its L2), and the driver's peak beside it.
    auto devs = cuda::devices();
    if (!devs) return devs.status();
    auto bw = cuda::measure_read_bandwidth(0, 1ull << 30);
    if (!bw) return bw.status();
    l.gbps = *bw / 1e9;
    l.how = "measured: CUDA read probe of 1024 MiB on " + (*devs)[0].name + ", best of 5" +
            ((*devs)[0].peak_bandwidth > 0
                 ? fmt(" (driver peak %.0f GB/s", (*devs)[0].peak_bandwidth / 1e9) +
                       fmt(": %.0f%% of it)", 100 * *bw / (*devs)[0].peak_bandwidth)
                 : std::string());
    return l;
  }
  BandwidthOptions o;
  o.bytes = static_cast<uint64_t>(a.bw_mib) << 20;
  o.n_threads = n_threads;
  auto r = measure_read_bandwidth(o);
  if (!r) return r.status();
  l.gbps = r->gbps;
  l.how = "measured: STREAM-style read of " + std::to_string(r->bytes >> 20) + " MiB, " +
          std::to_string(r->n_threads) + " threads, best of " + std::to_string(r->repetitions);
  return l;
}

// One measured test with the cache types it ran on (bench sweeps K/V type lists).
struct Row {
  BenchResult result;
  std::string type_k, type_v;
  double plan_ts = 0;  // the planner's prediction from the measured rates (0: none)
};

struct Context {
  std::string model_filename, model_type, backend, depth_fill, test_time;
  bool show_types = false;  // more than one K/V pair, or not f16: type columns in the table
  uint64_t model_size = 0, n_params = 0;
  int n_threads = 0;
  int64_t n_batch = 0;
  Limit limit;
  // Memory: what the engine planned before the first token (weights + KV cache + the session's
  // compute buffers + the runtime: program, loaded tables, backend scratch) and the process's
  // peak resident set at the end (mapped weight pages count once touched).
  uint64_t weight_bytes = 0, kv_bytes = 0, compute_bytes = 0;
  Engine::RuntimeMemory runtime;
  uint64_t peak_rss_bytes = 0;
  // --backend cuda: device bytes planned (weights + the sessions' KV caches and activations)
  // and what the driver reports taken since before the engine was loaded (0: not a CUDA run).
  uint64_t gpu_weight_bytes = 0, gpu_session_bytes = 0, gpu_allocated_bytes = 0;
  uint64_t planned_bytes() const {
    return weight_bytes + kv_bytes + compute_bytes + runtime.total();
  }
};

uint64_t peak_rss_bytes() {
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return static_cast<uint64_t>(ru.ru_maxrss) * 1024;  // Linux reports KiB
}

void print_md(const Context& c, const std::vector<Row>& rows) {
  std::string kv;
  for (const Row& r : rows) {
    const std::string pair = r.type_k + "/" + r.type_v;
    if (kv.find(pair) == std::string::npos) kv += (kv.empty() ? "" : ", ") + pair;
  }
  std::printf("longctx bench: %s, %d threads, batch %lld, KV %s\n", c.model_filename.c_str(),
              c.n_threads, static_cast<long long>(c.n_batch), kv.c_str());
  if (c.depth_fill == "synthetic") {
    std::printf(
        "depth fill: synthetic (the first d KV positions hold synthetic values, no prefill; "
        "--depth-fill prefill for a real one)\n");
  } else {
    std::printf("depth fill: prefill (d tokens evaluated before each timed repetition)\n");
  }
  std::printf("bandwidth limit: %.1f GB/s (%s)\n\n", c.limit.gbps, c.limit.how.c_str());
  // As llama-bench: type_k / type_v columns only when they are not all the default.
  std::printf(
      "| model | size | params | backend | threads | %stest | t/s | GB/s | %% of limit | "
      "GFLOP/s | plan t/s | t/s / plan |\n"
      "| --- | ---: | ---: | --- | ---: | %s---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
      c.show_types ? "type_k | type_v | " : "", c.show_types ? "--- | --- | " : "");
  for (const Row& row : rows) {
    const BenchResult& r = row.result;
    const bool decode = r.gbps > 0;
    const std::string types = c.show_types ? row.type_k + " | " + row.type_v + " | " : "";
    std::printf("| %s | %s | %s | %s | %d | %s%s | %.2f ± %.2f | %s | %s | %s | %s | %s |\n",
                c.model_type.c_str(),
                fmt("%.2f MiB", static_cast<double>(c.model_size) / (1 << 20)).c_str(),
                fmt("%.2f M", static_cast<double>(c.n_params) / 1e6).c_str(), c.backend.c_str(),
                c.n_threads, types.c_str(), r.test.name().c_str(), r.avg_ts, r.stddev_ts,
                decode ? fmt("%.2f", r.gbps).c_str() : "",
                decode ? fmt("%.1f%%", 100 * r.gbps / c.limit.gbps).c_str() : "",
                r.gflops > 0 ? fmt("%.1f", r.gflops).c_str() : "",
                row.plan_ts > 0 ? fmt("%.2f", row.plan_ts).c_str() : "-",
                row.plan_ts > 0 ? fmt("%.0f%%", 100 * r.avg_ts / row.plan_ts).c_str() : "-");
  }
  auto mib = [](uint64_t b) { return static_cast<double>(b) / (1 << 20); };
  std::printf(
      "\nmemory: peak RSS %.1f MiB; planned %.1f MiB = weights %.1f + KV %.1f + compute %.1f + "
      "runtime %.1f (program %.1f, tokenizer and tables %.1f, backend scratch %.1f)\n",
      mib(c.peak_rss_bytes), mib(c.planned_bytes()), mib(c.weight_bytes), mib(c.kv_bytes),
      mib(c.compute_bytes), mib(c.runtime.total()), mib(c.runtime.program), mib(c.runtime.tables),
      mib(c.runtime.backend_scratch));
  if (c.gpu_weight_bytes > 0) {
    std::printf(
        "GPU memory: planned %.1f MiB = weights %.1f + sessions' KV and activations %.1f; "
        "allocated per the driver %.1f MiB\n",
        mib(c.gpu_weight_bytes + c.gpu_session_bytes), mib(c.gpu_weight_bytes),
        mib(c.gpu_session_bytes), mib(c.gpu_allocated_bytes));
  }
  if (c.limit.end_gbps > 0) {
    const double drift = c.limit.end_gbps / c.limit.gbps - 1;
    std::printf("bandwidth after the tests: %.1f GB/s (%+.0f%% from the start)%s\n",
                c.limit.end_gbps, 100 * drift,
                std::fabs(drift) > kBandwidthDriftWarn
                    ? ": the machine's bandwidth moved during the run (a shared host?), so "
                      "shares of the limit and the plan column are unreliable; run again"
                    : "");
  }
}

void print_json(const Context& c, const std::vector<Row>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const Row& row : rows) {
    const BenchResult& r = row.result;
    nlohmann::json j;
    j["build_commit"] = "longctx-0.1.0";
    j["build_number"] = 0;
    j["cpu_info"] = cpu_model_name();
    j["gpu_info"] = "";
    j["backends"] = c.backend;
    j["model_filename"] = c.model_filename;
    j["model_type"] = c.model_type;
    j["model_size"] = c.model_size;
    j["model_n_params"] = c.n_params;
    j["n_batch"] = c.n_batch;
    j["n_ubatch"] = c.n_batch;
    j["n_threads"] = c.n_threads;
    j["type_k"] = row.type_k;
    j["type_v"] = row.type_v;
    j["n_gpu_layers"] = 0;
    j["use_mmap"] = true;
    j["n_prompt"] = r.test.n_prompt;
    j["n_gen"] = r.test.n_gen;
    j["n_seq"] = r.test.n_seq;
    j["n_depth"] = r.test.n_depth;
    j["test_time"] = c.test_time;
    j["avg_ns"] = static_cast<uint64_t>(r.avg_ns);
    j["stddev_ns"] = static_cast<uint64_t>(r.stddev_ns);
    j["avg_ts"] = r.avg_ts;
    j["stddev_ts"] = r.stddev_ts;
    j["samples_ns"] = r.samples_ns;
    j["samples_ts"] = r.samples_ts;
    // Ours: achieved bandwidth (decode) or compute rate (prefill), the limit and the share.
    j["depth_fill"] = c.depth_fill;
    j["bytes_per_token"] = r.bytes_per_token;
    j["gbps"] = r.gbps;
    j["bw_limit_gbps"] = c.limit.gbps;
    if (c.limit.end_gbps > 0) j["bw_end_gbps"] = c.limit.end_gbps;
    j["bw_share"] = r.gbps / c.limit.gbps;
    j["flops_per_token"] = r.flops_per_token;
    j["gflops"] = r.gflops;
    j["planned_bytes"] = c.planned_bytes();
    j["planned_runtime_bytes"] = c.runtime.total();
    j["peak_rss_bytes"] = c.peak_rss_bytes;
    if (c.gpu_weight_bytes > 0) {
      j["gpu_planned_bytes"] = c.gpu_weight_bytes + c.gpu_session_bytes;
      j["gpu_allocated_bytes"] = c.gpu_allocated_bytes;
    }
    j["plan_ts"] = row.plan_ts;
    out.push_back(std::move(j));
  }
  std::printf("%s\n", out.dump(2).c_str());
}

int run(BenchArgs a) {
  if (a.output != "md" && a.output != "json") {
    return fail("-o must be md or json, got '" + a.output + "'");
  }
  if (a.repetitions < 1) return fail("-r must be >= 1, got " + std::to_string(a.repetitions));
  DepthFill fill;
  if (a.depth_fill == "synthetic") {
    fill = DepthFill::kSynthetic;
  } else if (a.depth_fill == "prefill") {
    fill = DepthFill::kPrefill;
  } else {
    return fail("--depth-fill must be synthetic or prefill, got '" + a.depth_fill + "'");
  }
  auto tests = make_bench_tests(a.n_prompt, a.n_gen, a.n_depth, a.n_seq);
  if (!tests) return fail(tests.status().message());
  // The context: what the largest test needs (as llama-bench sizes it), unless --ctx is given.
  int64_t needed = 0;
  for (const BenchTest& t : *tests) needed = std::max(needed, t.positions());
  if (a.engine.ctx == 0) {
    a.engine.ctx = needed;
  } else {
    for (const BenchTest& t : *tests) {
      if (t.positions() > a.engine.ctx) {
        return fail("test " + t.name() + " needs " + std::to_string(t.positions()) +
                    " positions (depth + prompt + generated) but --ctx is " +
                    std::to_string(a.engine.ctx) +
                    " (raise --ctx, or leave it out: bench sizes the context to its largest test)");
      }
    }
  }
  const int n_threads = a.engine.threads > 0 ? a.engine.threads : ThreadPool::default_threads();
  auto limit = bandwidth_limit(a, n_threads);
  if (!limit) return fail(limit.status().message());

  // K/V type pairs as llama-bench sweeps them: every -ctk type with every -ctv type; a list
  // given only with --kv-type pairs each type with itself.
  std::vector<std::pair<TensorType, TensorType>> pairs;
  {
    auto split = [](const std::string& s) {
      std::vector<std::string> out;
      size_t at = 0;
      while (at <= s.size()) {
        const size_t comma = std::min(s.find(',', at), s.size());
        out.push_back(s.substr(at, comma - at));
        at = comma + 1;
      }
      return out;
    };
    std::vector<TensorType> ks, vs;
    for (const std::string& n :
         split(a.engine.kv_type_k.empty() ? a.engine.kv_type : a.engine.kv_type_k)) {
      auto t = parse_kv_type(n);
      if (!t) return fail(t.status().message());
      ks.push_back(*t);
    }
    for (const std::string& n :
         split(a.engine.kv_type_v.empty() ? a.engine.kv_type : a.engine.kv_type_v)) {
      auto t = parse_kv_type(n);
      if (!t) return fail(t.status().message());
      vs.push_back(*t);
    }
    if (a.engine.kv_type_k.empty() && a.engine.kv_type_v.empty()) {
      for (TensorType t : ks) pairs.emplace_back(t, t);
    } else {
      for (TensorType k : ks) {
        for (TensorType v : vs) pairs.emplace_back(k, v);
      }
    }
  }

  // The device's memory in use before anything of this run is on it (CUDA runs).
  uint64_t gpu_before = 0;
  if (a.engine.backend == "cuda") {
    if (auto used = cuda::device_memory_in_use(0); used.is_ok()) gpu_before = *used;
  }
  auto engine_r = load_engine_only(a.engine);
  if (!engine_r) return fail(engine_r.status().message());
  Engine& engine = **engine_r;

  Context c;
  c.model_filename = a.engine.model;
  c.model_type = model_type(engine.model());
  c.model_size = engine.model().weight_bytes();
  c.n_params = engine.model().n_params();
  c.backend = engine.backend_description();
  c.n_threads = n_threads;
  c.depth_fill = depth_fill_name(fill);
  c.test_time = utc_now_iso8601();
  c.limit = *limit;
  c.show_types =
      pairs.size() > 1 || pairs[0].first != TensorType::F16 || pairs[0].second != TensorType::F16;

  BenchOptions bo;
  bo.repetitions = a.repetitions;
  bo.depth_fill = fill;
  std::vector<Row> rows;
  // The planner's model of this file, for its predictions beside each measurement.
  auto pm = plan_model_from_gguf(engine.model().gguf(), a.engine.model);
  std::vector<TensorType> weight_types;
  if (pm) {
    for (const TensorCost& t : pm->tensors) {
      if (t.matrix &&
          std::find(weight_types.begin(), weight_types.end(), t.type) == weight_types.end()) {
        weight_types.push_back(t.type);
      }
    }
  }
  for (const auto& [tk, tv] : pairs) {
    auto session_r = new_cli_session(engine, a.engine, tk, tv, "bench");
    if (!session_r) return fail(session_r.status().message());
    Session& session = **session_r;
    c.n_batch = session.n_batch();

    // Batched decode tests: the other sequences' sessions and the runner, made at the first
    // such test (each session holds a whole context of KV).
    std::vector<std::unique_ptr<Session>> others;
    std::vector<Session*> seqs{&session};
    std::optional<BatchRunner> runner;
    int64_t max_seq = 1;
    for (const BenchTest& t : *tests) max_seq = std::max(max_seq, t.n_seq);
    for (const BenchTest& t : *tests) {
      ProgressLine progress("bench " + t.name(), !a.engine.quiet);
      auto report = [&](int done, int total) {
        progress.update(static_cast<uint64_t>(done), static_cast<uint64_t>(total));
      };
      if (t.n_seq > 1 && !runner) {
        while (static_cast<int64_t>(seqs.size()) < max_seq) {
          auto s = new_cli_session(engine, a.engine, tk, tv, "bench");
          if (!s) return fail(s.status().message());
          others.push_back(std::move(s.value()));
          seqs.push_back(others.back().get());
        }
        auto rr = BatchRunner::create(engine, max_seq, max_seq);
        if (!rr) return fail(rr.status().message());
        runner.emplace(std::move(rr.value()));
      }
      auto r = t.n_seq > 1 ? run_bench_batch(std::span<Session* const>(
                                                 seqs.data(), static_cast<size_t>(t.n_seq)),
                                             *runner, t, bo, report)
                           : run_bench_test(session, t, bo, report);
      progress.finish();
      if (!r) return fail(t.name() + ": " + r.status().message());
      rows.push_back({std::move(r.value()), type_name(tk), type_name(tv), 0.0});
    }
    // Memory: the largest plan (this pair's sessions together, all of them alive at once for
    // batched tests; the batch runner's few rows of activations are not counted) against the
    // process's peak.
    uint64_t kv = 0, compute = 0, device = 0;
    for (const Session* s : seqs) {
      kv += s->kv().bytes();
      compute += s->compute_bytes();
      device += s->device_bytes();
    }
    if (engine.cuda_weights() && device >= c.gpu_session_bytes) {
      c.gpu_session_bytes = device;
      c.gpu_weight_bytes = engine.cuda_weights()->bytes();
      if (auto used = cuda::device_memory_in_use(0); used && *used > gpu_before) {
        c.gpu_allocated_bytes = *used - gpu_before;
      }
    }
    if (kv + compute >= c.kv_bytes + c.compute_bytes) {
      c.kv_bytes = kv;
      c.compute_bytes = compute;
      c.runtime = engine.runtime_memory(session.n_batch(), session.expert_count());
    }
  }
  c.weight_bytes = engine.model().weight_bytes();
  c.peak_rss_bytes = peak_rss_bytes();
  if (a.bw == "measured") {  // the same probe again: did the machine hold still?
    if (auto end = bandwidth_limit(a, n_threads)) c.limit.end_gbps = end->gbps;
  }
  // The planner's predictions, from rates probed after the peak was read (the probe's buffers
  // are not part of a run): per K/V pair, the same formulas `plan` uses (docs/PLAN.md).
  if (pm && !a.no_probe && std::string(engine.backend_name()) == "cpu") {
    for (const auto& [tk, tv] : pairs) {
      SpeedProbeOptions po;
      po.n_batch = c.n_batch;
      po.n_threads = n_threads;
      // Rates of this run's machine state (a shared host's bandwidth drifts), probed afresh for
      // the first K/V pair and cached, so the other pairs reuse the weights' figures.
      po.refresh = tk == pairs[0].first && tv == pairs[0].second;
      // A bandwidth given with --bw stands for every stream, as in `plan --bw`.
      const double given_bw = a.bw == "measured" ? 0.0 : c.limit.gbps * 1e9;
      auto speed =
          probe_cpu_speed(engine.backend(), engine.hparams(), weight_types, tk, tv, given_bw, po);
      if (!speed) {
        std::fprintf(stderr, "longctx bench: warning: speed probe: %s\n",
                     speed.status().message().c_str());
        break;
      }
      const KvTypes kv{tk, tv};
      const int64_t k =
          engine.hparams().is_moe()
              ? (a.engine.experts ? *a.engine.experts : engine.hparams().n_expert_used)
              : 0;
      for (Row& row : rows) {
        if (row.type_k != type_name(tk) || row.type_v != type_name(tv)) continue;
        const BenchTest& t = row.result.test;
        if (t.n_seq > 1) continue;  // the planner models one sequence
        row.plan_ts = t.n_prompt > 0
                          ? predict_prefill_tps(*pm, kv, k, t.n_prompt, t.n_depth, *speed)
                          : predict_decode_tps(
                                *pm, kv, k, double(t.n_depth) + (double(t.n_gen) + 1) / 2, *speed);
      }
    }
  }
  if (a.output == "md") {
    print_md(c, rows);
  } else {
    print_json(c, rows);
  }
  return 0;
}

}  // namespace

CommandFn add_bench_command(CLI::App& app) {
  auto a = std::make_shared<BenchArgs>();
  add_engine_options(app, &a->engine);
  app.add_option("-p,--n-prompt", a->n_prompt,
                 "Prompt sizes of the prefill tests (pp), e.g. 512,1024")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("-n,--n-gen", a->n_gen, "Token counts of the decode tests (tg), e.g. 128")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("-d,--n-depth", a->n_depth,
                 "Depths: KV positions already filled before each test, e.g. 0,4096")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--parallel", a->n_seq,
                 "Sequence counts of the decode tests: N > 1 decodes N sequences together, one "
                 "forward pass per step (tg128 x4), e.g. 1,4")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("-r,--repetitions", a->repetitions, "Timed repetitions per test")
      ->capture_default_str();
  app.add_option("-o,--output", a->output, "Output format: md or json")->capture_default_str();
  app.add_option("--bw", a->bw,
                 "Memory-bandwidth limit in GB/s for '% of limit', or 'measured' (a read probe)")
      ->capture_default_str();
  app.add_option("--bw-size", a->bw_mib, "Buffer of the bandwidth probe in MiB (1..1024)")
      ->capture_default_str();
  app.add_option("--depth-fill", a->depth_fill,
                 "How the depth is filled: synthetic (K/V values written directly, fast) or "
                 "prefill (a real untimed prefill, as llama-bench does)")
      ->capture_default_str();
  app.add_flag("--no-probe", a->no_probe,
               "No speed probe: leave out the planner's predictions (the plan t/s column)");
  return [a] { return run(*a); };
}

}  // namespace longctx::cli
