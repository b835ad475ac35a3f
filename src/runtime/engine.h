// The engine: a loaded model with its tokenizer, chat template, kernel backend and effective
// RoPE settings, shared by every session (the CLI's run/chat, the server, the memory loop).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "kernels/backend.h"
#include "model/model.h"
#include "model/model_identity.h"
#include "plan/planner.h"
#include "quant/types.h"
#include "tokenizer/tokenizer.h"

namespace longctx {

class Session;
class CudaWeights;

// Command-line overrides of the model's RoPE metadata (--rope-scaling, --rope-factor,
// --rope-orig-ctx, --rope-freq-base); unset fields keep the GGUF's values.
struct RopeOverrides {
  // --rope-scaling auto: length-adaptive YaRN (Session::rope_params) whatever the file says;
  // unset: adaptive when the file sets no scaling, none is given and --ctx exceeds the native
  // context.
  bool adaptive = false;
  std::optional<RopeScalingType> type;
  std::optional<double> factor;
  std::optional<uint32_t> orig_ctx;
  std::optional<double> freq_base;
};

struct EngineOptions {
  std::string model_path;
  std::string tokenizer_path;  // Hugging Face tokenizer dir/file; "" = the GGUF's own
  // "auto" / "cpu" / "ref" / "cpu-<isa>", or "cuda": the model's weights on the GPU and each
  // session's forward pass there (model/forward_cuda.h); "cuda" without a usable GPU is an error.
  std::string backend = "auto";
  std::string isa = "auto";  // cpu backend: auto, scalar, avx2, avx512
  int n_threads = 0;         // 0 = all cores
  // Copy the weights into huge-page memory and let the backend rearrange them for its kernels
  // (Model::place_weights); off also when the environment has LONGCTX_REPACK=0, or when the
  // weights exceed the memory available (the copies are memory the system cannot drop and
  // re-read from the file, as it can the file's own pages).
  bool repack = true;
  RopeOverrides rope;
  // Loading progress: (tensors bound, total); then, while the weights are copied and
  // rearranged, (tensors visited, total) through repack_progress.
  std::function<void(size_t done, size_t total)> progress;
  std::function<void(size_t done, size_t total)> repack_progress;
};

struct SessionOptions {
  int64_t n_ctx = 0;      // 0 = the model's native context, capped at 4096
  int64_t n_batch = 512;  // prefill chunk: at most this many tokens per forward pass
  TensorType type_k = TensorType::F16;
  TensorType type_v = TensorType::F16;
  // Walsh-Hadamard rotation of the quantized halves of the cache (KvCacheOptions::rotate).
  bool kv_rotation = true;
  int64_t n_expert_used = 0;  // MoE: 0 = the model's expert_used_count
};

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> load(const EngineOptions& options);
  ~Engine();

  const Model& model() const { return *model_; }
  const ModelHparams& hparams() const { return model_->hparams(); }
  KernelBackend& backend() { return *backend_; }
  const char* backend_name() const;
  std::string backend_description() const;
  // The weights on the GPU when the backend is "cuda", else nullptr. Sessions then run their
  // forward passes there; backend() stays the CPU backend for host-side work.
  const CudaWeights* cuda_weights() const { return cuda_.get(); }
  // Weight tensors the backend rearranged in place at load (EngineOptions::repack).
  int repacked_tensors() const { return repacked_tensors_; }
  int placed_tensors() const { return placed_tensors_; }
  // The tokenizer, or nullptr when the GGUF carries none and none was given (token ids only).
  const Tokenizer* tokenizer() const { return tokenizer_ ? &*tokenizer_ : nullptr; }
  // tokenizer.chat_template of the GGUF ("" when absent).
  const std::string& chat_template() const { return chat_template_; }
  // Replaces the file's template (the server's --chat-template-file); rendering goes through it.
  void set_chat_template(std::string t) { chat_template_ = std::move(t); }
  // RoPE as the forward pass uses it (metadata + overrides).
  const ref::RopeParams& rope_params() const { return rope_; }
  // The model file's identity (model/model_identity.h), computed on first use (a few MiB read).
  const ModelIdentity& model_identity() const;
  // The longest context the RoPE settings are meant for: the native context, or
  // factor x original context under scaling.
  int64_t rope_context_limit() const;
  // Whether sessions of n_ctx positions use length-adaptive YaRN (RopeOverrides::adaptive).
  bool adaptive_rope_for(int64_t n_ctx) const;

  // Sleeping (the server's --sleep-idle-seconds): the weights' memory goes back to the system
  // (Model::release_weights) and comes back, copied and rearranged again, with restore_weights
  // (which takes about what placing them took at load). No forward pass may run in between.
  // A CUDA engine keeps its weights (kUnsupported).
  Status release_weights();
  Status restore_weights();
  bool weights_released() const { return model_->weights_released(); }

  // A new sequence with its own KV cache and scratch. An n_ctx beyond rope_context_limit()
  // without scaling still works but sets Session::warning() (suggesting a YaRN factor).
  Result<std::unique_ptr<Session>> new_session(const SessionOptions& options);

  // What the forward pass of sessions with micro-batch n_batch (and k experts per token) asks
  // of the backend: shapes and the type and row length of every matrix it multiplies with.
  ScratchNeeds scratch_needs(int64_t n_batch, int64_t n_expert_used) const;

  // Memory the process holds besides the weights and each session's KV cache and buffers
  // (docs/PLAN.md, "Runtime"): known once the engine is loaded, before the first token.
  struct RuntimeMemory {
    uint64_t program = 0;          // before the model was opened: anonymous resident memory plus
                                   // the size of the mapped binary and libraries (program_bytes)
    uint64_t tables = 0;           // heap the load kept: tokenizer, metadata, tensor tables
    uint64_t backend_scratch = 0;  // KernelBackend::scratch_bytes_for(scratch_needs)
    uint64_t total() const { return program + tables + backend_scratch; }
  };
  RuntimeMemory runtime_memory(int64_t n_batch, int64_t n_expert_used) const;

 private:
  Engine() = default;
  std::unique_ptr<Model> model_;
  std::unique_ptr<KernelBackend> backend_;
  std::unique_ptr<CudaWeights> cuda_;
  std::string cuda_device_;  // the GPU's name
  int repacked_tensors_ = 0;
  int placed_tensors_ = 0;
  std::optional<Tokenizer> tokenizer_;
  std::string chat_template_;
  ref::RopeParams rope_;
  uint64_t program_bytes_ = 0;        // RuntimeMemory::program
  uint64_t tables_bytes_ = 0;         // RuntimeMemory::tables
  bool rope_explicit_ = false;        // the file or the command line set a scaling (or none)
  bool rope_auto_requested_ = false;  // --rope-scaling auto
  mutable std::once_flag identity_once_;
  mutable ModelIdentity identity_;
};

// What a forward pass over a model of these tensors asks of a backend (the matrices the
// engine multiplies with: every weight matrix, the embedding table only when tied), for
// sessions of micro-batch n_batch with k experts per token (0: the model's).
ScratchNeeds scratch_needs_for(const ModelHparams& hp, std::span<const TensorCost> tensors,
                               int64_t n_batch, int64_t n_expert_used);

}  // namespace longctx
