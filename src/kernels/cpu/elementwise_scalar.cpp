// Portable element-wise kernels: SwiGLU in single precision (the reference computes silu in
// double; float keeps the same result to a few ulp) and fp32 -> fp16 by the reference rounding.
#include <cmath>

#include "kernels/cpu/cpu_kernels.h"
#include "quant/float16.h"

namespace longctx::cpu {
namespace {

void swiglu(const float* gate, const float* up, int64_t n, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void to_f16(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = fp32_to_fp16(x[i]);
}

}  // namespace

void register_elementwise_scalar(KernelTable* t) {
  t->swiglu = swiglu;
  t->to_f16 = to_f16;
}

}  // namespace longctx::cpu
