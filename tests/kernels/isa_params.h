// The cpu backend's instruction-set paths this machine runs, as GoogleTest parameters: tests
// instantiated over them run every path (scalar, avx2, avx512) the CPU supports.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernels/cpu/isa.h"

namespace longctx::cpu {

inline std::vector<Isa> supported_isas() {
  std::vector<Isa> out;
  for (Isa i : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (isa_supported(i)) out.push_back(i);
  }
  return out;
}

// Test-name suffix: the path's name.
struct IsaParamName {
  std::string operator()(const ::testing::TestParamInfo<Isa>& i) const { return isa_name(i.param); }
};

}  // namespace longctx::cpu
