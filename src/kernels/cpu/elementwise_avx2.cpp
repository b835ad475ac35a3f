// AVX2 element-wise kernels: elementwise_inl.h at 8 lanes. Built with -mavx2 -mfma -mf16c: only
// the register function has external linkage (see cpu_kernels.h).
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/elementwise_inl.h"
#include "kernels/cpu/vec_avx2_inl.h"

namespace longctx::cpu {

void register_elementwise_avx2(KernelTable* t) {
  t->swiglu = swiglu_gen<F32x8>;
  t->to_f16 = to_f16_gen<F32x8>;
}

}  // namespace longctx::cpu
