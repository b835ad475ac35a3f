// Qwen3-MoE: the Qwen3 attention block, then a Mixture-of-Experts FFN in every layer (router
// softmax over all experts, top-k, no shared expert).
#include "model/blocks.h"

namespace longctx {
namespace {

void qwen3moe_layer(ForwardContext& ctx, int64_t il) {
  blocks::attention(ctx, il, {.qk_norm = true, .qkv_bias = false});
  blocks::ffn_moe(ctx, il);
}

}  // namespace

extern const Architecture kArchQwen3Moe{"qwen3moe", qwen3moe_layer};

}  // namespace longctx
