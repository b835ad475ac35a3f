// The planner's accuracy against longctx itself: synth models of several shapes and presets are
// loaded by the engine, sessions are created with the planned options, and the planner's
// weights, KV and compute bytes must equal the engine's own accounting exactly.
#include <gtest/gtest.h>

#include "core/file_io.h"
#include "gguf/gguf.h"
#include "model/synth.h"
#include "plan/catalog.h"
#include "plan_test_util.h"
#include "runtime/engine.h"
#include "runtime/engine_test_util.h"
#include "runtime/session.h"

namespace longctx {
namespace {

struct SynthCase {
  const char* shape;
  uint32_t n_layer;  // 0 = the shape's
  QuantPreset preset;
};

std::string write_model(const SynthCase& c, const std::string& file_name) {
  SynthOptions opt;
  opt.hparams = hparams_from_shape(*find_model_shape(c.shape));
  if (c.n_layer != 0) opt.hparams.n_layer = c.n_layer;
  opt.hparams.n_vocab = 512;  // a small vocabulary keeps the file small
  opt.preset = c.preset;
  const std::string path = testing_util::remove_at_exit(testing_util::unique_temp_path(file_name));
  Status st = write_synth_model(opt, path);
  EXPECT_TRUE(st.is_ok()) << st.message();
  return path;
}

TEST(PlanEngine, WeightsKvAndComputeEqualWhatTheEngineAllocates) {
  const SynthCase cases[] = {
      {"qwen3-tiny", 0, QuantPreset::Q8_0},    {"qwen3-tiny", 0, QuantPreset::Q4_K_M},
      {"qwen3moe-tiny", 0, QuantPreset::Q8_0}, {"qwen3moe-tiny", 0, QuantPreset::Q6_K},
      {"qwen3-0.6b", 2, QuantPreset::Q4_K_M},
  };
  struct SessionCase {
    int64_t ctx, batch;
    TensorType k, v;
  };
  const SessionCase sessions[] = {
      {4096, 512, TensorType::F16, TensorType::F16},
      {300, 512, TensorType::BF16, TensorType::F32},  // ctx below the batch: batch = ctx
      {2048, 64, TensorType::F32, TensorType::F16},
  };
  int n = 0;
  for (const SynthCase& c : cases) {
    SCOPED_TRACE(std::string(c.shape) + " " + preset_name(c.preset));
    const std::string path = write_model(c, "plan_engine_" + std::to_string(n++) + ".gguf");
    auto file = GgufFile::open(path);
    ASSERT_TRUE(file.is_ok()) << file.status().message();
    auto planned = plan_model_from_gguf(*file, path);
    ASSERT_TRUE(planned.is_ok()) << planned.status().message();
    // The planner's catalog path (preset rules) and its file path (tensor table) agree...
    const PlanModel from_preset = plan_model_from_preset(planned->hp, c.preset, c.shape, "catalog");
    EXPECT_EQ(from_preset.weight_bytes(), planned->weight_bytes());
    ASSERT_EQ(from_preset.tensors.size(), planned->tensors.size());
    for (size_t i = 0; i < planned->tensors.size(); ++i) {
      EXPECT_EQ(from_preset.tensors[i].bytes, planned->tensors[i].bytes) << i;
    }

    EngineOptions eo;
    eo.model_path = path;
    eo.backend = "ref";
    auto engine = Engine::load(eo);
    ASSERT_TRUE(engine.is_ok()) << engine.status().message();
    // ...and equal the bytes the engine's model holds.
    EXPECT_EQ(planned->weight_bytes(), (*engine)->model().weight_bytes());

    for (const SessionCase& sc : sessions) {
      SessionOptions so;
      so.n_ctx = sc.ctx;
      so.n_batch = sc.batch;
      so.type_k = sc.k;
      so.type_v = sc.v;
      auto session = (*engine)->new_session(so);
      ASSERT_TRUE(session.is_ok()) << session.status().message();
      PlanOptions po = testing_util::engine_plan_options({sc.k, sc.v});
      po.n_batch = sc.batch;
      po.n_parallel = 1;
      const CtxPlan p = plan_context(*planned, testing_util::gpu(1ull << 40), po, sc.ctx);
      EXPECT_EQ(p.weights, (*engine)->model().weight_bytes());
      EXPECT_EQ(p.kv, (*session)->kv().bytes()) << sc.ctx;
      EXPECT_EQ(p.compute, (*session)->compute_bytes()) << sc.ctx << " " << sc.batch;
      // Two sequences are two sessions' worth.
      po.n_parallel = 2;
      const CtxPlan p2 = plan_context(*planned, testing_util::gpu(1ull << 40), po, sc.ctx);
      EXPECT_EQ(p2.total, p.weights + 2 * ((*session)->kv().bytes() + (*session)->compute_bytes()));
    }
  }
}

// Files written by llama.cpp's own converter and llama-quantize (tests/model/data): the
// planner's preset rules must give every tensor the bytes llama-quantize gave it, and planning
// the file must give the engine's weights.
TEST(PlanEngine, LlamaCppFilesHaveThePresetBytesTheCatalogPathComputes) {
  const std::pair<const char*, QuantPreset> files[] = {
      {"qwen3_q4_k_m", QuantPreset::Q4_K_M},
      {"qwen3_q8_0", QuantPreset::Q8_0},
      {"qwen3moe_q8_0", QuantPreset::Q8_0},
      {"qwen3_bf16", QuantPreset::BF16},
  };
  for (const auto& [name, preset] : files) {
    SCOPED_TRACE(name);
    auto bytes =
        read_file(std::string(LONGCTX_SOURCE_DIR) + "/tests/model/data/" + name + ".gguf.zst");
    ASSERT_TRUE(bytes.is_ok()) << bytes.status().message();
    const std::string path =
        testing_util::remove_at_exit(testing_util::unique_temp_path(std::string(name) + ".gguf"));
    ASSERT_TRUE(write_file_atomic(path, *bytes).is_ok());
    auto file = GgufFile::open(path);
    ASSERT_TRUE(file.is_ok()) << file.status().message();
    auto planned = plan_model_from_gguf(*file, path);
    ASSERT_TRUE(planned.is_ok()) << planned.status().message();
    const PlanModel rules = plan_model_from_preset(planned->hp, preset, name, "config");
    ASSERT_EQ(rules.tensors.size(), planned->tensors.size());
    for (size_t i = 0; i < rules.tensors.size(); ++i) {
      EXPECT_EQ(rules.tensors[i].bytes, planned->tensors[i].bytes) << "tensor " << i;
    }
    EngineOptions eo;
    eo.model_path = path;
    eo.backend = "ref";
    auto engine = Engine::load(eo);
    ASSERT_TRUE(engine.is_ok()) << engine.status().message();
    EXPECT_EQ(planned->weight_bytes(), (*engine)->model().weight_bytes());
  }
}

TEST(PlanEngine, GgufWithoutNeededKeysOrTensorsIsAnErrorNamingThem) {
  const std::string path = write_model({"qwen3-tiny", 0, QuantPreset::Q8_0}, "plan_keys.gguf");
  const std::pair<std::string, testing_util::GgufEdit> edits[] = {
      {"qwen3.embedding_length",
       {.keep_kv = [](const GgufKV& kv) { return kv.key != "qwen3.embedding_length"; }}},
      {"qwen3.block_count",
       {.keep_kv = [](const GgufKV& kv) { return kv.key != "qwen3.block_count"; }}},
      {"blk.1.attn_k.weight",
       {.keep_tensor = [](const GgufTensorInfo& t) { return t.name != "blk.1.attn_k.weight"; }}},
  };
  int n = 0;
  for (const auto& [named, edit] : edits) {
    const std::string edited = testing_util::remove_at_exit(
        testing_util::unique_temp_path("plan_edit_" + std::to_string(n++) + ".gguf"));
    testing_util::rewrite_gguf(path, edited, edit);
    auto file = GgufFile::open(edited);
    ASSERT_TRUE(file.is_ok()) << file.status().message();
    auto planned = plan_model_from_gguf(*file, edited);
    ASSERT_FALSE(planned.is_ok()) << named;
    EXPECT_NE(planned.status().message().find(named), std::string::npos)
        << planned.status().message();
  }
}

}  // namespace
}  // namespace longctx
