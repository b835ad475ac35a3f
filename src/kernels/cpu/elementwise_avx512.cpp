// AVX-512 element-wise kernels: elementwise_inl.h at 16 lanes. Built with -mavx512*: only the
// register function has external linkage (see cpu_kernels.h).
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/elementwise_inl.h"
#include "kernels/cpu/vec_avx512_inl.h"

namespace longctx::cpu {

void register_elementwise_avx512(KernelTable* t) {
  t->swiglu = swiglu_gen<F32x16>;
  t->to_f16 = to_f16_gen<F32x16>;
}

}  // namespace longctx::cpu
