// The CPU micro-kernel table: activation quantizers and dot-product kernels per weight type, one
// table per instruction-set path (scalar, AVX2+FMA+F16C, AVX-512 with VNNI/BF16). The cpu backend
// picks one table at start-up (kernels/cpu/isa.h) and drives it: it quantizes the activations
// once per matmul, splits rows across threads and blocks rows x tokens for the caches; the
// kernels here own only the register-level work.
//
// Build rule (see docs/KERNELS.md): the per-ISA translation units are compiled with -mavx2 /
// -mavx512* flags, so they must not define or instantiate any function with external linkage
// other than their register_* entry point: no inline functions from shared headers (the linker
// keeps one copy of an inline function and may keep the AVX-512 one, which would fault on an
// AVX2-only CPU), no std containers or algorithms. This header therefore holds only plain types
// and declarations.
#pragma once

#include <cstddef>
#include <cstdint>

namespace longctx::cpu {

enum class Isa : int { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };
inline constexpr int kNumIsa = 3;

// The activation formats the dot kernels read. A weight type's kernel names the one it wants;
// the backend converts each input row of the matmul into it once.
enum class ActType : int {
  kF32 = 0,   // plain floats (no conversion)
  kBF16 = 1,  // bfloat16, round-to-nearest-even (fp32_to_bf16)
  kQ8_0 = 2,  // ggml block_q8_0: 32 values, fp16 d = amax / 127, q = round(x / d)
  kQ8_K = 3,  // ggml block_q8_K (BlockQ8K below): 256 values, f32 d, per-16 sums of q
};
inline constexpr int kNumActTypes = 4;

// ggml's block_q8_K, the activation format of the K-quants: x[j] ~ d * qs[j],
// bsums[g] = sum of qs[16g .. 16g + 15] (lets Q4_K/Q5_K apply their mins without a pass).
struct BlockQ8K {
  float d;
  int8_t qs[256];
  int16_t bsums[16];
};
static_assert(sizeof(BlockQ8K) == 292);

// Bytes of one activation row of n elements in format t (n a multiple of the block size: 32 for
// Q8_0, 256 for Q8_K).
static constexpr size_t act_row_bytes(ActType t, int64_t n) {
  return t == ActType::kF32    ? static_cast<size_t>(n) * 4
         : t == ActType::kBF16 ? static_cast<size_t>(n) * 2
         : t == ActType::kQ8_0 ? static_cast<size_t>(n / 32) * 34
                               : static_cast<size_t>(n / 256) * sizeof(BlockQ8K);
}

// Converts one row of n floats into activation format t at dst (any alignment).
using QuantizeActFn = void (*)(const float* x, void* dst, int64_t n);

// Matrix x vector: y[r] = sum_i W_r[i] * A[i] for r in [0, nr), where
//   W_r = (const uint8_t*)w + r * w_stride   (one packed weight row of n elements),
//   A   = one activation row of n elements in the kernel's ActType.
// n is a multiple of the weight type's block size; pointers may have any alignment.
using GemvFn = void (*)(int64_t n, const void* w, size_t w_stride, int64_t nr, const void* a,
                        float* y);

// Matrix x matrix: y[c * ldy + r] = sum_i W_r[i] * A_c[i] for r < nr, c < nc, with
//   A_c = (const uint8_t*)a + c * a_stride. The kernel tiles registers itself (any nr, nc >= 1);
// the caller keeps the block of W and A small enough for the caches.
using GemmFn = void (*)(int64_t n, const void* w, size_t w_stride, int64_t nr, const void* a,
                        size_t a_stride, int64_t nc, float* y, size_t ldy);

struct MatmulKernel {
  ActType act = ActType::kF32;
  GemvFn gemv = nullptr;  // nullptr: this path has no kernel for the type
  GemmFn gemm = nullptr;
};

// GGUF type ids (quant/types.h TensorType values; kept as numbers here, see the build rule).
inline constexpr int kMaxTypeId = 40;

// y[i] = silu(gate[i]) * up[i], silu(x) = x / (1 + e^-x); y may alias gate or up.
using SwigluFn = void (*)(const float* gate, const float* up, int64_t n, float* y);
// n floats to IEEE fp16 bits, round-to-nearest-even (quant/float16.h fp32_to_fp16 semantics).
using ToF16Fn = void (*)(const float* x, uint16_t* y, int64_t n);

// Interleaved weights ("x16"): a path may read some types faster when the rows of a matrix come in
// groups of 16 with their blocks interleaved (the layouts: x16_repack.cpp). Such a matrix is
// rewritten once, in place (same bytes), by RepackFn over nr rows (a multiple of 16) of w_stride
// bytes; its kernels take the same arguments as above with row counts and row offsets that are
// multiples of 16 (w + r * w_stride is the start of group r / 16).
inline constexpr int kX16Rows = 16;
using RepackFn = void (*)(int64_t n, void* w, size_t w_stride, int64_t nr);

struct KernelTable {
  Isa isa = Isa::kScalar;
  QuantizeActFn quantize[kNumActTypes] = {};
  MatmulKernel matmul[kMaxTypeId] = {};      // indexed by GGUF type id
  MatmulKernel matmul_x16[kMaxTypeId] = {};  // interleaved layout; set with repack_x16
  RepackFn repack_x16[kMaxTypeId] = {};
  SwigluFn swiglu = nullptr;
  ToF16Fn to_f16 = nullptr;
};

// Entry points of the per-ISA translation units: each fills in the kernels it provides.
// Legacy block types and 16-bit floats: F16, BF16, Q8_0, Q4_0 (+ the F32 / BF16 / Q8_0 quantizers).
void register_legacy_scalar(KernelTable* t);
void register_legacy_avx2(KernelTable* t);
void register_legacy_avx512(KernelTable* t);
// K-quants Q4_K, Q5_K (+ the Q8_K quantizer).
void register_kquant_scalar(KernelTable* t);
void register_kquant_avx2(KernelTable* t);
void register_kquant_avx512(KernelTable* t);
// Q4_K x16: the repacking and its inverse (portable code, x16_repack.cpp), the AVX-512 kernels.
void repack_q4k_x16(int64_t n, void* w, size_t w_stride, int64_t nr);
void unpack_q4k_x16(int64_t n, void* w, size_t w_stride, int64_t nr);
void register_kquant_x16_avx512(KernelTable* t);
// Q8_0 x16: the same for Q8_0 (x16_repack.cpp, legacy_x16_avx512.cpp).
void repack_q8_0_x16(int64_t n, void* w, size_t w_stride, int64_t nr);
void unpack_q8_0_x16(int64_t n, void* w, size_t w_stride, int64_t nr);
void register_legacy_x16_avx512(KernelTable* t);
// Row `row` of a matrix of n columns in its type's x16 layout, written out in GGUF block order
// (w_stride bytes): how get_rows reads a tied embedding that the output head had repacked. False
// for a type without an x16 layout.
bool x16_row(uint32_t type, int64_t n, const void* w, size_t w_stride, int64_t row, void* out);
// Element-wise ops: swiglu, to_f16.
void register_elementwise_scalar(KernelTable* t);
void register_elementwise_avx2(KernelTable* t);
void register_elementwise_avx512(KernelTable* t);
// Q6_K (reads Q8_K activations).
void register_q6k_scalar(KernelTable* t);
void register_q6k_avx2(KernelTable* t);
void register_q6k_avx512(KernelTable* t);

}  // namespace longctx::cpu
