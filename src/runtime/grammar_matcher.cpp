// TokenVocab (a preorder byte trie of the tokens plus precomputed "inside a plain string" tables)
// and GrammarMatcher: accepting bytes, and fill_mask, which walks the trie with the matcher's stack
// set forked per trie node (dead subtrees skipped whole), except in the hot clean-string state
// where the precomputed tables answer for the ~140k tokens that stay inside the string.
#include <algorithm>
#include <numeric>

#include "runtime/grammar_internal.h"

namespace longctx {

using namespace grammar_detail;  // NOLINT: this file implements the detail types' users

// ---- Vocabulary -----------------------------------------------------------------------------

namespace grammar_detail {

void VocabTrie::build(const std::vector<std::string_view>& keys, const std::vector<int32_t>& ids_in,
                      const std::vector<uint32_t>& extra_in) {
  std::vector<uint32_t> order(keys.size());
  std::iota(order.begin(), order.end(), 0);
  // char_traits<char> compares as unsigned char; any lexicographic order gives a preorder.
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return keys[a] < keys[b] || (keys[a] == keys[b] && a < b);
  });
  byte = {0};
  depth = {0};
  end = {0};
  tok = {0};
  std::vector<uint32_t> path = {0};
  std::string_view prev;
  for (uint32_t idx : order) {
    const std::string_view k = keys[idx];
    size_t lcp = 0;
    while (lcp < prev.size() && lcp < k.size() && prev[lcp] == k[lcp]) ++lcp;
    while (path.size() > lcp + 1) {
      end[path.back()] = uint32_t(byte.size());
      path.pop_back();
    }
    for (size_t p = lcp; p < k.size(); ++p) {
      path.push_back(uint32_t(byte.size()));
      byte.push_back(uint8_t(k[p]));
      depth.push_back(uint16_t(p + 1));
      end.push_back(0);
      tok.push_back(uint32_t(ids.size()));
    }
    ids.push_back(ids_in[idx]);
    extra.push_back(extra_in[idx]);
    max_depth = std::max<uint32_t>(max_depth, uint32_t(k.size()));
    prev = k;
  }
  for (uint32_t p : path) end[p] = uint32_t(byte.size());
  tok.push_back(uint32_t(ids.size()));
}

namespace {

void build_table(const std::vector<std::string>& tokens, bool escapes, StringTable* t) {
  t->inside_mask.assign(tokens.size(), 0);
  std::vector<std::string_view> keys, other_keys;
  std::vector<int32_t> ids, other_ids;
  std::vector<uint32_t> extra;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string& s = tokens[i];
    if (s.empty() || s.size() > 65535) continue;
    auto other = [&] {
      other_keys.push_back(s);
      other_ids.push_back(int32_t(i));
    };
    StrState st;
    uint32_t chars = 0;
    size_t k = 0;
    bool bad = false;
    for (; k < s.size(); ++k) {
      const StrStep r = str_step(&st, uint8_t(s[k]), escapes);
      if (r == StrStep::kReject) bad = true;
      if (r == StrStep::kReject || r == StrStep::kClose) break;
      chars += r == StrStep::kNewChar;
    }
    if (bad) {
      other();
      continue;
    }
    if (k == s.size()) {
      t->inside_mask[i] = 1;
      t->inside_ids.push_back(int32_t(i));
      t->inside_chars.push_back(chars);
      t->inside_pend.push_back(uint8_t(str_pending(st)));
      t->max_chars = std::max(t->max_chars, chars);
      t->max_pend = std::max(t->max_pend, str_pending(st));
    } else {
      keys.push_back(std::string_view(s).substr(k + 1));
      ids.push_back(int32_t(i));
      extra.push_back(chars);
      other();
    }
  }
  t->exits.build(keys, ids, extra);
  t->others.build(other_keys, other_ids, std::vector<uint32_t>(other_ids.size(), 0));
}

}  // namespace
}  // namespace grammar_detail

TokenVocab::TokenVocab(std::vector<std::string> token_bytes)
    : impl_(std::make_unique<VocabImpl>()) {
  VocabImpl& v = *impl_;
  v.tokens = std::move(token_bytes);
  std::vector<std::string_view> keys;
  std::vector<int32_t> ids;
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    if (v.tokens[i].empty() || v.tokens[i].size() > 65535) continue;
    keys.push_back(v.tokens[i]);
    ids.push_back(int32_t(i));
  }
  v.trie.build(keys, ids, std::vector<uint32_t>(ids.size(), 0));
  build_table(v.tokens, true, &v.str_esc);
  build_table(v.tokens, false, &v.str_plain);
}

TokenVocab::~TokenVocab() = default;
size_t TokenVocab::size() const { return impl_->tokens.size(); }
const std::string& TokenVocab::token(int32_t id) const { return impl_->tokens[size_t(id)]; }

// ---- Matcher --------------------------------------------------------------------------------

namespace {

constexpr uint32_t kNotValid = 0xFFFFFFFFu;

// Collects allowed tokens with the budget rule of grammar.h.
struct Sink {
  uint8_t* mask;
  std::vector<uint32_t>* dist;
  size_t n_vocab;
  bool budget;
  int64_t limit;  // tokens_left - 1
  bool any_allowed = false, any_dist = false;

  bool within(uint32_t d) const { return !budget || int64_t(d) <= limit; }
  void add(int32_t t, uint32_t d) {
    if (within(d)) {
      mask[t] = 1;
      any_allowed = true;
      return;
    }
    if (!any_dist) dist->assign(n_vocab, kNotValid), any_dist = true;
    (*dist)[size_t(t)] = std::min((*dist)[size_t(t)], d);
  }
  // If nothing fits the budget, fall back to the tokens that leave the fewest bytes to write.
  void finish() {
    if (any_allowed || !any_dist) return;
    const uint32_t best = *std::min_element(dist->begin(), dist->end());
    for (size_t t = 0; t < n_vocab; ++t) mask[t] = (*dist)[t] == best;
  }
};

uint32_t min_cost(const Machine& m, const std::vector<Stack>& v) {
  uint32_t best = kInf;
  for (const Stack& s : v) best = std::min(best, m.cost(s));
  return best;
}

// Walks the trie depth-first with the stack set forked per node; a subtree whose prefix leaves the
// grammar is skipped whole. Links made below a node are freed when the walk leaves it (the arena
// is used as a stack), so a call leaves the arena as it found it. ok(extra) filters entries.
template <class Filter>
void walk(Machine& m, MatchState& st, const VocabTrie& trie, const std::vector<Stack>& start,
          Sink& sink, Filter&& ok) {
  if (trie.size() == 0) return;
  const size_t levels = size_t(trie.max_depth) + 1;
  if (st.levels.size() < levels) st.levels.resize(levels);
  if (st.marks.size() < levels) st.marks.resize(levels);
  st.levels[0] = start;
  st.marks[0] = st.arena.size();
  auto emit = [&](uint32_t node, const std::vector<Stack>& set) {
    const uint32_t b = trie.tok[node], e = trie.tok[node + 1];
    if (b == e) return;
    const uint32_t d = sink.budget ? min_cost(m, set) : 0;
    for (uint32_t k = b; k < e; ++k) {
      if (ok(trie.extra[k])) sink.add(trie.ids[k], d);
    }
  };
  emit(0, start);
  const uint32_t n = uint32_t(trie.size());
  for (uint32_t i = 1; i < n;) {
    const uint32_t d = trie.depth[i];
    st.arena.resize(st.marks[d - 1]);
    std::vector<Stack>& lv = st.levels[d];
    lv.clear();
    for (const Stack& s : st.levels[d - 1]) m.step(s, trie.byte[i], &lv);
    m.dedup(&lv);
    if (lv.empty()) {
      i = trie.end[i];
      continue;
    }
    st.marks[d] = st.arena.size();
    emit(i, lv);
    ++i;
  }
  st.arena.resize(st.marks[0]);
}

// The hot state: the top frame is a plain string (or an extra object key) between characters.
// Tokens that stay inside come from the vocabulary's table without stepping; only the tokens that
// close the string are walked, from the state after the closing quote. False: not this state.
bool fast_string(Machine& m, MatchState& st, const GrammarImpl& g, const VocabImpl& v,
                 const Stack& s, Sink& sink) {
  const Frame& f = s.top;
  const Node& n = g.nodes[f.node];
  const bool str =
      n.kind == Kind::kString && f.phase == kStrBody && n.dfa == kNone && f.sub == kClean;
  const bool key =
      n.kind == Kind::kObject && f.phase == kObjKey && f.a == Machine::kOff && f.sub == kClean;
  if (n.kind == Kind::kObject && f.phase == kObjKey && f.a != Machine::kOff && f.sub == kClean &&
      m.extras_allowed(n, f.b)) {
    // A key that still spells a prefix of listed names, where extra keys are allowed: every token
    // without a quote or backslash stays a valid key (on the names' trie or off it), and costs
    // at most one character more than an extra key. The other tokens are walked from here.
    const StringTable& t = v.str_plain;
    const uint32_t upper =
        sat_add(m.chain_cost(s.parent), sat_add(t.max_pend + 4, g.nodes[n.additional].min_cost));
    if (!sink.within(upper)) return false;
    const uint8_t* in = t.inside_mask.data();
    for (size_t i = 0; i < t.inside_mask.size(); ++i) sink.mask[i] |= in[i];
    sink.any_allowed |= !t.inside_ids.empty();
    walk(m, st, t.others, {s}, sink, [](uint32_t) { return true; });
    return true;
  }
  if (!str && !key) return false;
  const StringTable& t = str ? v.str_esc : v.str_plain;
  const uint32_t below = m.chain_cost(s.parent);
  uint32_t room = kNotValid, need = 0, base;
  if (str) {
    if (n.max_len != kNone) room = n.max_len - f.a;
    need = n.min_len > f.a ? n.min_len - f.a : 0;
    base = sat_add(below, 1);  // the closing quote
  } else {
    base = sat_add(below, sat_add(3, g.nodes[n.additional].min_cost));  // `":` value `}`
  }
  const uint32_t upper = sat_add(base, t.max_pend + need);
  if (room >= t.max_chars && sink.within(upper)) {
    // Every token that stays inside is allowed: a byte-wise OR of the precomputed mask.
    const uint8_t* in = t.inside_mask.data();
    for (size_t i = 0; i < t.inside_mask.size(); ++i) sink.mask[i] |= in[i];
    sink.any_allowed |= !t.inside_ids.empty();
  } else {
    for (size_t k = 0; k < t.inside_ids.size(); ++k) {
      const uint32_t ch = t.inside_chars[k];
      if (ch > room) continue;
      sink.add(t.inside_ids[k], sat_add(base, t.inside_pend[k] + (need > ch ? need - ch : 0)));
    }
  }
  // Tokens with the closing quote: walk their suffixes from the state after it.
  Stack after;
  if (str) {
    after = m.pop(s);
  } else {
    after = s;
    after.top.phase = kObjColon;
    after.top.a = Machine::kExtra;
    after.top.sub = 0;
  }
  const uint32_t have = f.a;
  walk(m, st, t.exits, {after}, sink,
       [&](uint32_t ch) { return !str || (ch <= room && have + ch >= n.min_len); });
  return true;
}

// Frees links no stack reaches once the arena has doubled since the last collection. Links only
// point to older links, so one forward pass renumbers them.
void collect(MatchState& st) {
  if (st.arena.size() < st.compact_at) return;
  std::vector<uint32_t> remap(st.arena.size(), kNone);
  for (const Stack& s : st.stacks) {
    for (uint32_t p = s.parent; p != kNone && remap[p] == kNone; p = st.arena[p].parent)
      remap[p] = 0;
  }
  std::vector<Link> kept;
  for (size_t i = 0; i < st.arena.size(); ++i) {
    if (remap[i] == kNone) continue;
    remap[i] = uint32_t(kept.size());
    Link l = st.arena[i];
    if (l.parent != kNone) l.parent = remap[l.parent];
    kept.push_back(l);
  }
  for (Stack& s : st.stacks) {
    if (s.parent != kNone) s.parent = remap[s.parent];
  }
  st.arena = std::move(kept);
  st.compact_at = std::max<size_t>(4096, 2 * st.arena.size());
}

}  // namespace

GrammarMatcher::GrammarMatcher(std::shared_ptr<const Grammar> grammar,
                               std::shared_ptr<const TokenVocab> vocab)
    : grammar_(std::move(grammar)), vocab_(std::move(vocab)), st_(std::make_unique<MatchState>()) {
  LONGCTX_CHECK(grammar_ && vocab_);
  const GrammarImpl& g = grammar_->impl();
  if (g.nodes[g.root].min_cost < kInf) st_->stacks.push_back(Stack{Machine::fresh(g, g.root)});
  if (g.nullable) st_->stacks.push_back(Stack{});
}

GrammarMatcher::GrammarMatcher(const GrammarMatcher& o)
    : grammar_(o.grammar_), vocab_(o.vocab_), st_(std::make_unique<MatchState>(*o.st_)) {}
GrammarMatcher& GrammarMatcher::operator=(const GrammarMatcher& o) {
  if (this != &o) {
    grammar_ = o.grammar_;
    vocab_ = o.vocab_;
    st_ = std::make_unique<MatchState>(*o.st_);
  }
  return *this;
}
GrammarMatcher::GrammarMatcher(GrammarMatcher&&) noexcept = default;
GrammarMatcher& GrammarMatcher::operator=(GrammarMatcher&&) noexcept = default;
GrammarMatcher::~GrammarMatcher() = default;

bool GrammarMatcher::accept_bytes(std::string_view bytes) {
  MatchState& st = *st_;
  Machine m(grammar_->impl(), &st.arena);
  const size_t base = st.arena.size();
  st.cur = st.stacks;
  for (char ch : bytes) {
    st.next.clear();
    for (const Stack& s : st.cur) m.step(s, uint8_t(ch), &st.next);
    m.dedup(&st.next);
    if (st.next.empty()) {
      st.arena.resize(base);
      return false;
    }
    std::swap(st.cur, st.next);
  }
  std::swap(st.stacks, st.cur);
  collect(st);
  return true;
}

bool GrammarMatcher::accept_token(int32_t id) {
  if (id < 0 || size_t(id) >= vocab_->size()) return false;
  const std::string& t = vocab_->token(id);
  if (t.empty() || t.size() > 65535) return false;
  return accept_bytes(t);
}

uint32_t GrammarMatcher::min_bytes_to_complete() const {
  Machine m(grammar_->impl(), &st_->arena);
  return min_cost(m, st_->stacks);
}

bool GrammarMatcher::is_complete() const { return min_bytes_to_complete() == 0; }

bool GrammarMatcher::can_continue() const {
  for (const Stack& s : st_->stacks) {
    if (!s.empty()) return true;
  }
  return false;
}

void GrammarMatcher::fill_mask(std::vector<uint8_t>* mask, int64_t tokens_left) {
  MatchState& st = *st_;
  const VocabImpl& v = vocab_->impl();
  const GrammarImpl& g = grammar_->impl();
  mask->assign(v.tokens.size(), 0);
  Sink sink{mask->data(), &st.dist, v.tokens.size(), tokens_left >= 0, tokens_left - 1};
  Machine m(g, &st.arena);
  std::vector<Stack> rest;
  for (const Stack& s : st.stacks) {
    if (s.empty() || !fast_string(m, st, g, v, s, sink)) rest.push_back(s);
  }
  walk(m, st, v.trie, rest, sink, [](uint32_t) { return true; });
  sink.finish();
}

}  // namespace longctx
