// Internals shared by grammar*.cpp: the compiled node graph, byte tries, the matcher's frames and
// persistent stacks, and the vocabulary tries. Not part of the public API (see grammar.h).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/grammar.h"

namespace longctx::grammar_detail {

constexpr uint32_t kNone = 0xFFFFFFFFu;
// "Cannot be completed": costs saturate here, so sums of huge minItems never overflow.
constexpr uint32_t kInf = 1u << 30;

inline uint32_t sat_add(uint32_t a, uint32_t b) {
  const uint64_t s = uint64_t{a} + b;
  return s >= kInf ? kInf : uint32_t(s);
}
inline uint32_t sat_mul(uint32_t a, uint64_t n) {
  if (a == 0 || n == 0) return 0;
  return (a >= kInf || n >= kInf || uint64_t{a} * n >= kInf) ? kInf : uint32_t(uint64_t{a} * n);
}

struct ByteSet {
  std::array<uint64_t, 4> w{};
  bool has(uint8_t c) const { return (w[c >> 6] >> (c & 63)) & 1; }
  void set(uint8_t c) { w[c >> 6] |= uint64_t{1} << (c & 63); }
  bool merge(const ByteSet& o) {  // true if anything was added
    bool changed = false;
    for (int i = 0; i < 4; ++i) {
      const uint64_t n = w[i] | o.w[i];
      changed |= n != w[i];
      w[i] = n;
    }
    return changed;
  }
};

// Node kinds. Every node except kAlt is "concrete": it becomes a frame on a stack. kAlt nodes are
// expanded into their (flattened, concrete) members when a value starts, filtered by the first
// byte. Every concrete node consumes at least one byte, so expansion never loops.
enum class Kind : uint8_t { kAlt, kSeq, kObject, kArray, kString, kNumber, kLiterals };

struct Prop {
  std::string key;  // canonical JSON encoding of the name, without the quotes
  uint32_t node;
  bool required;
};

struct Node {
  Kind kind = Kind::kAlt;
  std::vector<uint32_t> members;  // kAlt: alternatives; kSeq: parts in order
  // kObject
  std::vector<Prop> props;
  uint32_t additional = kNone;       // value node of extra keys; kNone = no extra keys
  uint32_t key_trie = kNone;         // trie root of the listed keys
  std::vector<uint32_t> first_req;   // [n+1] first required index >= i (n = none)
  std::vector<uint32_t> req_suffix;  // [n+1] bytes of `,"k":V` for the required props >= i
  std::vector<uint32_t> comma_cost;  // [n+1] cost right after a ',' with next candidate i
  uint32_t min_extra_key = 0;        // shortest extra key (0, or 1 when "" is listed)
  // kArray
  std::vector<uint32_t> prefix;  // prefixItems
  uint32_t items = kNone;        // schema of items after the prefix; kNone = none allowed
  uint32_t min_items = 0, max_items = kNone;
  std::vector<uint32_t> item_suffix;  // [min(min,plen)+1] sum over prefix k>=c, k<min of 1+M
  // kString
  uint32_t min_len = 0, max_len = kNone;
  uint32_t dfa = kNone;  // format automaton (index into GrammarImpl::dfas) or kNone
  // kNumber
  bool integer = false, no_minus = false;
  // kLiterals
  uint32_t lit_trie = kNone;
  // kSeq
  std::vector<uint32_t> seq_suffix;  // [parts+1] fewest bytes of parts k..end
  // derived
  uint32_t min_cost = kInf;  // fewest bytes of a complete value
  ByteSet first;             // bytes a value can start with
};

struct TrieEdge {
  uint8_t byte;
  uint32_t child;
};
struct TrieNode {
  uint32_t first_edge = 0, n_edges = 0;  // into GrammarImpl::edges, sorted by byte
  uint32_t terminal = kNone;             // literal sets: 0 if a literal ends here; keys: prop index
  uint32_t min_rest = kInf;              // bytes to the nearest terminal at or below
  uint32_t depth = 0;
  uint32_t cand_begin = 0, cand_end = 0;  // keys: (prop, terminal depth) below, sorted by prop
};

// A format automaton (date, date-time, uuid) over the bytes between the quotes.
struct Dfa {
  std::vector<std::array<uint8_t, 256>> next;  // 255 = reject
  std::vector<uint8_t> accept;
  std::vector<uint32_t> dist;  // fewest bytes to an accepting state
};
constexpr uint8_t kDfaReject = 255;

struct GrammarImpl {
  std::vector<Node> nodes;
  std::vector<TrieNode> trie;
  std::vector<TrieEdge> edges;
  std::vector<std::pair<uint32_t, uint32_t>> cands;
  std::vector<Dfa> dfas;
  uint32_t root = kNone;  // a kSeq wrapper, so that the first value starts lazily
  bool nullable = false;  // the empty document is complete

  uint32_t child(uint32_t t, uint8_t c) const {
    const TrieNode& n = trie[t];
    const TrieEdge* e = edges.data() + n.first_edge;
    uint32_t lo = 0, hi = n.n_edges;
    while (lo < hi) {
      const uint32_t mid = (lo + hi) / 2;
      if (e[mid].byte < c)
        lo = mid + 1;
      else
        hi = mid;
    }
    return (lo < n.n_edges && e[lo].byte == c) ? e[lo].child : kNone;
  }
  // Calls f(m) for each concrete node m a value of node n may be.
  template <class F>
  void for_each_concrete(uint32_t n, F&& f) const {
    if (nodes[n].kind != Kind::kAlt) {
      f(n);
      return;
    }
    for (uint32_t m : nodes[n].members) f(m);
  }
};

// ---- Building -----------------------------------------------------------------------------

// Compile errors travel from deep inside the schema walk to the factory as this exception; the
// factory turns it into kInvalidArgument. Nothing else throws it.
struct CompileError {
  std::string message;
};

// The JSON string content (without quotes) of s, escaped as nlohmann::json and Python's
// json.dumps(ensure_ascii=False) do: \" \\ \b \f \n \r \t, other control bytes as \u00xx.
std::string encode_string(std::string_view s);

// Accumulates nodes for one grammar, then finalize() derives everything the matcher needs.
class Builder {
 public:
  explicit Builder(GrammarImpl* g) : g(*g) {}
  uint32_t add(Node n);
  uint32_t any();    // any JSON value (one shared node)
  uint32_t unsat();  // no value at all
  uint32_t any_object();
  uint32_t literals(const std::vector<std::string>& lits);  // one of these exact byte strings
  uint32_t format_dfa(const std::string& name);             // "date", "date-time", "uuid"
  void check_utf8(std::string_view s, const std::string& path);
  // Wraps the document's alternatives (each a node) in the lazy root; throws on failure.
  void finalize(uint32_t body);

  GrammarImpl& g;

 private:
  uint32_t build_trie(const std::vector<std::pair<std::string, uint32_t>>& entries, bool keys);
  void flatten_alts();
  void min_costs();
  void prune();
  void tables();
  void first_sets();

  uint32_t any_ = kNone;
  size_t trie_bytes_ = 0;
  std::vector<std::pair<std::string, uint32_t>> dfa_ids_;
};

// Compiles one schema document (its $refs resolve inside it); returns its node. Throws.
uint32_t compile_schema_document(Builder* b, const Grammar::Json& schema);

// ---- Matcher machine --------------------------------------------------------------------------

// Frame phases (one enum for all kinds; each kind uses its own subset).
enum Phase : uint16_t {
  kObjOpen,
  kObjFirst,
  kObjKey,
  kObjColon,
  kObjValue,
  kObjNext,
  kObjComma,
  kArrOpen,
  kArrFirst,
  kArrNext,
  kArrComma,
  kStrOpen,
  kStrBody,
  kNumStart,
  kNumMinus,
  kNumZero,
  kNumInt,
  kNumDot,
  kNumFrac,
  kNumE,
  kNumESign,
  kNumExp,
  kLit,
  kSeqPart,
};

// String sub-states: where we are inside a character / escape.
enum StrSub : uint16_t {
  kClean,
  kU1,
  kU2,
  kU3,
  kUE0,
  kUED,
  kUF0,
  kUF4,
  kEsc,
  kHex0,
  kHex1,
  kHex2,
  kHex3,
  kLowBs,
  kLowU,
  kLow0,
  kLow1,
  kLow2,
  kLow3,
};
struct StrState {
  uint16_t sub = kClean;
  uint32_t hex = 0;  // hex digits of a \u escape read so far
};
enum class StrStep : uint8_t { kReject, kCont, kNewChar, kClose };
// One byte of string content. kNewChar: c starts a new character (code point); kClose: c is the
// closing quote (only in kClean).
StrStep str_step(StrState* s, uint8_t c, bool escapes);
// Bytes needed to get back to kClean.
uint32_t str_pending(const StrState& s);
inline bool str_in_escape(uint16_t sub) { return sub >= kEsc; }

// A frame: one partially matched value (or sequence). 16 bytes, compared bytewise for dedup, so
// unused fields stay 0.
struct Frame {
  uint32_t node = kNone;
  uint16_t phase = 0;
  uint16_t sub = 0;  // whitespace run (containers), string/key sub-state, format DFA state
  uint32_t a = 0;    // string: chars; key: trie node; colon/value: chosen prop; literal: trie node
  uint32_t b = 0;    // object: next prop position; array: item count; string: hex; seq: part
  bool operator==(const Frame&) const = default;
};
// Frames below the top live in an append-only arena as a linked list (a persistent stack), so a
// byte step copies only the top frame; forks share their tails.
struct Link {
  Frame frame;
  uint32_t parent;
  uint32_t cost;  // fewest bytes to finish this frame and every frame below it
};
struct Stack {
  Frame top;  // top.node == kNone: the empty stack (document complete)
  uint32_t parent = kNone;
  bool empty() const { return top.node == kNone; }
};

// Stepping and costs over one grammar, allocating links in `arena`.
class Machine {
 public:
  static constexpr size_t kMaxStacks = Grammar::kMaxStacks;  // parallel parses kept
  static constexpr uint32_t kExtra = kNone - 1;              // "chosen property" of an extra key
  static constexpr uint32_t kOff = kNone;  // key trie node once off the listed names

  Machine(const GrammarImpl& g, std::vector<Link>* arena) : g_(g), arena_(*arena) {}

  // Appends to *out every stack reachable from s by consuming c.
  void step(const Stack& s, uint8_t c, std::vector<Stack>* out);
  // Removes duplicates and keeps at most kMaxStacks.
  void dedup(std::vector<Stack>* v) const;
  uint32_t cost(const Stack& s) const;
  uint32_t frame_cost(const Frame& f) const;
  uint32_t chain_cost(uint32_t link) const { return link == kNone ? 0 : arena_[link].cost; }
  Stack pop(const Stack& s) const {
    if (s.parent == kNone) return Stack{};
    return Stack{arena_[s.parent].frame, arena_[s.parent].parent};
  }
  uint32_t push_link(const Frame& f, uint32_t parent);
  static Frame fresh(const GrammarImpl& g, uint32_t node);
  bool extras_allowed(const Node& n, uint32_t i) const {
    return n.additional != kNone && n.first_req[i] == n.props.size();
  }

 private:
  void start_child(uint32_t link, uint32_t node, uint8_t c, std::vector<Stack>* out);
  void step_object(const Stack& s, uint8_t c, std::vector<Stack>* out);
  void step_key(const Stack& s, uint8_t c, std::vector<Stack>* out);
  void step_array(const Stack& s, uint8_t c, std::vector<Stack>* out);
  void step_string(const Stack& s, uint8_t c, std::vector<Stack>* out);
  void step_number(const Stack& s, uint8_t c, std::vector<Stack>* out);
  uint32_t key_cost(const Frame& f) const;
  bool same(const Stack& x, const Stack& y) const;

  const GrammarImpl& g_;
  std::vector<Link>& arena_;
};

// A matcher's mutable state: the committed stacks (sharing links in `arena`) and scratch buffers
// reused by every call so that masking allocates nothing once warm.
struct MatchState {
  std::vector<Link> arena;
  std::vector<Stack> stacks;
  size_t compact_at = 4096;  // arena size that triggers the next garbage collection
  std::vector<Stack> cur, next;
  std::vector<std::vector<Stack>> levels;  // walk: stack set per trie depth
  std::vector<size_t> marks;               // walk: arena size per trie depth
  std::vector<uint32_t> dist;              // fill_mask: per-token D(after) over the budget
};

// ---- Vocabulary -------------------------------------------------------------------------------

// A byte trie in preorder: node 0 is the root; node i's subtree is [i, end[i]); the entries
// ending at node i are ids[tok[i], tok[i+1]) (with `extra` alongside).
struct VocabTrie {
  std::vector<uint8_t> byte;
  std::vector<uint16_t> depth;
  std::vector<uint32_t> end;
  std::vector<uint32_t> tok;
  std::vector<int32_t> ids;
  std::vector<uint32_t> extra;
  uint32_t max_depth = 0;
  void build(const std::vector<std::string_view>& keys, const std::vector<int32_t>& ids_in,
             const std::vector<uint32_t>& extra_in);
  size_t size() const { return byte.size(); }
};

// How every token behaves when read from the clean state of a plain string (the hot state of
// masking): it stays inside (with `chars` code points begun and `pend` bytes left of its last
// character), or it closes the string after `chars` code points and goes on with a suffix.
struct StringTable {
  std::vector<uint8_t> inside_mask;  // [V]
  std::vector<int32_t> inside_ids;
  std::vector<uint32_t> inside_chars;
  std::vector<uint8_t> inside_pend;
  uint32_t max_chars = 0, max_pend = 0;
  VocabTrie exits;   // suffixes after the closing quote; extra = chars before it
  VocabTrie others;  // whole bytes of every token that does not stay inside
};

struct VocabImpl {
  std::vector<std::string> tokens;
  VocabTrie trie;
  StringTable str_esc;    // string values (escapes allowed)
  StringTable str_plain;  // extra object keys (no escapes)
};

}  // namespace longctx::grammar_detail
