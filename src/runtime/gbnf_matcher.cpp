// GbnfMatcher and GbnfVocab (gbnf.h). A stack lists element positions: the top is the next
// element of the innermost rule being matched, the ones below are where each enclosing rule goes
// on after it. Stacks are kept "expanded": their top is always a character class, rule references
// and ended alternatives having been replaced by what they lead to. A code point advances every
// stack whose class takes it; a byte of a longer UTF-8 sequence only filters the stacks whose
// class can still take some code point that starts with the bytes so far.
#include <algorithm>
#include <cstring>
#include <numeric>

#include "runtime/gbnf.h"

namespace longctx {
namespace {

using Element = GbnfGrammar::Element;
using State = GbnfMatcher::State;

void clear(State& s) {
  s.flat.clear();
  s.offs.assign(1, 0);
  s.complete = false;
  s.partial = 0;
  s.partial_left = s.partial_len = 0;
}

uint32_t top(const State& s, size_t i) { return s.flat[s.offs[i + 1] - 1]; }

// Work a byte may cost, and a whole mask: past these, an ambiguous grammar's parses are dropped
// (what is still followed stays valid; a mask only loses tokens), so that no grammar a client
// sends can hold the decode loop for long.
constexpr uint64_t kMaxStepsPerByte = uint64_t{1} << 16;
constexpr uint64_t kMaxWalkSteps = uint64_t{1} << 25;

// Buffers reused across bytes and trie nodes: the walk over a vocabulary visits about a million
// nodes, and a fresh vector per stack per node was an allocation each.
struct Scratch {
  std::vector<std::vector<uint32_t>> work;  // pending stacks: work[0, n_work) (capacity kept)
  size_t n_work = 0;
  std::vector<uint32_t> cur;  // the stack being expanded
  std::vector<uint32_t> idx, flat, offs;
  uint64_t steps = 0;       // expansion steps of the current byte
  uint64_t walk_steps = 0;  // of the current mask walk
  std::vector<uint32_t>& push_work() {
    if (work.size() == n_work) work.emplace_back();
    return work[n_work++];
  }
};

// Expands the stack [b, e) with its top replaced by `top` (a stack whose top may be a reference
// or an ended alternative) into stacks whose top is a class, appended to `out`; a stack that
// empties completes a parse. The grammar has no left recursion, so expansion ends; past
// kMaxStacks further stacks are dropped, and past kMaxStepsPerByte steps the rest of the work.
void expand(const GbnfGrammar& g, const uint32_t* b, const uint32_t* e, uint32_t top, State& out,
            Scratch& sc) {
  const std::vector<Element>& el = g.elements();
  std::vector<uint32_t>& s = sc.cur;
  sc.n_work = 0;
  std::vector<uint32_t>& seed = sc.push_work();
  seed.assign(b, e);
  if (seed.empty()) {
    seed.push_back(top);
  } else {
    seed.back() = top;
  }
  while (sc.n_work > 0) {
    s.swap(sc.work[--sc.n_work]);  // buffers circulate; none is freed
    for (;;) {
      if (++sc.steps > kMaxStepsPerByte) return;
      if (s.empty()) {
        out.complete = true;
        break;
      }
      const uint32_t p = s.back();
      const Element x = el[p];
      if (x.type == Element::kEnd) {
        s.pop_back();  // back to the enclosing rule
        continue;
      }
      if (x.type == Element::kChars) {
        if (out.n_stacks() < GbnfGrammar::kMaxStacks) {
          sc.steps += s.size();  // the copy is the work
          out.flat.insert(out.flat.end(), s.begin(), s.end());
          out.offs.push_back(static_cast<uint32_t>(out.flat.size()));
        }
        break;
      }
      // A reference: go on after it once the rule ends (nothing to remember when that is the
      // end of this alternative: a tail call, so right recursion keeps stacks short).
      s.back() = p + 1;
      if (el[p + 1].type == Element::kEnd) s.pop_back();
      const std::vector<uint32_t>& alts = g.alternatives(x.value);
      for (size_t a = 1; a < alts.size(); ++a) {
        if (sc.n_work >= GbnfGrammar::kMaxStacks) break;
        sc.steps += s.size();
        std::vector<uint32_t>& w = sc.push_work();
        w.assign(s.begin(), s.end());
        w.push_back(alts[a]);
      }
      s.push_back(alts[0]);
    }
  }
}

// Sorts the stacks and drops duplicates (different paths to the same parse state).
void dedup(State& s, std::vector<uint32_t>& idx, std::vector<uint32_t>& flat,
           std::vector<uint32_t>& offs) {
  const size_t n = s.n_stacks();
  if (n < 2) return;
  idx.resize(n);
  std::iota(idx.begin(), idx.end(), 0u);
  auto span_less = [&](uint32_t a, uint32_t b) {
    return std::lexicographical_compare(s.flat.begin() + s.offs[a], s.flat.begin() + s.offs[a + 1],
                                        s.flat.begin() + s.offs[b], s.flat.begin() + s.offs[b + 1]);
  };
  std::sort(idx.begin(), idx.end(), span_less);
  flat.clear();
  offs.assign(1, 0);
  for (size_t k = 0; k < n; ++k) {
    if (k > 0 && !span_less(idx[k - 1], idx[k])) continue;  // equal to the previous one
    flat.insert(flat.end(), s.flat.begin() + s.offs[idx[k]], s.flat.begin() + s.offs[idx[k] + 1]);
    offs.push_back(static_cast<uint32_t>(flat.size()));
  }
  s.flat.swap(flat);
  s.offs.swap(offs);
}

void advance_code_point(const GbnfGrammar& g, const State& in, uint32_t cp, State& out,
                        Scratch& sc) {
  clear(out);
  sc.steps = 0;
  for (size_t i = 0; i < in.n_stacks() && sc.steps <= kMaxStepsPerByte; ++i) {
    const uint32_t t = top(in, i);
    if (!g.in_class(g.elements()[t].value, cp)) continue;
    expand(g, in.flat.data() + in.offs[i], in.flat.data() + in.offs[i + 1], t + 1, out, sc);
  }
  sc.walk_steps += sc.steps + in.n_stacks();
  dedup(out, sc.idx, sc.flat, sc.offs);
}

// Keeps the stacks whose class meets [lo, hi] outside the surrogates (U+D800..DFFF are not code
// points: ED A0 cannot start one, whatever class is waiting).
void filter(const GbnfGrammar& g, const State& in, uint32_t lo, uint32_t hi, State& out) {
  clear(out);
  auto meets = [&](uint32_t cls) {
    if (hi < 0xD800 || lo > 0xDFFF) return g.class_overlaps(cls, lo, hi);
    return (lo < 0xD800 && g.class_overlaps(cls, lo, 0xD7FF)) ||
           (hi > 0xDFFF && g.class_overlaps(cls, 0xE000, hi));
  };
  for (size_t i = 0; i < in.n_stacks(); ++i) {
    if (!meets(g.elements()[top(in, i)].value)) continue;
    out.flat.insert(out.flat.end(), in.flat.begin() + in.offs[i], in.flat.begin() + in.offs[i + 1]);
    out.offs.push_back(static_cast<uint32_t>(out.flat.size()));
  }
}

// in + one byte -> out; false when no parse survives.
bool advance_byte(const GbnfGrammar& g, const State& in, uint8_t b, State& out, Scratch& sc) {
  uint32_t bits;
  uint8_t left, len;
  if (in.partial_left > 0) {
    if ((b & 0xC0) != 0x80) return false;
    bits = (in.partial << 6) | (b & 0x3Fu);
    left = static_cast<uint8_t>(in.partial_left - 1);
    len = in.partial_len;
    if (left == 0) {
      static constexpr uint32_t kMinFinal[5] = {0, 0, 0x80, 0x800, 0x10000};
      if (bits < kMinFinal[len] || bits > 0x10FFFF || (bits >= 0xD800 && bits <= 0xDFFF))
        return false;
      advance_code_point(g, in, bits, out, sc);
      return out.n_stacks() > 0 || out.complete;
    }
  } else if (b < 0x80) {
    advance_code_point(g, in, b, out, sc);
    return out.n_stacks() > 0 || out.complete;
  } else if ((b & 0xE0) == 0xC0 && b >= 0xC2) {
    bits = b & 0x1Fu, left = 1, len = 2;
  } else if ((b & 0xF0) == 0xE0) {
    bits = b & 0x0Fu, left = 2, len = 3;
  } else if ((b & 0xF8) == 0xF0 && b <= 0xF4) {
    bits = b & 0x07u, left = 3, len = 4;
  } else {
    return false;
  }
  // Part of a code point: those it may still become (never an overlong form: E0 80 80 is not
  // U+0000, so a lead byte alone does not stand for the code points below its length's range).
  static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  const uint32_t shift = 6u * left;
  const uint32_t lo = std::max(bits << shift, kMin[len]);
  const uint32_t hi = std::min<uint32_t>((bits << shift) | ((1u << shift) - 1), 0x10FFFF);
  if (lo > hi) return false;
  filter(g, in, lo, hi, out);
  out.partial = bits;
  out.partial_left = left;
  out.partial_len = len;
  return out.n_stacks() > 0;
}

constexpr uint32_t kNotAllowed = 0xFFFFFFFFu;

// Fewest bytes that complete a sentence from s (see GbnfMatcher::fill_mask): per stack, the rest
// of every alternative on it; a code point in progress needs its remaining continuation bytes
// instead of its class's shortest character.
uint32_t distance(const GbnfGrammar& g, const State& s) {
  if (s.complete && s.partial_left == 0) return 0;
  uint64_t best = GbnfGrammar::kInf;
  for (size_t i = 0; i < s.n_stacks(); ++i) {
    uint64_t d = 0;
    for (uint32_t k = s.offs[i]; k < s.offs[i + 1]; ++k) d += g.min_rest(s.flat[k]);
    if (d >= GbnfGrammar::kInf) continue;  // this parse can never end, mid-character or not
    if (s.partial_left > 0) d = d - g.char_bytes(g.elements()[top(s, i)].value) + s.partial_left;
    best = std::min(best, d);
  }
  return static_cast<uint32_t>(std::min<uint64_t>(best, GbnfGrammar::kInf));
}

// Records D(after) of every token below `node` whose bytes keep a parse alive, from state
// `buf[depth]`.
void walk(const GbnfGrammar& g, const GbnfVocab& v, uint32_t node, size_t depth,
          std::vector<State>& buf, Scratch& sc, std::vector<uint32_t>& dist) {
  const GbnfVocab::Node& n = v.nodes()[node];
  if (buf.size() < depth + 2) buf.resize(depth + 2);
  for (uint32_t c = n.first_child; c < n.first_child + n.n_children; ++c) {
    if (sc.walk_steps > kMaxWalkSteps) return;  // the rest of the vocabulary is not allowed
    const GbnfVocab::Node& child = v.nodes()[c];
    if (!advance_byte(g, buf[depth], child.byte, buf[depth + 1], sc)) continue;
    sc.walk_steps += buf[depth + 1].flat.size() + 1;
    if (child.n_ids > 0) {
      const uint32_t d = distance(g, buf[depth + 1]);
      for (uint32_t k = 0; k < child.n_ids; ++k) {
        dist[static_cast<size_t>(v.ids()[child.first_id + k])] = d;
      }
    }
    if (child.n_children > 0) walk(g, v, c, depth + 1, buf, sc, dist);
  }
}

}  // namespace

GbnfVocab::GbnfVocab(std::vector<std::string> token_bytes) : tokens_(std::move(token_bytes)) {
  constexpr size_t kMaxTokenBytes = 1024;
  std::vector<int32_t> order;
  for (size_t i = 0; i < tokens_.size(); ++i) {
    if (!tokens_[i].empty() && tokens_[i].size() <= kMaxTokenBytes) {
      order.push_back(static_cast<int32_t>(i));
    }
  }
  std::sort(order.begin(), order.end(),
            [&](int32_t a, int32_t b) { return tokens_[size_t(a)] < tokens_[size_t(b)]; });
  nodes_.emplace_back();
  // Depth-first by prefix: a node holds the tokens order[lo, hi) that share its `depth` bytes.
  struct Pending {
    uint32_t node;
    size_t lo, hi, depth;
  };
  std::vector<Pending> todo{{0, 0, order.size(), 0}};
  while (!todo.empty()) {
    const Pending p = todo.back();
    todo.pop_back();
    size_t i = p.lo;
    nodes_[p.node].first_id = static_cast<uint32_t>(ids_.size());
    while (i < p.hi && tokens_[size_t(order[i])].size() == p.depth) ids_.push_back(order[i++]);
    nodes_[p.node].n_ids = static_cast<uint32_t>(ids_.size()) - nodes_[p.node].first_id;
    nodes_[p.node].first_child = static_cast<uint32_t>(nodes_.size());
    std::vector<Pending> kids;
    while (i < p.hi) {
      const auto b = static_cast<uint8_t>(tokens_[size_t(order[i])][p.depth]);
      size_t j = i;
      while (j < p.hi && static_cast<uint8_t>(tokens_[size_t(order[j])][p.depth]) == b) ++j;
      Node child;
      child.byte = b;
      kids.push_back({static_cast<uint32_t>(nodes_.size()), i, j, p.depth + 1});
      nodes_.push_back(child);
      i = j;
    }
    nodes_[p.node].n_children = static_cast<uint32_t>(kids.size());
    todo.insert(todo.end(), kids.begin(), kids.end());
  }
}

GbnfMatcher::GbnfMatcher(std::shared_ptr<const GbnfGrammar> grammar,
                         std::shared_ptr<const GbnfVocab> vocab)
    : g_(std::move(grammar)), vocab_(std::move(vocab)) {
  clear(st_);
  Scratch sc;
  for (uint32_t a : g_->alternatives(g_->root())) expand(*g_, nullptr, nullptr, a, st_, sc);
  dedup(st_, sc.idx, sc.flat, sc.offs);
}

std::vector<uint32_t> GbnfMatcher::state_key() const {
  std::vector<uint32_t> k;
  k.reserve(st_.flat.size() + st_.offs.size() + 3);
  k.push_back(static_cast<uint32_t>(st_.offs.size()));
  k.insert(k.end(), st_.offs.begin(), st_.offs.end());
  k.insert(k.end(), st_.flat.begin(), st_.flat.end());
  k.push_back(st_.partial);
  k.push_back(uint32_t{st_.partial_left} << 8 | st_.partial_len);
  return k;
}

void GbnfMatcher::fill_mask(std::vector<uint8_t>* mask, int64_t tokens_left) {
  std::vector<uint32_t> key = state_key();
  size_t hit = walks_.size();
  for (size_t i = 0; i < walks_.size() && hit == walks_.size(); ++i) {
    if (walks_[i].first == key) hit = i;
  }
  if (hit < walks_.size()) {
    std::rotate(walks_.begin(), walks_.begin() + static_cast<std::ptrdiff_t>(hit),
                walks_.begin() + static_cast<std::ptrdiff_t>(hit) + 1);
  } else {
    std::vector<uint32_t> dist(vocab_->size(), kNotAllowed);
    std::vector<State> buf(2);
    buf[0] = st_;
    Scratch sc;
    walk(*g_, *vocab_, 0, 0, buf, sc, dist);
    if (walks_.size() == kMaskCache) walks_.pop_back();
    walks_.emplace(walks_.begin(), std::move(key), std::move(dist));
  }
  const std::vector<uint32_t>& dist = walks_.front().second;
  mask->assign(dist.size(), 0);
  // The budget: D(after) <= tokens_left - 1, else the smallest D(after) there is.
  uint64_t limit = kNotAllowed - 1;
  if (tokens_left >= 0) {
    uint32_t smallest = kNotAllowed;
    for (uint32_t d : dist) smallest = std::min(smallest, d);
    limit =
        std::max<uint64_t>(static_cast<uint64_t>(std::max<int64_t>(tokens_left - 1, 0)), smallest);
  }
  for (size_t i = 0; i < dist.size(); ++i) {
    (*mask)[i] = dist[i] != kNotAllowed && dist[i] <= limit ? 1 : 0;
  }
}

uint32_t GbnfMatcher::min_bytes_to_complete() const { return distance(*g_, st_); }

bool GbnfMatcher::accept_bytes(std::string_view bytes) {
  State cur = st_, next;
  Scratch sc;
  for (char c : bytes) {
    if (!advance_byte(*g_, cur, static_cast<uint8_t>(c), next, sc)) return false;
    std::swap(cur, next);
  }
  st_ = std::move(cur);
  return true;
}

bool GbnfMatcher::accept_token(int32_t id) {
  if (id < 0 || static_cast<size_t>(id) >= vocab_->size() || vocab_->token(id).empty()) {
    return false;
  }
  return accept_bytes(vocab_->token(id));
}

bool GbnfMatcher::is_complete() const { return st_.complete && st_.partial_left == 0; }
bool GbnfMatcher::can_continue() const { return st_.n_stacks() > 0; }

}  // namespace longctx
