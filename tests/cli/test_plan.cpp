// `longctx plan` as a user runs it: catalog names, GGUF and config.json models, explicit and
// catalog devices, the whole-catalog overview, JSON, and clear errors for bad input.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>
#include <string>

#include "common/run_cli.h"
#include "common/temp_path.h"
#include "model/quant_preset.h"
#include "model/synth.h"
#include "plan/catalog.h"
#include "runtime/session.h"

namespace longctx {
namespace {

using testing_util::run_longctx;

size_t widest_line(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  size_t w = 0;
  while (std::getline(in, line)) w = std::max(w, line.size());
  return w;
}

TEST(CliPlan, CatalogModelOnACatalogDevice) {
  auto r = run_longctx("plan qwen3-30b-a3b --device 'RTX 4090' --ram 64GiB");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LE(widest_line(r.out), 80u) << r.out;
  EXPECT_NE(r.out.find("96.0 KiB per token"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("largest context that fits"), std::string::npos);
  EXPECT_NE(r.out.find("moe-cpu"), std::string::npos) << "128k f16 needs expert offload";
  EXPECT_NE(r.out.find("longctx chat -m Qwen3-30B-A3B-Q4_K_M.gguf --ctx"), std::string::npos);
  EXPECT_NE(r.out.find("table 23"), std::string::npos) << "RULER source cited";
  EXPECT_NE(r.out.find("runtime:  "), std::string::npos) << r.out;
}

TEST(CliPlan, JsonOfAnExplicitDevice) {
  auto r = run_longctx(
      "plan qwen3-30b-a3b --quant q8_0 --mem 96GiB --bw 1792GB/s --tflops 504 "
      "--ctx 4096,128k --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["model"]["quant"], "Q8_0");
  EXPECT_EQ(j["device"]["total_memory_bytes"].get<uint64_t>(), 96ull << 30);
  EXPECT_DOUBLE_EQ(j["device"]["bandwidth_bytes_per_s"].get<double>(), 1792e9);
  ASSERT_EQ(j["contexts"].size(), 2u);
  EXPECT_EQ(j["contexts"][1]["ctx"].get<int64_t>(), 131072);
  EXPECT_EQ(j["contexts"][1]["kv_bytes"].get<uint64_t>(), 12ull << 30);
  const ModelHparams hp = hparams_from_shape(*find_model_shape("qwen3-30b-a3b"));
  EXPECT_EQ(j["contexts"][1]["weights_bytes"].get<uint64_t>(),
            preset_weight_bytes(hp, QuantPreset::Q8_0));
  EXPECT_EQ(j["contexts"][1]["compute_bytes"].get<uint64_t>(), Session::compute_bytes_for(hp, 512));
  EXPECT_TRUE(j["contexts"][1]["fits"].get<bool>());
  EXPECT_GT(j["contexts"][0]["decode_tps"].get<double>(),
            j["contexts"][1]["decode_tps"].get<double>());
}

TEST(CliPlan, GgufFileUsesItsOwnTensorTable) {
  SynthOptions opt;
  opt.hparams = hparams_from_shape(*find_model_shape("qwen3moe-tiny"));
  opt.hparams.n_vocab = 512;
  opt.preset = QuantPreset::Q4_K_M;
  const std::string path =
      testing_util::remove_at_exit(testing_util::unique_temp_path("cli_plan.gguf"));
  ASSERT_TRUE(write_synth_model(opt, path).is_ok());
  auto r = run_longctx("plan " + path +
                       " --mem 1GiB --bw 100 --ctx 2000 --kv-type bf16 "
                       "--experts 1 --parallel 2 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["model"]["source"], "gguf");
  EXPECT_EQ(j["model"]["weight_bytes"].get<uint64_t>(),
            preset_weight_bytes(opt.hparams, QuantPreset::Q4_K_M));
  // 2 sequences x 2000 tokens x 2 layers x 2 kv heads x (128 + 128) x 2 bytes.
  EXPECT_EQ(j["contexts"][0]["kv_bytes"].get<uint64_t>(), 2ull * 2000 * 2 * 2 * 256 * 2);
  EXPECT_EQ(j["model"]["n_expert_used"].get<int>(), 1);
  // The runtime (program, tables, kernel scratch) is counted once, not per sequence.
  const uint64_t runtime = j["contexts"][0]["runtime_bytes"].get<uint64_t>();
  EXPECT_GT(runtime, 1u << 20);
  EXPECT_LT(runtime, 256u << 20);
  EXPECT_EQ(j["contexts"][0]["total_bytes"].get<uint64_t>(),
            j["contexts"][0]["weights_bytes"].get<uint64_t>() +
                j["contexts"][0]["kv_bytes"].get<uint64_t>() +
                j["contexts"][0]["compute_bytes"].get<uint64_t>() + runtime);
  EXPECT_NE(j["profile"]["run_command"].get<std::string>().find("-m " + path +
                                                                " --ctx 2000 "
                                                                "--kv-type bf16 --experts 1"),
            std::string::npos)
      << j["profile"]["run_command"];
}

TEST(CliPlan, ConfigJsonWithAPreset) {
  const std::string config =
      std::string(LONGCTX_SOURCE_DIR) + "/tests/model/data/hf_configs/Qwen3-8B.json";
  auto r = run_longctx("plan " + config + " --quant Q6_K --device h100-sxm --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["model"]["source"], "config");
  EXPECT_EQ(
      j["model"]["weight_bytes"].get<uint64_t>(),
      preset_weight_bytes(hparams_from_shape(*find_model_shape("qwen3-8b")), QuantPreset::Q6_K));
  EXPECT_EQ(j["kv_bytes_per_token"].get<uint64_t>(), 147456u);  // 36 x 8 x 2 x 128 x 2
}

TEST(CliPlan, WithoutAModelTheWholeCatalog) {
  auto r = run_longctx("plan --mem 64GiB --bw 400GB/s");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LE(widest_line(r.out), 80u) << r.out;
  for (const ModelShape& s : model_catalog()) {
    EXPECT_NE(r.out.find(s.name), std::string::npos) << s.name;
  }
  // 0.6B fits its maximum everywhere; 235B-A22B fits in no preset at 64 GiB.
  EXPECT_NE(r.out.find("qwen3-0.6b                128k     128k"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("qwen3-235b-a22b-2507         -        -        -        -        -"
                       "        -"),
            std::string::npos)
      << r.out;
  // This machine, detected: runs and says so.
  r = run_longctx("plan --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["device"]["source"], "detected");
  EXPECT_EQ(j["models"].size(), model_catalog().size());
}

TEST(CliPlan, BadInputIsAClearError) {
  const std::pair<std::string, std::string> cases[] = {
      {"plan qwen3-8x", "nearest: qwen3-8b"},
      {"plan qwen3-8b --device rtx4080", "nearest: rtx-4090"},
      {"plan qwen3-8b --mem 0GB", "--mem"},
      {"plan qwen3-8b --mem -24GB", "positive"},
      {"plan qwen3-8b --mem 200TiB", "100 TiB"},
      {"plan qwen3-8b --mem 24GB --bw 0", "--bw"},
      {"plan qwen3-8b --ctx 0", "outside 1..10000000"},
      {"plan qwen3-8b --ctx 20000000", "outside 1..10000000"},
      {"plan qwen3-8b --kv-type q4_K", "not one of f32, f16"},
      {"plan qwen3-8b --experts 4", "dense"},
      {"plan qwen3-30b-a3b --experts 200", "1..128"},
      {"plan qwen3-8b --quant Q9_X", "Q9_X"},
      {"plan qwen3-8b --headroom 150%", "--headroom"},
      {"plan qwen3-8b --gpus 0", "--gpus"},
      {"plan /nonexistent/model.gguf", "neither a catalog model nor a file"},
  };
  for (const auto& [args, want] : cases) {
    auto r = run_longctx(args);
    EXPECT_NE(r.exit_code, 0) << args;
    EXPECT_NE(r.err.find(want), std::string::npos) << args << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << args;
  }
}

TEST(CliPlan, NotAGgufFileNamesIt) {
  const std::string path =
      testing_util::remove_at_exit(testing_util::unique_temp_path("not_a_model.gguf"));
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("definitely not GGUF", f);
  std::fclose(f);
  auto r = run_longctx("plan " + path);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find(path), std::string::npos) << r.err;
}

}  // namespace
}  // namespace longctx
