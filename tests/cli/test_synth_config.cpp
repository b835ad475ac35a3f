// `longctx synth --config config.json`: a model synthesised from a Hugging Face config carries the
// config's shapes (as `longctx info` shows them), and the source options are mutually exclusive.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>

#include "common/run_cli.h"
#include "common/temp_path.h"
#include "core/file_io.h"
#include "gguf/gguf.h"

namespace longctx {
namespace {

using testing_util::run_longctx;

const std::string kTinyMoe =
    std::string(LONGCTX_SOURCE_DIR) + "/tests/model/data/hf_configs/tiny-qwen3moe.json";

// The value column of `key`'s line in info's metadata listing ("  key  type  value"), or "".
std::string metadata_value(const std::string& info, const std::string& key) {
  std::istringstream lines(info);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string k, type, value;
    if (words >> k >> type >> value && k == key) return value;
  }
  return "";
}

TEST(CliSynthConfig, InfoShowsTheConfigShapes) {
  const std::string path = testing_util::unique_temp_path("cli_config.gguf");
  auto r =
      run_longctx("synth --config " + kTinyMoe + " --type q8_0 --tokenizer none -q -o " + path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_longctx("info " + path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("architecture:  qwen3moe"), std::string::npos) << r.out;
  // tiny-qwen3moe.json: 2 layers, 4 query heads, 2 KV heads, head_dim 32 (not 64 / 4 = 16),
  // 8 experts of width 32, 2 used, max_position_embeddings 4096.
  EXPECT_EQ(metadata_value(r.out, "general.name"), "\"tiny-qwen3moe\"");
  EXPECT_EQ(metadata_value(r.out, "qwen3moe.block_count"), "2");
  EXPECT_EQ(metadata_value(r.out, "qwen3moe.embedding_length"), "64");
  EXPECT_EQ(metadata_value(r.out, "qwen3moe.attention.head_count"), "4");
  EXPECT_EQ(metadata_value(r.out, "qwen3moe.attention.head_count_kv"), "2");
  EXPECT_EQ(metadata_value(r.out, "qwen3moe.attention.key_length"), "32");
  EXPECT_EQ(metadata_value(r.out, "qwen3moe.context_length"), "4096");
  EXPECT_EQ(metadata_value(r.out, "qwen3moe.expert_count"), "8");
  EXPECT_EQ(metadata_value(r.out, "qwen3moe.expert_used_count"), "2");
  EXPECT_EQ(metadata_value(r.out, "qwen3moe.expert_feed_forward_length"), "32");

  // --layers still cuts the model down.
  r = run_longctx("synth --config " + kTinyMoe + " --layers 1 --tokenizer none -q -o " + path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_longctx("info " + path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(metadata_value(r.out, "qwen3moe.block_count"), "1");
  EXPECT_EQ(metadata_value(r.out, "qwen3moe.attention.head_count"), "4");
  std::remove(path.c_str());
}

TEST(CliSynthConfig, SourceOptionsAreExclusiveAndChecked) {
  auto r = run_longctx("synth --shape qwen3-tiny --config " + kTinyMoe + " -o /dev/null");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("excludes"), std::string::npos) << r.err;
  r = run_longctx("synth -o /dev/null");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("exactly one of --shape and --config"), std::string::npos) << r.err;
  r = run_longctx("synth --config " + kTinyMoe + " --layers 3 -o /dev/null");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--layers 3 exceeds the model's 2 layers"), std::string::npos) << r.err;

  // A malformed config fails before anything is written, naming the file and the field.
  const std::string cfg = testing_util::unique_temp_path("config.json");
  ASSERT_TRUE(write_file_atomic(cfg, R"({"model_type": "qwen3", "num_hidden_layers": 2,
    "hidden_size": 64, "num_attention_heads": 0, "vocab_size": 151936,
    "max_position_embeddings": 4096, "intermediate_size": 96})")
                  .is_ok());
  const std::string out = testing_util::unique_temp_path("never.gguf");
  r = run_longctx("synth --config " + cfg + " -o " + out);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(cfg), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("'num_attention_heads'"), std::string::npos) << r.err;
  EXPECT_FALSE(read_file(out).is_ok());
  std::remove(cfg.c_str());
}

}  // namespace
}  // namespace longctx

namespace longctx {
namespace {

// --weight-std sets the standard deviation of the random weights (measured on an f32 matrix of
// 64 x 512 = 32768 values: the sample std is within 2% of the requested one with overwhelming
// probability), and nonsense values are refused.
TEST(CliSynth, WeightStdSetsTheSpreadOfTheWeights) {
  const std::string path = testing_util::remove_at_exit(testing_util::unique_temp_path("std.gguf"));
  auto r = run_longctx(
      "synth -q --shape qwen3-tiny --type f32 --layers 1 --tokenizer none "
      "--weight-std 0.25 -o " +
      path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto f = GgufFile::open(path);
  ASSERT_TRUE(f.is_ok());
  const GgufTensorInfo* t = f->find_tensor("blk.0.attn_q.weight");
  ASSERT_NE(t, nullptr);
  const auto* w = reinterpret_cast<const float*>(f->tensor_data(*t));
  double sum = 0, sq = 0;
  for (uint64_t i = 0; i < t->n_elements; ++i) sum += w[i], sq += double(w[i]) * w[i];
  const double mean = sum / t->n_elements;
  const double sd = std::sqrt(sq / t->n_elements - mean * mean);
  EXPECT_NEAR(sd, 0.25, 0.005);
  for (const char* bad : {"0", "-1", "nan"}) {
    r = run_longctx(std::string("synth -q --shape qwen3-tiny --weight-std ") + bad + " -o " + path);
    EXPECT_NE(r.exit_code, 0) << bad;
  }
}

}  // namespace
}  // namespace longctx
