// The "ref" kernel backend: forwards every op to the scalar reference in kernels/ref. Slow and
// exact; the oracle other backends are compared with.
#include <cstring>
#include <string>

#include "kernels/ref/activations.h"
#include "kernels/ref/hadamard.h"
#include "kernels/ref/norm.h"
#include "kernels/ref_backend.h"
#include "quant/quantize.h"

namespace longctx {

const char* RefBackend::name() const { return "ref"; }

bool RefBackend::supports(KernelOp op, TensorType type) const {
  switch (op) {
    case KernelOp::kMatmul:
    case KernelOp::kGetRows:
      return has_dequantizer(type);
    case KernelOp::kAttention:
      return ref::is_kv_type(type);
  }
  return false;
}

void RefBackend::matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, const float* bias,
                        float* y) {
  abort_on_error(ref::matmul_batch(w, x, n_tokens, bias, y), "matmul");
}

void RefBackend::get_rows(const WeightMatrix& w, const int32_t* ids, int64_t n, float* y) {
  LONGCTX_CHECK(w.layout == WeightLayout::kGguf);  // a repacked table: its backend's get_rows
  const size_t row = row_bytes(w.type, w.n_in);
  for (int64_t t = 0; t < n; ++t) {
    LONGCTX_CHECK(ids[t] >= 0 && ids[t] < w.n_out);
    const auto* src = static_cast<const uint8_t*>(w.data) + static_cast<size_t>(ids[t]) * row;
    abort_on_error(dequantize_row(w.type, src, y + t * w.n_in, w.n_in), "get_rows");
  }
}

void RefBackend::rms_norm(const float* x, const float* weight, float eps, int64_t n_rows, int64_t n,
                          float* y) {
  for (int64_t r = 0; r < n_rows; ++r) {
    abort_on_error(ref::rms_norm(x + r * n, weight, eps, n, y + r * n), "rms_norm");
  }
}

void RefBackend::rope(const RopeTable& table, int64_t pos0, int64_t n_tokens, int64_t n_head,
                      float* x) {
  const int64_t hd = table.head_dim();
  for (int64_t t = 0; t < n_tokens; ++t) {
    abort_on_error(ref::rope_apply(table, pos0 + t, n_head, hd, x + t * n_head * hd), "rope");
  }
}

void RefBackend::attention(const AttentionParams& params, const float* q, int64_t n_q,
                           const KvView& k, const KvView& v, float* out) {
  abort_on_error(ref::attention(params, q, n_q, k, v, out), "attention");
}

void RefBackend::swiglu(const float* gate, const float* up, int64_t n, float* y) {
  ref::swiglu(gate, up, n, y);
}

void KernelBackend::convert_row(TensorType t, const float* x, int64_t n, void* dst) {
  abort_on_error(quantize_row_lenient(t, x, dst, n), "convert_row");
}

void KernelBackend::hadamard(float* x, int64_t n_rows, int64_t dim) {
  ref::hadamard_rows(x, n_rows, dim);
}

void KernelBackend::copy_bytes(void* dst, const void* src, size_t n) {
  if (n > 0) std::memcpy(dst, src, n);
}

void abort_on_error(const Status& st, const char* op) {
  if (!st.is_ok()) {
    std::fprintf(stderr, "kernel %s: %s\n", op, st.message().c_str());
    std::abort();
  }
}

std::unique_ptr<KernelBackend> make_ref_backend() { return std::make_unique<RefBackend>(); }
Result<std::unique_ptr<KernelBackend>> make_backend(std::string_view name, int n_threads,
                                                    std::string_view isa) {
  if (name == "ref") return make_ref_backend();  // single-threaded by design
  if (name == "cpu" || name == "auto") return make_cpu_backend(n_threads, isa);
  if (name.starts_with("cpu-")) return make_cpu_backend(n_threads, name.substr(4));
  return invalid_argument("unknown kernel backend '" + std::string(name) +
                          "' (known: auto, cpu, cpu-scalar, cpu-avx2, cpu-avx512, ref)");
}

}  // namespace longctx
