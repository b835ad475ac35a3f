// The tensor list of a Qwen3-family model, declared once. Loading binds and shape-checks these,
// `synth` writes them, the planner counts their bytes, `info` lists them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/hparams.h"

namespace longctx {

// What a tensor is for; decides its type under a quantization preset.
enum class TensorRole {
  kTokenEmbd,
  kOutput,
  kOutputNorm,
  kAttnNorm,
  kAttnQ,
  kAttnK,
  kAttnV,
  kAttnOut,
  kAttnQNorm,
  kAttnKNorm,
  kAttnQBias,
  kAttnKBias,
  kAttnVBias,
  kFfnNorm,
  kFfnGate,
  kFfnUp,
  kFfnDown,
  kFfnRouter,
  kFfnGateExps,
  kFfnUpExps,
  kFfnDownExps,
};

struct TensorDesc {
  std::string name;            // GGUF name, e.g. "blk.3.attn_q.weight"
  std::vector<uint64_t> dims;  // ggml order: dims[0] is the row length (input features)
  TensorRole role;
  int layer = -1;  // -1 for non-layer tensors

  uint64_t n_elements() const;
  bool is_norm_or_bias() const;  // 1-D tensors, always kept in f32
};

std::vector<TensorDesc> model_tensors(const ModelHparams& hp);

}  // namespace longctx
