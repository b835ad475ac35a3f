// The measured CPU speed model against its definition, computed here from the tensor list by
// hand: decode = matrices / their type's one-token matmul stream rate (experts at theirs) + other
// weights / read + KV x depth / attention rate, prefill = matmul FLOPs per type /
// rate + attention FLOPs at the mean depth / rate; the plan uses it for CPUs (and says so) and
// the probe caches its figures per machine.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>

#include "common/temp_path.h"
#include "core/file_io.h"
#include "core/system_memory.h"
#include "kernels/backend.h"
#include "plan/plan_format.h"
#include "plan_test_util.h"
#include "runtime/speed_probe.h"

namespace longctx {
namespace {

using testing_util::catalog_model;
using testing_util::engine_plan_options;

MeasuredCpuSpeed rates(const PlanModel& m) {
  MeasuredCpuSpeed s;
  s.read_bw = 30e9;
  s.attn_decode_bw = 20e9;
  s.attn_prefill_flops = 80e9;
  for (const TensorCost& t : m.tensors) {
    if (t.matrix && s.matmul_rate(t.type) == 0) {
      s.matmul_flops.emplace_back(t.type, t.type == TensorType::Q6_K ? 150e9 : 300e9);
      s.gemv_bw.emplace_back(t.type, t.type == TensorType::Q6_K ? 22e9 : 27e9);
      s.expert_gemv_bw.emplace_back(t.type, t.type == TensorType::Q6_K ? 19e9 : 24e9);
    }
  }
  s.source = "test";
  return s;
}

TEST(SpeedModel, PredictionsFollowTheirDefinition) {
  for (const char* name : {"qwen3-0.6b", "qwen3-30b-a3b"}) {
    const PlanModel m = catalog_model(name);
    const ModelHparams& hp = m.hp;
    const MeasuredCpuSpeed s = rates(m);
    const KvTypes kv{TensorType::Q8_0, TensorType::F16};
    const int64_t k = hp.is_moe() ? hp.n_expert_used : 0;
    // Decode at depth 4096: the active weights once, the K/V of every cached position once.
    const double kv_tok = double(hp.n_layer) * hp.n_head_kv *
                          (row_bytes(kv.k, hp.head_dim) + row_bytes(kv.v, hp.head_dim_v));
    const bool moe = hp.is_moe();
    double t_dec = kv_tok * 4096 / 20e9;
    for (const TensorCost& c : m.tensors) {
      if (c.role == TensorRole::kTokenEmbd && !hp.tied_embeddings) continue;
      const bool expert = c.role == TensorRole::kFfnGateExps || c.role == TensorRole::kFfnUpExps ||
                          c.role == TensorRole::kFfnDownExps;
      const double bytes = expert ? double(c.bytes) * k / hp.n_expert : double(c.bytes);
      const bool q6 = c.type == TensorType::Q6_K;
      t_dec += bytes / (!c.matrix ? 30e9 : expert ? (q6 ? 19e9 : 24e9) : (q6 ? 22e9 : 27e9));
    }
    EXPECT_NEAR(predict_decode_tps(m, kv, 0, 4096, s), 1.0 / t_dec, 1e-9 / t_dec) << name;
    // Without stream rates every weight byte reads at the read probe's rate; without expert
    // rates experts stream as other matrices of their type do.
    MeasuredCpuSpeed plain = s;
    plain.gemv_bw.clear();
    plain.expert_gemv_bw.clear();
    const double t_plain = double(m.active_weight_bytes(k)) / 30e9 + kv_tok * 4096 / 20e9;
    EXPECT_NEAR(predict_decode_tps(m, kv, 0, 4096, plain), 1.0 / t_plain, 1e-9 / t_plain) << name;
    MeasuredCpuSpeed no_experts = s;
    no_experts.expert_gemv_bw.clear();
    EXPECT_EQ(
        predict_decode_tps(m, kv, 0, 4096, no_experts) > predict_decode_tps(m, kv, 0, 4096, s), moe)
        << name;
    // Prefill of 512 tokens after 1000: matrices by type (experts k of n), no head.
    double t_pre = 0;
    for (const TensorCost& c : m.tensors) {
      if (!c.matrix || c.role == TensorRole::kTokenEmbd || c.role == TensorRole::kOutput) continue;
      double elems = double(c.bytes) / double(row_bytes(c.type, c.n_in)) * double(c.n_in);
      const bool expert = c.role == TensorRole::kFfnGateExps || c.role == TensorRole::kFfnUpExps ||
                          c.role == TensorRole::kFfnDownExps;
      if (expert) elems = elems * k / hp.n_expert;
      t_pre += 2 * elems / s.matmul_rate(c.type);
    }
    t_pre +=
        2.0 * hp.n_layer * hp.n_head * (hp.head_dim + hp.head_dim_v) * (1000 + 513 / 2.0) / 80e9;
    EXPECT_NEAR(predict_prefill_tps(m, kv, 0, 512, 1000, s), 1.0 / t_pre, 1e-6 / t_pre) << name;
    // A missing rate gives no prediction rather than a guess.
    MeasuredCpuSpeed none = s;
    none.matmul_flops.clear();
    EXPECT_EQ(predict_prefill_tps(m, kv, 0, 512, 0, none), 0.0);
    none.attn_decode_bw = 0;
    EXPECT_EQ(predict_decode_tps(m, kv, 0, 4096, none), 0.0);
  }
}

TEST(SpeedModel, ACpuPlanUsesTheMeasuredRatesAndSaysSo) {
  const PlanModel m = catalog_model("qwen3-0.6b");
  DeviceSetup cpu;
  cpu.label = "CPU (system RAM)";
  cpu.memory = 16ull << 30;
  cpu.bandwidth = 30e9;
  cpu.source = "detected";
  SpeedModel speed;
  speed.cpu = rates(m);
  PlanOptions o = engine_plan_options();
  o.headroom = 1ull << 30;
  const PlanReport r = build_plan_report(m, cpu, o, {4096}, 4096, "M.gguf", speed);
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_NEAR(r.rows[0].decode_tps, predict_decode_tps(m, o.kv, 0, 4096, speed.cpu), 1e-9);
  EXPECT_NEAR(r.rows[0].prefill_tps, predict_prefill_tps(m, o.kv, 0, 4096, 0, speed.cpu), 1e-9);
  const std::string text = format_plan_text(r);
  EXPECT_NE(text.find("weights read at 30.0 GB/s"), std::string::npos) << text;
  EXPECT_NE(text.find("decode attention 20.0 GB/s"), std::string::npos) << text;
  EXPECT_NE(text.find("27.0"), std::string::npos) << text;  // the matrices' stream rate
  EXPECT_NE(plan_json(r).dump().find("gemv_bytes_per_s"), std::string::npos);
  EXPECT_NE(plan_json(r).dump().find("attn_decode_bytes_per_s"), std::string::npos);
}

// The probe for qwen3-0.6b's shape (or another catalog model's), Q8_0 weights and cache, batch
// 64, 2 threads, cached in `cache`; read_bw > 0 replaces the read probe.
Result<MeasuredCpuSpeed> probe_q8(KernelBackend& be, const std::string& cache, double read_bw = 0,
                                  bool refresh = false, const char* model = "qwen3-0.6b") {
  SpeedProbeOptions o;
  o.n_batch = 64;
  o.n_threads = 2;
  o.cache_path = cache;
  o.refresh = refresh;
  return probe_cpu_speed(be, catalog_model(model).hp, {TensorType::Q8_0}, TensorType::Q8_0,
                         TensorType::Q8_0, read_bw, o);
}

// The probe's figures are positive and cached: the second call reads them back.
TEST(SpeedProbe, MeasuresOnceAndReadsTheCacheAfter) {
  auto be = make_backend("cpu", 2);
  ASSERT_TRUE(be.is_ok());
  const std::string cache = testing_util::unique_temp_path("speed_cache.json");
  std::remove(cache.c_str());
  auto a = probe_q8(**be, cache);
  ASSERT_TRUE(a.is_ok()) << a.status().message();
  EXPECT_TRUE(a->valid());
  EXPECT_GT(a->matmul_rate(TensorType::Q8_0), 0.0);
  ASSERT_EQ(a->gemv_bw.size(), 1u);  // the one weight type's stream rate, measured
  EXPECT_EQ(a->gemv_bw[0].first, TensorType::Q8_0);
  EXPECT_GT(a->gemv_bw[0].second, 1e8);
  EXPECT_TRUE(a->expert_gemv_bw.empty());  // a dense model has no experts
  EXPECT_NE(a->source.find("measured now"), std::string::npos);
  auto b = probe_q8(**be, cache);
  ASSERT_TRUE(b.is_ok());
  EXPECT_NE(b->source.find("measured earlier"), std::string::npos);
  EXPECT_EQ(b->read_bw, a->read_bw);
  EXPECT_EQ(b->attn_decode_bw, a->attn_decode_bw);
  EXPECT_EQ(b->gemv_bw, a->gemv_bw);
  // --bw replaces the read probe, and stands for every weight stream.
  auto c = probe_q8(**be, cache, 12.5e9);
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(c->read_bw, 12.5e9);
  EXPECT_TRUE(c->gemv_bw.empty());
  EXPECT_EQ(c->gemv_rate(TensorType::Q8_0), 12.5e9);
  // A refresh (bench's) measures again over the cached figures and caches what it read.
  auto d = probe_q8(**be, cache, 0, true);
  ASSERT_TRUE(d.is_ok());
  EXPECT_NE(d->source.find("measured now"), std::string::npos) << d->source;
  auto e = probe_q8(**be, cache);
  ASSERT_TRUE(e.is_ok());
  EXPECT_EQ(e->read_bw, d->read_bw);
  EXPECT_EQ(e->gemv_bw, d->gemv_bw);
  std::remove(cache.c_str());
}

// For MoE the experts' stream is measured as decode runs it: the gate and up matrices of the
// active experts handed to the backend as one batch of tasks.
TEST(SpeedProbe, MeasuresTheExpertStreamOfAMoeModel) {
  auto be = make_backend("cpu", 2);
  ASSERT_TRUE(be.is_ok());
  const std::string cache = testing_util::unique_temp_path("speed_cache_moe.json");
  std::remove(cache.c_str());
  auto a = probe_q8(**be, cache, 0, false, "qwen3-30b-a3b");
  ASSERT_TRUE(a.is_ok()) << a.status().message();
  ASSERT_EQ(a->expert_gemv_bw.size(), 1u);
  EXPECT_GT(a->expert_gemv_rate(TensorType::Q8_0), 1e8);
  auto text = read_file(cache);
  ASSERT_TRUE(text.is_ok());
  EXPECT_NE(text->find("expert gemv q8_0 2048x768 x16"), std::string::npos) << *text;
  std::remove(cache.c_str());
}

// The cache is per machine and build: another build's figures for this machine (a changed
// kernel) are neither read nor kept, nor are those of versions whose keys had no build; another
// machine's stay.
TEST(SpeedProbe, IgnoresAndDropsAnotherBuildsFigures) {
  auto be = make_backend("cpu", 2);
  ASSERT_TRUE(be.is_ok());
  const std::string cache = testing_util::unique_temp_path("speed_cache_builds.json");
  const std::string base =
      cpu_model_name() + " " + cpu_signature() + " | " + (*be)->describe() + " | threads 2";
  nlohmann::json old = nlohmann::json::object();
  old[base + " | build 1-1"]["read"] = 1.0;                // another build of this program, here
  old["AMD EPYC | cpu avx512 | threads 2"]["read"] = 3.0;  // an older version's key: no build
  old["Some Other CPU family 6 model 1 stepping 0 | cpu avx2 | threads 2 | build 1-1"]["read"] =
      2.0;
  ASSERT_TRUE(write_file_atomic(cache, old.dump()).is_ok());
  ASSERT_NE(program_identity(), "");
  auto a = probe_q8(**be, cache);
  ASSERT_TRUE(a.is_ok()) << a.status().message();
  EXPECT_NE(a->source.find("measured now"), std::string::npos) << a->source;
  EXPECT_GT(a->read_bw, 1e8);  // not the other build's 1 B/s
  auto text = read_file(cache);
  ASSERT_TRUE(text.is_ok());
  const nlohmann::json now = nlohmann::json::parse(*text);
  EXPECT_FALSE(now.contains(base + " | build 1-1"));
  EXPECT_FALSE(now.contains("AMD EPYC | cpu avx512 | threads 2"));
  EXPECT_TRUE(now.contains(base + " | build " + program_identity()));
  EXPECT_TRUE(now.contains(
      "Some Other CPU family 6 model 1 stepping 0 | cpu avx2 | threads 2 | build 1-1"));
  std::remove(cache.c_str());
}

}  // namespace
}  // namespace longctx
