// Placeholder: the scalar Q6_K kernels are added here.
#include "kernels/cpu/cpu_kernels.h"

namespace longctx::cpu {

void register_q6k_scalar(KernelTable*) {}

}  // namespace longctx::cpu
