// GBNF text -> GbnfGrammar (gbnf.h): a recursive-descent parser that writes rules directly,
// repetitions expanded into helper rules, then the checks (undefined rules, root, left
// recursion) and the flat compiled form.
#include "runtime/gbnf.h"

#include <algorithm>
#include <map>
#include <optional>
#include <queue>

namespace longctx {

namespace {

using Element = GbnfGrammar::Element;
using Ranges = GbnfGrammar::Ranges;
constexpr uint32_t kMaxCodePoint = 0x10FFFF;

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

Ranges normalize(Ranges r) {
  std::sort(r.begin(), r.end());
  Ranges out;
  for (const auto& [lo, hi] : r) {
    if (!out.empty() && lo <= out.back().second + 1) {
      out.back().second = std::max(out.back().second, hi);
    } else {
      out.emplace_back(lo, hi);
    }
  }
  return out;
}

Ranges complement(const Ranges& r) {
  Ranges out;
  uint32_t next = 0;
  for (const auto& [lo, hi] : r) {
    if (lo > next) out.emplace_back(next, lo - 1);
    next = hi + 1;
  }
  if (next <= kMaxCodePoint) out.emplace_back(next, kMaxCodePoint);
  return out;
}

}  // namespace

bool GbnfGrammar::in_class(uint32_t cls, uint32_t cp) const {
  const Ranges& r = classes_[cls];
  auto it = std::upper_bound(r.begin(), r.end(), std::make_pair(cp, kMaxCodePoint + 1));
  return it != r.begin() && std::prev(it)->second >= cp;
}

uint32_t GbnfGrammar::char_bytes(uint32_t cls) const {
  const uint32_t cp = classes_[cls].front().first;
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

// Shortest sentence of each rule, by Knuth's generalisation of Dijkstra's algorithm: rules are
// settled in increasing order of length; an alternative's length is known once every rule it
// refers to is settled (then it is its characters' bytes plus their lengths). A rule never
// settled cannot end.
void GbnfGrammar::compute_min_rest() {
  auto sat = [](uint64_t v) { return v >= kInf ? kInf : static_cast<uint32_t>(v); };
  struct Alt {
    uint32_t rule;
    uint32_t pending = 0;  // references to rules not settled yet
    uint64_t sum = 0;      // bytes of the characters and the settled rules
  };
  std::vector<Alt> alts;
  std::vector<std::vector<uint32_t>> users(rules_.size());  // rule -> alternatives, per use
  using Entry = std::pair<uint64_t, uint32_t>;              // (length, rule)
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> ready;
  for (size_t r = 0; r < rules_.size(); ++r) {
    for (uint32_t start : rules_[r]) {
      Alt alt{static_cast<uint32_t>(r)};
      for (uint32_t p = start; elems_[p].type != Element::kEnd; ++p) {
        if (elems_[p].type == Element::kChars) {
          alt.sum += char_bytes(elems_[p].value);
        } else {
          ++alt.pending;
          users[elems_[p].value].push_back(static_cast<uint32_t>(alts.size()));
        }
      }
      if (alt.pending == 0) ready.emplace(alt.sum, alt.rule);
      alts.push_back(alt);
    }
  }
  std::vector<uint32_t> rule_min(rules_.size(), kInf);
  std::vector<bool> settled(rules_.size(), false);
  while (!ready.empty()) {
    const auto [len, r] = ready.top();
    ready.pop();
    if (settled[r]) continue;
    settled[r] = true;
    rule_min[r] = sat(len);
    for (uint32_t ai : users[r]) {
      Alt& alt = alts[ai];
      alt.sum += rule_min[r];
      if (--alt.pending == 0 && !settled[alt.rule]) ready.emplace(alt.sum, alt.rule);
    }
  }
  min_rest_.assign(elems_.size(), 0);
  for (size_t p = elems_.size(); p-- > 0;) {
    const Element& e = elems_[p];
    if (e.type == Element::kEnd) continue;  // 0; the element before it adds its own
    const uint32_t own = e.type == Element::kChars ? char_bytes(e.value) : rule_min[e.value];
    min_rest_[p] = sat(uint64_t{own} + min_rest_[p + 1]);
  }
}

bool GbnfGrammar::class_overlaps(uint32_t cls, uint32_t lo, uint32_t hi) const {
  const Ranges& r = classes_[cls];
  // The first range ending at or after lo must start at or before hi.
  auto it = std::lower_bound(
      r.begin(), r.end(), lo,
      [](const std::pair<uint32_t, uint32_t>& x, uint32_t v) { return x.second < v; });
  return it != r.end() && it->first <= hi;
}

class GbnfBuilder {
 public:
  GbnfBuilder(std::string_view text, std::string_view prefix) : s_(text), prefix_(prefix) {}

  Result<std::shared_ptr<const GbnfGrammar>> build() {
    if (s_.size() > GbnfGrammar::kMaxTextBytes) {
      return invalid_argument("grammar: longer than " + std::to_string(GbnfGrammar::kMaxTextBytes) +
                              " bytes");
    }
    for (;;) {
      skip(true);
      if (pos_ >= s_.size()) break;
      const size_t at = pos_;
      const std::string name = parse_name();
      if (name.empty()) return fail("expected a rule name");
      skip(false);
      if (s_.substr(pos_, 3) != "::=") return fail("expected '::=' after '" + name + "'");
      pos_ += 3;
      const uint32_t r = rule_id(name, at);
      if (defined_[r]) return fail_at(at, "rule '" + name + "' is defined twice");
      defined_[r] = true;
      current_ = r;
      auto alts = parse_alternates(0);
      if (!alts) return alts.status();
      bodies_[r] = std::move(alts.value());
      if (pos_ < s_.size() && s_[pos_] == ')') return fail("unexpected ')'");
    }
    return finish();
  }

 private:
  using Seq = std::vector<Element>;
  using Alts = std::vector<Seq>;

  // --- errors ---
  std::string where(size_t at) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < at && i < s_.size(); ++i) {
      if (s_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(col);
  }
  Status fail_at(size_t at, const std::string& what) const {
    return invalid_argument("grammar: " + where(at) + ": " + what);
  }
  Status fail(const std::string& what) const { return fail_at(pos_, what); }

  // --- lexing ---
  // Spaces, tabs, comments; line breaks too when `lines`.
  void skip(bool lines) {
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c == ' ' || c == '\t' || (lines && (c == '\n' || c == '\r'))) {
        ++pos_;
      } else if (c == '#') {
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }
  std::string parse_name() {
    const size_t b = pos_;
    while (pos_ < s_.size() && name_char(s_[pos_])) ++pos_;
    return std::string(s_.substr(b, pos_ - b));
  }
  // At `name ::=` (the next rule): ends the current rule's body.
  bool at_rule_start() const {
    size_t p = pos_;
    while (p < s_.size() && name_char(s_[p])) ++p;
    if (p == pos_) return false;
    while (p < s_.size() && (s_[p] == ' ' || s_[p] == '\t')) ++p;
    return s_.substr(p, 3) == "::=";
  }
  // One UTF-8 code point of the grammar text.
  std::optional<uint32_t> utf8_code_point() {
    const auto b0 = static_cast<uint8_t>(s_[pos_]);
    const int len = b0 < 0x80             ? 1
                    : (b0 & 0xE0) == 0xC0 ? 2
                    : (b0 & 0xF0) == 0xE0 ? 3
                    : (b0 & 0xF8) == 0xF0 ? 4
                                          : 0;
    if (len == 0 || pos_ + static_cast<size_t>(len) > s_.size()) return std::nullopt;
    uint32_t cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1Fu) : len == 3 ? (b0 & 0x0Fu) : (b0 & 0x07u);
    for (int i = 1; i < len; ++i) {
      const auto b = static_cast<uint8_t>(s_[pos_ + static_cast<size_t>(i)]);
      if ((b & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (b & 0x3Fu);
    }
    static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > kMaxCodePoint || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return std::nullopt;
    }
    pos_ += static_cast<size_t>(len);
    return cp;
  }
  // A character of a literal or class, escapes decoded.
  Result<uint32_t> parse_char() {
    if (pos_ >= s_.size()) return fail("unexpected end of the grammar");
    if (s_[pos_] != '\\') {
      const size_t at = pos_;
      auto cp = utf8_code_point();
      if (!cp) return fail_at(at, "invalid UTF-8");
      return *cp;
    }
    const size_t at = pos_;
    if (++pos_ >= s_.size()) return fail("unexpected end after '\\'");
    const char e = s_[pos_++];
    switch (e) {
      case 'n':
        return uint32_t{'\n'};
      case 'r':
        return uint32_t{'\r'};
      case 't':
        return uint32_t{'\t'};
      case '\\':
      case '"':
      case '\'':
      case '[':
      case ']':
      case '-':
      case '/':
      case '^':
        return static_cast<uint32_t>(e);
      case 'x':
      case 'u':
      case 'U': {
        const int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        uint32_t v = 0;
        for (int i = 0; i < digits; ++i) {
          if (pos_ >= s_.size()) return fail("unexpected end in an escape");
          const char h = s_[pos_++];
          const int d = h >= '0' && h <= '9'   ? h - '0'
                        : h >= 'a' && h <= 'f' ? h - 'a' + 10
                        : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                               : -1;
          if (d < 0) return fail_at(at, std::string("bad hex digit in '\\") + e + "' escape");
          v = (v << 4) | static_cast<uint32_t>(d);
        }
        if (v > kMaxCodePoint) return fail_at(at, "code point above U+10FFFF");
        if (v >= 0xD800 && v <= 0xDFFF) return fail_at(at, "a surrogate is not a code point");
        return v;
      }
      default:
        return fail_at(at, std::string("unknown escape '\\") + e + "'");
    }
  }

  // --- building blocks ---
  uint32_t rule_id(const std::string& name, size_t at) {
    auto [it, added] = names_.emplace(name, static_cast<uint32_t>(rule_names_.size()));
    if (added) {
      rule_names_.push_back(name);
      defined_.push_back(false);
      first_use_.push_back(at);
      bodies_.emplace_back();
    }
    return it->second;
  }
  // A helper rule (a group or a repetition): not in names_, named only for messages as its
  // enclosing rule's name and a number (storing that name would cost the rule's name per helper).
  uint32_t new_rule(Alts alts) {
    const auto r = static_cast<uint32_t>(rule_names_.size());
    rule_names_.emplace_back();
    helper_of_.resize(rule_names_.size(), kNoParent);
    helper_of_[r] = current_;
    helper_no_.resize(rule_names_.size(), 0);
    helper_no_[r] = ++anonymous_;
    defined_.push_back(true);
    first_use_.push_back(pos_);
    bodies_.push_back(std::move(alts));
    return r;
  }
  std::string display_name(uint32_t r) const {
    if (r < helper_of_.size() && helper_of_[r] != kNoParent) {
      return display_name(helper_of_[r]) + "_" + std::to_string(helper_no_[r]);
    }
    return rule_names_[r];
  }
  uint32_t class_id(const Ranges& r) {
    auto [it, added] = class_ids_.emplace(r, static_cast<uint32_t>(classes_.size()));
    if (added) classes_.push_back(r);
    return it->second;
  }
  Element chars(Ranges r) { return {Element::kChars, class_id(normalize(std::move(r)))}; }
  Element ref(uint32_t rule) { return {Element::kRef, rule}; }
  Status count(size_t n) {
    n_elements_ += n;
    if (n_elements_ > GbnfGrammar::kMaxElements) {
      return fail("the grammar expands to more than " + std::to_string(GbnfGrammar::kMaxElements) +
                  " elements");
    }
    return Status::ok();
  }

  // --- grammar ---
  Result<Alts> parse_alternates(int depth) {
    Alts alts;
    for (;;) {
      auto seq = parse_sequence(depth);
      if (!seq) return seq.status();
      alts.push_back(std::move(seq.value()));
      skip(true);
      if (pos_ < s_.size() && s_[pos_] == '|') {
        ++pos_;
        continue;
      }
      return alts;
    }
  }

  Result<Seq> parse_sequence(int depth) {
    Seq seq;
    for (;;) {
      skip(true);
      if (pos_ >= s_.size() || s_[pos_] == '|' || s_[pos_] == ')') break;
      if (depth == 0 && at_rule_start()) break;
      const size_t at = pos_;
      Seq unit;
      const char c = s_[pos_];
      if (c == '"') {
        ++pos_;
        while (pos_ < s_.size() && s_[pos_] != '"') {
          auto cp = parse_char();
          if (!cp) return cp.status();
          unit.push_back(chars({{*cp, *cp}}));
        }
        if (pos_ >= s_.size()) return fail_at(at, "unterminated literal");
        ++pos_;
      } else if (c == '[') {
        ++pos_;
        const bool negate = pos_ < s_.size() && s_[pos_] == '^';
        if (negate) ++pos_;
        Ranges r;
        while (pos_ < s_.size() && s_[pos_] != ']') {
          auto lo = parse_char();
          if (!lo) return lo.status();
          uint32_t hi = *lo;
          if (pos_ + 1 < s_.size() && s_[pos_] == '-' && s_[pos_ + 1] != ']') {
            ++pos_;
            auto h = parse_char();
            if (!h) return h.status();
            hi = *h;
            if (hi < *lo) return fail_at(at, "a character range goes backwards");
          }
          r.emplace_back(*lo, hi);
        }
        if (pos_ >= s_.size()) return fail_at(at, "unterminated character class");
        ++pos_;
        r = normalize(std::move(r));
        if (negate) r = complement(r);
        if (r.empty()) return fail_at(at, "a character class that matches nothing");
        unit.push_back({Element::kChars, class_id(r)});
      } else if (c == '.') {
        ++pos_;
        unit.push_back(chars({{0, kMaxCodePoint}}));
      } else if (c == '(') {
        if (depth + 1 > GbnfGrammar::kMaxNesting) return fail("parentheses nested too deeply");
        ++pos_;
        auto alts = parse_alternates(depth + 1);
        if (!alts) return alts.status();
        if (pos_ >= s_.size() || s_[pos_] != ')') return fail_at(at, "unclosed '('");
        ++pos_;
        unit.push_back(ref(new_rule(std::move(alts.value()))));
      } else if (name_char(c)) {
        const std::string name = parse_name();
        unit.push_back(ref(rule_id(name, at)));
      } else if (c == '<' || c == '!') {
        return fail("token references ('<[id]>', '!') are not supported");
      } else {
        return fail(std::string("unexpected '") + c + "'");
      }
      // Postfix repetition.
      auto rep = parse_repetition(std::move(unit));
      if (!rep) return rep.status();
      LONGCTX_RETURN_IF_ERROR(count(rep->size()));
      seq.insert(seq.end(), rep->begin(), rep->end());
    }
    return seq;
  }

  // x*, x+, x?, x{m}, x{m,}, x{m,n} applied to `unit`; the unit itself when none follows.
  Result<Seq> parse_repetition(Seq unit) {
    skip(false);
    if (pos_ >= s_.size()) return unit;
    uint32_t lo = 0, hi = 0;
    bool unbounded = false;
    const char c = s_[pos_];
    const size_t at = pos_;
    if (c == '*') {
      unbounded = true;
    } else if (c == '+') {
      lo = 1;
      unbounded = true;
    } else if (c == '?') {
      hi = 1;
    } else if (c == '{') {
      ++pos_;
      auto num = [&]() -> std::optional<uint32_t> {
        skip(false);
        const size_t b = pos_;
        uint64_t v = 0;
        while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9' &&
               v <= GbnfGrammar::kMaxRepeat) {
          v = v * 10 + static_cast<uint64_t>(s_[pos_++] - '0');
        }
        if (pos_ == b || v > GbnfGrammar::kMaxRepeat) return std::nullopt;
        skip(false);
        return static_cast<uint32_t>(v);
      };
      auto m = num();
      if (!m)
        return fail_at(
            at, "expected a count up to " + std::to_string(GbnfGrammar::kMaxRepeat) + " after '{'");
      lo = hi = *m;
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        skip(false);
        if (pos_ < s_.size() && s_[pos_] == '}') {
          unbounded = true;
        } else {
          auto n = num();
          if (!n)
            return fail_at(at, "expected a count up to " + std::to_string(GbnfGrammar::kMaxRepeat) +
                                   " after ','");
          hi = *n;
          if (hi < lo) return fail_at(at, "a repetition {m,n} with n < m");
        }
      }
      if (pos_ >= s_.size() || s_[pos_] != '}') return fail_at(at, "unclosed '{'");
    } else {
      return unit;
    }
    ++pos_;
    // The unit as one element: a rule of its own when it is longer.
    const Element u = unit.size() == 1 ? unit[0] : ref(new_rule({unit}));
    Seq out(lo, u);
    LONGCTX_RETURN_IF_ERROR(count(lo));
    if (unbounded) {
      // star ::= u star | (empty)
      const uint32_t star = new_rule({});
      bodies_[star] = {{u, ref(star)}, Seq{}};
      out.push_back(ref(star));
    } else if (hi > lo) {
      // opt_1 ::= u | (empty); opt_k ::= u opt_(k-1) | (empty)
      uint32_t prev = new_rule({{u}, {}});
      for (uint32_t k = 1; k < hi - lo; ++k) {
        LONGCTX_RETURN_IF_ERROR(count(2));
        prev = new_rule({{u, ref(prev)}, {}});
      }
      out.push_back(ref(prev));
    }
    return out;
  }

  Result<std::shared_ptr<const GbnfGrammar>> finish() {
    for (size_t r = 0; r < rule_names_.size(); ++r) {
      if (!defined_[r])
        return fail_at(first_use_[r], "rule '" + rule_names_[r] + "' is not defined");
    }
    auto root = names_.find("root");
    if (root == names_.end()) return invalid_argument("grammar: no 'root' rule");
    uint32_t start = root->second;
    if (!prefix_.empty()) {  // start ::= prefix-bytes root
      Seq seq;
      for (unsigned char c : prefix_) seq.push_back(chars({{c, c}}));
      seq.push_back(ref(start));
      current_ = start;
      start = new_rule({seq});
    }
    // Nullable rules (fixed point), then left recursion: an edge r -> s when s can come first
    // in r, before anything that consumes.
    const size_t n = rule_names_.size();
    // Nullable rules by a worklist: an alternative of references only becomes nullable when its
    // last pending reference does (linear, where repeated sweeps would be quadratic).
    std::vector<bool> nullable(n, false);
    {
      std::vector<uint32_t> pending, alt_rule;
      std::vector<std::vector<uint32_t>> users(n);
      std::vector<uint32_t> queue;
      for (size_t r = 0; r < n; ++r) {
        for (const Seq& alt : bodies_[r]) {
          const bool refs_only = std::all_of(
              alt.begin(), alt.end(), [](const Element& e) { return e.type == Element::kRef; });
          if (!refs_only) continue;
          const auto ai = static_cast<uint32_t>(pending.size());
          pending.push_back(static_cast<uint32_t>(alt.size()));
          alt_rule.push_back(static_cast<uint32_t>(r));
          for (const Element& e : alt) users[e.value].push_back(ai);
          if (alt.empty() && !nullable[r]) {
            nullable[r] = true;
            queue.push_back(static_cast<uint32_t>(r));
          }
        }
      }
      while (!queue.empty()) {
        const uint32_t r = queue.back();
        queue.pop_back();
        for (uint32_t ai : users[r]) {
          if (--pending[ai] == 0 && !nullable[alt_rule[ai]]) {
            nullable[alt_rule[ai]] = true;
            queue.push_back(alt_rule[ai]);
          }
        }
      }
    }
    std::vector<std::vector<uint32_t>> first(n);
    for (size_t r = 0; r < n; ++r) {
      for (const Seq& alt : bodies_[r]) {
        for (const Element& e : alt) {
          if (e.type != Element::kRef) break;
          first[r].push_back(e.value);
          if (!nullable[e.value]) break;
        }
      }
    }
    std::vector<uint8_t> color(n, 0);  // 0 new, 1 on the path, 2 done
    for (size_t start = 0; start < n; ++start) {
      if (color[start]) continue;
      std::vector<std::pair<uint32_t, size_t>> path{{static_cast<uint32_t>(start), 0}};
      color[start] = 1;
      while (!path.empty()) {
        auto& [r, i] = path.back();
        if (i < first[r].size()) {
          const uint32_t s = first[r][i++];
          if (color[s] == 1) {
            std::string cycle;
            bool on = false;
            for (const auto& [q, unused] : path) {
              on = on || q == s;
              if (on) cycle += display_name(q) + " -> ";
            }
            return invalid_argument("grammar: left recursion: rule '" + display_name(s) +
                                    "' can reach itself before any character (" + cycle +
                                    display_name(s) + ")");
          }
          if (color[s] == 0) {
            color[s] = 1;
            path.emplace_back(s, 0);
          }
        } else {
          color[r] = 2;
          path.pop_back();
        }
      }
    }
    auto g = std::make_shared<GbnfGrammar>();
    g->rules_.resize(n);
    for (size_t r = 0; r < n; ++r) {
      for (const Seq& alt : bodies_[r]) {
        g->rules_[r].push_back(static_cast<uint32_t>(g->elems_.size()));
        g->elems_.insert(g->elems_.end(), alt.begin(), alt.end());
        g->elems_.push_back({Element::kEnd, 0});
      }
    }
    g->classes_ = std::move(classes_);
    g->root_ = start;
    g->compute_min_rest();
    return std::shared_ptr<const GbnfGrammar>(std::move(g));
  }

  std::string_view s_;
  std::string_view prefix_;
  size_t pos_ = 0;
  std::map<std::string, uint32_t> names_;
  std::vector<std::string> rule_names_;
  std::vector<bool> defined_;
  std::vector<size_t> first_use_;
  std::vector<Alts> bodies_;
  std::map<Ranges, uint32_t> class_ids_;
  std::vector<Ranges> classes_;
  uint32_t current_ = 0;  // the rule being parsed (names helper rules)
  static constexpr uint32_t kNoParent = 0xFFFFFFFFu;
  std::vector<uint32_t> helper_of_;  // helper rule -> the rule it was made in (kNoParent: named)
  std::vector<uint32_t> helper_no_;
  uint32_t anonymous_ = 0;
  size_t n_elements_ = 0;
};

Result<std::shared_ptr<const GbnfGrammar>> GbnfGrammar::parse(std::string_view text,
                                                              std::string_view prefix) {
  return GbnfBuilder(text, prefix).build();
}

}  // namespace longctx
