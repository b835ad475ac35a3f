// `longctx eval -m FILE --text FILE [--ctx N] [--chunks K] [--kl-base CONFIG] [--kl-base-file F]`
// and `longctx eval -m FILE --passkey --depth 4k,16k`: the quality cost of a configuration on
// the user's own model — perplexity binned by position in the context, KL divergence against a
// baseline (another KV type, RoPE setting, expert count or GGUF), passkey retrieval; a table or
// -o json.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/engine_args.h"
#include "core/file_io.h"
#include "plan/planner.h"
#include "runtime/eval.h"
#include "runtime/session.h"

namespace longctx::cli {
namespace {

std::atomic<bool> g_cancel{false};
extern "C" void on_eval_sigint(int) { g_cancel.store(true); }

struct EvalArgs {
  EngineArgs engine;
  std::string text, kl_base, kl_base_file, output = "md";
  int64_t chunks = -1, lockstep = 64;
  int bins = 8;
  bool passkey = false;
  std::vector<std::string> depths;
  int trials = 4;
  uint64_t seed = 1;
};

int fail(const std::string& msg) {
  std::fprintf(stderr, "longctx eval: %s\n", msg.c_str());
  return 1;
}

// "4k" -> 4096, "32768" -> 32768.
Result<int64_t> parse_tokens(const std::string& s) {
  size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == s.size() - 1 && (s.back() == 'k' || s.back() == 'K')) {
    v *= 1024;
    ++used;
  }
  if (used != s.size() || v < 1 || v > (int64_t{1} << 24)) {
    return invalid_argument("'" + s + "' is not a token count (e.g. 4096 or 4k)");
  }
  return v;
}

// A baseline: settings "kv=T", "kv-k=T", "kv-v=T", "rotation=on|off", "rope=none|auto|yarn:F",
// "experts=N" (comma-separated) over the run's own, or the path of another GGUF.
struct BaseConfig {
  std::string gguf;
  EngineArgs args;
  std::string rope;  // "" = the run's
};

Result<BaseConfig> parse_base(const std::string& spec, const EngineArgs& run) {
  BaseConfig b;
  b.args = run;
  if (spec.find('=') == std::string::npos) {
    b.gguf = spec;
    b.args.model = spec;
    return b;
  }
  size_t at = 0;
  while (at <= spec.size()) {
    const size_t comma = std::min(spec.find(',', at), spec.size());
    const std::string item = spec.substr(at, comma - at);
    at = comma + 1;
    const size_t eq = item.find('=');
    if (eq == std::string::npos)
      return invalid_argument("--kl-base: '" + item + "' is not KEY=VALUE");
    const std::string k = item.substr(0, eq), v = item.substr(eq + 1);
    if (k == "kv") {
      b.args.kv_type = v;
      b.args.kv_type_k.clear();
      b.args.kv_type_v.clear();
    } else if (k == "kv-k") {
      b.args.kv_type_k = v;
    } else if (k == "kv-v") {
      b.args.kv_type_v = v;
    } else if (k == "rotation") {
      b.args.kv_rotation = v;
    } else if (k == "experts") {
      auto n = parse_tokens(v);
      if (!n) return n.status();
      b.args.experts = *n;
    } else if (k == "rope") {
      b.rope = v;
    } else {
      return invalid_argument("--kl-base: unknown setting '" + k +
                              "' (known: kv, kv-k, kv-v, rotation, rope, experts, or a GGUF path)");
    }
  }
  return b;
}

// The baseline session's RoPE: none, auto (adaptive), yarn:F (static over the model's original
// context), or the engine's own.
Status apply_rope(Session& s, const Engine& e, const std::string& rope) {
  if (rope.empty()) return Status::ok();
  ref::RopeParams p = e.rope_params();
  p.scaling = ref::RopeScaling{};
  const int64_t orig = yarn_original_context(e.hparams());
  if (rope == "none") return s.init_rope(p, false, 0);
  if (rope == "auto") return s.init_rope(p, true, orig);
  if (rope.rfind("yarn:", 0) == 0) {
    char* end = nullptr;
    const double f = std::strtod(rope.c_str() + 5, &end);
    if (end == rope.c_str() + 5 || *end != '\0' || !(f >= 1.0 && f <= 1024.0)) {
      return invalid_argument("--kl-base rope=yarn:F needs a factor F in [1, 1024]");
    }
    p.scaling.type = ref::RopeScalingType::kYarn;
    p.scaling.factor = f;
    p.scaling.original_context = orig;
    return s.init_rope(p, false, 0);
  }
  return invalid_argument("--kl-base rope= must be none, auto or yarn:F, got '" + rope + "'");
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

int run_passkey(const EvalArgs& a) {
  std::vector<int64_t> depths;
  for (const std::string& d : a.depths) {
    auto n = parse_tokens(d);
    if (!n) return fail(n.status().message());
    depths.push_back(*n);
  }
  if (depths.empty()) return fail("--passkey needs --depth, e.g. --depth 4k,16k");
  EngineArgs args = a.engine;
  if (args.ctx == 0) args.ctx = *std::max_element(depths.begin(), depths.end()) + 64;
  auto loaded = load_engine(args, "eval");
  if (!loaded) return fail(loaded.status().message());
  PasskeyOptions po;
  po.depths = depths;
  po.trials = a.trials;
  po.seed = a.seed;
  ProgressLine progress("passkey", !a.engine.quiet);
  po.progress = [&](int64_t d, int64_t t) { progress.update(d, t); };
  auto r = passkey(*loaded->session, po);
  progress.finish();
  if (!r) return fail(r.status().message());
  if (a.output == "json") {
    nlohmann::json j = nlohmann::json::array();
    for (const PasskeyDepth& d : *r) {
      j.push_back({{"depth", d.depth},
                   {"trials", d.trials},
                   {"found", d.found},
                   {"accuracy", double(d.found) / d.trials},
                   {"answers", d.answers}});
    }
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("| depth | trials | found | accuracy |\n| ---: | ---: | ---: | ---: |\n");
  for (const PasskeyDepth& d : *r) {
    std::printf("| %lld | %d | %d | %.0f%% |\n", static_cast<long long>(d.depth), d.trials, d.found,
                100.0 * d.found / d.trials);
  }
  return 0;
}

int run_eval(const EvalArgs& a) {
  if (a.output != "md" && a.output != "json") return fail("-o must be md or json");
  std::signal(SIGINT, on_eval_sigint);
  if (a.passkey) return run_passkey(a);
  if (a.text.empty()) return fail("give --text FILE (perplexity) or --passkey --depth ...");
  auto text = read_file(a.text);
  if (!text) return fail(text.status().message());
  EngineArgs args = a.engine;
  if (args.ctx == 0) args.ctx = 512;  // llama-perplexity's default chunk
  auto loaded = load_engine(args, "eval");
  if (!loaded) return fail(loaded.status().message());
  Engine& engine = *loaded->engine;
  if (!engine.tokenizer()) return fail("the model has no tokenizer; give --tokenizer DIR");
  const std::vector<int32_t> tokens = engine.tokenizer()->encode(*text, false);

  // The baseline: a second session (or engine) in lockstep, or rows read from a file.
  std::unique_ptr<Engine> base_engine;
  std::unique_ptr<Session> base_session;
  std::optional<BaselineFile> read, save;
  const bool file_exists = !a.kl_base_file.empty() && read_file(a.kl_base_file).is_ok();
  if (!a.kl_base.empty()) {
    auto cfg = parse_base(a.kl_base, args);
    if (!cfg) return fail(cfg.status().message());
    Engine* be = &engine;
    if (!cfg->gguf.empty()) {
      auto e = load_engine_only(cfg->args);
      if (!e) return fail("--kl-base " + cfg->gguf + ": " + e.status().message());
      base_engine = std::move(e.value());
      be = base_engine.get();
      if (be->hparams().n_vocab != engine.hparams().n_vocab) {
        return fail("--kl-base " + cfg->gguf + " has another vocabulary");
      }
    }
    auto types = kv_types(cfg->args);
    if (!types) return fail(types.status().message());
    EngineArgs quiet = cfg->args;
    quiet.quiet = true;
    auto s = new_cli_session(*be, quiet, types->first, types->second, "eval");
    if (!s) return fail("--kl-base: " + s.status().message());
    base_session = std::move(s.value());
    if (Status st = apply_rope(*base_session, *be, cfg->rope); !st.is_ok())
      return fail(st.message());
    if (!a.kl_base_file.empty()) {
      auto f = BaselineFile::create(a.kl_base_file, engine.hparams().n_vocab);
      if (!f) return fail(f.status().message());
      save.emplace(std::move(f.value()));
    }
  } else if (!a.kl_base_file.empty()) {
    if (!file_exists)
      return fail("--kl-base-file " + a.kl_base_file +
                  " does not exist (write it with --kl-base CONFIG first)");
    auto f = BaselineFile::open(a.kl_base_file, engine.hparams().n_vocab);
    if (!f) return fail(f.status().message());
    read.emplace(std::move(f.value()));
  }
  Baseline base;
  base.session = base_session.get();
  base.read = read ? &*read : nullptr;
  base.save = save ? &*save : nullptr;

  PerplexityOptions po;
  po.n_ctx = loaded->session->n_ctx();
  po.max_chunks = a.chunks;
  po.n_bins = a.bins;
  po.lockstep = a.lockstep;
  po.cancel = &g_cancel;
  ProgressLine progress("eval", !a.engine.quiet);
  po.progress = [&](int64_t d, int64_t t) { progress.update(d, t); };
  auto r = perplexity(*loaded->session, base, tokens, po);
  progress.finish();
  if (!r) return fail(r.status().message());
  if (save) {
    if (Status st = save->finish(); !st.is_ok()) return fail(st.message());
  }
  const Session& s = *loaded->session;
  if (a.output == "json") {
    nlohmann::json bins = nlohmann::json::array();
    for (const PositionBin& b : r->bins) {
      nlohmann::json j = {
          {"begin", b.begin}, {"end", b.end}, {"n", b.n}, {"nll", b.nll}, {"ppl", std::exp(b.nll)}};
      if (r->has_base) j["kl"] = b.kl;
      bins.push_back(j);
    }
    nlohmann::json j = {{"model", args.model},
                        {"text", a.text},
                        {"n_ctx", po.n_ctx},
                        {"n_chunks", r->n_chunks},
                        {"n_tokens", tokens.size()},
                        {"n_scored", r->n_scored},
                        {"ppl", r->ppl},
                        {"ppl_all_positions", r->ppl_all},
                        {"type_k", type_name(s.kv().options().type_k)},
                        {"type_v", type_name(s.kv().options().type_v)},
                        {"bins", bins}};
    if (r->has_base) {
      j["base"] = a.kl_base.empty() ? a.kl_base_file : a.kl_base;
      j["base_ppl"] = r->base_ppl;
      j["kl_mean"] = r->kl_mean;
      j["kl_p99"] = r->kl_p99;
      j["kl_max"] = r->kl_max;
      j["top1_agreement"] = r->top1;
    }
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("longctx eval: %s on %s: %lld chunks of %lld tokens (%zu in the text), KV %s/%s\n\n",
              args.model.c_str(), a.text.c_str(), static_cast<long long>(r->n_chunks),
              static_cast<long long>(po.n_ctx), tokens.size(), type_name(s.kv().options().type_k),
              type_name(s.kv().options().type_v));
  std::printf("| measure | value |\n| --- | ---: |\n");
  std::printf("| perplexity (second half of each chunk, as llama-perplexity) | %.4f |\n", r->ppl);
  std::printf("| perplexity (every position) | %.4f |\n", r->ppl_all);
  if (r->has_base) {
    std::printf("| baseline perplexity | %.4f |\n", r->base_ppl);
    std::printf("| KL divergence mean / p99 / max | %s / %s / %s |\n",
                fmt("%.6f", r->kl_mean).c_str(), fmt("%.6f", r->kl_p99).c_str(),
                fmt("%.6f", r->kl_max).c_str());
    std::printf("| top-1 agreement | %.2f%% |\n", 100.0 * r->top1);
  }
  std::printf("\n| positions | scored | perplexity |%s\n| --- | ---: | ---: |%s\n",
              r->has_base ? " KL mean |" : "", r->has_base ? " ---: |" : "");
  for (const PositionBin& b : r->bins) {
    std::printf("| %lld-%lld | %lld | %.4f |", static_cast<long long>(b.begin),
                static_cast<long long>(b.end - 1), static_cast<long long>(b.n), std::exp(b.nll));
    if (r->has_base) std::printf(" %.6f |", b.kl);
    std::printf("\n");
  }
  return 0;
}

}  // namespace

CommandFn add_eval_command(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  add_engine_options(app, &a->engine);
  app.add_option("--text", a->text, "Text file for perplexity (tokenized as plain text)");
  app.add_option("--chunks", a->chunks, "At most this many chunks of --ctx tokens (default: all)");
  app.add_option("--kl-base", a->kl_base,
                 "Baseline to compare every position with: kv=T, kv-k=T, kv-v=T, rotation=on|off, "
                 "rope=none|auto|yarn:F, experts=N (comma-separated), or another GGUF file");
  app.add_option("--kl-base-file", a->kl_base_file,
                 "With --kl-base: also write the baseline's log-probabilities here; without: read "
                 "them from here instead of running the baseline");
  app.add_option("--lockstep", a->lockstep,
                 "Tokens per step when the baseline runs beside (its log-probs are held)")
      ->capture_default_str();
  app.add_option("--bins", a->bins, "Position bins over the context")->capture_default_str();
  app.add_flag("--passkey", a->passkey, "Passkey (needle) retrieval instead of perplexity");
  app.add_option("--depth", a->depths, "Passkey haystack lengths, e.g. 4k,16k,32k")->delimiter(',');
  app.add_option("--trials", a->trials, "Needle positions per depth")->capture_default_str();
  app.add_option("--seed", a->seed, "Seed of the passkeys")->capture_default_str();
  app.add_option("-o,--output", a->output, "md or json")->capture_default_str();
  return [a] { return run_eval(*a); };
}

}  // namespace longctx::cli
