// Assembles a plan: the memory table over contexts, the largest context per KV type, quality
// notes (Qwen3 technical report RULER scores, published KV-quantization effects), the
// ready-to-run command, and the catalog overview of `longctx plan` without a model.
#include "plan/plan_format.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "plan/catalog.h"

namespace longctx {
namespace {

constexpr int64_t kK = 1024;

// Qwen3 technical report, table 23: RULER with YaRN x4 at 4k, 8k, 16k, 32k, 64k, 128k
// (non-thinking mode unless stated), as collected in shared/data/qwen3-family.md.
struct RulerRow {
  const char* model;  // catalog name
  const char* mode;
  double score[6];
};
constexpr RulerRow kRuler[] = {
    {"qwen3-8b", "non-thinking", {96.3, 96.0, 91.8, 91.2, 82.1, 77.4}},
    {"qwen3-14b", "non-thinking", {98.0, 97.8, 96.4, 96.1, 94.0, 85.1}},
    {"qwen3-32b", "non-thinking", {98.4, 96.0, 96.2, 94.4, 91.8, 85.6}},
    {"qwen3-30b-a3b", "non-thinking", {96.5, 97.0, 95.3, 92.4, 89.1, 79.2}},
    {"qwen3-30b-a3b", "thinking", {94.1, 92.7, 89.0, 86.6, 82.1, 75.0}},
    {"qwen3-235b-a22b", "non-thinking", {97.7, 97.2, 96.4, 95.1, 93.3, 90.6}},
};
constexpr int64_t kRulerLengths[] = {4 * kK, 8 * kK, 16 * kK, 32 * kK, 64 * kK, 128 * kK};

// The catalog shape `hp` has (layers, widths, heads, experts, native context), or nullptr.
const ModelShape* catalog_shape_of(const ModelHparams& hp) {
  for (const ModelShape& s : model_catalog()) {
    if (s.n_layer == hp.n_layer && s.n_embd == hp.n_embd && s.n_head == hp.n_head &&
        s.n_head_kv == hp.n_head_kv && s.n_ff == hp.n_ff && s.n_expert == hp.n_expert &&
        s.n_ff_expert == hp.n_ff_expert && s.n_ctx_train == hp.n_ctx_train) {
      return &s;
    }
  }
  return nullptr;
}

std::string fixed1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

}  // namespace

std::vector<int64_t> default_contexts(const ModelHparams& hp) {
  std::vector<int64_t> c = {4 * kK, 8 * kK, 16 * kK, 32 * kK, 64 * kK, 90 * kK, 128 * kK, 256 * kK};
  c.push_back(native_context(hp));
  c.push_back(max_context(hp));
  std::sort(c.begin(), c.end());
  c.erase(std::unique(c.begin(), c.end()), c.end());
  return c;
}

Result<std::vector<int64_t>> parse_contexts(std::string_view text) {
  std::vector<int64_t> out;
  while (true) {
    const size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    int64_t scale = 1;
    if (!item.empty() && (item.back() == 'k' || item.back() == 'K')) {
      scale = kK;
      item.remove_suffix(1);
    }
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || ptr != item.data() + item.size()) {
      return invalid_argument("--ctx: '" + std::string(text.substr(0, comma)) +
                              "' is not a token count (examples: 32768, 128k)");
    }
    if (v < 1 || v > kMaxPlanContext / scale) {
      return invalid_argument("--ctx: " + std::string(text.substr(0, comma)) +
                              " is outside 1..10000000 tokens");
    }
    out.push_back(v * scale);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

std::string ruler_note(const ModelHparams& hp, int64_t ctx) {
  const ModelShape* shape = catalog_shape_of(hp);
  if (shape == nullptr || ctx > kRulerLengths[5]) return "";
  size_t col = 0;
  while (kRulerLengths[col] < ctx) ++col;
  std::string note;
  for (const RulerRow& r : kRuler) {
    if (std::string_view(r.model) != shape->name) continue;
    note += (note.empty() ? "" : ", ") + fixed1(r.score[col]) + " (" + r.mode + ")";
  }
  if (note.empty()) return "";
  return note + " at " + format_tokens(kRulerLengths[col]);
}

PlanReport build_plan_report(const PlanModel& model, const DeviceSetup& device,
                             const PlanOptions& options, const std::vector<int64_t>& contexts,
                             int64_t chosen_ctx, std::string model_arg,
                             const SpeedModel& speed) {
  PlanReport r;
  r.speed = speed;
  r.model = model;
  r.device = device;
  r.options = options;
  r.model_arg = std::move(model_arg);
  const ModelHparams& hp = model.hp;
  r.budget = device_budget(device, options.headroom);
  r.kv_bytes_per_token =
      uint64_t{hp.n_layer} * hp.n_head_kv *
      (row_bytes(options.kv.k, hp.head_dim) + row_bytes(options.kv.v, hp.head_dim_v));
  r.n_experts = hp.is_moe() ? (options.n_experts ? options.n_experts : hp.n_expert_used) : 0;
  for (int64_t ctx : contexts) r.rows.push_back(plan_context(model, device, options, ctx, r.speed));

  // Largest context for the chosen types, then each plannable type for K and V alike.
  std::vector<KvTypes> kinds = {options.kv};
  for (TensorType t : {TensorType::F32, TensorType::F16, TensorType::BF16, TensorType::Q8_0,
                       TensorType::Q5_1, TensorType::Q5_0, TensorType::Q4_1, TensorType::Q4_0}) {
    if (!(t == options.kv.k && t == options.kv.v)) kinds.push_back({t, t});
  }
  const int64_t max_ctx = max_context(hp);
  for (const KvTypes& kv : kinds) {
    PlanOptions o = options;
    o.kv = kv;
    LargestContext l;
    l.kv = kv;
    l.ctx = largest_context(model, device, o);
    l.usable_ctx = std::min(l.ctx, max_ctx);
    l.rope = rope_plan(hp, l.usable_ctx);
    l.engine_runs = engine_runs_kv_type(kv.k) && engine_runs_kv_type(kv.v);
    r.largest.push_back(l);
  }

  // The profile: the context asked for, else the largest usable one rounded down to 1024.
  r.profile_ctx = chosen_ctx;
  if (r.profile_ctx == 0) {
    const int64_t l = r.largest[0].usable_ctx;
    r.profile_ctx = l >= kK ? l / kK * kK : l;
  }
  if (r.profile_ctx > 0) {
    std::string flags = " --ctx " + std::to_string(r.profile_ctx);
    if (options.kv.k == options.kv.v) {
      if (options.kv.k != TensorType::F16)
        flags += std::string(" --kv-type ") + type_name(options.kv.k);
    } else {
      flags += std::string(" --kv-type-k ") + type_name(options.kv.k) + " --kv-type-v " +
               type_name(options.kv.v);
    }
    const RopePlan rope = rope_plan(hp, r.profile_ctx);
    if (rope.needed) {
      flags += " --rope-scaling yarn --rope-factor " + std::to_string(rope.factor) +
               " --rope-orig-ctx " + std::to_string(rope.orig_ctx);
    }
    if (options.n_batch != 512) flags += " -b " + std::to_string(options.n_batch);
    if (hp.is_moe() && options.n_experts != 0)
      flags += " --experts " + std::to_string(options.n_experts);
    r.run_command = "longctx chat -m " + r.model_arg + flags;
    r.serve_command =
        "longctx serve -m " + r.model_arg + flags +
        (options.n_parallel > 1 ? " --parallel " + std::to_string(options.n_parallel) : "");
  }

  if (model.source != "gguf") {
    for (QuantPreset p : plan_presets()) {
      r.preset_weights.emplace_back(preset_name(p), preset_weight_bytes(hp, p));
    }
  }

  // Notes, each with its source.
  if (!engine_runs_kv_type(options.kv.k) || !engine_runs_kv_type(options.kv.v)) {
    r.notes.push_back("KV type " + kv_types_name(options.kv) +
                      " is planned only: the engine runs f16, bf16, f32, q8_0 and q4_0 caches.");
  }
  for (TensorType t : {options.kv.k, options.kv.v}) {
    if (t == TensorType::Q8_0) {
      r.notes.push_back(
          "q8_0 KV is near-lossless (KL divergence about 1e-3) [qwen3-family.md, "
          "KV-cache quantization].");
      break;
    }
  }
  if (options.kv.k == TensorType::Q4_0 || options.kv.k == TensorType::Q4_1 ||
      options.kv.k == TensorType::Q5_0 || options.kv.k == TensorType::Q5_1) {
    r.notes.push_back(
        "A 4-bit K cache raised Qwen3-30B-A3B perplexity by 11.3% (0.92% with a "
        "Hadamard rotation of K, which longctx does not do) [qwen3-family.md].");
  }
  bool any_rope = r.profile_ctx > 0 && rope_plan(hp, r.profile_ctx).needed;
  for (const CtxPlan& p : r.rows) any_rope = any_rope || p.rope.needed;
  if (any_rope) {
    r.notes.push_back("Past the native " + std::to_string(native_context(hp)) +
                      " tokens: YaRN factor = ceil(ctx / " +
                      std::to_string(yarn_original_context(hp)) +
                      "). Qwen: static YaRN may hurt short texts; enable it only when needed, with "
                      "the smallest factor that covers the need [Qwen3 model card].");
  }
  if (hp.rope_scaling.orig_ctx == 40960) {
    r.notes.push_back(
        "This file records a YaRN original context of 40960; Qwen3 was pre-trained "
        "at 32768 (a known conversion pitfall): pass --rope-orig-ctx 32768.");
  }
  if (device.count > 1) {
    r.notes.push_back(std::to_string(device.count) +
                      " GPUs: memory and bandwidth add up "
                      "(tensor-parallel capacity); longctx itself runs on one device today.");
  }
  return r;
}

std::span<const QuantPreset> plan_presets() {
  static constexpr QuantPreset kPresets[] = {QuantPreset::BF16,   QuantPreset::Q8_0,
                                             QuantPreset::Q6_K,   QuantPreset::Q5_K_M,
                                             QuantPreset::Q4_K_M, QuantPreset::Q4_0};
  return kPresets;
}

std::vector<OverviewRow> build_overview(const DeviceSetup& device, const PlanOptions& options) {
  std::vector<OverviewRow> rows;
  for (const ModelShape& s : model_catalog()) {
    const ModelHparams hp = hparams_from_shape(s);
    OverviewRow row;
    row.model = s.name;
    row.native_ctx = native_context(hp);
    row.max_ctx = max_context(hp);
    for (QuantPreset p : plan_presets()) {
      const PlanModel m = plan_model_from_preset(hp, p, s.name, "catalog");
      row.presets.push_back(preset_name(p));
      row.weight_bytes.push_back(m.weight_bytes());
      row.largest.push_back(std::min(largest_context(m, device, options), row.max_ctx));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace longctx
