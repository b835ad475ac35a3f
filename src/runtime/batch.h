// Continuous batching's step: several sessions of one engine advanced in one forward pass. Each
// session brings its own tokens (one to decode, or a chunk of a prompt), cache, positions and
// RoPE; the pass stacks their rows, so every weight matrix is read once per step for all of them
// (decode on a CPU is bound by reading the weights: four sequences cost little more than one),
// and attention runs per sequence over its own cache. The server's scheduler (issue 18) calls
// step() with whichever sequences are active; generate() keeps using Session::eval.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"
#include "model/forward.h"
#include "runtime/engine.h"
#include "runtime/session.h"

namespace longctx {

// One session's share of a step: the tokens to append to it (at least one).
struct BatchItem {
  Session* session = nullptr;
  std::span<const int32_t> tokens;
};

class BatchRunner {
 public:
  // A runner for steps of up to n_batch rows in all and up to max_seqs sessions; its
  // activations and logit rows are allocated here, once.
  static Result<BatchRunner> create(Engine& engine, int64_t n_batch, int64_t max_seqs);

  // Evaluates every item's tokens in one pass and leaves in each session the logits after its
  // last token (Session::logits()). The items' sessions must be distinct sessions of this
  // engine with the same expert count, and their tokens together at most n_batch(); each
  // session's own checks (vocabulary, room in the context, its n_batch) apply as in eval.
  // On an argument error nothing is evaluated and no session changes (an adaptive session may
  // have stepped its RoPE factor, which leaves its state equivalent).
  Status step(std::span<const BatchItem> items);

  // Gives the activations' and logit rows' pages back to the system (a sleeping server).
  void release_memory();

  int64_t n_batch() const { return scratch_.n_batch; }
  int64_t max_seqs() const { return max_seqs_; }

 private:
  BatchRunner(Engine& engine, ForwardScratch scratch, int64_t max_seqs);

  Engine* engine_;
  ForwardScratch scratch_;
  int64_t max_seqs_;
  std::vector<SeqSlice> slices_;   // [max_seqs]
  std::vector<int32_t> tokens_;    // [n_batch] the stacked tokens
  std::vector<int64_t> last_row_;  // [max_seqs] each item's last row
  std::vector<float> logits_;      // [max_seqs][n_vocab]
};

}  // namespace longctx
