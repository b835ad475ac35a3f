// Access to the oracle fixture tests/kernels/data/kernels_oracle.json.zst (written by
// tools/kernels_make_fixtures.py from PyTorch / transformers) and tolerance helpers.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

namespace longctx::testing {

// The whole fixture, parsed once; a load failure fails the calling test (ADD_FAILURE) and
// returns an empty object.
const nlohmann::json& oracle();

// A JSON array of numbers as floats (exact: the generator writes float32 values).
std::vector<float> floats(const nlohmann::json& j);

// fp32 unit roundoff, 2^-24: one correctly rounded fp32 operation errs by at most u * |result|.
constexpr double kU = 1.0 / 16777216.0;

inline double max_abs(const std::vector<float>& v) {
  double m = 0.0;
  for (float f : v) m = std::max(m, static_cast<double>(std::fabs(f)));
  return m;
}

}  // namespace longctx::testing
