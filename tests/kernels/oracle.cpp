// Loads the kernels oracle fixture once per test process.
#include "oracle.h"

#include <gtest/gtest.h>

#include "core/file_io.h"

namespace longctx::testing {

const nlohmann::json& oracle() {
  static const nlohmann::json kOracle = [] {
    Result<std::string> text =
        read_file(std::string(LONGCTX_TEST_DATA_DIR) + "/kernels_oracle.json.zst");
    if (!text) {
      ADD_FAILURE() << text.status().message();
      return nlohmann::json::object();
    }
    return nlohmann::json::parse(*text);
  }();
  return kOracle;
}

std::vector<float> floats(const nlohmann::json& j) {
  std::vector<float> out;
  out.reserve(j.size());
  for (const auto& v : j) out.push_back(static_cast<float>(v.get<double>()));
  return out;
}

}  // namespace longctx::testing
