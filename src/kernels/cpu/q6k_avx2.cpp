// Placeholder: the avx2 Q6_K kernels are added here.
#include "kernels/cpu/cpu_kernels.h"

namespace longctx::cpu {

void register_q6k_avx2(KernelTable*) {}

}  // namespace longctx::cpu
