// Planner arithmetic against independent figures: KV bytes from the `gguf` package's block sizes
// (fixture) and the 96 KiB / 12 GiB facts of Qwen3-30B-A3B, weights against preset_weight_bytes
// and published GGUF sizes, the exactness of the largest-context search, the YaRN rule, MoE
// offload and the roofline speeds.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/file_io.h"
#include "kv/kv_cache.h"
#include "plan/plan_format.h"
#include "plan_test_util.h"

namespace longctx {
namespace {

using testing_util::catalog_model;
using testing_util::engine_plan_options;
using testing_util::gpu;

TEST(PlannerKv, Qwen3_30B_A3B_Is96KiBPerTokenAnd12GiBAt128k) {
  const PlanModel m = catalog_model("qwen3-30b-a3b");
  const CtxPlan p = plan_context(m, gpu(1ull << 40), engine_plan_options(), 131072);
  EXPECT_EQ(p.kv, 12ull << 30);
  const CtxPlan one = plan_context(m, gpu(1ull << 40), engine_plan_options(), 1);
  EXPECT_EQ(one.kv, 96ull << 10);
}

TEST(PlannerKv, EveryModelAndTypeMatchesTheGgufPackageBlockSizes) {
  auto text = read_file(std::string(LONGCTX_TEST_DATA_DIR) + "/kv_bytes.json");
  ASSERT_TRUE(text.is_ok()) << text.status().message();
  const auto expected = nlohmann::json::parse(*text);
  size_t checked = 0;
  for (const ModelShape& s : model_catalog()) {
    ASSERT_TRUE(expected.contains(s.name)) << s.name;
    const PlanModel m =
        plan_model_from_preset(hparams_from_shape(s), QuantPreset::Q8_0, s.name, "catalog");
    for (const auto& [type, bytes] : expected[s.name].items()) {
      const TensorType t = *parse_type_name(type);
      PlanOptions o = engine_plan_options({t, t});
      // 1000 tokens: the per-token figure times the context, exactly.
      EXPECT_EQ(plan_context(m, gpu(1ull << 40), o, 1000).kv, bytes.get<uint64_t>() * 1000)
          << s.name << " " << type;
      ++checked;
    }
  }
  EXPECT_EQ(checked, model_catalog().size() * 8);
}

TEST(PlannerKv, MixedKAndVTypesAddTheirRows) {
  const PlanModel m = catalog_model("qwen3-8b");
  // 36 layers x 8 heads x (128 x 2 bytes f16 K + 4 x 34 bytes q8_0 V) = 36 x 8 x 392.
  const CtxPlan p = plan_context(m, gpu(1ull << 40),
                                 engine_plan_options({TensorType::F16, TensorType::Q8_0}), 10);
  EXPECT_EQ(p.kv, 36ull * 8 * (256 + 136) * 10);
}

TEST(PlannerKv, EqualsTheEngineCacheForTheTypesItRuns) {
  for (const char* name : {"qwen3-0.6b", "qwen3-32b", "qwen3-235b-a22b"}) {
    const PlanModel m = catalog_model(name);
    for (TensorType t : {TensorType::F32, TensorType::F16, TensorType::BF16}) {
      PlanOptions o = engine_plan_options({t, t});
      o.n_parallel = 3;
      const KvShape shape{m.hp.n_layer, m.hp.n_head_kv, m.hp.head_dim, m.hp.head_dim_v};
      EXPECT_EQ(plan_context(m, gpu(1ull << 40), o, 5000).kv,
                3 * KvCache::bytes_for(shape, {5000, t, t}))
          << name << " " << type_name(t);
    }
  }
}

TEST(PlannerWeights, EqualPresetWeightBytesForEveryCatalogModelAndPreset) {
  for (const ModelShape& s : model_catalog()) {
    const ModelHparams hp = hparams_from_shape(s);
    for (QuantPreset p : plan_presets()) {
      EXPECT_EQ(plan_model_from_preset(hp, p, s.name, "catalog").weight_bytes(),
                preset_weight_bytes(hp, p))
          << s.name << " " << preset_name(p);
    }
  }
}

TEST(PlannerWeights, Qwen3_4BWithinOnePercentOfPublishedFiles) {
  // bartowski/Qwen_Qwen3-4B-GGUF model card (docs/QUANT_PRESETS.md): whole files of 2.50 GB
  // (Q4_K_M) and 4.28 GB (Q8_0); our tensor bytes plus the ~6 MB of tokenizer metadata.
  const ModelHparams hp = hparams_from_shape(*find_model_shape("qwen3-4b"));
  const double meta = 0.006e9;
  for (auto [p, published] :
       {std::pair{QuantPreset::Q4_K_M, 2.50e9}, std::pair{QuantPreset::Q8_0, 4.28e9}}) {
    const double ours = static_cast<double>(preset_weight_bytes(hp, p)) + meta;
    EXPECT_NEAR(ours / published, 1.0, 0.01) << preset_name(p);
  }
}

TEST(PlannerWeights, Qwen3_8BAnd30BA3BWithinOnePercentOfPublishedFiles) {
  // bartowski/Qwen_Qwen3-8B-GGUF and Qwen_Qwen3-30B-A3B-GGUF model cards (llama.cpp b5200):
  // whole-file sizes in GB, rounded to 0.01 (docs/PLAN.md).
  const double meta = 0.006e9;
  struct Row {
    const char* model;
    QuantPreset preset;
    double published;
  };
  for (const Row& r :
       {Row{"qwen3-8b", QuantPreset::BF16, 16.39e9}, Row{"qwen3-8b", QuantPreset::Q8_0, 8.71e9},
        Row{"qwen3-8b", QuantPreset::Q6_K, 6.73e9},
        Row{"qwen3-30b-a3b", QuantPreset::BF16, 61.10e9},
        Row{"qwen3-30b-a3b", QuantPreset::Q8_0, 32.48e9},
        Row{"qwen3-30b-a3b", QuantPreset::Q6_K, 25.10e9},
        Row{"qwen3-30b-a3b", QuantPreset::Q5_K_M, 21.74e9}}) {
    const ModelHparams hp = hparams_from_shape(*find_model_shape(r.model));
    const double ours = static_cast<double>(preset_weight_bytes(hp, r.preset)) + meta;
    // Rounding of the published figure alone allows 0.005 GB; 1% is the bound, and the
    // measured differences are all below 0.1%.
    EXPECT_NEAR(ours / r.published, 1.0, 0.001) << r.model << " " << preset_name(r.preset);
  }
}

TEST(PlannerWeights, ActiveBytesCountOnlyTheChosenExperts) {
  const PlanModel m = catalog_model("qwen3-30b-a3b");
  uint64_t experts = 0, embd = 0;
  for (const TensorCost& t : m.tensors) {
    if (t.role == TensorRole::kFfnGateExps || t.role == TensorRole::kFfnUpExps ||
        t.role == TensorRole::kFfnDownExps) {
      experts += t.bytes;
    }
    if (t.role == TensorRole::kTokenEmbd) embd = t.bytes;
  }
  const uint64_t rest = m.weight_bytes() - experts - embd;  // untied: the head is in `rest`
  EXPECT_EQ(m.active_weight_bytes(128), rest + experts);
  EXPECT_EQ(m.active_weight_bytes(8), rest + experts / 128 * 8);
  EXPECT_EQ(m.active_weight_bytes(1), rest + experts / 128);
  // Tied embeddings: the head multiplies with the whole table, so it counts.
  const PlanModel tied = catalog_model("qwen3-0.6b");
  EXPECT_EQ(tied.active_weight_bytes(0), tied.weight_bytes());
  // Model card: 3.3B activated, counting the embedding table, which a token only indexes (the
  // planner leaves it out of the FLOPs); rounded to 0.1B there.
  EXPECT_NEAR(static_cast<double>(m.active_params(8) + 151936ull * 2048) / 1e9, 3.3, 0.05 + 0.033);
}

TEST(PlannerFit, TotalIsWeightsPlusKvPlusComputeAndBoundaryIsExact) {
  const PlanModel m = catalog_model("qwen3-8b");
  PlanOptions o = engine_plan_options();
  o.n_parallel = 2;
  o.runtime_bytes = 12345678;  // once, not per sequence
  const CtxPlan p = plan_context(m, gpu(1ull << 40), o, 32768);
  EXPECT_EQ(p.weights, preset_weight_bytes(m.hp, QuantPreset::Q4_K_M));
  EXPECT_EQ(p.compute, 2 * Session::compute_bytes_for(m.hp, 512));
  EXPECT_EQ(p.runtime, 12345678u);
  EXPECT_EQ(p.total, p.weights + p.kv + p.compute + p.runtime);
  o.headroom = 1000;
  EXPECT_TRUE(plan_context(m, gpu(p.total + 1000), o, 32768).fits);
  EXPECT_FALSE(plan_context(m, gpu(p.total + 999), o, 32768).fits);
  // A context below the micro-batch uses a batch of ctx tokens, as a session does.
  EXPECT_EQ(plan_context(m, gpu(1ull << 40), o, 100).compute,
            2 * Session::compute_bytes_for(m.hp, 100));
}

TEST(PlannerFit, LargestContextFitsAndOneMoreTokenDoesNot) {
  struct Case {
    const char* model;
    QuantPreset preset;
    uint64_t memory;
    TensorType kv;
    int64_t parallel;
  };
  const Case cases[] = {
      {"qwen3-8b", QuantPreset::Q4_K_M, 24ull << 30, TensorType::F16, 1},
      {"qwen3-30b-a3b", QuantPreset::Q4_K_M, 24ull << 30, TensorType::Q8_0, 1},
      {"qwen3-32b", QuantPreset::Q8_0, 80ull << 30, TensorType::F16, 4},
      {"qwen3-0.6b", QuantPreset::BF16, 8ull << 30, TensorType::Q4_0, 2},
      {"qwen3-4b", QuantPreset::Q6_K, 5ull << 30, TensorType::BF16, 1},
  };
  for (const Case& c : cases) {
    const PlanModel m = catalog_model(c.model, c.preset);
    PlanOptions o = engine_plan_options({c.kv, c.kv});
    o.n_parallel = c.parallel;
    o.runtime_bytes = c.parallel == 1 ? 0 : 20ull << 20;
    const DeviceSetup d = gpu(c.memory);
    o.headroom = default_headroom(d);
    const int64_t l = largest_context(m, d, o);
    ASSERT_GT(l, 0) << c.model;
    ASSERT_LT(l, kMaxPlanContext) << c.model;
    EXPECT_TRUE(plan_context(m, d, o, l).fits) << c.model;
    EXPECT_FALSE(plan_context(m, d, o, l + 1).fits) << c.model;
  }
  // Weights alone too large: nothing fits; a huge device: the 10M cap.
  const PlanModel big = catalog_model("qwen3-235b-a22b", QuantPreset::BF16);
  EXPECT_EQ(largest_context(big, gpu(24ull << 30), engine_plan_options()), 0);
  EXPECT_EQ(largest_context(catalog_model("qwen3-0.6b"), gpu(100ull << 40), engine_plan_options()),
            kMaxPlanContext);
}

TEST(PlannerFit, DefaultHeadroomIsFivePercentAtLeast512MiB) {
  EXPECT_EQ(default_headroom(gpu(100ull << 30)), 5ull << 30);
  EXPECT_EQ(default_headroom(gpu(4ull << 30)), 512ull << 20);
  DeviceSetup two = gpu(80ull << 30);
  two.count = 2;  // tensor-parallel capacity: memory adds up
  EXPECT_EQ(two.total_memory(), 160ull << 30);
  EXPECT_EQ(device_budget(two, 8ull << 30), 152ull << 30);
  EXPECT_EQ(device_budget(gpu(1000), 2000), 0u);
}

TEST(PlannerRope, NoneWithinNativeThenCeilOfTargetOverOriginal) {
  const ModelHparams hp = hparams_from_shape(*find_model_shape("qwen3-8b"));
  EXPECT_FALSE(rope_plan(hp, 40960).needed);
  const std::pair<int64_t, int64_t> cases[] = {{40961, 2}, {65536, 2},  {65537, 3},
                                               {98304, 3}, {131072, 4}, {131073, 5}};
  for (auto [ctx, factor] : cases) {
    const RopePlan r = rope_plan(hp, ctx);
    EXPECT_TRUE(r.needed) << ctx;
    EXPECT_EQ(r.factor, factor) << ctx;
    EXPECT_EQ(r.orig_ctx, 32768) << "scales from the pre-training context, not 40960";
  }
  EXPECT_EQ(max_context(hp), 131072);
  // 2507: native 262144, nothing needed up to it; beyond, scaling starts from 262144.
  const ModelHparams hp2 = hparams_from_shape(*find_model_shape("qwen3-30b-a3b-2507"));
  EXPECT_FALSE(rope_plan(hp2, 262144).needed);
  EXPECT_EQ(rope_plan(hp2, 262145).factor, 2);
  EXPECT_EQ(max_context(hp2), 262144);
  // A file's own YaRN metadata wins (the 40960 pitfall is then reported, see test_plan_format).
  ModelHparams file = hp;
  file.rope_scaling = {RopeScalingType::kYarn, 4.0, 40960};
  EXPECT_EQ(max_context(file), 163840);  // the file's factor 4 x 40960
  EXPECT_EQ(rope_plan(file, 81920).factor, 2);
  EXPECT_EQ(rope_plan(file, 81921).factor, 3);
  EXPECT_EQ(rope_plan(file, 81921).orig_ctx, 40960);
}

TEST(PlannerMoe, OffloadsTheFewestLayersThatMakeItFit) {
  const PlanModel m = catalog_model("qwen3-30b-a3b");
  PlanOptions o = engine_plan_options();
  const DeviceSetup d = gpu(24ull << 30, 1008e9, 165e12, 64ull << 30, 89.6e9);
  o.headroom = default_headroom(d);
  const CtxPlan p = plan_context(m, d, o, 131072);
  ASSERT_FALSE(p.fits);
  ASSERT_TRUE(p.fits_with_offload);
  uint64_t off = 0;
  for (int il = 0; il < p.moe_cpu_layers; ++il) off += m.layer_expert_bytes(il);
  const uint64_t budget = device_budget(d, o.headroom);
  EXPECT_LE(p.total - off, budget);
  EXPECT_GT(p.total - (off - m.layer_expert_bytes(p.moe_cpu_layers - 1)), budget);
  // Decode: the GPU part at 80% of 1008 GB/s, 8/128 of the offloaded experts at 80% of RAM's.
  const double cpu_read = static_cast<double>(off) * 8 / 128;
  const double gpu_read =
      static_cast<double>(m.active_weight_bytes(8)) - cpu_read + 98304.0 * 131072;
  EXPECT_NEAR(p.decode_tps, 1.0 / (gpu_read / (0.8 * 1008e9) + cpu_read / (0.8 * 89.6e9)),
              1e-9 * p.decode_tps);
  // Not enough RAM for the experts either: it does not fit at all.
  const CtxPlan q = plan_context(m, gpu(24ull << 30, 1008e9, 165e12, 1ull << 30), o, 131072);
  EXPECT_FALSE(q.fits_with_offload);
  EXPECT_EQ(q.decode_tps, 0.0);
  // Dense models are never offloaded.
  EXPECT_FALSE(plan_context(catalog_model("qwen3-32b"), d, o, 131072).fits_with_offload);
}

TEST(PlannerSpeed, DecodeIsBandwidthOverActiveWeightsAndKvRead) {
  const PlanModel m = catalog_model("qwen3-8b");
  const DeviceSetup d = gpu(80ull << 30, 2e12, 500e12);
  const PlanOptions o = engine_plan_options();
  uint64_t embd = 0;
  for (const TensorCost& t : m.tensors) {
    if (t.role == TensorRole::kTokenEmbd) embd = t.bytes;
  }
  const double read = static_cast<double>(m.weight_bytes() - embd) + 147456.0 * 32768;
  const CtxPlan p = plan_context(m, d, o, 32768);
  EXPECT_NEAR(p.decode_tps, 0.8 * 2e12 / read, 1e-9 * p.decode_tps);
  // Prefill: 50% of 500 TFLOPS over 2 x active params (model card: 8.2B in all, of which the
  // 151936 x 4096 embedding table is only indexed) + attention at depth 16384.
  const double attn = 2.0 * 36 * 32 * 256 * 16384;
  EXPECT_NEAR(p.prefill_tps, 0.5 * 500e12 / (2.0 * m.active_params(0) + attn),
              1e-9 * p.prefill_tps);
  EXPECT_NEAR(static_cast<double>(m.active_params(0) + 151936ull * 4096) / 1e9, 8.2, 0.05 + 0.082);
  // Deeper is slower; twice the bandwidth is twice the decode speed.
  EXPECT_LT(plan_context(m, d, o, 65536).decode_tps, p.decode_tps);
  EXPECT_NEAR(plan_context(m, gpu(80ull << 30, 4e12, 500e12), o, 32768).decode_tps,
              2 * p.decode_tps, 1e-9 * p.decode_tps);
  // Unknown bandwidth/FLOPs: no speed rather than a made-up one.
  const CtxPlan none = plan_context(m, gpu(80ull << 30, 0, 0), o, 32768);
  EXPECT_EQ(none.decode_tps, 0.0);
  EXPECT_EQ(none.prefill_tps, 0.0);
}

TEST(PlannerOptions, RejectsWhatTheModelCannotRun) {
  const PlanModel dense = catalog_model("qwen3-8b");
  const PlanModel moe = catalog_model("qwen3-30b-a3b");
  PlanOptions o = engine_plan_options();
  EXPECT_TRUE(check_plan_options(dense, o).is_ok());
  o.n_experts = 4;
  EXPECT_NE(check_plan_options(dense, o).message().find("dense"), std::string::npos);
  EXPECT_TRUE(check_plan_options(moe, o).is_ok());
  o.n_experts = 129;
  EXPECT_NE(check_plan_options(moe, o).message().find("1..128, got 129"), std::string::npos);
  o = engine_plan_options({TensorType::Q4_K, TensorType::F16});
  EXPECT_NE(check_plan_options(dense, o).message().find("q4_K"), std::string::npos);
  o = engine_plan_options();
  o.n_parallel = 0;
  EXPECT_NE(check_plan_options(dense, o).message().find("--parallel"), std::string::npos);
  o.n_parallel = 1;
  o.n_batch = 0;
  EXPECT_NE(check_plan_options(dense, o).message().find("--batch"), std::string::npos);
  // A head_dim the KV block does not divide.
  PlanModel odd = dense;
  odd.hp.head_dim = odd.hp.head_dim_v = 80;
  o = engine_plan_options({TensorType::Q8_0, TensorType::Q8_0});
  EXPECT_NE(check_plan_options(odd, o).message().find("not a multiple"), std::string::npos);
  o = engine_plan_options();
  EXPECT_TRUE(check_plan_options(odd, o).is_ok());  // f16 has no blocks
}

}  // namespace
}  // namespace longctx
