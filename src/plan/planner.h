// The memory and speed planner: weights, KV cache, compute buffers and roofline speeds of a model
// on a device, per context length, from metadata and tensor sizes alone (pure functions, no I/O).
// docs/PLAN.md gives every formula and its sources.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "gguf/gguf.h"
#include "model/hparams.h"
#include "model/quant_preset.h"
#include "model/tensors.h"
#include "plan/device.h"
#include "quant/types.h"

namespace longctx {

// Bytes of one model tensor, with what it is (to count only the experts a token reads).
struct TensorCost {
  TensorRole role;
  int layer = -1;
  uint64_t bytes = 0;
  TensorType type = TensorType::F32;
  int64_t n_in = 0;     // row length (dims[0])
  bool matrix = false;  // not a norm or bias (TensorDesc::is_norm_or_bias)
};

// A model as the planner sees it: hyperparameters and the bytes of every tensor.
struct PlanModel {
  std::string name;    // catalog name, general.name or the file name
  std::string source;  // "catalog", "gguf" or "config"
  std::string quant;   // preset name ("Q4_K_M") or "file" for a GGUF's own types
  ModelHparams hp;
  std::vector<TensorCost> tensors;

  uint64_t weight_bytes() const;
  // Bytes one decoded token reads with k experts: every tensor but the embedding table (a token
  // reads one row of it; with tied embeddings the head reads it whole), and k of n experts.
  uint64_t active_weight_bytes(int64_t k) const;
  // Bytes of layer il's routed-expert tensors (gate, up, down); 0 for dense models.
  uint64_t layer_expert_bytes(int il) const;
  // Parameters a token multiplies with for k experts (for prefill FLOPs).
  uint64_t active_params(int64_t k) const;
};

// Per-tensor bytes of `hp` under a llama.cpp preset (the types llama-quantize picks).
PlanModel plan_model_from_preset(const ModelHparams& hp, QuantPreset preset, std::string name,
                                 std::string source);
// From a GGUF's metadata and tensor table (no tensor data is read); errors name the key/tensor.
Result<PlanModel> plan_model_from_gguf(const GgufFile& file, std::string name);
// The costs of the tensors of model_tensors(hp) as the file stores them; an error names a
// missing tensor.
Result<std::vector<TensorCost>> tensor_costs_from_gguf(const GgufFile& file,
                                                       const ModelHparams& hp);

struct KvTypes {
  TensorType k = TensorType::F16;
  TensorType v = TensorType::F16;
};
// The KV types the planner knows (f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1) and whether the
// engine runs them today (f32, f16, bf16).
bool is_plannable_kv_type(TensorType t);
bool engine_runs_kv_type(TensorType t);
std::string kv_types_name(const KvTypes& t);  // "f16" or "q8_0/q4_0" (K/V)

// Bytes of the compute buffers of one sequence for a micro-batch (the engine's figure:
// Session::compute_bytes_for, injected by the caller so plan/ does not depend on runtime/).
using ComputeBytesFn = std::function<uint64_t(const ModelHparams&, int64_t n_batch)>;

struct PlanOptions {
  KvTypes kv;
  int64_t n_parallel = 1;  // sequences, each with its own KV cache and compute buffers
  int64_t n_batch = 512;   // micro-batch; a session uses min(n_batch, n_ctx)
  int64_t n_experts = 0;   // MoE experts per token; 0 = the model's
  uint64_t headroom = 0;   // bytes kept free on the device
  ComputeBytesFn compute_bytes;
  // Once per process, in every total: the program, the loaded tokenizer and tables and the
  // kernels' own scratch (Engine::RuntimeMemory; the caller measures or bounds it).
  uint64_t runtime_bytes = 0;
};

// Rates of this machine's CPU backend, measured by runtime/speed_probe.h for the model's shape,
// weight types and KV types (plan/ only uses them): with them a CPU plan's speeds are
//   decode t/token  = sum over active matrices of bytes / gemv_bw[type] (expert_gemv_bw for
//                     MoE experts) + other weight bytes / read_bw
//                     + K/V bytes at the depth / attn_decode_bw,
//   prefill t/token = sum over weight types of matmul FLOPs / matmul_flops[type]
//                     + attention FLOPs at the mean depth / attn_prefill_flops,
// nothing fitted: every constant is a rate the probe read.
struct MeasuredCpuSpeed {
  double read_bw = 0;             // bytes/s: a STREAM-style read (weights streamed by decode)
  double attn_decode_bw = 0;      // bytes/s of K + V one decode step reads (this shape, KV types)
  double attn_prefill_flops = 0;  // FLOP/s of prefill attention (this shape, KV types)
  // FLOP/s of the batched matmul (prefill) per weight type of the model's matrices, at the
  // micro-batch; for MoE also at the tokens one expert sees in a micro-batch (batch x k / n),
  // a smaller, less efficient product.
  std::vector<std::pair<TensorType, double>> matmul_flops;
  std::vector<std::pair<TensorType, double>> expert_matmul_flops;
  // Bytes/s at which decode's one-token matmul streams matrices of each type from memory: the
  // kernel's rate, which sits below read_bw where it is compute-bound (a K-quant's unpacking on
  // a machine with fast memory). For MoE also the k experts' matrices as one batch of tasks.
  std::vector<std::pair<TensorType, double>> gemv_bw;
  std::vector<std::pair<TensorType, double>> expert_gemv_bw;
  std::string source;  // how it was obtained, for the plan's device line
  bool valid() const { return read_bw > 0 && attn_decode_bw > 0 && attn_prefill_flops > 0; }
  double matmul_rate(TensorType t) const;         // 0 when the type was not probed
  double expert_matmul_rate(TensorType t) const;  // the same for expert matrices
  double gemv_rate(TensorType t) const;           // read_bw when the type was not probed
  double expert_gemv_rate(TensorType t) const;    // gemv_rate when experts were not probed
};

// Assumptions of the speed model (printed with every plan).
struct SpeedModel {
  double bandwidth_efficiency = 0.8;  // fraction of peak bandwidth a decode step reaches
  double compute_efficiency = 0.5;    // fraction of peak FLOPs prefill reaches
  // A CPU plan with measured rates uses them instead of the efficiencies above.
  MeasuredCpuSpeed cpu;
};

// The measured model's predictions (MeasuredCpuSpeed): decode of one token at `depth` cached
// positions, and a prompt of n_prompt tokens after `depth` (tokens/s); 0 when a rate is missing.
double predict_decode_tps(const PlanModel& m, const KvTypes& kv, int64_t n_experts, double depth,
                          const MeasuredCpuSpeed& s);
double predict_prefill_tps(const PlanModel& m, const KvTypes& kv, int64_t n_experts,
                           int64_t n_prompt, int64_t depth, const MeasuredCpuSpeed& s);

// The contexts a model supports: native (max_position_embeddings) and maximum: factor x
// original context when the file carries RoPE scaling, else Qwen's YaRN x4 recipe over the
// original context (131072 for Qwen3), or the native context when that is 131072 or more.
int64_t native_context(const ModelHparams& hp);
int64_t max_context(const ModelHparams& hp);
// Original context YaRN scales from: the file's rope orig_ctx when set, else 32768 for a
// 40960-native Qwen3 (its pre-training length), else the native context.
int64_t yarn_original_context(const ModelHparams& hp);
// RoPE scaling to run `ctx`: factor 1 (none) within the native context, else
// ceil(ctx / original context).
struct RopePlan {
  bool needed = false;
  int64_t factor = 1;
  int64_t orig_ctx = 0;
};
RopePlan rope_plan(const ModelHparams& hp, int64_t ctx);

inline constexpr int64_t kMaxPlanContext = 10'000'000;

// One row of the memory table.
struct CtxPlan {
  int64_t ctx = 0;
  uint64_t weights = 0;
  uint64_t kv = 0;       // all sequences
  uint64_t compute = 0;  // all sequences
  uint64_t runtime = 0;  // PlanOptions::runtime_bytes
  uint64_t total = 0;
  bool fits = false;            // everything on the device
  int64_t moe_cpu_layers = -1;  // MoE not fitting: layers whose experts go to RAM (-1: none)
  bool fits_with_offload = false;
  double decode_tps = 0;   // one sequence at depth ctx
  double prefill_tps = 0;  // average over a ctx-token prompt
  RopePlan rope;
};

// Memory of one context (weights + n_parallel x (KV + compute)).
CtxPlan plan_context(const PlanModel& m, const DeviceSetup& dev, const PlanOptions& o, int64_t ctx,
                     const SpeedModel& s = {});
// The largest context in [1, kMaxPlanContext] whose total fits the device budget (exact: it
// fits, one more token does not); 0 when nothing fits.
int64_t largest_context(const PlanModel& m, const DeviceSetup& dev, const PlanOptions& o);
// Budget: device memory minus headroom (0 if the headroom is larger).
uint64_t device_budget(const DeviceSetup& dev, uint64_t headroom);
// Default headroom: 5% of the device memory, at least 512 MiB.
uint64_t default_headroom(const DeviceSetup& dev);

// Validates the options against the model (types, counts); errors name the option.
Status check_plan_options(const PlanModel& m, const PlanOptions& o);

}  // namespace longctx
