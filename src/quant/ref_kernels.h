// Per-type scalar reference kernels behind dequantize_row / quantize_row. They take an already
// validated count of blocks (or of elements for the plain float types) and unaligned byte
// pointers; callers outside src/quant/ should use the checked entry points in quantize.h.
#pragma once

#include <cstdint>

namespace longctx::ref {

// Dequantizers: n_blocks blocks at src -> n_blocks * block_size floats at dst.
void dequantize_f32(const uint8_t* src, float* dst, int64_t n);
void dequantize_f16(const uint8_t* src, float* dst, int64_t n);
void dequantize_bf16(const uint8_t* src, float* dst, int64_t n);
void dequantize_q4_0(const uint8_t* src, float* dst, int64_t n_blocks);
void dequantize_q4_1(const uint8_t* src, float* dst, int64_t n_blocks);
void dequantize_q5_0(const uint8_t* src, float* dst, int64_t n_blocks);
void dequantize_q5_1(const uint8_t* src, float* dst, int64_t n_blocks);
void dequantize_q8_0(const uint8_t* src, float* dst, int64_t n_blocks);
void dequantize_q2_K(const uint8_t* src, float* dst, int64_t n_blocks);
void dequantize_q3_K(const uint8_t* src, float* dst, int64_t n_blocks);
void dequantize_q4_K(const uint8_t* src, float* dst, int64_t n_blocks);
void dequantize_q5_K(const uint8_t* src, float* dst, int64_t n_blocks);
void dequantize_q6_K(const uint8_t* src, float* dst, int64_t n_blocks);

// Quantizers: n_blocks * block_size floats at src -> n_blocks blocks at dst. The block
// quantizers assume finite input (checked by quantize_row).
void quantize_f32(const float* src, uint8_t* dst, int64_t n);
void quantize_f16(const float* src, uint8_t* dst, int64_t n);
void quantize_bf16(const float* src, uint8_t* dst, int64_t n);
void quantize_q4_0(const float* src, uint8_t* dst, int64_t n_blocks);
void quantize_q4_1(const float* src, uint8_t* dst, int64_t n_blocks);
void quantize_q5_0(const float* src, uint8_t* dst, int64_t n_blocks);
void quantize_q5_1(const float* src, uint8_t* dst, int64_t n_blocks);
void quantize_q8_0(const float* src, uint8_t* dst, int64_t n_blocks);
void quantize_q4_K(const float* src, uint8_t* dst, int64_t n_blocks);
void quantize_q5_K(const float* src, uint8_t* dst, int64_t n_blocks);
void quantize_q6_K(const float* src, uint8_t* dst, int64_t n_blocks);

}  // namespace longctx::ref
