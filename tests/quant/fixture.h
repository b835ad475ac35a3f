// Loader for the oracle fixtures in tests/quant/data/ (format documented in
// tools/quant_make_fixtures.py and data/README.md), plus bit-pattern helpers for comparisons.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "quant/types.h"

namespace longctx::testing {

enum class FixtureKind : uint32_t { kDequant = 0, kQuant = 1, kQuantSharedInput = 2 };

struct Fixture {
  TensorType type;
  FixtureKind kind;
  std::vector<float> floats;   // dequant: oracle output; quant: input (from q_input if shared)
  std::vector<uint8_t> bytes;  // dequant: packed input; quant: oracle output
};

// Loads tests/quant/data/<name>.bin.zst; for kind 2 also loads the shared q_input floats.
Result<Fixture> load_fixture(const std::string& name);

// Same float, or both NaN with the same sign (NaN payloads are not compared).
inline bool same_float(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) {
    return std::isnan(a) && std::isnan(b) && std::signbit(a) == std::signbit(b);
  }
  return std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b);
}

}  // namespace longctx::testing
