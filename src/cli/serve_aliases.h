// llama-server's command line, accepted by `longctx serve` so that a llama-server command works
// after changing the binary's name (docs/SERVER.md lists every spelling): options with a
// longctx meaning map to it (-c/--ctx-size is the total context split over -np, as there;
// --slot-save-path is --session-dir; --no-slots, --context-shift, --no-webui), options that
// cannot matter here are accepted with a one-line note, and options naming a feature longctx
// does not have (downloads, LoRA, draft models, embeddings) are a clear error. A chat template
// of one's own (--chat-template-file, --chat-template TEXT or chatml) and the default for
// thinking (--reasoning on|off|auto) are honoured.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/engine_args.h"
#include "core/status.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace longctx::cli {

struct LlamaServerArgs {
  std::optional<int64_t> ctx_size;  // -c / --ctx-size: all sequences together
  bool kv_unified = false;          // -kvu: -c is each sequence's, not split
  std::optional<int64_t> batch_size;
  std::optional<std::string> slot_save_path;
  bool no_slots = false;
  bool context_shift = false, no_context_shift = false;
  bool no_webui = false;
  bool verbose = false;
  std::vector<std::string> tags;
  std::optional<std::string> chat_template, chat_template_file;
  std::optional<std::string> reasoning;  // on | off | auto
  struct Noted {
    CLI::Option* opt;
    const char* why;
  };
  std::vector<Noted> noted;         // accepted, without effect here
  std::vector<Noted> refused;       // a feature longctx does not have
  std::vector<std::string> values;  // storage for the ignored options' values
};

void add_llama_server_options(CLI::App& app, LlamaServerArgs* args);

// Applies what was given: the per-sequence context from --ctx-size, --batch-size, the session
// directory, the UI and context-shift switches; prints one note per ignored option; an error
// for a refused one or for contradicting spellings (--ctx with --ctx-size).
Status apply_llama_server_args(const LlamaServerArgs& l, EngineArgs* engine, int64_t* parallel,
                               int* http_threads, bool* no_ui, std::string* session_dir,
                               std::string* on_full);

// The chat template --chat-template-file / --chat-template ask for ("" = the model's own).
Result<std::string> chat_template_override(const LlamaServerArgs& l);

// llama-server's multi-letter single-dash spellings (-np, -fa, -ngl, -ub, ...) and -c (the
// total context) spelled out as long options, for the arguments of `serve` only.
void rewrite_serve_aliases(std::vector<std::string>* args);

}  // namespace longctx::cli
