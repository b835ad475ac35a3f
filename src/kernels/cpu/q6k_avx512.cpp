// Placeholder: the avx512 Q6_K kernels are added here.
#include "kernels/cpu/cpu_kernels.h"

namespace longctx::cpu {

void register_q6k_avx512(KernelTable*) {}

}  // namespace longctx::cpu
