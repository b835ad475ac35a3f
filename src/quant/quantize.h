// Scalar reference (de)quantization of one row of a GGUF tensor. These kernels define the
// numerics that every SIMD / CUDA kernel must reproduce; they favour clarity over speed.
// Contract: n >= 0 and n is a multiple of the type's block size (else kInvalidArgument); the
// packed side holds row_bytes(t, n) bytes at any address (no alignment needed, as inside a
// GGUF file); the float side holds n naturally aligned floats.
#pragma once

#include <cstdint>

#include "core/status.h"
#include "quant/types.h"

namespace longctx {

// True for F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K.
bool has_dequantizer(TensorType t);
// True for F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K.
bool has_quantizer(TensorType t);

// Decodes n elements of type t from src into dst. Bit-exact with the gguf Python package and
// with ggml's scalar dequantizers (products evaluated in the same order, no FMA contraction).
Status dequantize_row(TensorType t, const void* src, float* dst, int64_t n);

// Encodes n floats into type t. F16 / BF16 accept any input (Inf and NaN convert as documented
// in float16.h); the block types require finite input and report the first non-finite index.
// Q4_0 ... Q8_0 and Q4_K / Q5_K / Q6_K produce exactly the bytes of ggml's quantize_row_*_ref
// (and of the gguf Python package where it quantizes).
Status quantize_row(TensorType t, const float* src, void* dst, int64_t n);

// quantize_row for activations stored in a KV cache: the same bytes for finite input, but a
// block type encodes a non-finite element as 0 instead of refusing the row (a NaN upstream
// still reaches the logits, where the generation loop reports it; it must not stop the program
// inside a kernel). Argument errors (a count off the block size, no quantizer) remain errors.
Status quantize_row_lenient(TensorType t, const float* src, void* dst, int64_t n);

}  // namespace longctx
