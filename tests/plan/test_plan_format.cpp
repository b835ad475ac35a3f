// Plan reports and their renderings: context lists, the JSON schema (sizes as integers), the
// 80-column table, RULER notes from the Qwen3 technical report, the ready-to-run command.
#include <gtest/gtest.h>

#include <sstream>

#include "plan/plan_format.h"
#include "plan_test_util.h"

namespace longctx {
namespace {

using testing_util::catalog_model;
using testing_util::engine_plan_options;
using testing_util::gpu;

PlanReport report(const std::string& model, uint64_t memory, KvTypes kv = {},
                  std::vector<int64_t> ctx = {}, int64_t chosen = 0) {
  const PlanModel m = catalog_model(model);
  PlanOptions o = engine_plan_options(kv);
  const DeviceSetup d = gpu(memory, 1008e9, 165e12);
  o.headroom = default_headroom(d);
  if (ctx.empty()) ctx = default_contexts(m.hp);
  return build_plan_report(m, d, o, ctx, chosen, "M.gguf");
}

void expect_fits_80_columns(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    EXPECT_LE(line.size(), 80u) << line;
    ++n;
  }
  EXPECT_GT(n, 10);
}

TEST(PlanFormat, ContextLists) {
  const ModelHparams hp = hparams_from_shape(*find_model_shape("qwen3-8b"));
  EXPECT_EQ(default_contexts(hp),
            (std::vector<int64_t>{4096, 8192, 16384, 32768, 40960, 65536, 92160, 131072, 262144}));
  const ModelHparams hp2 = hparams_from_shape(*find_model_shape("qwen3-4b-2507"));
  EXPECT_EQ(default_contexts(hp2).back(), 262144);
  EXPECT_EQ(*parse_contexts("4096,32k, 128K"), (std::vector<int64_t>{4096, 32768, 131072}));
  EXPECT_EQ(*parse_contexts("10000000"), (std::vector<int64_t>{10000000}));
  for (const char* bad : {"0", "-5", "10000001", "9766k", "", "12,", "abc", "4k5"}) {
    auto r = parse_contexts(bad);
    ASSERT_FALSE(r.is_ok()) << bad;
    EXPECT_NE(r.status().message().find("--ctx"), std::string::npos) << bad;
  }
  EXPECT_EQ(format_tokens(131072), "128k");
  EXPECT_EQ(format_tokens(38400), "37.5k");
  EXPECT_EQ(format_tokens(1000), "1000");
}

TEST(PlanFormat, JsonHasEveryFieldWithIntegerSizes) {
  const PlanReport r = report("qwen3-30b-a3b", 24ull << 30);
  const nlohmann::json j = plan_json(r);
  for (const char* k : {"weight_bytes", "active_weight_bytes", "active_params", "native_ctx",
                        "max_ctx", "n_layer", "n_expert_used"}) {
    ASSERT_TRUE(j["model"].contains(k)) << k;
    EXPECT_TRUE(j["model"][k].is_number_unsigned() || j["model"][k].is_number_integer()) << k;
  }
  EXPECT_EQ(j["model"]["weight_bytes"].get<uint64_t>(), r.model.weight_bytes());
  EXPECT_TRUE(j["model"]["weight_bytes_by_preset"]["Q8_0"].is_number_unsigned());
  EXPECT_TRUE(j["device"]["total_memory_bytes"].is_number_unsigned());
  EXPECT_TRUE(j["options"]["budget_bytes"].is_number_unsigned());
  EXPECT_EQ(j["kv_bytes_per_token"].get<uint64_t>(), 98304u);
  ASSERT_EQ(j["contexts"].size(), r.rows.size());
  for (const auto& row : j["contexts"]) {
    for (const char* k :
         {"ctx", "weights_bytes", "kv_bytes", "compute_bytes", "runtime_bytes", "total_bytes"}) {
      EXPECT_TRUE(row[k].is_number_unsigned() || row[k].is_number_integer()) << k;
    }
    EXPECT_EQ(row["total_bytes"].get<uint64_t>(),
              row["weights_bytes"].get<uint64_t>() + row["kv_bytes"].get<uint64_t>() +
                  row["compute_bytes"].get<uint64_t>() + row["runtime_bytes"].get<uint64_t>());
    EXPECT_TRUE(row["fits"].is_boolean());
    EXPECT_TRUE(row["decode_tps"].is_number());
    EXPECT_TRUE(row["rope"]["factor"].is_number_integer());
  }
  // 128k on 24 GiB: f16 KV does not fit, experts of some layers go to RAM.
  const auto& last = j["contexts"][7];
  EXPECT_EQ(last["ctx"].get<int64_t>(), 131072);
  EXPECT_FALSE(last["fits"].get<bool>());
  EXPECT_TRUE(last["moe_cpu_layers"].is_number_integer());
  EXPECT_EQ(last["rope"]["factor"].get<int>(), 4);
  EXPECT_EQ(j["largest_context"].size(), 8u);
  EXPECT_TRUE(j["largest_context"][0]["ctx"].is_number_integer());
  EXPECT_TRUE(j["profile"]["run_command"].is_string());
  EXPECT_FALSE(j["profile"]["serve_available"].get<bool>());
}

TEST(PlanFormat, HumanTableFits80Columns) {
  expect_fits_80_columns(format_plan_text(report("qwen3-30b-a3b", 24ull << 30)));
  expect_fits_80_columns(format_plan_text(report("qwen3-235b-a22b", 96ull << 30)));
  expect_fits_80_columns(
      format_plan_text(report("qwen3-8b", 4ull << 30, {TensorType::Q8_0, TensorType::Q4_0})));
  const PlanModel m = catalog_model("qwen3-8b");
  DeviceSetup d = gpu(141ull << 30, 4800e9, 989e12);
  d.count = 8;
  PlanOptions o = engine_plan_options();
  o.headroom = default_headroom(d);
  expect_fits_80_columns(format_overview_text(build_overview(d, o), d, o));
}

TEST(PlanFormat, ProfileCommandCarriesContextKvAndRope) {
  // 24 GiB, Qwen3-8B Q4_K_M: f16 KV allows more than the 131072 maximum (YaRN x4).
  const PlanReport r = report("qwen3-8b", 48ull << 30);
  EXPECT_EQ(r.profile_ctx, 131072);
  EXPECT_EQ(r.run_command,
            "longctx chat -m M.gguf --ctx 131072 --rope-scaling yarn --rope-factor 4 "
            "--rope-orig-ctx 32768");
  // A chosen context within the native one needs no RoPE flags; other KV types are passed.
  const PlanReport q =
      report("qwen3-8b", 24ull << 30, {TensorType::Q8_0, TensorType::F16}, {32768}, 32768);
  EXPECT_EQ(q.run_command, "longctx chat -m M.gguf --ctx 32768 --kv-type-k q8_0 --kv-type-v f16");
  bool planned_note = false, q8_note = false;
  for (const std::string& n : q.notes) {
    planned_note |= n.find("planned only") != std::string::npos;
    q8_note |= n.find("near-lossless") != std::string::npos;
  }
  EXPECT_FALSE(planned_note);  // the engine runs q8_0 caches
  EXPECT_TRUE(q8_note);
  // A type only planned (q5_1) says so.
  const PlanReport p5 =
      report("qwen3-8b", 24ull << 30, {TensorType::Q5_1, TensorType::Q5_1}, {32768}, 32768);
  bool p5_note = false;
  for (const std::string& n : p5.notes) p5_note |= n.find("planned only") != std::string::npos;
  EXPECT_TRUE(p5_note);
  // Nothing fits: no command.
  const PlanReport none = report("qwen3-235b-a22b", 8ull << 30);
  EXPECT_EQ(none.profile_ctx, 0);
  EXPECT_TRUE(none.run_command.empty());
  EXPECT_NE(format_plan_text(none).find("nothing fits"), std::string::npos);
}

TEST(PlanFormat, RulerScoresOfTheTechnicalReport) {
  const ModelHparams a3b = hparams_from_shape(*find_model_shape("qwen3-30b-a3b"));
  EXPECT_EQ(ruler_note(a3b, 32768), "92.4 (non-thinking), 86.6 (thinking) at 32k");
  EXPECT_EQ(ruler_note(a3b, 40960), "89.1 (non-thinking), 82.1 (thinking) at 64k");
  const ModelHparams b235 = hparams_from_shape(*find_model_shape("qwen3-235b-a22b"));
  EXPECT_EQ(ruler_note(b235, 131072), "90.6 (non-thinking) at 128k");
  EXPECT_EQ(ruler_note(b235, 131073), "");  // beyond the published lengths
  // No published figure for 0.6B or the 2507 updates.
  EXPECT_EQ(ruler_note(hparams_from_shape(*find_model_shape("qwen3-0.6b")), 4096), "");
  EXPECT_EQ(ruler_note(hparams_from_shape(*find_model_shape("qwen3-30b-a3b-2507")), 4096), "");
}

TEST(PlanFormat, NotesTheOriginalContextPitfall) {
  PlanModel m = catalog_model("qwen3-8b");
  m.hp.rope_scaling = {RopeScalingType::kYarn, 4.0, 40960};
  PlanOptions o = engine_plan_options();
  const PlanReport r = build_plan_report(m, gpu(80ull << 30), o, {65536}, 0, "M.gguf");
  bool pitfall = false;
  for (const std::string& n : r.notes)
    pitfall |= n.find("--rope-orig-ctx 32768") != std::string::npos;
  EXPECT_TRUE(pitfall);
}

}  // namespace
}  // namespace longctx
