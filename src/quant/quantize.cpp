// Checked entry points dequantize_row / quantize_row: validate the element count and pointers,
// then dispatch once per row to the per-type scalar kernels in ref_kernels.h.
#include "quant/quantize.h"

#include <cmath>
#include <cstdint>
#include <string>

#include "quant/ref_kernels.h"

namespace longctx {
namespace {

using DequantFn = void (*)(const uint8_t*, float*, int64_t);
using QuantFn = void (*)(const float*, uint8_t*, int64_t);

// Kernels take a count of blocks; for the plain float types a block is one element.
struct Kernels {
  DequantFn dequantize = nullptr;
  QuantFn quantize = nullptr;
  bool needs_finite_input = false;  // block quantizers derive scales from min / max
};

Kernels kernels_for(TensorType t) {
  switch (t) {
    case TensorType::F32:
      return {ref::dequantize_f32, ref::quantize_f32, false};
    case TensorType::F16:
      return {ref::dequantize_f16, ref::quantize_f16, false};
    case TensorType::BF16:
      return {ref::dequantize_bf16, ref::quantize_bf16, false};
    case TensorType::Q4_0:
      return {ref::dequantize_q4_0, ref::quantize_q4_0, true};
    case TensorType::Q4_1:
      return {ref::dequantize_q4_1, ref::quantize_q4_1, true};
    case TensorType::Q5_0:
      return {ref::dequantize_q5_0, ref::quantize_q5_0, true};
    case TensorType::Q5_1:
      return {ref::dequantize_q5_1, ref::quantize_q5_1, true};
    case TensorType::Q8_0:
      return {ref::dequantize_q8_0, ref::quantize_q8_0, true};
    case TensorType::Q2_K:
      return {ref::dequantize_q2_K, nullptr, true};
    case TensorType::Q3_K:
      return {ref::dequantize_q3_K, nullptr, true};
    case TensorType::Q4_K:
      return {ref::dequantize_q4_K, ref::quantize_q4_K, true};
    case TensorType::Q5_K:
      return {ref::dequantize_q5_K, ref::quantize_q5_K, true};
    case TensorType::Q6_K:
      return {ref::dequantize_q6_K, ref::quantize_q6_K, true};
    default:
      return {};
  }
}

// Shared argument checks; returns the number of blocks in n elements.
Result<int64_t> check_row(const char* what, TensorType t, const void* src, const void* dst,
                          int64_t n) {
  const TypeTraits& tr = traits(t);
  const std::string where = std::string(what) + "(" + tr.name + ", n=" + std::to_string(n) + ")";
  if (n < 0) return invalid_argument(where + ": negative element count");
  if (n % tr.block_size != 0) {
    return invalid_argument(where + ": n is not a multiple of the block size " +
                            std::to_string(tr.block_size));
  }
  if (n > 0 && (src == nullptr || dst == nullptr)) {
    return invalid_argument(where + ": null buffer");
  }
  return n / tr.block_size;
}

}  // namespace

bool has_dequantizer(TensorType t) { return kernels_for(t).dequantize != nullptr; }
bool has_quantizer(TensorType t) { return kernels_for(t).quantize != nullptr; }

Status dequantize_row(TensorType t, const void* src, float* dst, int64_t n) {
  const Kernels k = kernels_for(t);
  if (k.dequantize == nullptr) {
    return unsupported(std::string("dequantize_row: no dequantizer for tensor type ") +
                       type_name(t));
  }
  Result<int64_t> n_blocks = check_row("dequantize_row", t, src, dst, n);
  if (!n_blocks.is_ok()) return n_blocks.status();
  if (n == 0) return Status::ok();  // buffers may be null
  k.dequantize(static_cast<const uint8_t*>(src), dst, *n_blocks);
  return Status::ok();
}

Status quantize_row(TensorType t, const float* src, void* dst, int64_t n) {
  const Kernels k = kernels_for(t);
  if (k.quantize == nullptr) {
    return unsupported(std::string("quantize_row: no quantizer for tensor type ") + type_name(t));
  }
  Result<int64_t> n_blocks = check_row("quantize_row", t, src, dst, n);
  if (!n_blocks.is_ok()) return n_blocks.status();
  if (n == 0) return Status::ok();  // buffers may be null
  if (k.needs_finite_input) {
    for (int64_t i = 0; i < n; ++i) {
      if (!std::isfinite(src[i])) {
        return invalid_argument(std::string("quantize_row(") + type_name(t) +
                                "): non-finite input " + std::to_string(src[i]) + " at index " +
                                std::to_string(i));
      }
    }
  }
  k.quantize(src, static_cast<uint8_t*>(dst), *n_blocks);
  return Status::ok();
}

Status quantize_row_lenient(TensorType t, const float* src, void* dst, int64_t n) {
  const Kernels k = kernels_for(t);
  if (!k.needs_finite_input || k.quantize == nullptr) return quantize_row(t, src, dst, n);
  Result<int64_t> n_blocks = check_row("quantize_row", t, src, dst, n);
  if (!n_blocks.is_ok()) return n_blocks.status();
  const TypeTraits& tr = traits(t);
  const int64_t bs = tr.block_size;
  auto* out = static_cast<uint8_t*>(dst);
  float clean[256];  // the largest block (K-quants)
  for (int64_t b = 0; b < *n_blocks; ++b) {
    const float* x = src + b * bs;
    bool finite = true;
    for (int64_t i = 0; i < bs; ++i) finite = finite && std::isfinite(x[i]);
    if (!finite) {
      for (int64_t i = 0; i < bs; ++i) clean[i] = std::isfinite(x[i]) ? x[i] : 0.0f;
      x = clean;
    }
    k.quantize(x, out + b * tr.block_bytes, 1);
  }
  return Status::ok();
}

}  // namespace longctx
