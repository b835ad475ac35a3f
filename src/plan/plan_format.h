// A whole plan (memory table, largest context per KV type, RoPE, quality notes, ready-to-run
// command) assembled from the planner's figures, and its two renderings: a human table that
// fits 80 columns and JSON for tools (sizes in bytes as integers, speeds in tokens/s).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "plan/device.h"
#include "plan/planner.h"

namespace longctx {

// The overview table shows a context this small as '-': a few tokens are no use to anyone.
inline constexpr int64_t kMinUsefulContext = 256;

struct LargestContext {
  KvTypes kv;
  int64_t ctx = 0;         // memory allows this many tokens (up to kMaxPlanContext)
  int64_t usable_ctx = 0;  // capped at the model's maximum context
  RopePlan rope;           // for usable_ctx
  bool engine_runs = false;
};

struct PlanReport {
  PlanModel model;
  DeviceSetup device;
  PlanOptions options;
  SpeedModel speed;
  std::string model_arg;  // how MODEL is written in the ready-to-run command
  uint64_t budget = 0;
  uint64_t kv_bytes_per_token = 0;  // one sequence, options.kv
  int64_t n_experts = 0;            // effective experts per token (0 for dense)
  std::vector<CtxPlan> rows;
  std::vector<LargestContext> largest;  // every plannable KV type (K = V), the chosen one first
  int64_t profile_ctx = 0;              // 0 when nothing fits
  std::string run_command, serve_command;
  std::vector<std::string> notes;  // quality, RoPE and KV notes with their sources
  // Catalog or config.json models: weight bytes under each listed preset.
  std::vector<std::pair<std::string, uint64_t>> preset_weights;
};

// Default contexts: 4k, 8k, 16k, 32k, 64k, 90k, 128k, 256k, the native and maximum contexts.
std::vector<int64_t> default_contexts(const ModelHparams& hp);
// "4096,32k,128K" -> tokens (k = 1024); 0, negative or above 10M is an error naming the value.
Result<std::vector<int64_t>> parse_contexts(std::string_view text);

// `chosen_ctx` (0 = the largest usable context for options.kv) picks the profile's context.
// `speed` carries the CPU rates measured on this machine (SpeedModel::cpu), when there are any.
PlanReport build_plan_report(const PlanModel& model, const DeviceSetup& device,
                             const PlanOptions& options, const std::vector<int64_t>& contexts,
                             int64_t chosen_ctx, std::string model_arg,
                             const SpeedModel& speed = {});

// RULER scores of a catalog model at the first published length >= ctx, from the Qwen3
// technical report (table 23, YaRN x4): "92.4 (non-thinking), 86.6 (thinking) at 32k", or ""
// when none is published (other models, 2507 updates, beyond 128k).
std::string ruler_note(const ModelHparams& hp, int64_t ctx);
inline constexpr const char* kRulerSource = "Qwen3 technical report, table 23, RULER with YaRN x4";
// The presets the catalog lists weights for: BF16, Q8_0, Q6_K, Q5_K_M, Q4_K_M, Q4_0.
std::span<const QuantPreset> plan_presets();

std::string format_plan_text(const PlanReport& r);
nlohmann::json plan_json(const PlanReport& r);

// `longctx plan` without a model: every catalog model and preset against one device.
struct OverviewRow {
  std::string model;
  int64_t native_ctx = 0, max_ctx = 0;
  std::vector<std::string> presets;
  std::vector<uint64_t> weight_bytes;
  std::vector<int64_t> largest;  // usable context per preset (0 = the weights do not fit)
};
std::vector<OverviewRow> build_overview(const DeviceSetup& device, const PlanOptions& options);
std::string format_overview_text(const std::vector<OverviewRow>& rows, const DeviceSetup& device,
                                 const PlanOptions& options);
nlohmann::json overview_json(const std::vector<OverviewRow>& rows, const DeviceSetup& device,
                             const PlanOptions& options);

// Shared by the renderings: "24.00 GiB", "576.0 MiB"; "128k" / "37.5k" tokens.
std::string format_bytes(uint64_t bytes);
std::string format_tokens(int64_t tokens);

}  // namespace longctx
