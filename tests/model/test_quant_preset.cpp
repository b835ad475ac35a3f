// Quantization presets against llama-quantize: every tensor's type and the total weight bytes of
// cut-down and full-depth Qwen3 models (fixture from tools/preset_make_fixtures.py), preset
// parsing, and synth writing a preset's per-tensor types.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/temp_path.h"
#include "core/file_io.h"
#include "gguf/gguf.h"
#include "model/quant_preset.h"
#include "model/synth.h"
#include "model/tensors.h"
#include "plan/catalog.h"

namespace longctx {
namespace {

const nlohmann::json& fixture() {
  static const nlohmann::json doc = [] {
    auto text = read_file(std::string(LONGCTX_TEST_DATA_DIR) + "/quant_presets.json");
    LONGCTX_CHECK(text.is_ok());
    return nlohmann::json::parse(*text);
  }();
  return doc;
}

ModelHparams case_hparams(const nlohmann::json& c) {
  const ModelShape* shape = find_model_shape(c["shape"].get<std::string>());
  LONGCTX_CHECK(shape != nullptr);
  ModelHparams hp = hparams_from_shape(*shape);
  hp.n_layer = c["n_layer"].get<uint32_t>();  // llama.cpp's rules see the file's layer count
  return hp;
}

// The fixture's types of one case and preset, by tensor name.
std::map<std::string, uint32_t> oracle_types(const nlohmann::json& c, const std::string& preset) {
  std::map<std::string, uint32_t> m;
  const auto& names = c["names"];
  const auto& types = c["presets"][preset]["types"];
  for (size_t i = 0; i < names.size(); ++i) m[names[i].get<std::string>()] = types[i];
  return m;
}

TEST(QuantPreset, EveryTensorTypeMatchesLlamaQuantize) {
  const auto& cases = fixture()["cases"];
  ASSERT_GE(cases.size(), 10u);
  size_t compared = 0;
  for (const auto& c : cases) {
    const ModelHparams hp = case_hparams(c);
    const std::vector<TensorDesc> tensors = model_tensors(hp);
    for (const auto& [name, _] : c["presets"].items()) {
      auto preset = parse_preset(name);
      ASSERT_TRUE(preset.is_ok()) << preset.status().message();
      const std::vector<TensorType> ours = preset_tensor_types(hp, tensors, *preset);
      const auto want = oracle_types(c, name);
      const std::string where =
          c["shape"].get<std::string>() + " x" + std::to_string(hp.n_layer) + " " + name + ": ";
      ASSERT_EQ(ours.size(), tensors.size());
      ASSERT_EQ(want.size(), tensors.size()) << where << "tensor count differs from llama.cpp's";
      int mismatches = 0;
      for (size_t i = 0; i < tensors.size(); ++i) {
        auto it = want.find(tensors[i].name);
        ASSERT_NE(it, want.end()) << where << tensors[i].name << " not in llama.cpp's output";
        if (uint32_t(ours[i]) != it->second && ++mismatches <= 5) {
          ADD_FAILURE() << where << tensors[i].name << " is " << type_name(ours[i])
                        << ", llama-quantize chose type id " << it->second;
        }
        ++compared;
      }
      EXPECT_EQ(mismatches, 0) << where;
      const auto& ftype = c["presets"][name]["ftype"];
      if (!ftype.is_null()) {
        EXPECT_EQ(preset_file_type(*preset), ftype.get<uint32_t>()) << where;
      }
    }
  }
  EXPECT_GE(compared, 26000u);  // 10 cases x 14 presets: 26,908 tensor types in the fixture
}

// The total of tensor data: measured on llama-quantize's output files ("quantize" cases) or
// summed by the gguf package from llama-quantize's types ("dry-run" cases). Exact bytes.
TEST(QuantPreset, WeightBytesMatchLlamaQuantizeOutput) {
  for (const auto& c : fixture()["cases"]) {
    const ModelHparams hp = case_hparams(c);
    for (const auto& [name, p] : c["presets"].items()) {
      EXPECT_EQ(preset_weight_bytes(hp, *parse_preset(name)), p["bytes"].get<uint64_t>())
          << c["shape"] << " x" << hp.n_layer << " " << name;
    }
  }
}

// The fixture must reach the rules it is meant to check, or the comparison above proves little.
TEST(QuantPreset, FixtureExercisesTheLayerAndShapeRules) {
  std::set<std::string> seen;
  for (const auto& c : fixture()["cases"]) {
    const auto q4km = oracle_types(c, "Q4_K_M");
    std::set<uint32_t> down, attn_v;
    for (const auto& [n, t] : q4km) {
      if (n.find("ffn_down") != std::string::npos) down.insert(t);
      if (n.find("attn_v.") != std::string::npos) attn_v.insert(t);
    }
    if (down.count(uint32_t(TensorType::Q6_K)) && down.count(uint32_t(TensorType::Q4_K))) {
      seen.insert("ffn_down more bits");
    }
    if (attn_v.count(uint32_t(TensorType::Q6_K)) && attn_v.count(uint32_t(TensorType::Q4_K))) {
      seen.insert("attn_v more bits");
    }
    if (q4km.count("blk.0.attn_q.weight") &&
        q4km.at("blk.0.attn_q.weight") == uint32_t(TensorType::Q5_0)) {
      seen.insert("q4_K -> q5_0 fallback");
    }
    if (q4km.count("blk.0.attn_k.weight") &&
        q4km.at("blk.0.attn_k.weight") == uint32_t(TensorType::Q8_0)) {
      seen.insert("8-expert attn_k");
    }
    if (c["shape"] == "qwen3-30b-a3b" && c["n_layer"] == 48) seen.insert("30b full depth");
  }
  EXPECT_EQ(seen.size(), 5u) << "fixture lost coverage; have " << seen.size();
}

TEST(QuantPreset, ParsesPresetAndFtypeNames) {
  EXPECT_EQ(*parse_preset("q4_k_m"), QuantPreset::Q4_K_M);
  EXPECT_EQ(*parse_preset("Q4_K_M"), QuantPreset::Q4_K_M);
  EXPECT_EQ(*parse_preset("MOSTLY_Q5_K_S"), QuantPreset::Q5_K_S);
  EXPECT_EQ(*parse_preset("llama_ftype_mostly_bf16"), QuantPreset::BF16);
  EXPECT_EQ(*parse_preset("ALL_F32"), QuantPreset::F32);
  EXPECT_EQ(*parse_preset("15"), QuantPreset::Q4_K_M);
  EXPECT_EQ(*parse_preset("7"), QuantPreset::Q8_0);
  for (QuantPreset p : all_presets()) EXPECT_EQ(*parse_preset(preset_name(p)), p);
  for (const char* bad : {"", "q4_k", "Q4_K_X", "LLAMA_FTYPE_", "99", "q4_k_m "}) {
    auto r = parse_preset(bad);
    ASSERT_FALSE(r.is_ok()) << bad;
    EXPECT_NE(r.status().message().find(std::string("'") + bad + "'"), std::string::npos);
    EXPECT_NE(r.status().message().find("Q4_K_M"), std::string::npos);  // lists the names
  }
}

TEST(QuantPreset, SynthWritesThePresetTypesAndFileType) {
  const nlohmann::json* tiny = nullptr;
  for (const auto& c : fixture()["cases"]) {
    if (c["shape"] == "qwen3moe-tiny") tiny = &c;
  }
  ASSERT_NE(tiny, nullptr);
  SynthOptions opt;
  opt.hparams = case_hparams(*tiny);
  opt.preset = QuantPreset::Q4_K_M;
  const std::string path = testing_util::unique_temp_path("preset_q4km.gguf");
  Status st = write_synth_model(opt, path);
  ASSERT_TRUE(st.is_ok()) << st.message();
  auto f = GgufFile::open(path);
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  const auto want = oracle_types(*tiny, "Q4_K_M");
  ASSERT_EQ(f->tensors().size(), want.size());
  for (const GgufTensorInfo& t : f->tensors()) {
    EXPECT_EQ(uint32_t(t.type), want.at(t.name)) << t.name;
  }
  auto ftype = f->get_uint("general.file_type");
  ASSERT_TRUE(ftype.is_ok());
  EXPECT_EQ(*ftype, 15u);
  std::remove(path.c_str());

  // Q3_K_M needs q3_K, which longctx cannot quantize yet: a clear error before any writing, no
  // file. (The tiny shapes would not show it: their rows of 64 fall back to q4_0.)
  opt.hparams = hparams_from_shape(*find_model_shape("qwen3-0.6b"));
  opt.preset = QuantPreset::Q3_K_M;
  st = write_synth_model(opt, path);
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("q3_K"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("Q3_K_M"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find(".weight"), std::string::npos) << st.message();  // names a tensor
  EXPECT_FALSE(read_file(path).is_ok());
}

}  // namespace
}  // namespace longctx
