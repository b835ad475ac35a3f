// The "ref" backend class: every op forwards to the scalar reference in kernels/ref. Other CPU
// backends derive from it and override the ops they speed up, keeping the rest exact.
#pragma once

#include "kernels/backend.h"

namespace longctx {

class RefBackend : public KernelBackend {
 public:
  const char* name() const override;
  bool supports(KernelOp op, TensorType type) const override;
  void matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, const float* bias,
              float* y) override;
  void get_rows(const WeightMatrix& w, const int32_t* ids, int64_t n, float* y) override;
  void rms_norm(const float* x, const float* weight, float eps, int64_t n_rows, int64_t n,
                float* y) override;
  void rope(const RopeTable& table, int64_t pos0, int64_t n_tokens, int64_t n_head,
            float* x) override;
  void attention(const AttentionParams& params, const float* q, int64_t n_q, const KvView& k,
                 const KvView& v, float* out) override;
  void swiglu(const float* gate, const float* up, int64_t n, float* y) override;
};

// Kernels take shapes checked at load as invariants: a failing reference op is a bug, so it
// is reported with the op's name and aborts.
void abort_on_error(const Status& st, const char* op);

}  // namespace longctx
