// GBNF grammars, the format of llama.cpp's `--grammar` and llama-server's `grammar` field:
// parsed and compiled to rules of code-point classes and rule references, and a matcher that
// follows a reply byte by byte with a set of pushdown stacks and masks a token vocabulary so every
// sampled token keeps the reply a prefix of a sentence of the grammar.
//
// Syntax accepted (the start rule is `root`):
//   name ::= alternatives     a rule; names are letters, digits, '-' and '_'; a rule's body goes
//                             on over line breaks until the next `name ::=` or the end
//   a b | c                   sequence, alternatives
//   "text"                    literal (UTF-8; escapes \n \r \t \\ \" \' \[ \] \xHH \uHHHH
//                             \UHHHHHHHH)
//   [a-z0-9_] [^"\\]          character class over code points, '^' negates; the same escapes
//   .                         any code point
//   ( ... )                   grouping
//   x* x+ x? x{m} x{m,} x{m,n} repetition (m, n <= kMaxRepeat)
//   # ...                     comment to the end of the line
// Refused with a message naming line:column: syntax errors, an undefined rule, a missing root,
// left recursion (a rule that can reach itself before consuming a code point, e.g. `a ::= a "x"`
// or `(b?)*`), llama.cpp's token references (`<[id]>`, `!`), and grammars past the size limits.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace longctx {

class GbnfGrammar {
 public:
  static constexpr size_t kMaxTextBytes = size_t{1} << 20;
  static constexpr size_t kMaxElements = size_t{1} << 20;  // after repetitions are expanded
  static constexpr uint32_t kMaxRepeat = 10000;
  static constexpr int kMaxNesting = 256;  // parentheses
  // Parses followed at once; the matcher also bounds the expansion work per byte and per mask
  // (gbnf_matcher.cpp), dropping parses past the bounds, so a hostile grammar costs at most a
  // bounded time per token (a fraction of a second) instead of stalling the server.
  static constexpr size_t kMaxStacks = 256;

  // `prefix`: ASCII bytes every sentence starts with before `root` (e.g. "\n\n" after a think
  // block).
  static Result<std::shared_ptr<const GbnfGrammar>> parse(std::string_view text,
                                                          std::string_view prefix = {});

  // The compiled form. Each alternative is a run of elements ending with kEnd; a rule is the
  // list of its alternatives' start indexes.
  struct Element {
    enum Type : uint8_t { kEnd, kRef, kChars };
    Type type = kEnd;
    uint32_t value = 0;  // kRef: rule index; kChars: class index
  };
  using Ranges = std::vector<std::pair<uint32_t, uint32_t>>;  // sorted, disjoint, inclusive

  const std::vector<Element>& elements() const { return elems_; }
  const std::vector<uint32_t>& alternatives(uint32_t rule) const { return rules_[rule]; }
  const Ranges& chars(uint32_t cls) const { return classes_[cls]; }
  uint32_t root() const { return root_; }
  size_t rule_count() const { return rules_.size(); }
  bool in_class(uint32_t cls, uint32_t cp) const;
  bool class_overlaps(uint32_t cls, uint32_t lo, uint32_t hi) const;
  // Fewest bytes from element position p to the end of its alternative, p included (kInf: the
  // rest can never end, e.g. a rule with no way out of its recursion).
  static constexpr uint32_t kInf = 1u << 30;
  uint32_t min_rest(uint32_t p) const { return min_rest_[p]; }
  // Fewest bytes of one code point of the class (the UTF-8 length of its lowest code point).
  uint32_t char_bytes(uint32_t cls) const;

 private:
  friend class GbnfBuilder;
  void compute_min_rest();
  std::vector<Element> elems_;
  std::vector<std::vector<uint32_t>> rules_;
  std::vector<Ranges> classes_;
  std::vector<uint32_t> min_rest_;  // per element position
  uint32_t root_ = 0;
};

// A token vocabulary as a byte trie, for masking. Build once per tokenizer and share.
class GbnfVocab {
 public:
  // token_bytes[id]: the bytes the token decodes to; "" marks a token never allowed, as does one
  // longer than 1024 bytes (left out of the trie; no tokenizer has such tokens).
  explicit GbnfVocab(std::vector<std::string> token_bytes);
  size_t size() const { return tokens_.size(); }
  const std::string& token(int32_t id) const { return tokens_[static_cast<size_t>(id)]; }

  struct Node {
    uint32_t first_child = 0, n_children = 0;  // into nodes, consecutive, sorted by byte
    uint32_t first_id = 0, n_ids = 0;          // into ids: tokens ending here
    uint8_t byte = 0;                          // the edge into this node
  };
  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<int32_t>& ids() const { return ids_; }

 private:
  std::vector<std::string> tokens_;
  std::vector<Node> nodes_;  // nodes_[0] is the root
  std::vector<int32_t> ids_;
};

// The state of one reply against a grammar: the set of pushdown stacks (each a path through the
// rules whose top is the class of the next code point), whether some parse is complete, and the
// bytes of a code point not yet whole. Copyable; one per request, not thread-safe.
class GbnfMatcher {
 public:
  static constexpr size_t kMaskCache = 8;

  GbnfMatcher(std::shared_ptr<const GbnfGrammar> grammar, std::shared_ptr<const GbnfVocab> vocab);

  // mask[id] = 1 when the token's bytes keep the reply a prefix of a sentence (a partial UTF-8
  // code point counts when some class can still take it). Resized to the vocabulary.
  //
  // Budget (as GrammarMatcher's): tokens_left = tokens that may still come counting this one
  // (-1: no budget). With D(s) the fewest bytes that complete a sentence from state s, a token is
  // allowed only if D(after it) <= tokens_left - 1, since every later token can carry one byte;
  // when no token meets that, those with the smallest D(after) are allowed. So a reply that
  // started with room for a sentence ends with a whole one even when cut at its limit.
  //
  // The walk over the vocabulary's trie (tens of milliseconds for a permissive state) is kept for
  // the last kMaskCache states: a reply often comes back to a state it was in (inside a string,
  // between words).
  void fill_mask(std::vector<uint8_t>* mask, int64_t tokens_left = -1);
  // D(current state): 0 when the bytes so far are a sentence; GbnfGrammar::kInf when no sentence
  // can be reached (a grammar whose rules cannot end).
  uint32_t min_bytes_to_complete() const;
  // Advance by a token's bytes / raw bytes; false (state unchanged) when they leave the grammar.
  bool accept_token(int32_t id);
  bool accept_bytes(std::string_view bytes);
  bool is_complete() const;   // the bytes so far are a whole sentence
  bool can_continue() const;  // some parse can take more

  // One state of the matcher (public for the implementation's helpers).
  struct State {
    std::vector<uint32_t> flat;  // stacks back to back: element positions, top last
    std::vector<uint32_t> offs;  // stack i is flat[offs[i], offs[i + 1]); offs[0] = 0
    bool complete = false;
    uint32_t partial = 0;                       // bits of a code point not yet whole
    uint8_t partial_left = 0, partial_len = 0;  // continuation bytes still to come; its length
    size_t n_stacks() const { return offs.empty() ? 0 : offs.size() - 1; }
  };

 private:
  std::vector<uint32_t> state_key() const;

  std::shared_ptr<const GbnfGrammar> g_;
  std::shared_ptr<const GbnfVocab> vocab_;
  State st_;
  // (state key, D after each token: kNotAllowed when the token leaves the grammar), most recent
  // first.
  std::vector<std::pair<std::vector<uint32_t>, std::vector<uint32_t>>> walks_;
};

}  // namespace longctx
