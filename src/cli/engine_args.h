// Command-line options shared by every command that loads a model (run, chat, later serve and
// bench): model, tokenizer, context, batch, KV types, RoPE overrides, experts, threads, backend,
// ISA.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "runtime/engine.h"

namespace CLI {
class App;
}

namespace longctx::cli {

struct EngineArgs {
  std::string model;
  std::string tokenizer;
  int64_t ctx = 0;
  int64_t batch = 512;
  std::string kv_type = "f16", kv_type_k, kv_type_v;
  std::string kv_rotation = "on";
  std::string rope_scaling;
  std::optional<double> rope_factor, rope_freq_base;
  std::optional<uint32_t> rope_orig_ctx;
  std::optional<int64_t> experts;  // unset: the model's expert_used_count
  int threads = 0;
  std::string backend = "auto";
  std::string isa = "auto";
  bool no_repack = false;
  bool quiet = false;  // no loading / prefill progress
};

// Registers the shared options on `app`, storing into *args.
void add_engine_options(CLI::App& app, EngineArgs* args);

// Loads the engine (progress on stderr unless quiet) and creates one session; warnings (e.g. a
// context beyond the native one) are printed to stderr prefixed with `command`.
struct LoadedEngine {
  std::unique_ptr<Engine> engine;
  std::unique_ptr<Session> session;
};
Result<LoadedEngine> load_engine(const EngineArgs& args, const char* command);

// The two halves of load_engine, for commands that make several sessions (bench sweeping KV
// types): the engine alone, and a session with the given cache types (and the line saying what
// the run costs unless quiet).
Result<std::unique_ptr<Engine>> load_engine_only(const EngineArgs& args);
Result<std::unique_ptr<Session>> new_cli_session(Engine& engine, const EngineArgs& args,
                                                 TensorType type_k, TensorType type_v,
                                                 const char* command);

// A KV cache type by name (f16, bf16, f32, q8_0, q4_0), and the K / V types the arguments name
// (--kv-type-k / --kv-type-v over --kv-type); errors list the accepted names.
Result<TensorType> parse_kv_type(const std::string& name);
Result<std::pair<TensorType, TensorType>> kv_types(const EngineArgs& args);

// llama.cpp spellings CLI11 cannot declare (one dash, several letters: -ctk, -ctv) rewritten
// to the long options that mean the same, in place; other arguments are left alone.
void rewrite_llama_aliases(std::vector<std::string>* args);

// A progress line on stderr ("\r<label> 42% (12/34)"), only when stderr is a terminal.
class ProgressLine {
 public:
  explicit ProgressLine(std::string label, bool enabled);
  void update(uint64_t done, uint64_t total);
  void finish();  // clears the line

 private:
  std::string label_;
  bool enabled_;
  int last_percent_ = -1;
};

}  // namespace longctx::cli
