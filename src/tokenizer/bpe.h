// Byte-level BPE merging: turns one pre-token (raw bytes) into token ids by repeatedly merging
// the adjacent pair with the lowest merge rank, exactly as Hugging Face `tokenizers` does.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace longctx::tok {

// Scratch buffers reused across the pre-tokens of one encode call (no per-word allocation).
struct BpeScratch {
  struct Symbol {
    int32_t id;    // current token of this span; -1 once merged into its left neighbour
    int32_t prev;  // index of the previous live symbol, -1 at the start
    int32_t next;  // index of the next live symbol, -1 at the end
  };
  struct Candidate {
    int32_t rank;  // merge rank (lower merges first)
    int32_t pos;   // index of the left symbol (ties go to the leftmost pair)
    int32_t left, right, merged;
  };
  std::vector<Symbol> symbols;
  std::vector<Candidate> heap;
};

class BpeModel {
 public:
  // pieces[id] = raw bytes of token id ("" for ids that are not BPE tokens, e.g. added tokens
  // that have no byte-level entry). merges in rank order, each a pair of raw byte strings.
  // Fails, naming the merge, when a merge's parts or result are not tokens, or when a single
  // byte has no token (byte-level BPE needs all 256).
  static Result<BpeModel> build(const std::vector<std::string>& pieces,
                                const std::vector<std::pair<std::string, std::string>>& merges);

  // Appends the ids of one pre-token (non-empty raw bytes) to out.
  void encode_word(std::string_view word, BpeScratch* scratch, std::vector<int32_t>* out) const;

  int32_t byte_token(uint8_t b) const { return byte_token_[b]; }

 private:
  struct Slot {
    uint64_t key;  // (left << 32) | right; kEmpty when unused
    int32_t rank;
    int32_t merged;
  };
  static constexpr uint64_t kEmpty = ~0ull;

  const Slot* find_merge(int32_t left, int32_t right) const;
  void push_candidate(BpeScratch* s, int32_t pos) const;

  int32_t byte_token_[256] = {};
  // Open-addressing hash table of merges (power-of-two size, linear probing, load <= 3/4: a
  // Qwen vocabulary's 151,387 merges fill 2^18 slots to 0.58; encoding speed stayed within
  // this machine's noise of 2^19's, docs/TOKENIZER.md).
  std::vector<Slot> slots_;
  uint64_t mask_ = 0;
};

}  // namespace longctx::tok
