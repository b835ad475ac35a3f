// Qwen3 (dense): pre-norm decoder layer = attention with per-head q/k RMSNorm, then SwiGLU FFN.
#include "model/blocks.h"

namespace longctx {
namespace {

void qwen3_layer(ForwardContext& ctx, int64_t il) {
  blocks::attention(ctx, il, {.qk_norm = true, .qkv_bias = false});
  blocks::ffn_swiglu(ctx, il);
}

}  // namespace

extern const Architecture kArchQwen3{"qwen3", qwen3_layer};

}  // namespace longctx
