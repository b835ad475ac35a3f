// Placeholder: the scalar legacy kernels are added here.
#include "kernels/cpu/cpu_kernels.h"

namespace longctx::cpu {

void register_legacy_scalar(KernelTable*) {}

}  // namespace longctx::cpu
