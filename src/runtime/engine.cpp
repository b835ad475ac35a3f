// Engine loading: model, tokenizer (GGUF or a given Hugging Face one), backend, RoPE settings.
#include "runtime/engine.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <optional>
#include <string>

#include "core/system_memory.h"
#include "kernels/cuda/cuda_api.h"
#include "model/forward_cuda.h"
#include "model/tensors.h"
#include "plan/planner.h"
#include "runtime/session.h"

namespace longctx {
namespace {

ref::RopeScalingType to_ref(RopeScalingType t) {
  switch (t) {
    case RopeScalingType::kLinear:
      return ref::RopeScalingType::kLinear;
    case RopeScalingType::kYarn:
      return ref::RopeScalingType::kYarn;
    case RopeScalingType::kNone:
      break;
  }
  return ref::RopeScalingType::kNone;
}

// The GGUF tokenizer's arrays, read once by Tokenizer::from_gguf.
constexpr const char* kTokenizerArrays[] = {"tokenizer.ggml.tokens", "tokenizer.ggml.token_type",
                                            "tokenizer.ggml.merges"};

}  // namespace

Engine::~Engine() = default;

const char* Engine::backend_name() const { return cuda_ ? "cuda" : backend_->name(); }

std::string Engine::backend_description() const {
  return cuda_ ? "cuda (" + cuda_device_ + ")" : backend_->describe();
}

Result<std::unique_ptr<Engine>> Engine::load(const EngineOptions& options) {
  std::unique_ptr<Engine> e(new Engine());
  // The process before the model: the program's share of any plan (core/system_memory.h), and
  // the heap grown from here on is what the loaded engine keeps (measured at the end).
  e->program_bytes_ = program_bytes().value_or(0);
  const uint64_t heap_before = heap_in_use_bytes().value_or(0);
  ModelLoadOptions mo;
  mo.progress = options.progress;
  auto model = Model::load(options.model_path, mo);
  if (!model) return model.status();
  e->model_ = std::move(model.value());
  const ModelHparams& hp = e->model_->hparams();
  const GgufFile& f = e->model_->gguf();

  if (options.n_threads < 0 || options.n_threads > 1024) {
    return invalid_argument("thread count must be in 0..1024 (0: all cores), got " +
                            std::to_string(options.n_threads));
  }
  // CUDA: the GPU runs the forward passes, a CPU backend stays for host-side work.
  const bool use_cuda = options.backend == "cuda";
  if (use_cuda) {
    auto devs = cuda::devices();
    if (!devs) return Status(devs.status().code(), "--backend cuda: " + devs.status().message());
    e->cuda_device_ = (*devs)[0].name;
  }
  auto backend = make_backend(use_cuda ? "cpu" : options.backend, options.n_threads, options.isa);
  if (!backend) return backend.status();
  e->backend_ = std::move(backend.value());
  if (!options.tokenizer_path.empty()) {
    auto tok = Tokenizer::from_hf_path(options.tokenizer_path);
    if (!tok) return tok.status().with_context(options.tokenizer_path);
    e->tokenizer_ = std::move(tok.value());
  } else if (f.find("tokenizer.ggml.tokens")) {
    auto tok = Tokenizer::from_gguf(f);
    if (!tok) return tok.status().with_context(options.model_path + ": tokenizer");
    e->tokenizer_ = std::move(tok.value());
    // The tokenizer now holds the vocabulary and merges in its own tables: the metadata's
    // copies (7 MiB for Qwen3's 151k tokens and merges) go.
    for (const char* key : kTokenizerArrays) e->model_->drop_metadata(key);
  }
  if (e->tokenizer_ && e->tokenizer_->n_vocab() > static_cast<int32_t>(hp.n_vocab)) {
    return invalid_format("the tokenizer has " + std::to_string(e->tokenizer_->n_vocab()) +
                          " tokens but the model only " + std::to_string(hp.n_vocab) + " rows");
  }
  // The tokenizer's build temporaries (tens of MiB of strings and maps for a Qwen vocabulary)
  // go back to the system before the weights take their place, so they never add to the peak.
#ifdef __GLIBC__
  ::malloc_trim(0);
#endif
  const char* repack_env = std::getenv("LONGCTX_REPACK");
  const std::optional<uint64_t> avail = available_memory_bytes();
  if (use_cuda) {
    // The GPU reads the GGUF blocks as they are in the file: no CPU repacking first.
    std::function<void(uint64_t, uint64_t)> up;
    if (options.repack_progress) {
      const auto& cb = options.repack_progress;
      up = [&cb](uint64_t done, uint64_t total) {
        cb(size_t(done >> 20), size_t(std::max<uint64_t>(1, total >> 20)));
      };
    }
    auto w = CudaWeights::upload(*e->model_, up);
    if (!w) return w.status().with_context(options.model_path);
    e->cuda_ = std::move(w).value();
  } else if (options.repack && !(repack_env != nullptr && std::string(repack_env) == "0") &&
             (!avail || e->model_->weight_bytes() <= *avail)) {
    auto n = e->model_->place_weights(*e->backend_, options.repack_progress);
    if (!n) return n.status().with_context(options.model_path);
    e->repacked_tensors_ = n->repacked;
    e->placed_tensors_ = n->tensors;
  }

  if (f.find("tokenizer.chat_template")) {
    auto tmpl = f.get_string("tokenizer.chat_template");
    if (!tmpl) return tmpl.status();
    e->chat_template_ = *tmpl;
  }

  // RoPE: the model's metadata, then the overrides.
  e->rope_auto_requested_ = options.rope.adaptive;
  e->rope_explicit_ =
      hp.rope_scaling.type != RopeScalingType::kNone || options.rope.type || options.rope.factor;
  if (options.rope.adaptive && (options.rope.type || options.rope.factor)) {
    return invalid_argument(
        "--rope-scaling auto chooses its own factors; leave out "
        "--rope-factor");
  }
  RopeScaling sc = options.rope.adaptive ? RopeScaling{} : hp.rope_scaling;
  if (options.rope.type) sc.type = *options.rope.type;
  if (options.rope.factor) sc.factor = *options.rope.factor;
  if (options.rope.orig_ctx) sc.orig_ctx = *options.rope.orig_ctx;
  if (sc.type == RopeScalingType::kNone && (options.rope.factor || options.rope.orig_ctx)) {
    return invalid_argument(
        "a RoPE factor or original context needs a scaling type (--rope-scaling linear or "
        "yarn); the model has none");
  }
  if (sc.type != RopeScalingType::kNone && !(sc.factor >= 1.0 && sc.factor <= 1024.0)) {
    return invalid_argument("RoPE scaling factor must be in [1, 1024], got " +
                            std::to_string(sc.factor));
  }
  e->rope_.head_dim = hp.head_dim;
  e->rope_.theta = options.rope.freq_base ? *options.rope.freq_base : hp.rope_freq_base;
  if (!(e->rope_.theta > 1.0)) {
    return invalid_argument("RoPE frequency base must be > 1, got " +
                            std::to_string(e->rope_.theta));
  }
  e->rope_.scaling.type = to_ref(sc.type);
  e->rope_.scaling.factor = sc.type == RopeScalingType::kNone ? 1.0 : sc.factor;
  // YaRN's original context, when neither the file nor --rope-orig-ctx gives one: the model's
  // pre-training length (32768 for Qwen3, whose files say 40960; plan/planner.h), where
  // llama.cpp would take the 40960.
  e->rope_.scaling.original_context =
      sc.orig_ctx ? sc.orig_ctx : static_cast<int64_t>(yarn_original_context(hp));
  const uint64_t heap_after = heap_in_use_bytes().value_or(0);
  e->tables_bytes_ = heap_after > heap_before ? heap_after - heap_before : 0;
  return e;
}

ScratchNeeds scratch_needs_for(const ModelHparams& hp, std::span<const TensorCost> tensors,
                               int64_t n_batch, int64_t n_expert_used) {
  ScratchNeeds n;
  n.n_batch = n_batch;
  n.n_inputs =
      hp.is_moe() ? std::max<int64_t>(1, n_expert_used > 0 ? n_expert_used : hp.n_expert_used) : 1;
  n.attention = {hp.n_head, hp.n_head_kv, hp.head_dim};
  for (const TensorCost& t : tensors) {
    if (!t.matrix) continue;
    // The embedding table is only indexed, unless the output head multiplies with it.
    if (t.role == TensorRole::kTokenEmbd && !hp.tied_embeddings) continue;
    n.matrices.push_back({t.type, t.n_in});
  }
  return n;
}

ScratchNeeds Engine::scratch_needs(int64_t n_batch, int64_t n_expert_used) const {
  auto tensors = tensor_costs_from_gguf(model_->gguf(), hparams());
  LONGCTX_CHECK(tensors.is_ok());  // Model::load bound every tensor of the list
  return scratch_needs_for(hparams(), *tensors, n_batch, n_expert_used);
}

Engine::RuntimeMemory Engine::runtime_memory(int64_t n_batch, int64_t n_expert_used) const {
  RuntimeMemory r;
  r.program = program_bytes_;
  r.tables = tables_bytes_;
  r.backend_scratch = backend_->scratch_bytes_for(scratch_needs(n_batch, n_expert_used));
  return r;
}

const ModelIdentity& Engine::model_identity() const {
  std::call_once(identity_once_, [this] { identity_ = longctx::model_identity(model_->gguf()); });
  return identity_;
}

bool Engine::adaptive_rope_for(int64_t n_ctx) const {
  return rope_auto_requested_ || (!rope_explicit_ && n_ctx > hparams().n_ctx_train);
}

int64_t Engine::rope_context_limit() const {
  const ref::RopeScaling& s = rope_.scaling;
  if (s.type == ref::RopeScalingType::kNone) return hparams().n_ctx_train;
  const int64_t base =
      s.type == ref::RopeScalingType::kYarn ? s.original_context : hparams().n_ctx_train;
  return static_cast<int64_t>(std::floor(static_cast<double>(base) * s.factor));
}

Result<std::unique_ptr<Session>> Engine::new_session(const SessionOptions& options) {
  const ModelHparams& hp = hparams();
  int64_t n_ctx = options.n_ctx;
  if (n_ctx == 0) n_ctx = std::min<int64_t>(hp.n_ctx_train, 4096);
  if (n_ctx < 1) return invalid_argument("context size must be positive");
  if (options.n_batch < 1 || options.n_batch > 65536) {
    return invalid_argument("batch size must be in [1, 65536], got " +
                            std::to_string(options.n_batch));
  }
  const int64_t n_batch = std::min(options.n_batch, n_ctx);
  for (TensorType t : {options.type_k, options.type_v}) {
    if (!backend_->supports(KernelOp::kAttention, t)) {
      return unsupported(std::string("backend '") + backend_->name() +
                         "' has no attention over a " + type_name(t) + " KV cache");
    }
  }
  int64_t k = options.n_expert_used;
  if (hp.is_moe()) {
    if (k == 0) k = hp.n_expert_used;
    if (k < 1 || k > hp.n_expert) {
      return invalid_argument("experts per token must be in 1.." + std::to_string(hp.n_expert) +
                              ", got " + std::to_string(k));
    }
  } else if (k != 0) {
    return invalid_argument("--experts applies to MoE models only; this one is dense");
  }

  const bool adaptive = adaptive_rope_for(n_ctx);
  std::string warning;
  if (!adaptive && n_ctx > rope_context_limit()) {
    const int64_t native = hp.n_ctx_train;
    if (rope_.scaling.type == ref::RopeScalingType::kNone) {
      const int64_t orig = yarn_original_context(hparams());
      const int64_t factor = (n_ctx + orig - 1) / orig;
      warning = "context " + std::to_string(n_ctx) + " exceeds the model's native " +
                std::to_string(native) +
                " tokens and no RoPE scaling is set: positions past it will degrade. Use "
                "--rope-scaling yarn --rope-factor " +
                std::to_string(factor) + " --rope-orig-ctx " + std::to_string(orig) +
                " (the smallest factor that covers the context; static YaRN can hurt short "
                "prompts)";
    } else {
      warning = "context " + std::to_string(n_ctx) + " exceeds what the RoPE scaling covers (" +
                std::to_string(rope_context_limit()) + " tokens)";
    }
  }

  KvShape shape{hp.n_layer, hp.n_head_kv, hp.head_dim, hp.head_dim_v};
  KvCacheOptions kvo{n_ctx, options.type_k, options.type_v, options.kv_rotation};
  // Memory is planned before the first token: a cache the system cannot hold is refused here
  // with the numbers, instead of being zero-filled into the out-of-memory killer.
  const uint64_t need = KvCache::bytes_for(shape, kvo) + Session::compute_bytes_for(hp, n_batch) +
                        backend_->scratch_bytes_for(scratch_needs(n_batch, k));
  if (const auto avail = available_memory_bytes(); !cuda_ && avail && need > *avail) {
    return invalid_argument("context " + std::to_string(n_ctx) + " needs " +
                            std::to_string(need >> 20) + " MiB for the KV cache and buffers but " +
                            std::to_string(*avail >> 20) +
                            " MiB are available; lower --ctx or use a smaller KV type");
  }
  auto kv = KvCache::create(shape, kvo);
  if (!kv) return kv.status();
  auto rope = ref::RopeTable::build(rope_, n_batch);
  if (!rope) return rope.status();
  auto s =
      std::make_unique<Session>(*this, std::move(kv.value()), ForwardScratch::create(hp, n_batch),
                                std::move(rope.value()), k, std::move(warning));
  LONGCTX_RETURN_IF_ERROR(s->init_rope(rope_, adaptive, yarn_original_context(hp)));
  if (cuda_) {
    // The device cache mirrors the host one (whose pages stay untouched until a host-side
    // sequence operation needs them).
    auto dev = CudaSequence::create(*model_, *cuda_, shape, kvo, n_batch);
    if (!dev)
      return dev.status().with_context("the CUDA session of context " + std::to_string(n_ctx));
    s->attach_device(std::move(dev).value());
  }
  return s;
}

Status Engine::release_weights() {
  if (cuda_) return unsupported("the CUDA backend keeps its weights on the GPU");
  model_->release_weights();
  return Status::ok();
}

Status Engine::restore_weights() {
  if (!model_->weights_released()) return Status::ok();
  const Model::Placement p = model_->restore_weights(*backend_);
  placed_tensors_ = p.tensors;  // what this placement did, as load reports it
  repacked_tensors_ = p.repacked;
  return Status::ok();
}

}  // namespace longctx
