// Loading of the tokenizer golden cases and the shipped tokenizer for the tests.
#include "tokenizer_test_util.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>

#include "core/file_io.h"

namespace longctx::testing_util {
namespace {

std::string from_hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::vector<GoldenCase> load_cases() {
  const std::string path = std::string(LONGCTX_TEST_DATA_DIR) + "/encode_cases.json";
  Result<std::string> text = read_file(path);
  if (!text.is_ok()) {
    std::fprintf(stderr, "%s\n", text.status().message().c_str());
    std::abort();
  }
  nlohmann::json j = nlohmann::json::parse(*text);
  std::vector<GoldenCase> cases;
  for (const auto& c : j.at("cases")) {
    GoldenCase g;
    if (c.contains("bytes_hex")) {
      g.text = from_hex(c.at("bytes_hex").get<std::string>());
      g.invalid_utf8 = true;
    } else {
      g.text = c.at("text").get<std::string>();
    }
    g.ids = c.at("ids").get<std::vector<int32_t>>();
    g.ids_no_special = c.at("ids_no_special").get<std::vector<int32_t>>();
    g.decoded = c.at("decoded").get<std::string>();
    g.nfc = c.at("nfc").get<std::string>();
    cases.push_back(std::move(g));
  }
  return cases;
}

}  // namespace

const std::vector<GoldenCase>& golden_cases() {
  static const std::vector<GoldenCase> cases = load_cases();
  return cases;
}

const Tokenizer& qwen3_tokenizer() {
  static const Tokenizer t = [] {
    Result<Tokenizer> r =
        Tokenizer::from_hf_path(std::string(LONGCTX_SOURCE_DIR) + "/data/qwen3-tokenizer");
    if (!r.is_ok()) {
      std::fprintf(stderr, "%s\n", r.status().message().c_str());
      std::abort();
    }
    return std::move(r).value();
  }();
  return t;
}

std::string ids_to_string(const std::vector<int32_t>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size() && i < 64; ++i) {
    if (i > 0) s += ",";
    s += std::to_string(ids[i]);
  }
  if (ids.size() > 64) s += ",... (" + std::to_string(ids.size()) + " ids)";
  return s + "]";
}

}  // namespace longctx::testing_util
