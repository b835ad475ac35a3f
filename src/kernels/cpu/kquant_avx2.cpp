// Placeholder: the avx2 kquant kernels are added here.
#include "kernels/cpu/cpu_kernels.h"

namespace longctx::cpu {

void register_kquant_avx2(KernelTable*) {}

}  // namespace longctx::cpu
