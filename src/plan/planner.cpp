// The planner's arithmetic: bytes per tensor, per context, per token; the largest context that
// fits; MoE expert offload; roofline speeds. Formulas and sources: docs/PLAN.md.
#include "plan/planner.h"

#include <algorithm>
#include <cmath>

#include "model/model_summary.h"
#include "model/tensors.h"

namespace longctx {
namespace {

bool is_expert(TensorRole r) {
  return r == TensorRole::kFfnGateExps || r == TensorRole::kFfnUpExps ||
         r == TensorRole::kFfnDownExps;
}

// KV bytes per token of one sequence: layers x kv heads x (K row + V row), block types by their
// bytes per block.
uint64_t kv_per_token(const ModelHparams& hp, const KvTypes& t) {
  return uint64_t{hp.n_layer} * hp.n_head_kv *
         (row_bytes(t.k, hp.head_dim) + row_bytes(t.v, hp.head_dim_v));
}

int64_t experts_used(const ModelHparams& hp, const PlanOptions& o) {
  return hp.is_moe() ? (o.n_experts > 0 ? o.n_experts : hp.n_expert_used) : 0;
}

}  // namespace

uint64_t PlanModel::weight_bytes() const {
  uint64_t sum = 0;
  for (const TensorCost& t : tensors) sum += t.bytes;
  return sum;
}

uint64_t PlanModel::active_weight_bytes(int64_t k) const {
  uint64_t sum = 0;
  for (const TensorCost& t : tensors) {
    if (t.role == TensorRole::kTokenEmbd && !hp.tied_embeddings) continue;  // one row per token
    if (is_expert(t.role) && hp.n_expert > 0) {
      // Each expert is an equal slice of the tensor, so the product divides exactly.
      sum += t.bytes / hp.n_expert * static_cast<uint64_t>(std::clamp<int64_t>(k, 0, hp.n_expert));
    } else {
      sum += t.bytes;
    }
  }
  return sum;
}

uint64_t PlanModel::layer_expert_bytes(int il) const {
  uint64_t sum = 0;
  for (const TensorCost& t : tensors) {
    if (t.layer == il && is_expert(t.role)) sum += t.bytes;
  }
  return sum;
}

uint64_t PlanModel::active_params(int64_t k) const {
  return summarize_hparams(hp).active_params(k);
}

PlanModel plan_model_from_preset(const ModelHparams& hp, QuantPreset preset, std::string name,
                                 std::string source) {
  PlanModel m;
  m.name = std::move(name);
  m.source = std::move(source);
  m.quant = preset_name(preset);
  m.hp = hp;
  const std::vector<TensorDesc> descs = model_tensors(hp);
  const std::vector<TensorType> types = preset_tensor_types(hp, descs, preset);
  for (size_t i = 0; i < descs.size(); ++i) {
    const uint64_t rows = descs[i].n_elements() / descs[i].dims[0];
    m.tensors.push_back({descs[i].role, descs[i].layer,
                         rows * row_bytes(types[i], descs[i].dims[0]), types[i],
                         static_cast<int64_t>(descs[i].dims[0]), !descs[i].is_norm_or_bias()});
  }
  return m;
}

Result<PlanModel> plan_model_from_gguf(const GgufFile& file, std::string name) {
  // summarize_model checks every key and every tensor's presence and shape (errors name them).
  auto summary = summarize_model(file);
  if (!summary) return summary.status();
  PlanModel m;
  m.name = summary->hp.name.empty() ? std::move(name) : summary->hp.name;
  m.source = "gguf";
  m.quant = "file";
  m.hp = summary->hp;
  auto costs = tensor_costs_from_gguf(file, m.hp);
  if (!costs) return costs.status();
  m.tensors = std::move(costs.value());
  return m;
}

Result<std::vector<TensorCost>> tensor_costs_from_gguf(const GgufFile& file,
                                                       const ModelHparams& hp) {
  std::vector<TensorCost> out;
  for (const TensorDesc& d : model_tensors(hp)) {
    const GgufTensorInfo* t = file.find_tensor(d.name);
    if (t == nullptr) return not_found("missing tensor '" + d.name + "'");
    out.push_back({d.role, d.layer, t->n_bytes, t->type, static_cast<int64_t>(t->dims[0]),
                   !d.is_norm_or_bias()});
  }
  return out;
}

double MeasuredCpuSpeed::matmul_rate(TensorType t) const {
  for (const auto& [type, rate] : matmul_flops) {
    if (type == t) return rate;
  }
  return 0;
}

double MeasuredCpuSpeed::expert_matmul_rate(TensorType t) const {
  for (const auto& [type, rate] : expert_matmul_flops) {
    if (type == t) return rate;
  }
  return matmul_rate(t);
}

double MeasuredCpuSpeed::gemv_rate(TensorType t) const {
  for (const auto& [type, rate] : gemv_bw) {
    if (type == t) return rate;
  }
  return read_bw;
}

double MeasuredCpuSpeed::expert_gemv_rate(TensorType t) const {
  for (const auto& [type, rate] : expert_gemv_bw) {
    if (type == t) return rate;
  }
  return gemv_rate(t);
}

namespace {

// Attention FLOPs per query per cached key: QK^T and PV, 2 FLOPs per multiply-add.
double attn_flops_per_key(const ModelHparams& hp) {
  return 2.0 * hp.n_layer * hp.n_head * (double(hp.head_dim) + hp.head_dim_v);
}

}  // namespace

double predict_decode_tps(const PlanModel& m, const KvTypes& kv, int64_t n_experts, double depth,
                          const MeasuredCpuSpeed& s) {
  if (!s.valid()) return 0;
  const ModelHparams& hp = m.hp;
  const int64_t k = hp.is_moe() ? (n_experts > 0 ? n_experts : hp.n_expert_used) : 0;
  // The same bytes active_weight_bytes counts, each at the rate its reader streams it.
  double t = 0;
  for (const TensorCost& c : m.tensors) {
    if (c.role == TensorRole::kTokenEmbd && !hp.tied_embeddings) continue;  // one row per token
    const bool expert = is_expert(c.role) && hp.n_expert > 0;
    const double bytes =
        expert ? double(c.bytes / hp.n_expert) * double(std::clamp<int64_t>(k, 0, hp.n_expert))
               : double(c.bytes);
    const double rate = !c.matrix ? s.read_bw
                        : expert  ? s.expert_gemv_rate(c.type)
                                  : s.gemv_rate(c.type);
    t += bytes / rate;
  }
  t += double(kv_per_token(hp, kv)) * depth / s.attn_decode_bw;
  return 1.0 / t;
}

double predict_prefill_tps(const PlanModel& m, const KvTypes& kv, int64_t n_experts,
                           int64_t n_prompt, int64_t depth, const MeasuredCpuSpeed& s) {
  (void)kv;  // the attention rate was measured for these types
  if (!s.valid() || n_prompt < 1) return 0;
  const ModelHparams& hp = m.hp;
  const int64_t k = hp.is_moe() ? (n_experts > 0 ? n_experts : hp.n_expert_used) : 0;
  // Matmul FLOPs per prompt token by weight type: 2 per multiply-add with every active matrix
  // element; the output head runs for the last token only.
  double t = 0;
  for (const TensorCost& c : m.tensors) {
    if (!c.matrix || c.role == TensorRole::kTokenEmbd || c.role == TensorRole::kOutput) continue;
    const double elems =
        double(c.bytes) / double(row_bytes(c.type, uint64_t(c.n_in))) * double(c.n_in);
    const bool expert = is_expert(c.role) && hp.n_expert > 0;
    const double active = expert ? elems * k / hp.n_expert : elems;
    const double rate = expert ? s.expert_matmul_rate(c.type) : s.matmul_rate(c.type);
    if (rate <= 0) return 0;
    t += 2.0 * active / rate;
  }
  // Prompt token i (0-based) attends over depth + i + 1 keys.
  const double keys = double(depth) + (double(n_prompt) + 1) / 2;
  t += attn_flops_per_key(hp) * keys / s.attn_prefill_flops;
  return 1.0 / t;
}

bool is_plannable_kv_type(TensorType t) {
  switch (t) {
    case TensorType::F32:
    case TensorType::F16:
    case TensorType::BF16:
    case TensorType::Q8_0:
    case TensorType::Q4_0:
    case TensorType::Q4_1:
    case TensorType::Q5_0:
    case TensorType::Q5_1:
      return true;
    default:
      return false;
  }
}

bool engine_runs_kv_type(TensorType t) {
  return t == TensorType::F32 || t == TensorType::F16 || t == TensorType::BF16 ||
         t == TensorType::Q8_0 || t == TensorType::Q4_0;
}

std::string kv_types_name(const KvTypes& t) {
  if (t.k == t.v) return type_name(t.k);
  return std::string(type_name(t.k)) + "/" + type_name(t.v);
}

int64_t native_context(const ModelHparams& hp) { return hp.n_ctx_train; }

int64_t yarn_original_context(const ModelHparams& hp) {
  if (hp.rope_scaling.type != RopeScalingType::kNone && hp.rope_scaling.orig_ctx > 0) {
    return hp.rope_scaling.orig_ctx;
  }
  // Qwen3 was pre-trained at 32768 and ships max_position_embeddings 40960 (32768 plus room for
  // output); Qwen's YaRN recipe scales from 32768, not 40960.
  if (hp.n_ctx_train == 40960) return 32768;
  return hp.n_ctx_train;
}

int64_t max_context(const ModelHparams& hp) {
  const int64_t native = native_context(hp);
  // A file that carries its own scaling is meant for factor x original context.
  if (hp.rope_scaling.type != RopeScalingType::kNone && hp.rope_scaling.factor > 1) {
    const double base = hp.rope_scaling.type == RopeScalingType::kYarn
                            ? static_cast<double>(yarn_original_context(hp))
                            : static_cast<double>(native);
    return std::max<int64_t>(native, static_cast<int64_t>(base * hp.rope_scaling.factor));
  }
  // Qwen's published recipe: YaRN x4 over the original context (131072 for Qwen3's 32768). A
  // native context of 131072 or more is the maximum itself (the 2507 updates' 1M-token mode
  // needs sparse attention this runtime does not have).
  if (native >= 131072) return native;
  return std::max<int64_t>(native, 4 * yarn_original_context(hp));
}

RopePlan rope_plan(const ModelHparams& hp, int64_t ctx) {
  RopePlan r;
  r.orig_ctx = yarn_original_context(hp);
  if (ctx <= native_context(hp)) return r;
  r.needed = true;
  r.factor = (ctx + r.orig_ctx - 1) / r.orig_ctx;
  return r;
}

uint64_t device_budget(const DeviceSetup& dev, uint64_t headroom) {
  const uint64_t total = dev.total_memory();
  return total > headroom ? total - headroom : 0;
}

uint64_t default_headroom(const DeviceSetup& dev) {
  return std::max<uint64_t>(dev.total_memory() / 20, 512ull << 20);
}

Status check_plan_options(const PlanModel& m, const PlanOptions& o) {
  for (TensorType t : {o.kv.k, o.kv.v}) {
    if (!is_plannable_kv_type(t)) {
      return invalid_argument(std::string("KV type '") + type_name(t) +
                              "' is not one of f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1");
    }
  }
  const uint32_t bk = traits(o.kv.k).block_size, bv = traits(o.kv.v).block_size;
  if (m.hp.head_dim % bk != 0 || m.hp.head_dim_v % bv != 0) {
    return invalid_argument("head_dim " + std::to_string(m.hp.head_dim) + "/" +
                            std::to_string(m.hp.head_dim_v) + " is not a multiple of the KV " +
                            "type's block of " + std::to_string(std::max(bk, bv)));
  }
  if (o.n_parallel < 1 || o.n_parallel > 4096) {
    return invalid_argument("--parallel must be in 1..4096, got " + std::to_string(o.n_parallel));
  }
  if (o.n_batch < 1 || o.n_batch > 65536) {
    return invalid_argument("--batch must be in 1..65536, got " + std::to_string(o.n_batch));
  }
  if (m.hp.is_moe() ? (o.n_experts < 0 || o.n_experts > m.hp.n_expert) : o.n_experts != 0) {
    return invalid_argument(
        m.hp.is_moe() ? "--experts must be in 1.." + std::to_string(m.hp.n_expert) + ", got " +
                            std::to_string(o.n_experts)
                      : std::string("--experts applies to MoE models only; this one is dense"));
  }
  if (!o.compute_bytes) return invalid_argument("planner: no compute-buffer function given");
  return Status::ok();
}

CtxPlan plan_context(const PlanModel& m, const DeviceSetup& dev, const PlanOptions& o, int64_t ctx,
                     const SpeedModel& s) {
  const ModelHparams& hp = m.hp;
  const uint64_t par = static_cast<uint64_t>(o.n_parallel);
  CtxPlan p;
  p.ctx = ctx;
  p.rope = rope_plan(hp, ctx);
  p.weights = m.weight_bytes();
  const uint64_t kv_one = kv_per_token(hp, o.kv) * static_cast<uint64_t>(ctx);
  p.kv = par * kv_one;
  p.compute = par * o.compute_bytes(hp, std::min(o.n_batch, ctx));
  p.runtime = o.runtime_bytes;
  p.total = p.weights + p.kv + p.compute + p.runtime;
  const uint64_t budget = device_budget(dev, o.headroom);
  p.fits = p.total <= budget;

  const int64_t k = experts_used(hp, o);
  uint64_t cpu_expert_bytes = 0;  // all experts of the offloaded layers
  if (!p.fits && hp.is_moe() && dev.count > 0) {
    // Experts of layers 0..n-1 go to system RAM (as llama.cpp's --n-cpu-moe N); the smallest n.
    for (uint32_t n = 1; n <= hp.n_layer; ++n) {
      cpu_expert_bytes += m.layer_expert_bytes(static_cast<int>(n - 1));
      if (dev.host_memory != 0 && cpu_expert_bytes > dev.host_memory) break;
      if (p.total - cpu_expert_bytes <= budget) {
        p.moe_cpu_layers = n;
        p.fits_with_offload = true;
        break;
      }
    }
    if (!p.fits_with_offload) cpu_expert_bytes = 0;
  }
  if (!p.fits && !p.fits_with_offload) return p;

  if (dev.count == 0 && s.cpu.valid()) {
    // A CPU with measured rates: the probe's figures, no efficiency assumed.
    p.decode_tps = predict_decode_tps(m, o.kv, o.n_experts, double(ctx), s.cpu);
    p.prefill_tps = predict_prefill_tps(m, o.kv, o.n_experts, ctx, 0, s.cpu);
    return p;
  }
  // Decode: one token reads the active weights and the whole KV cache of its sequence.
  const double bw = dev.total_bandwidth() * s.bandwidth_efficiency;
  const double host_bw = dev.host_bandwidth * s.bandwidth_efficiency;
  const double active = static_cast<double>(m.active_weight_bytes(k));
  const double cpu_read =
      hp.is_moe() ? static_cast<double>(cpu_expert_bytes) * k / hp.n_expert : 0.0;
  if (bw > 0 && (cpu_read == 0 || host_bw > 0)) {
    const double t = (active - cpu_read + static_cast<double>(kv_one)) / bw +
                     (cpu_read > 0 ? cpu_read / host_bw : 0.0);
    p.decode_tps = 1.0 / t;
  }
  // Prefill of a ctx-token prompt: 2 FLOPs per active parameter per token, plus attention
  // (QK^T and PV: 2 x heads x (head_dim_k + head_dim_v) x depth per layer) at mean depth ctx/2.
  const double attn = 2.0 * hp.n_layer * hp.n_head * (hp.head_dim + hp.head_dim_v) *
                      (static_cast<double>(ctx) / 2.0);
  const double per_token = 2.0 * static_cast<double>(m.active_params(k)) + attn;
  const double flops = dev.total_flops() * s.compute_efficiency;
  if (flops > 0) p.prefill_tps = flops / per_token;
  return p;
}

int64_t largest_context(const PlanModel& m, const DeviceSetup& dev, const PlanOptions& o) {
  // total(ctx) never decreases with ctx (KV grows linearly, compute with min(batch, ctx)), so
  // binary search finds the boundary: fits(lo) and !fits(hi).
  auto fits = [&](int64_t ctx) {
    const ModelHparams& hp = m.hp;
    const uint64_t total =
        m.weight_bytes() + o.runtime_bytes +
        static_cast<uint64_t>(o.n_parallel) * (kv_per_token(hp, o.kv) * static_cast<uint64_t>(ctx) +
                                               o.compute_bytes(hp, std::min(o.n_batch, ctx)));
    return total <= device_budget(dev, o.headroom);
  };
  if (!fits(1)) return 0;
  if (fits(kMaxPlanContext)) return kMaxPlanContext;
  int64_t lo = 1, hi = kMaxPlanContext;
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    (fits(mid) ? lo : hi) = mid;
  }
  return lo;
}

}  // namespace longctx
