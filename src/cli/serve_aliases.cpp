// llama-server's spellings for `longctx serve` (see serve_aliases.h).
#include "cli/serve_aliases.h"

#include <CLI/CLI.hpp>

#include <cstdio>

#include <deque>
#include "chat/builtin_templates.h"
#include "core/file_io.h"

namespace longctx::cli {
namespace {

// Flags and options accepted without effect, and why they cannot matter here.
struct Ignored {
  const char* names;
  bool takes_value;
  const char* why;
};
constexpr Ignored kIgnored[] = {
    {"--flash-attn", true, "attention is always fused (flash-style)"},
    {"--n-gpu-layers,--gpu-layers", true, "this build runs on the CPU"},
    {"--ubatch-size", true, "the physical batch is --batch"},
    {"--threads-batch", true, "prefill uses --threads"},
    {"--cont-batching", false, "continuous batching is always on"},
    {"--no-cont-batching", false, "continuous batching is always on"},
    {"--metrics", false, "/metrics is always served"},
    {"--slots", false, "/slots is served unless --no-slots"},
    {"--props", false, "/props is always served"},
    {"--jinja", false, "the model's own Jinja chat template is always used"},
    {"--no-jinja", false, "the model's own Jinja chat template is always used"},
    {"--no-kv-unified", false, "each sequence has its own cache of --ctx tokens"},
    {"--cache-idle-slots", false, "idle sequences keep their cache (spilled to --session-dir)"},
    {"--no-cache-idle-slots", false, "idle sequences keep their cache (spilled to --session-dir)"},
    {"--backend-sampling,--backend_sampling", false, "sampling always runs on the CPU"},
    {"--webui", false, "the web UI is served unless --no-ui"},
    {"--reasoning-format", true, "Qwen3 thinking is always returned as reasoning_content"},
    {"--reasoning-budget", true, "thinking has no separate budget here"},
    {"--log-disable", false, "the server logs only start-up and errors"},
    {"--verbosity", true, "no verbose log"},
    {"--no-mmap", false, "weights are placed in memory at load"},
    {"--mlock", false, "weights are placed in memory at load"},
    {"--numa", true, "no NUMA placement"},
    {"--no-warmup", false, "there is no warm-up run"},
    {"--warmup", false, "there is no warm-up run"},
    {"--swa-full", false, "Qwen3 has no sliding-window attention"},
    {"--cache-reuse", true, "prefix reuse is always on"},
    {"--cache-ram", true, "idle states spill to --session-dir instead"},
    {"--offline", false, "nothing is ever downloaded"},
    {"--no-perf", false, "timings are always reported"},
    {"--prio", true, "threads run at normal priority"},
    {"--poll", true, "threads wait without polling"},
    {"--cpu-moe", false, "experts always run on the CPU in this build"},
    {"--n-cpu-moe", true, "experts always run on the CPU in this build"},
    {"--device", true, "this build runs on the CPU"},
    {"--split-mode", true, "this build runs on the CPU"},
    {"--main-gpu", true, "this build runs on the CPU"},
    {"--tensor-split", true, "this build runs on the CPU"},
    {"--slot-prompt-similarity", true, "the sequence with the longest common prefix is chosen"},
};

// Options naming a feature longctx does not have: a clear error.
constexpr Ignored kRefused[] = {
    {"--hf-repo", true, "downloads are not supported: pass a local GGUF with -m"},
    {"--hf-file", true, "downloads are not supported: pass a local GGUF with -m"},
    {"--model-url", true, "downloads are not supported: pass a local GGUF with -m"},
    {"--lora", true, "LoRA adapters are not supported"},
    {"--model-draft", true, "speculative decoding is not supported"},
    {"--spec-type", true, "speculative decoding is not supported"},
    {"--grp-attn-n", true, "self-extend is not supported (use --rope-scaling)"},
    {"--mmproj", true, "vision models are not supported"},
    {"--mmproj-url", true, "vision models are not supported"},
    {"--embedding,--embeddings", false, "embeddings are not served yet"},
    {"--reranking,--rerank", false, "reranking is not supported"},
    {"--infill", false, "infill is not supported"},
};

}  // namespace

void add_llama_server_options(CLI::App& app, LlamaServerArgs* a) {
  app.add_option("--ctx-size", a->ctx_size,
                 "llama-server's total context, split over --parallel (each sequence gets "
                 "ctx-size / parallel); --ctx is per sequence");
  app.add_flag("--kv-unified", a->kv_unified,
               "With -c/--ctx-size: every sequence may reach the whole context (as llama-server's "
               "shared cache allows); here each gets its own cache of that size");
  app.add_option("--batch-size", a->batch_size, "llama-server's spelling of --batch");
  app.add_option("--slot-save-path", a->slot_save_path, "llama-server's spelling of --session-dir");
  app.add_flag("--no-slots", a->no_slots, "Do not answer GET /slots (501)");
  app.add_flag("--context-shift", a->context_shift, "llama-server's spelling of --on-full shift");
  app.add_flag("--no-context-shift", a->no_context_shift,
               "llama-server's spelling of --on-full stop");
  app.add_flag("--no-webui", a->no_webui, "llama-server's spelling of --no-ui");
  app.add_flag("--verbose", a->verbose, "Answers carry llama-server's __verbose object");
  app.add_option("--tags", a->tags, "Tags /v1/models lists for the model (comma-separated)")
      ->delimiter(',');
  app.add_option("--chat-template-file", a->chat_template_file,
                 "A Jinja chat template to use instead of the model's own");
  app.add_option("--chat-template", a->chat_template,
                 "The chat template's text instead of the model's own, or a built-in "
                 "format's name (chatml, llama3, gemma, ...: docs/SERVER.md)");
  app.add_option("--reasoning", a->reasoning,
                 "Requests' default for thinking: on, off or auto (the template's default)");
  // A deque: the values' addresses stay put as options are added.
  static std::deque<std::string> storage;
  auto add = [&](const Ignored& i, std::vector<LlamaServerArgs::Noted>* into, const char* group) {
    CLI::Option* o = nullptr;
    if (i.takes_value) {
      storage.emplace_back();
      o = app.add_option(i.names, storage.back(), std::string(group) + ": " + i.why);
      o->expected(0, 1);  // --flash-attn was once a flag, now takes on|off|auto
    } else {
      o = app.add_flag(std::string(i.names))->description(std::string(group) + ": " + i.why);
    }
    o->group("llama-server compatibility");
    into->push_back({o, i.why});
  };
  for (const Ignored& i : kIgnored) add(i, &a->noted, "accepted, no effect");
  for (const Ignored& i : kRefused) add(i, &a->refused, "not supported");
}

Result<std::string> chat_template_override(const LlamaServerArgs& l) {
  if (l.chat_template_file) {
    auto bytes = read_file(*l.chat_template_file);
    if (!bytes) return bytes.status();
    return std::string(bytes->begin(), bytes->end());
  }
  if (!l.chat_template) return std::string();
  const std::string& t = *l.chat_template;
  if (t.find("{%") != std::string::npos || t.find("{{") != std::string::npos) return t;
  if (auto named = chat::builtin_chat_template(t)) return *named;
  return invalid_argument("--chat-template '" + t +
                          "': not a Jinja template nor a built-in name (" +
                          chat::builtin_chat_template_names() +
                          "); give the template's text, or a file with --chat-template-file");
}

Status apply_llama_server_args(const LlamaServerArgs& l, EngineArgs* engine, int64_t* parallel,
                               int* http_threads, bool* no_ui, std::string* session_dir,
                               std::string* on_full) {
  (void)http_threads;
  for (const auto& r : l.refused) {
    if (r.opt->count() > 0) return invalid_argument(r.opt->get_name() + ": " + r.why);
  }
  for (const auto& n : l.noted) {
    if (n.opt->count() > 0) {
      std::fprintf(stderr,
                   "longctx serve: note: %s is accepted for llama-server compatibility "
                   "and has no effect: %s\n",
                   n.opt->get_name().c_str(), n.why);
    }
  }
  if (l.ctx_size) {
    if (engine->ctx > 0)
      return invalid_argument(
          "give either --ctx (per sequence) or "
          "-c/--ctx-size (the total), not both");
    if (*l.ctx_size < 0) return invalid_argument("--ctx-size must be >= 0");
    // 0: the model's own context for each sequence (as llama-server reads it from the model).
    if (*l.ctx_size > 0) {
      // --kv-unified: llama-server's sequences share one cache of -c cells, so any of them may
      // grow to -c tokens while the others are short. Cells here are not shared: each sequence
      // gets -c of its own (planned, so a total that does not fit is refused, not shrunk).
      const int64_t per =
          l.kv_unified ? *l.ctx_size : *l.ctx_size / std::max<int64_t>(1, *parallel);
      if (per < 1) {
        return invalid_argument("--ctx-size " + std::to_string(*l.ctx_size) + " split over " +
                                std::to_string(*parallel) + " sequences leaves none");
      }
      engine->ctx = per;
    }
  }
  if (l.batch_size) engine->batch = *l.batch_size;
  if (l.slot_save_path) {
    if (!session_dir->empty() && *session_dir != *l.slot_save_path) {
      return invalid_argument("--slot-save-path and --session-dir name different directories");
    }
    *session_dir = *l.slot_save_path;
  }
  if (l.no_webui) *no_ui = true;
  if (l.context_shift && l.no_context_shift) {
    return invalid_argument("--context-shift and --no-context-shift contradict each other");
  }
  if (l.reasoning && *l.reasoning != "on" && *l.reasoning != "off" && *l.reasoning != "auto") {
    return invalid_argument("--reasoning must be on, off or auto, got '" + *l.reasoning + "'");
  }
  if (l.chat_template && l.chat_template_file) {
    return invalid_argument("give either --chat-template or --chat-template-file, not both");
  }
  if (l.context_shift) *on_full = "shift";
  if (l.no_context_shift) *on_full = "stop";
  return Status::ok();
}

void rewrite_serve_aliases(std::vector<std::string>* args) {
  if (args->empty() || (*args)[0] != "serve") return;
  static const std::pair<const char*, const char*> kMap[] = {
      {"-c", "--ctx-size"},
      {"-np", "--parallel"},
      {"-fa", "--flash-attn"},
      {"-ngl", "--n-gpu-layers"},
      {"-ub", "--ubatch-size"},
      {"-cb", "--cont-batching"},
      {"-nocb", "--no-cont-batching"},
      {"-kvu", "--kv-unified"},
      {"-to", "--timeout"},
      {"-lv", "--verbosity"},
      {"-hf", "--hf-repo"},
      {"-hfr", "--hf-repo"},
      {"-hff", "--hf-file"},
      {"-mu", "--model-url"},
      {"-dev", "--device"},
      {"-sm", "--split-mode"},
      {"-mg", "--main-gpu"},
      {"-ts", "--tensor-split"},
      {"-ncmoe", "--n-cpu-moe"},
      {"-cmoe", "--cpu-moe"},
      {"-md", "--model-draft"},
      {"-tb", "--threads-batch"},
      {"-v", "--verbose"},
      {"-b", "--batch-size"},
      {"-rea", "--reasoning-format"},
      {"-sps", "--slot-prompt-similarity"},
  };
  for (size_t i = 1; i < args->size(); ++i) {
    std::string& s = (*args)[i];
    for (const auto& [from, to] : kMap) {
      if (s == from) {
        s = to;
        break;
      }
    }
  }
}

}  // namespace longctx::cli
