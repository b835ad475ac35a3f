// Placeholder: the scalar kquant kernels are added here.
#include "kernels/cpu/cpu_kernels.h"

namespace longctx::cpu {

void register_kquant_scalar(KernelTable*) {}

}  // namespace longctx::cpu
