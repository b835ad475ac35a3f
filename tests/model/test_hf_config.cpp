// hparams_from_hf_config: the published Qwen3-family config.json files (and variants exercising
// the defaults and both rope layouts) against transformers' reading of them (expected.json, see
// data/hf_configs/README.md), against the catalog's shapes, and malformed configs.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>

#include "common/temp_path.h"
#include "core/file_io.h"
#include "gguf/gguf.h"
#include "model/hf_config.h"
#include "model/synth.h"
#include "plan/catalog.h"

namespace longctx {
namespace {

using json = nlohmann::json;

const std::string kDir = std::string(LONGCTX_TEST_DATA_DIR) + "/hf_configs/";

json load_json(const std::string& name) {
  auto text = read_file(kDir + name);
  EXPECT_TRUE(text.is_ok()) << text.status().message();
  return text.is_ok() ? json::parse(*text) : json();
}

// Every field ModelHparams has, compared exactly: the doubles are decimal literals parsed from
// JSON on both sides (Python's float() and nlohmann both round to nearest), so no tolerance.
void expect_matches_oracle(const ModelHparams& hp, const json& e, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(hp.arch, e["arch"].get<std::string>());
  EXPECT_EQ(hp.n_layer, e["n_layer"].get<uint32_t>());
  EXPECT_EQ(hp.n_embd, e["n_embd"].get<uint32_t>());
  EXPECT_EQ(hp.n_ff, e["n_ff"].get<uint32_t>());
  EXPECT_EQ(hp.n_head, e["n_head"].get<uint32_t>());
  EXPECT_EQ(hp.n_head_kv, e["n_head_kv"].get<uint32_t>());
  EXPECT_EQ(hp.head_dim, e["head_dim"].get<uint32_t>());
  EXPECT_EQ(hp.head_dim_v, e["head_dim"].get<uint32_t>());
  EXPECT_EQ(hp.n_vocab, e["n_vocab"].get<uint32_t>());
  EXPECT_EQ(hp.n_ctx_train, e["n_ctx_train"].get<uint32_t>());
  EXPECT_EQ(hp.rope_freq_base, e["rope_freq_base"].get<double>());
  EXPECT_EQ(hp.rms_eps, e["rms_eps"].get<double>());
  EXPECT_EQ(hp.tied_embeddings, e["tied_embeddings"].get<bool>());
  EXPECT_EQ(rope_scaling_name(hp.rope_scaling.type), e["rope_scaling"].get<std::string>());
  EXPECT_EQ(hp.rope_scaling.factor, e["rope_factor"].get<double>());
  EXPECT_EQ(hp.rope_scaling.orig_ctx, e["rope_orig_ctx"].get<uint32_t>());
  EXPECT_EQ(hp.n_expert, e["n_expert"].get<uint32_t>());
  EXPECT_EQ(hp.n_expert_used, e["n_expert_used"].get<uint32_t>());
  EXPECT_EQ(hp.n_ff_expert, e["n_ff_expert"].get<uint32_t>());
  EXPECT_EQ(hp.norm_topk_prob, e["norm_topk_prob"].get<bool>());
}

TEST(HfConfig, EveryFixtureMatchesTransformers) {
  const json expected = load_json("expected.json");
  // 5 published configs + 6 variants; a fixture missing from expected.json would go untested.
  ASSERT_EQ(expected.size(), 11u);
  for (const auto& [name, e] : expected.items()) {
    auto hp = hparams_from_hf_config_file(kDir + name);
    ASSERT_TRUE(hp.is_ok()) << name << ": " << hp.status().message();
    expect_matches_oracle(*hp, e, name);
  }
}

// Two independent sources of the same facts: the published config.json and the catalog table.
TEST(HfConfig, PublishedConfigsEqualCatalogShapes) {
  const std::pair<const char*, const char*> pairs[] = {
      {"Qwen3-0.6B.json", "qwen3-0.6b"},
      {"Qwen3-8B.json", "qwen3-8b"},
      {"Qwen3-30B-A3B.json", "qwen3-30b-a3b"},
      {"Qwen3-4B-Instruct-2507.json", "qwen3-4b-2507"},
  };
  for (const auto& [file, shape_name] : pairs) {
    SCOPED_TRACE(file);
    auto hp = hparams_from_hf_config_file(kDir + file);
    ASSERT_TRUE(hp.is_ok()) << hp.status().message();
    const ModelShape* shape = find_model_shape(shape_name);
    ASSERT_NE(shape, nullptr);
    const ModelHparams want = hparams_from_shape(*shape);
    EXPECT_EQ(hp->arch, want.arch);
    EXPECT_EQ(hp->n_layer, want.n_layer);
    EXPECT_EQ(hp->n_embd, want.n_embd);
    EXPECT_EQ(hp->n_ff, want.n_ff);
    EXPECT_EQ(hp->n_head, want.n_head);
    EXPECT_EQ(hp->n_head_kv, want.n_head_kv);
    EXPECT_EQ(hp->head_dim, want.head_dim);
    EXPECT_EQ(hp->head_dim_v, want.head_dim_v);
    EXPECT_EQ(hp->n_vocab, want.n_vocab);
    EXPECT_EQ(hp->n_ctx_train, want.n_ctx_train);
    EXPECT_EQ(hp->rope_freq_base, want.rope_freq_base);
    EXPECT_EQ(hp->rms_eps, want.rms_eps);
    EXPECT_EQ(hp->tied_embeddings, want.tied_embeddings);
    EXPECT_EQ(hp->rope_scaling.type, want.rope_scaling.type);
    EXPECT_EQ(hp->n_expert, want.n_expert);
    EXPECT_EQ(hp->n_expert_used, want.n_expert_used);
    EXPECT_EQ(hp->n_ff_expert, want.n_ff_expert);
    if (shape->is_moe()) {
      EXPECT_EQ(hp->norm_topk_prob, shape->norm_topk_prob);
    }
  }
}

// A config-derived model written as GGUF reads back with the same hyperparameters (the MoE
// model's n_ff = 0 and a YaRN rope included), so `synth --config` files describe their config.
TEST(HfConfig, SynthesisedGgufReadsBackTheSameHparams) {
  json cfg = load_json("tiny-qwen3moe.json");
  cfg["rope_scaling"] = {
      {"rope_type", "yarn"}, {"factor", 4.0}, {"original_max_position_embeddings", 1024}};
  auto hp = hparams_from_hf_config(cfg);
  ASSERT_TRUE(hp.is_ok()) << hp.status().message();
  SynthOptions opt;
  opt.hparams = *hp;
  const std::string path = testing_util::unique_temp_path("hf_config_roundtrip.gguf");
  ASSERT_TRUE(write_synth_model(opt, path).is_ok());
  auto f = GgufFile::open(path);
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  auto back = ModelHparams::from_gguf(*f);
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  EXPECT_EQ(back->arch, hp->arch);
  EXPECT_EQ(back->n_layer, hp->n_layer);
  EXPECT_EQ(back->n_embd, hp->n_embd);
  EXPECT_EQ(back->n_ff, hp->n_ff);
  EXPECT_EQ(back->n_head, hp->n_head);
  EXPECT_EQ(back->n_head_kv, hp->n_head_kv);
  EXPECT_EQ(back->head_dim, hp->head_dim);
  EXPECT_EQ(back->n_vocab, hp->n_vocab);
  EXPECT_EQ(back->n_ctx_train, hp->n_ctx_train);
  EXPECT_EQ(back->tied_embeddings, hp->tied_embeddings);
  EXPECT_EQ(back->n_expert, hp->n_expert);
  EXPECT_EQ(back->n_expert_used, hp->n_expert_used);
  EXPECT_EQ(back->n_ff_expert, hp->n_ff_expert);
  EXPECT_EQ(back->rope_scaling.type, RopeScalingType::kYarn);
  EXPECT_EQ(back->rope_scaling.orig_ctx, 1024u);
  // GGUF stores these as float32; 1e6, 1e-6 and 4 are checked to float precision (rel. 2^-24).
  EXPECT_FLOAT_EQ(float(back->rope_freq_base), float(hp->rope_freq_base));
  EXPECT_FLOAT_EQ(float(back->rms_eps), float(hp->rms_eps));
  EXPECT_FLOAT_EQ(float(back->rope_scaling.factor), 4.0f);
  std::remove(path.c_str());
}

// Applies `edit` to a published config and expects an error whose message names every `needle`.
void expect_rejected(const char* file, const std::function<void(json&)>& edit,
                     std::initializer_list<const char*> needles, ErrorCode code) {
  json cfg = load_json(file);
  edit(cfg);
  SCOPED_TRACE(cfg.dump());
  auto hp = hparams_from_hf_config(cfg);
  ASSERT_FALSE(hp.is_ok());
  EXPECT_EQ(hp.status().code(), code) << hp.status().message();
  for (const char* n : needles) {
    EXPECT_NE(hp.status().message().find(n), std::string::npos)
        << "'" << n << "' not in: " << hp.status().message();
  }
}

constexpr ErrorCode kFormat = ErrorCode::kInvalidFormat;
constexpr ErrorCode kUnsupported = ErrorCode::kUnsupported;

TEST(HfConfig, MissingOrMistypedFieldsAreNamed) {
  const char* f = "Qwen3-8B.json";
  expect_rejected(
      f, [](json& c) { c.erase("hidden_size"); }, {"'hidden_size'"}, kFormat);
  expect_rejected(
      f, [](json& c) { c.erase("intermediate_size"); }, {"'intermediate_size'"}, kFormat);
  expect_rejected(
      f, [](json& c) { c["vocab_size"] = nullptr; }, {"'vocab_size'"}, kFormat);
  expect_rejected(
      f, [](json& c) { c["num_hidden_layers"] = "36"; },
      {"'num_hidden_layers'", "integer", "string"}, kFormat);
  expect_rejected(
      f, [](json& c) { c["num_hidden_layers"] = 36.5; }, {"'num_hidden_layers'", "integer"},
      kFormat);
  expect_rejected(
      f, [](json& c) { c["max_position_embeddings"] = -40960; },
      {"'max_position_embeddings'", "-40960", "> 0"}, kFormat);
  expect_rejected(
      f, [](json& c) { c["hidden_size"] = 1ull << 40; },
      {"'hidden_size'", "1099511627776", "exceeds"}, kFormat);
  expect_rejected(
      f, [](json& c) { c["hidden_size"] = ~0ull; }, {"'hidden_size'", "exceeds"}, kFormat);
  expect_rejected(
      f, [](json& c) { c["tie_word_embeddings"] = 1; }, {"'tie_word_embeddings'", "true or false"},
      kFormat);
  expect_rejected(
      f, [](json& c) { c["rope_theta"] = "1e6"; }, {"'rope_theta'", "number"}, kFormat);
  expect_rejected(
      f, [](json& c) { c["rms_norm_eps"] = 0; }, {"'rms_norm_eps'", "> 0"}, kFormat);
  expect_rejected(
      f, [](json& c) { c["head_dim"] = 0; }, {"'head_dim'", "> 0"}, kFormat);
  expect_rejected(
      f, [](json& c) { c = json::array(); }, {"object", "array"}, kFormat);
}

TEST(HfConfig, InconsistentShapesAreRejected) {
  const char* f = "Qwen3-8B.json";
  expect_rejected(
      f, [](json& c) { c["num_attention_heads"] = 0; }, {"'num_attention_heads'", "> 0"}, kFormat);
  expect_rejected(
      f, [](json& c) { c["num_key_value_heads"] = 5; },
      {"num_attention_heads (32)", "num_key_value_heads (5)"}, kFormat);
  // Qwen2 derives head_dim from the hidden size, which must then divide evenly.
  expect_rejected(
      "Qwen2.5-7B-Instruct.json", [](json& c) { c["num_attention_heads"] = 24; },
      {"'head_dim'", "hidden_size (3584)", "num_attention_heads (24)"}, kFormat);
  // An odd head_dim cannot be rotated in pairs; validate() catches it.
  expect_rejected(
      f, [](json& c) { c["head_dim"] = 127; }, {"key_length", "even"}, kFormat);
}

TEST(HfConfig, ArchitectureIsRecognisedOrRefused) {
  const char* f = "Qwen3-8B.json";
  expect_rejected(
      f, [](json& c) { c["model_type"] = "llama"; }, {"'llama'", "qwen3", "qwen3_moe", "qwen2"},
      kUnsupported);
  expect_rejected(
      f, [](json& c) { c["architectures"] = {"Qwen2ForCausalLM"}; },
      {"'qwen3'", "disagrees", "'Qwen2ForCausalLM'"}, kFormat);
  expect_rejected(
      f,
      [](json& c) {
        c.erase("model_type");
        c["architectures"] = {"LlamaForCausalLM"};
      },
      {"'LlamaForCausalLM'", "Qwen3MoeForCausalLM"}, kUnsupported);
  expect_rejected(
      f,
      [](json& c) {
        c.erase("model_type");
        c.erase("architectures");
      },
      {"neither 'model_type' nor 'architectures'"}, kFormat);
  expect_rejected(
      f, [](json& c) { c["model_type"] = 3; }, {"'model_type'", "string"}, kFormat);
}

TEST(HfConfig, RopeScalingMustBeComplete) {
  const char* f = "Qwen3-8B.json";
  expect_rejected(
      f,
      [](json& c) {
        c["rope_scaling"] = {{"rope_type", "yarn"}};
      },
      {"'rope_scaling.factor'", "yarn"}, kFormat);
  expect_rejected(
      f,
      [](json& c) {
        c["rope_parameters"] = {{"type", "linear"}};
      },
      {"'rope_parameters.factor'", "linear"}, kFormat);
  expect_rejected(
      f,
      [](json& c) {
        c["rope_scaling"] = {{"rope_type", "dynamic"}};
      },
      {"'dynamic'", "default, linear, yarn"}, kUnsupported);
  expect_rejected(
      f,
      [](json& c) {
        c["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 0.5}};
      },
      {"'rope_scaling.factor'", ">= 1"}, kFormat);
  expect_rejected(
      f,
      [](json& c) {
        c["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4}, {"beta_fast", 16}};
      },
      {"'rope_scaling.beta_fast'"}, kUnsupported);
  expect_rejected(
      f, [](json& c) { c["rope_scaling"] = "yarn"; }, {"'rope_scaling'", "object"}, kFormat);
  expect_rejected(
      f,
      [](json& c) {
        c["rope_parameters"] = {{"full_attention", {{"rope_theta", 1e6}}}};
      },
      {"'rope_parameters.full_attention'", "per-layer"}, kUnsupported);
}

TEST(HfConfig, RopeScalingPrecedence) {
  json cfg = load_json("Qwen3-8B.json");
  // An empty rope_scaling is ignored in favour of rope_parameters, whose theta beats the
  // top-level one; yarn's original context falls back to max_position_embeddings.
  cfg["rope_scaling"] = json::object();
  cfg["rope_parameters"] = {{"rope_type", "yarn"}, {"factor", 2}, {"rope_theta", 2e6}};
  auto hp = hparams_from_hf_config(cfg);
  ASSERT_TRUE(hp.is_ok()) << hp.status().message();
  EXPECT_EQ(hp->rope_scaling.type, RopeScalingType::kYarn);
  EXPECT_EQ(hp->rope_scaling.factor, 2.0);
  EXPECT_EQ(hp->rope_freq_base, 2e6);
  EXPECT_EQ(hp->rope_scaling.orig_ctx, 40960u);
  // "rope_type" wins over the legacy "type" when both are present.
  cfg["rope_parameters"] = {{"type", "linear"}, {"rope_type", "default"}};
  hp = hparams_from_hf_config(cfg);
  ASSERT_TRUE(hp.is_ok()) << hp.status().message();
  EXPECT_EQ(hp->rope_scaling.type, RopeScalingType::kNone);
  EXPECT_EQ(hp->rope_freq_base, 1e6);
}

TEST(HfConfig, MoeFeaturesOutsideTheRuntimeAreRefused) {
  const char* f = "Qwen3-30B-A3B.json";
  expect_rejected(
      f,
      [](json& c) {
        c["mlp_only_layers"] = {0, 47};
      },
      {"'mlp_only_layers'", "[0,47]"}, kUnsupported);
  expect_rejected(
      f, [](json& c) { c["decoder_sparse_step"] = 2; }, {"'decoder_sparse_step'", "= 2"},
      kUnsupported);
  expect_rejected(
      f, [](json& c) { c.erase("moe_intermediate_size"); }, {"'moe_intermediate_size'"}, kFormat);
  expect_rejected(
      f, [](json& c) { c["num_experts_per_tok"] = 129; },
      {"num_experts_per_tok (129)", "num_experts (128)"}, kFormat);
  expect_rejected(
      f, [](json& c) { c["norm_topk_prob"] = "true"; }, {"'norm_topk_prob'", "true or false"},
      kFormat);
}

TEST(HfConfig, FileErrorsNameThePathAndPosition) {
  auto hp = hparams_from_hf_config_file("/nonexistent/config.json");
  ASSERT_FALSE(hp.is_ok());
  EXPECT_NE(hp.status().message().find("/nonexistent/config.json"), std::string::npos);

  const std::string path = testing_util::unique_temp_path("bad_config.json");
  ASSERT_TRUE(write_file_atomic(path, "{\n  \"hidden_size\": 1024,\n  oops\n}\n").is_ok());
  hp = hparams_from_hf_config_file(path);
  ASSERT_FALSE(hp.is_ok());
  EXPECT_NE(hp.status().message().find(path), std::string::npos) << hp.status().message();
  EXPECT_NE(hp.status().message().find("line 3, column 3"), std::string::npos)
      << hp.status().message();

  // A semantic error in a file is prefixed with the path.
  ASSERT_TRUE(write_file_atomic(path, R"({"model_type": "qwen3"})").is_ok());
  hp = hparams_from_hf_config_file(path);
  ASSERT_FALSE(hp.is_ok());
  EXPECT_EQ(hp.status().message().rfind(path + ": ", 0), 0u) << hp.status().message();
  EXPECT_NE(hp.status().message().find("'num_hidden_layers'"), std::string::npos);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace longctx
