// The matcher's pushdown machine: one byte step over a set of persistent stacks (several stacks
// only while anyOf branches or number/literal ends are ambiguous) and the exact
// fewest-bytes-to-finish cost of every frame (for the budget rule and is_complete). GrammarMatcher
// and token masking are in grammar_matcher.cpp, the JSON string automaton in grammar_text.cpp.
#include <algorithm>

#include "runtime/grammar_internal.h"

namespace longctx::grammar_detail {

namespace {

bool is_ws(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A whitespace run: bits 0-6 count spaces/tabs, bit 7 marks a '\n', bit 8 a '\r'.
bool ws_step(uint16_t* sub, uint8_t c) {
  if (c == ' ' || c == '\t') {
    if ((*sub & 0x7F) >= Grammar::kMaxWsIndent) return false;
    ++*sub;
    return true;
  }
  const uint16_t bit = c == '\n' ? 0x80 : 0x100;
  if (*sub & bit) return false;
  *sub |= bit;
  return true;
}

bool number_accepting(uint16_t phase) {
  return phase == kNumZero || phase == kNumInt || phase == kNumFrac || phase == kNumExp;
}

}  // namespace

Frame Machine::fresh(const GrammarImpl& g, uint32_t node) {
  Frame f;
  f.node = node;
  const Node& n = g.nodes[node];
  switch (n.kind) {
    case Kind::kObject:
      f.phase = kObjOpen;
      break;
    case Kind::kArray:
      f.phase = kArrOpen;
      break;
    case Kind::kString:
      f.phase = kStrOpen;
      break;
    case Kind::kNumber:
      f.phase = kNumStart;
      break;
    case Kind::kLiterals:
      f.phase = kLit, f.a = n.lit_trie;
      break;
    default:
      f.phase = kSeqPart;
      break;
  }
  return f;
}

uint32_t Machine::push_link(const Frame& f, uint32_t parent) {
  arena_.push_back(Link{f, parent, sat_add(frame_cost(f), chain_cost(parent))});
  return uint32_t(arena_.size() - 1);
}

// Starts a value of `node` whose first byte is c, above `link` (already the parent frame's link).
void Machine::start_child(uint32_t link, uint32_t node, uint8_t c, std::vector<Stack>* out) {
  g_.for_each_concrete(node, [&](uint32_t m) {
    if (g_.nodes[m].first.has(c)) step(Stack{fresh(g_, m), link}, c, out);
  });
}

void Machine::step(const Stack& s, uint8_t c, std::vector<Stack>* out) {
  if (s.empty()) return;  // a finished document takes no more bytes
  const Node& n = g_.nodes[s.top.node];
  switch (n.kind) {
    case Kind::kObject:
      if (s.top.phase == kObjKey)
        step_key(s, c, out);
      else
        step_object(s, c, out);
      return;
    case Kind::kArray:
      step_array(s, c, out);
      return;
    case Kind::kString:
      step_string(s, c, out);
      return;
    case Kind::kNumber:
      step_number(s, c, out);
      return;
    case Kind::kLiterals: {
      const uint32_t y = g_.child(s.top.a, c);
      if (y != kNone) {
        if (g_.trie[y].n_edges == 0) {
          out->push_back(pop(s));
        } else {
          Stack r = s;
          r.top.a = y;
          out->push_back(r);
        }
      }
      // A literal that may end here and also go on ("1" and "12"): try ending too.
      if (g_.trie[s.top.a].terminal != kNone) {
        const Stack p = pop(s);
        if (!p.empty()) step(p, c, out);
      }
      return;
    }
    case Kind::kSeq: {
      const uint32_t part = n.members[s.top.b];
      if (!g_.nodes[part].first.has(c)) return;
      if (s.top.b + 1 == n.members.size()) {  // last part replaces the sequence (tail call)
        start_child(s.parent, part, c, out);
      } else {
        Frame f = s.top;
        ++f.b;
        start_child(push_link(f, s.parent), part, c, out);
      }
      return;
    }
    case Kind::kAlt:
      return;  // never on a stack
  }
}

void Machine::step_object(const Stack& s, uint8_t c, std::vector<Stack>* out) {
  Frame f = s.top;
  const Node& n = g_.nodes[f.node];
  const uint32_t np = uint32_t(n.props.size());
  auto emit = [&] { out->push_back(Stack{f, s.parent}); };
  auto key_possible = [&](uint32_t i) { return i < np || extras_allowed(n, i); };
  auto enter_key = [&](uint32_t i) {
    f.phase = kObjKey;
    f.b = i;
    f.sub = kClean;
    const TrieNode& root = g_.trie[n.key_trie];  // empty when no names are listed
    f.a = (root.n_edges || root.terminal != kNone) ? n.key_trie : kOff;
    emit();
  };
  if (f.phase == kObjOpen) {
    if (c == '{') f.phase = kObjFirst, f.sub = 0, emit();
    return;
  }
  if (is_ws(c)) {
    if (ws_step(&f.sub, c)) emit();
    return;
  }
  switch (f.phase) {
    case kObjFirst:
      if (c == '"' && key_possible(0)) enter_key(0);
      if (c == '}' && n.first_req[0] == np) out->push_back(pop(s));
      return;
    case kObjNext:
      if (c == ',' && key_possible(f.b)) f.phase = kObjComma, f.sub = 0, emit();
      if (c == '}' && n.first_req[f.b] == np) out->push_back(pop(s));
      return;
    case kObjComma:
      if (c == '"') enter_key(f.b);
      return;
    case kObjColon:
      if (c == ':') f.phase = kObjValue, f.sub = 0, emit();
      return;
    case kObjValue: {
      const uint32_t j = f.a;
      const uint32_t node = j == kExtra ? n.additional : n.props[j].node;
      if (!g_.nodes[node].first.has(c)) return;
      Frame p = f;
      p.phase = kObjNext;
      p.sub = 0;
      p.a = 0;
      p.b = j == kExtra ? np : j + 1;
      start_child(push_link(p, s.parent), node, c, out);
      return;
    }
    default:
      return;
  }
}

// Inside a key. On the trie of listed names the key is matched byte by byte against them (their
// canonical encodings); it leaves the trie only when extra keys are allowed, and from then on it is
// an extra key (no escapes, so it cannot be another spelling of a listed name).
void Machine::step_key(const Stack& s, uint8_t c, std::vector<Stack>* out) {
  Frame f = s.top;
  const Node& n = g_.nodes[f.node];
  const uint32_t i = f.b, np = uint32_t(n.props.size());
  const uint32_t hi = n.first_req[i] < np ? n.first_req[i] + 1 : np;  // candidates [i, hi)
  const bool extras = extras_allowed(n, i);
  auto to_colon = [&](uint32_t chosen) {
    f.phase = kObjColon;
    f.a = chosen;
    f.sub = 0;
    out->push_back(Stack{f, s.parent});
  };
  if (f.a != kOff) {
    const TrieNode& t = g_.trie[f.a];
    if (c == '"' && f.sub == kClean) {
      if (t.terminal != kNone) {
        if (t.terminal >= i && t.terminal < hi) to_colon(t.terminal);
      } else if (extras) {
        to_colon(kExtra);
      }
      return;
    }
    const uint32_t y = g_.child(f.a, c);
    if (y != kNone) {
      StrState st{f.sub, 0};
      if (str_step(&st, c, true) == StrStep::kReject) return;
      bool allowed = extras;
      if (!allowed) {
        const TrieNode& ty = g_.trie[y];
        const auto* b = g_.cands.data() + ty.cand_begin;
        const auto* e = g_.cands.data() + ty.cand_end;
        const auto* it = std::lower_bound(b, e, std::pair<uint32_t, uint32_t>{i, 0});
        allowed = it != e && it->first < hi;
      }
      if (allowed) {
        f.a = y;
        f.sub = st.sub;
        out->push_back(Stack{f, s.parent});
      }
      return;
    }
    if (str_in_escape(f.sub)) return;
  }
  if (!extras) return;
  StrState st{f.sub, 0};
  const StrStep r = str_step(&st, c, false);
  if (r == StrStep::kReject) return;
  if (r == StrStep::kClose) {
    to_colon(kExtra);
    return;
  }
  f.a = kOff;
  f.sub = st.sub;
  out->push_back(Stack{f, s.parent});
}

void Machine::step_array(const Stack& s, uint8_t c, std::vector<Stack>* out) {
  Frame f = s.top;
  const Node& n = g_.nodes[f.node];
  auto item = [&](uint32_t k) { return k < n.prefix.size() ? n.prefix[k] : n.items; };
  auto can_add = [&](uint32_t k) { return k < n.max_items && item(k) != kNone; };
  auto start_item = [&](uint32_t k) {
    const uint32_t node = item(k);
    if (!g_.nodes[node].first.has(c)) return;
    Frame p = f;
    p.phase = kArrNext;
    p.sub = 0;
    p.b = k + 1;
    start_child(push_link(p, s.parent), node, c, out);
  };
  if (f.phase == kArrOpen) {
    if (c == '[') f.phase = kArrFirst, f.sub = 0, out->push_back(Stack{f, s.parent});
    return;
  }
  if (is_ws(c)) {
    if (ws_step(&f.sub, c)) out->push_back(Stack{f, s.parent});
    return;
  }
  switch (f.phase) {
    case kArrFirst:
      if (c == ']') {
        if (n.min_items == 0) out->push_back(pop(s));
      } else if (can_add(0)) {
        start_item(0);
      }
      return;
    case kArrNext:
      if (c == ',' && can_add(f.b))
        f.phase = kArrComma, f.sub = 0, out->push_back(Stack{f, s.parent});
      if (c == ']' && f.b >= n.min_items) out->push_back(pop(s));
      return;
    case kArrComma:
      start_item(f.b);
      return;
    default:
      return;
  }
}

void Machine::step_string(const Stack& s, uint8_t c, std::vector<Stack>* out) {
  Frame f = s.top;
  const Node& n = g_.nodes[f.node];
  if (f.phase == kStrOpen) {
    if (c == '"') f.phase = kStrBody, f.sub = 0, out->push_back(Stack{f, s.parent});
    return;
  }
  if (n.dfa != kNone) {
    const Dfa& d = g_.dfas[n.dfa];
    if (c == '"') {
      if (d.accept[f.sub]) out->push_back(pop(s));
    } else if (d.next[f.sub][c] != kDfaReject) {
      f.sub = d.next[f.sub][c];
      out->push_back(Stack{f, s.parent});
    }
    return;
  }
  StrState st{f.sub, f.b};
  switch (str_step(&st, c, true)) {
    case StrStep::kReject:
      return;
    case StrStep::kClose:
      if (f.a >= n.min_len) out->push_back(pop(s));
      return;
    case StrStep::kNewChar:
      if (f.a >= n.max_len) return;
      ++f.a;
      [[fallthrough]];
    case StrStep::kCont:
      f.sub = st.sub;
      f.b = st.hex;
      out->push_back(Stack{f, s.parent});
      return;
  }
}

// Numbers per the JSON grammar, with the magnitude kept finite as a double (strict parsers such as
// nlohmann::json refuse 1e400): a = integer digits (at most 308), b = exponent value, sub = 1 for
// a negative exponent; a positive exponent may grow only while a - 1 + b <= 307.
void Machine::step_number(const Stack& s, uint8_t c, std::vector<Stack>* out) {
  const Frame& f = s.top;
  const Node& n = g_.nodes[f.node];
  const bool digit = c >= '0' && c <= '9';
  const bool frac_ok = !n.integer;
  Frame g = f;
  bool ok = false;
  auto go = [&](uint16_t phase) { g.phase = phase, ok = true; };
  auto exp_digit = [&](uint32_t e) {
    g.b = std::min<uint32_t>(e * 10 + uint32_t(c - '0'), 1000000);
    if (g.sub == 0 && g.a - 1 + g.b > 307) return;
    go(kNumExp);
  };
  switch (f.phase) {
    case kNumStart:
    case kNumMinus:
      if (c == '-' && f.phase == kNumStart && !n.no_minus)
        go(kNumMinus);
      else if (c == '0')
        g.a = 1, go(kNumZero);
      else if (digit)
        g.a = 1, go(kNumInt);
      break;
    case kNumInt:
    case kNumZero:
      if (digit && f.phase == kNumInt) {
        if (f.a < 308) g.a = f.a + 1, go(kNumInt);
      } else if (frac_ok && c == '.') {
        go(kNumDot);
      } else if (frac_ok && (c == 'e' || c == 'E')) {
        go(kNumE);
      }
      break;
    case kNumDot:
    case kNumFrac:
      if (digit)
        go(kNumFrac);
      else if (f.phase == kNumFrac && (c == 'e' || c == 'E'))
        go(kNumE);
      break;
    case kNumE:
      if (c == '+' || c == '-') {
        g.sub = c == '-';
        go(kNumESign);
        break;
      }
      [[fallthrough]];
    case kNumESign:
      if (digit) exp_digit(0);
      break;
    case kNumExp:
      if (digit) exp_digit(f.b);
      break;
    default:
      break;
  }
  if (ok) out->push_back(Stack{g, s.parent});
  if (number_accepting(f.phase)) {  // the number may end here: c belongs to the parent
    const Stack p = pop(s);
    if (!p.empty()) step(p, c, out);
  }
}

// ---- Costs ----------------------------------------------------------------------------------

uint32_t Machine::key_cost(const Frame& f) const {
  const Node& n = g_.nodes[f.node];
  const uint32_t i = f.b, np = uint32_t(n.props.size());
  const uint32_t hi = n.first_req[i] < np ? n.first_req[i] + 1 : np;
  const uint32_t pend = str_pending(StrState{f.sub, 0});
  uint32_t best = kInf;
  const uint32_t extra = extras_allowed(n, i) ? sat_add(3, g_.nodes[n.additional].min_cost) : kInf;
  if (f.a == kOff) return sat_add(pend, extra);
  const TrieNode& t = g_.trie[f.a];
  for (uint32_t k = t.cand_begin; k < t.cand_end; ++k) {
    const auto [j, depth] = g_.cands[k];
    if (j < i) continue;
    if (j >= hi) break;
    const uint32_t c = sat_add(depth - t.depth + 3,
                               sat_add(g_.nodes[n.props[j].node].min_cost, n.req_suffix[j + 1]));
    best = std::min(best, c);
  }
  if (extra < kInf) {
    // Off the trie needs at least one more character when the key so far is a listed name (or
    // might become one when an escape in progress completes).
    const bool more = (t.terminal != kNone && pend == 0) || str_in_escape(f.sub);
    best = std::min(best, sat_add(pend + (more ? 1 : 0), extra));
  }
  return best;
}

uint32_t Machine::frame_cost(const Frame& f) const {
  const Node& n = g_.nodes[f.node];
  auto m = [&](uint32_t node) { return g_.nodes[node].min_cost; };
  switch (n.kind) {
    case Kind::kObject: {
      const uint32_t np = uint32_t(n.props.size());
      auto value_rest = [&](uint32_t j) {
        return j == kExtra ? sat_add(m(n.additional), 1)
                           : sat_add(sat_add(m(n.props[j].node), n.req_suffix[j + 1]), 1);
      };
      switch (f.phase) {
        case kObjOpen:
          return n.min_cost;
        case kObjFirst:
          return n.first_req[0] < np ? n.req_suffix[0] : 1;
        case kObjKey:
          return key_cost(f);
        case kObjColon:
          return sat_add(1, value_rest(f.a));
        case kObjValue:
          return value_rest(f.a);
        case kObjNext:
          return sat_add(n.req_suffix[f.b], 1);
        default:
          return n.comma_cost[f.b];  // kObjComma
      }
    }
    case Kind::kArray: {
      const uint32_t plen = uint32_t(n.prefix.size());
      const uint32_t l = uint32_t(n.item_suffix.size()) - 1;
      // Bytes of `,item` for the items k in [c, min_items) still required.
      auto rest = [&](uint32_t c) {
        uint32_t r = c < l ? n.item_suffix[c] : 0;
        const uint32_t from = std::max(c, plen);
        if (n.min_items > from) r = sat_add(r, sat_mul(sat_add(1, m(n.items)), n.min_items - from));
        return r;
      };
      switch (f.phase) {
        case kArrOpen:
          return n.min_cost;
        case kArrFirst:
          return n.min_items == 0 ? 1 : rest(0);
        case kArrNext:
          return sat_add(rest(f.b), 1);
        default: {  // kArrComma: an item must follow
          const uint32_t item = f.b < plen ? n.prefix[f.b] : n.items;
          return sat_add(sat_add(m(item), rest(f.b + 1)), 1);
        }
      }
    }
    case Kind::kString:
      if (f.phase == kStrOpen) return n.min_cost;
      if (n.dfa != kNone) return sat_add(g_.dfas[n.dfa].dist[f.sub], 1);
      return sat_add(1 + str_pending(StrState{f.sub, f.b}), n.min_len > f.a ? n.min_len - f.a : 0);
    case Kind::kNumber:
      return number_accepting(f.phase) ? 0 : 1;
    case Kind::kLiterals:
      return g_.trie[f.a].min_rest;
    case Kind::kSeq:
      return n.seq_suffix[f.b];
    default:
      return kInf;
  }
}

uint32_t Machine::cost(const Stack& s) const {
  if (s.empty()) return 0;
  return sat_add(frame_cost(s.top), chain_cost(s.parent));
}

bool Machine::same(const Stack& x, const Stack& y) const {
  if (!(x.top == y.top)) return false;
  uint32_t p = x.parent, q = y.parent;
  while (p != q) {
    if (p == kNone || q == kNone) return false;
    if (!(arena_[p].frame == arena_[q].frame)) return false;
    p = arena_[p].parent;
    q = arena_[q].parent;
  }
  return true;
}

void Machine::dedup(std::vector<Stack>* v) const {
  if (v->size() <= 1) return;
  size_t k = 0;
  for (size_t i = 0; i < v->size(); ++i) {
    bool dup = false;
    for (size_t j = 0; j < k && !dup; ++j) dup = same((*v)[i], (*v)[j]);
    if (dup) continue;
    if (k == kMaxStacks) break;  // sound: every kept stack is a valid parse; only breadth is lost
    (*v)[k++] = (*v)[i];
  }
  v->resize(k);
}

}  // namespace longctx::grammar_detail
