// Placeholder: the avx512 kquant kernels are added here.
#include "kernels/cpu/cpu_kernels.h"

namespace longctx::cpu {

void register_kquant_avx512(KernelTable*) {}

}  // namespace longctx::cpu
