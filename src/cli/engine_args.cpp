// Shared model-loading options and progress display of the CLI commands.
#include "cli/engine_args.h"

#include <unistd.h>
#include <CLI/CLI.hpp>

#include <cstdio>

#include "runtime/session.h"

namespace longctx::cli {

void add_engine_options(CLI::App& app, EngineArgs* a) {
  app.add_option("-m,--model", a->model, "GGUF model file")->required();
  app.add_option("--tokenizer", a->tokenizer,
                 "Hugging Face tokenizer directory (default: the GGUF's own)");
  app.add_option("-c,--ctx", a->ctx,
                 "Context size in tokens (default: the model's native context, at most 4096)");
  app.add_option("-b,--batch", a->batch, "Prompt tokens per forward pass")->capture_default_str();
  app.add_option("--kv-type", a->kv_type,
                 "KV cache type for K and V: f16, bf16, f32, q8_0, q4_0 (q8_0 halves the cache, "
                 "q4_0 quarters it)")
      ->capture_default_str();
  app.add_option("--kv-type-k,--cache-type-k", a->kv_type_k,
                 "KV cache type for K (overrides --kv-type; llama.cpp: -ctk)");
  app.add_option("--kv-type-v,--cache-type-v", a->kv_type_v,
                 "KV cache type for V (overrides --kv-type; llama.cpp: -ctv)");
  app.add_option("--kv-rotation", a->kv_rotation,
                 "Walsh-Hadamard rotation of the quantized halves of the KV cache: on, off "
                 "(spreads outlier channels; no effect on f16/bf16/f32)")
      ->capture_default_str();
  app.add_option("--rope-scaling", a->rope_scaling,
                 "RoPE scaling: none, linear, yarn (static), auto (length-adaptive YaRN: none up "
                 "to the original context, then the smallest factor 2, 3, 4, ... that covers the "
                 "sequence). Default: the model's metadata, or auto when --ctx exceeds the "
                 "native context and the file sets none");
  app.add_option("--rope-factor", a->rope_factor, "RoPE scaling factor");
  app.add_option("--rope-orig-ctx", a->rope_orig_ctx, "Original (pre-scaling) context for YaRN");
  app.add_option("--rope-freq-base", a->rope_freq_base, "RoPE frequency base (theta)");
  app.add_option("--experts", a->experts,
                 "MoE: experts per token, 1..n_expert (default: the model's)");
  app.add_option("-t,--threads", a->threads, "Threads (default: all cores)");
  app.add_option("--backend", a->backend,
                 "Kernel backend: auto (= cpu), cpu, ref, cuda (the whole model on the GPU; "
                 "CUDA builds)")
      ->capture_default_str();
  app.add_option("--isa", a->isa,
                 "cpu backend instruction set: auto, scalar, avx2, avx512 (default: "
                 "$LONGCTX_ISA, else the best this CPU runs)")
      ->capture_default_str();
  app.add_flag("--no-repack", a->no_repack,
               "Read every weight from the mapped file as stored (default: the weights are "
               "copied into huge-page memory, Q4_K and Q8_0 matrices rearranged for the AVX-512 "
               "kernels; also LONGCTX_REPACK=0)");
  app.add_flag("-q,--quiet", a->quiet, "No progress output");
}

Result<TensorType> parse_kv_type(const std::string& name) {
  auto t = parse_type_name(name);
  if (!t || !is_kv_cache_type(*t)) {
    return invalid_argument("KV cache type '" + name +
                            "' is not one of f16, bf16, f32, q8_0, q4_0");
  }
  return *t;
}

Result<std::pair<TensorType, TensorType>> kv_types(const EngineArgs& a) {
  auto tk = parse_kv_type(a.kv_type_k.empty() ? a.kv_type : a.kv_type_k);
  if (!tk) return tk.status();
  auto tv = parse_kv_type(a.kv_type_v.empty() ? a.kv_type : a.kv_type_v);
  if (!tv) return tv.status();
  return std::pair{*tk, *tv};
}

void rewrite_llama_aliases(std::vector<std::string>* args) {
  for (std::string& s : *args) {
    if (s == "-ctk") s = "--cache-type-k";
    if (s == "-ctv") s = "--cache-type-v";
  }
}

Result<std::unique_ptr<Engine>> load_engine_only(const EngineArgs& a) {
  EngineOptions eo;
  eo.model_path = a.model;
  eo.tokenizer_path = a.tokenizer;
  eo.backend = a.backend;
  eo.isa = a.isa;
  eo.n_threads = a.threads;
  eo.repack = !a.no_repack;
  if (!a.rope_scaling.empty()) {
    if (a.rope_scaling == "none") {
      eo.rope.type = RopeScalingType::kNone;
    } else if (a.rope_scaling == "linear") {
      eo.rope.type = RopeScalingType::kLinear;
    } else if (a.rope_scaling == "yarn") {
      eo.rope.type = RopeScalingType::kYarn;
    } else if (a.rope_scaling == "auto") {
      eo.rope.adaptive = true;
    } else {
      return invalid_argument("--rope-scaling must be none, linear, yarn or auto, got '" +
                              a.rope_scaling + "'");
    }
  }
  eo.rope.factor = a.rope_factor;
  eo.rope.orig_ctx = a.rope_orig_ctx;
  eo.rope.freq_base = a.rope_freq_base;
  if (a.ctx < 0) return invalid_argument("--ctx must be positive");
  if (a.threads < 0 || a.threads > 1024) {
    return invalid_argument("--threads must be in 0..1024 (0: all cores), got " +
                            std::to_string(a.threads));
  }
  if (a.kv_rotation != "on" && a.kv_rotation != "off") {
    return invalid_argument("--kv-rotation must be on or off, got '" + a.kv_rotation + "'");
  }
  if (a.experts && *a.experts < 1) {
    return invalid_argument("--experts must be at least 1, got " + std::to_string(*a.experts));
  }

  ProgressLine load_progress("loading", !a.quiet);
  ProgressLine repack_progress("placing weights in memory", !a.quiet);
  eo.progress = [&](size_t done, size_t total) { load_progress.update(done, total); };
  eo.repack_progress = [&](size_t done, size_t total) {
    load_progress.finish();
    repack_progress.update(done, total);
  };
  auto engine = Engine::load(eo);
  load_progress.finish();
  repack_progress.finish();
  return engine;
}

Result<std::unique_ptr<Session>> new_cli_session(Engine& e, const EngineArgs& a, TensorType type_k,
                                                 TensorType type_v, const char* command) {
  SessionOptions so;
  so.n_ctx = a.ctx;
  so.n_batch = a.batch;
  so.type_k = type_k;
  so.type_v = type_v;
  so.kv_rotation = a.kv_rotation != "off";
  so.n_expert_used = a.experts.value_or(0);
  auto session = e.new_session(so);
  if (!session) return session.status();
  const Session& s = **session;
  if (!a.quiet) {
    // What this run costs: weights, active parameters for the chosen expert count, KV cache.
    const ModelHparams& hp = e.hparams();
    const KvCacheOptions& kvo = s.kv().options();
    std::string line = "longctx " + std::string(command) + ": " + hp.arch + ", " +
                       std::to_string(hp.n_layer) + " layers, " +
                       std::to_string(e.model().n_params() / 1000000) + "M params in " +
                       std::to_string(e.model().weight_bytes() >> 20) + " MiB";
    if (hp.is_moe()) {
      line += ", " + std::to_string(s.expert_count()) + " of " + std::to_string(hp.n_expert) +
              " experts";
    }
    line += ": " + std::to_string(e.model().active_params(s.expert_count()) / 1000000) +
            "M active params/token; context " + std::to_string(s.n_ctx()) + ", KV " +
            type_name(kvo.type_k) + "/" + type_name(kvo.type_v) +
            (kvo.rotates_k() || kvo.rotates_v() ? " (rotated)" : "") + " " +
            std::to_string(s.kv().bytes() >> 20) + " MiB; backend " + e.backend_description() +
            (s.adaptive_rope() ? "; RoPE: adaptive YaRN past " +
                                     std::to_string(yarn_original_context(hp)) + " tokens"
                               : "") +
            "\n";
    std::fputs(line.c_str(), stderr);
  }
  if (!s.warning().empty()) {
    std::fprintf(stderr, "longctx %s: warning: %s\n", command, s.warning().c_str());
  }
  return session;
}

Result<LoadedEngine> load_engine(const EngineArgs& a, const char* command) {
  auto types = kv_types(a);
  if (!types) return types.status();
  auto engine = load_engine_only(a);
  if (!engine) return engine.status();
  auto session = new_cli_session(**engine, a, types->first, types->second, command);
  if (!session) return session.status();
  LoadedEngine out;
  out.engine = std::move(engine.value());
  out.session = std::move(session.value());
  return out;
}

ProgressLine::ProgressLine(std::string label, bool enabled)
    : label_(std::move(label)), enabled_(enabled && isatty(STDERR_FILENO)) {}

void ProgressLine::update(uint64_t done, uint64_t total) {
  if (!enabled_ || total == 0) return;
  const int pct = static_cast<int>(100 * done / total);
  if (pct == last_percent_) return;
  last_percent_ = pct;
  std::fprintf(stderr, "\r%s %3d%% (%llu/%llu)", label_.c_str(), pct,
               static_cast<unsigned long long>(done), static_cast<unsigned long long>(total));
  std::fflush(stderr);
}

void ProgressLine::finish() {
  if (!enabled_ || last_percent_ < 0) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  last_percent_ = -1;
}

}  // namespace longctx::cli
