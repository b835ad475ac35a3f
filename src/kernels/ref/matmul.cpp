// Reference matmul: decode one weight row to fp32, then dot it with each input in double. The
// double accumulator makes the result the fp32 rounding of (nearly) the exact dot product of
// the dequantized weights, independent of summation order, which is what an oracle should be.
#include "kernels/ref/matmul.h"

#include <string>
#include <vector>

#include "quant/quantize.h"

namespace longctx::ref {
namespace {

Status check_matrix(const WeightMatrix& w) {
  if (!has_dequantizer(w.type)) {
    return unsupported(std::string("matmul: no dequantizer for weight type ") + type_name(w.type));
  }
  const int64_t block = traits(w.type).block_size;
  if (w.n_in < 1 || w.n_out < 1 || w.n_in % block != 0) {
    return invalid_argument("matmul: bad weight shape n_in=" + std::to_string(w.n_in) +
                            " n_out=" + std::to_string(w.n_out) + " for type " + type_name(w.type) +
                            " (block size " + std::to_string(block) + ")");
  }
  if (w.data == nullptr) return invalid_argument("matmul: weight data is null");
  if (w.layout != WeightLayout::kGguf) {
    return invalid_argument(
        "matmul: the reference reads GGUF row order only (this matrix was "
        "repacked for a backend)");
  }
  return Status::ok();
}

Status check_dims(const GgufTensorInfo& info, size_t want_dims) {
  if (info.dims.size() != want_dims) {
    return invalid_argument("tensor '" + info.name + "': expected " + std::to_string(want_dims) +
                            " dims, got " + std::to_string(info.dims.size()));
  }
  return Status::ok();
}

double dot(const float* a, const float* b, int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

}  // namespace

Result<WeightMatrix> weight_matrix(const GgufTensorInfo& info, const uint8_t* data) {
  LONGCTX_RETURN_IF_ERROR(check_dims(info, 2));
  WeightMatrix w{info.type, data, static_cast<int64_t>(info.dims[0]),
                 static_cast<int64_t>(info.dims[1])};
  LONGCTX_RETURN_IF_ERROR(check_matrix(w).with_context("tensor '" + info.name + "'"));
  return w;
}

Result<ExpertStack> expert_stack(const GgufTensorInfo& info, const uint8_t* data) {
  LONGCTX_RETURN_IF_ERROR(check_dims(info, 3));
  ExpertStack s{info.type, data, static_cast<int64_t>(info.dims[0]),
                static_cast<int64_t>(info.dims[1]), static_cast<int64_t>(info.dims[2])};
  if (s.n_expert < 1) return invalid_argument("tensor '" + info.name + "': no experts");
  const WeightMatrix first{s.type, s.data, s.n_in, s.n_out};
  LONGCTX_RETURN_IF_ERROR(check_matrix(first).with_context("tensor '" + info.name + "'"));
  return s;
}

WeightMatrix expert_matrix(const ExpertStack& stack, int64_t e) {
  LONGCTX_CHECK(e >= 0 && e < stack.n_expert);
  const uint64_t matrix_bytes =
      row_bytes(stack.type, static_cast<uint64_t>(stack.n_in)) * static_cast<uint64_t>(stack.n_out);
  return WeightMatrix{
      stack.type, static_cast<const uint8_t*>(stack.data) + matrix_bytes * static_cast<uint64_t>(e),
      stack.n_in, stack.n_out, stack.layout};
}

Status matmul(const WeightMatrix& w, const float* x, const float* bias, float* y) {
  return matmul_batch(w, x, 1, bias, y);
}

Status matmul_batch(const WeightMatrix& w, const float* x, int64_t n_tokens, const float* bias,
                    float* y) {
  LONGCTX_RETURN_IF_ERROR(check_matrix(w));
  if (n_tokens < 1) {
    return invalid_argument("matmul: n_tokens must be >= 1, got " + std::to_string(n_tokens));
  }
  const uint64_t stride = row_bytes(w.type, static_cast<uint64_t>(w.n_in));
  const auto* rows = static_cast<const uint8_t*>(w.data);
  std::vector<float> row(static_cast<size_t>(w.n_in));
  for (int64_t r = 0; r < w.n_out; ++r) {
    LONGCTX_RETURN_IF_ERROR(dequantize_row(w.type, rows + stride * r, row.data(), w.n_in));
    const double b = bias != nullptr ? bias[r] : 0.0;
    for (int64_t t = 0; t < n_tokens; ++t) {
      y[t * w.n_out + r] = static_cast<float>(dot(row.data(), x + t * w.n_in, w.n_in) + b);
    }
  }
  return Status::ok();
}

}  // namespace longctx::ref
