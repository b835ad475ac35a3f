// What one forward pass over a chunk of tokens needs: the backend, the model, the sequence's KV
// cache, the RoPE window and the scratch activations (sized once per session, so a forward pass
// allocates nothing). The shared blocks (model/blocks.h) and the per-architecture layer
// functions (qwen3.cpp, qwen3_moe.cpp, qwen2.cpp) work on it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kernels/backend.h"
#include "kv/kv_cache.h"
#include "model/model.h"

namespace longctx {

// Activations of up to n_batch tokens. Each buffer's shape is [n_batch][width].
struct ForwardScratch {
  int64_t n_batch = 0;
  std::vector<float> x;     // [n_batch][n_embd]  residual stream
  std::vector<float> h;     // [n_batch][n_embd]  normed input of a block / block output
  std::vector<float> q;     // [n_batch][n_head * head_dim]
  std::vector<float> k;     // [n_batch][n_head_kv * head_dim]
  std::vector<float> v;     // [n_batch][n_head_kv * head_dim_v]
  std::vector<float> attn;  // [n_batch][n_head * head_dim_v]
  std::vector<float> gate;  // [n_batch][n_ff] (MoE: [n_batch][n_ff_expert])
  std::vector<float> up;    // [n_batch][n_ff] (MoE: [n_batch][n_ff_expert])
  // MoE only: router logits, chosen experts, tokens gathered per expert.
  std::vector<float> router;     // [n_batch][n_expert]
  std::vector<int32_t> chosen;   // [n_batch][n_expert_used_max] expert ids
  std::vector<float> chosen_w;   // [n_batch][n_expert_used_max] mixing weights
  std::vector<int32_t> rows;     // [n_batch * n_expert_used_max] token index per routed row
  std::vector<float> rows_w;     // [n_batch * n_expert_used_max] weight per routed row
  std::vector<int32_t> offsets;  // [n_expert + 1] start of each expert's rows
  std::vector<float> xe;         // [n_batch][n_embd] tokens routed to one expert
  std::vector<float> ye;         // [n_batch][n_embd] that expert's output
  std::vector<float> probs;      // [n_expert] softmax scratch

  // Sizes every buffer for n_batch tokens of this model (MoE buffers for up to n_expert used).
  static ForwardScratch create(const ModelHparams& hp, int64_t n_batch);
  // Bytes of all buffers (part of the compute-buffer figure the planner reports).
  uint64_t bytes() const;
  // Gives the buffers' pages back to the system (contents lost; sizes kept).
  void release();
  // The bytes create(hp, n_batch) allocates, without allocating (for the planner).
  static uint64_t bytes_for(const ModelHparams& hp, int64_t n_batch);
};

// One sequence's rows of a forward pass: scratch rows [row0, row0 + n_tokens) hold its tokens at
// positions [pos0, pos0 + n_tokens) of its own cache; its RoPE window covers those positions.
struct SeqSlice {
  KvCache* kv = nullptr;
  const RopeTable* rope = nullptr;
  int64_t pos0 = 0;
  int64_t row0 = 0;
  int64_t n_tokens = 0;
};

struct ForwardContext {
  KernelBackend* backend = nullptr;
  const Model* model = nullptr;
  KvCache* kv = nullptr;
  const RopeTable* rope = nullptr;  // window covers [pos0, pos0 + n_tokens)
  ForwardScratch* s = nullptr;
  int64_t pos0 = 0;           // position of the first token of the chunk
  int64_t n_tokens = 0;       // tokens in the chunk (<= s->n_batch)
  int64_t n_expert_used = 0;  // MoE: experts per token for this pass
  // Several sequences in one pass (continuous batching): when non-empty, these slices (in row
  // order, covering rows [0, n_tokens) without gaps) replace kv, rope and pos0. Every matrix
  // product and norm runs over all rows at once, so each weight is read once per step for all
  // sequences; RoPE, the cache store and attention run per slice. forward_chunk fills it with
  // one slice from kv / rope / pos0 when empty.
  std::span<const SeqSlice> seqs;
};

// Per-architecture decoder layer: x = layer(x), reading scratch x, writing it back.
using LayerFn = void (*)(ForwardContext& ctx, int64_t il);

struct Architecture {
  const char* name;  // GGUF general.architecture
  LayerFn layer;
};

// The architecture registered under a GGUF name, or nullptr.
const Architecture* find_architecture(const std::string& name);

// Runs the whole model over tokens[n_tokens] at positions [pos0, pos0 + n_tokens): embeddings,
// every layer (storing K/V in the cache), the final norm. The normed hidden states stay in
// ctx.s->x; logits are computed separately (compute_logits) for the rows that need them.
void forward_chunk(ForwardContext& ctx, const int32_t* tokens);

// logits[r][n_vocab] for the hidden rows [row0, row0 + n_rows) of ctx.s->x after forward_chunk.
void compute_logits(ForwardContext& ctx, int64_t row0, int64_t n_rows, float* logits);

// logits[i][n_vocab] for the hidden rows rows[i], i < n_rows, of ctx.s->x after forward_chunk,
// in one matrix product (the rows are gathered into ctx.s->h first): the last row of each
// sequence of a batch reads the output matrix once for all of them.
void compute_logits_rows(ForwardContext& ctx, const int64_t* rows, int64_t n_rows, float* logits);

}  // namespace longctx
