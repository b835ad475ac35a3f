// Qwen2 / Qwen2.5: attention with q/k/v biases and no q/k norm, then SwiGLU FFN.
#include "model/blocks.h"

namespace longctx {
namespace {

void qwen2_layer(ForwardContext& ctx, int64_t il) {
  blocks::attention(ctx, il, {.qk_norm = false, .qkv_bias = true});
  blocks::ffn_swiglu(ctx, il);
}

}  // namespace

extern const Architecture kArchQwen2{"qwen2", qwen2_layer};

}  // namespace longctx
