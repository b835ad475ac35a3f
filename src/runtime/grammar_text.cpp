// Byte-level text rules shared by the compiler, the matcher and the vocabulary tables: the JSON
// string automaton (UTF-8 validated byte by byte, escapes, surrogate pairs), the canonical string
// encoding of names and enum values, and the format automata (date, date-time, uuid).
#include <array>

#include "runtime/grammar_internal.h"

namespace longctx::grammar_detail {

StrStep str_step(StrState* s, uint8_t c, bool escapes) {
  auto cont = [&](uint8_t lo, uint8_t hi, uint16_t next) {
    if (c < lo || c > hi) return StrStep::kReject;
    s->sub = next;
    return StrStep::kCont;
  };
  auto hexval = [](uint8_t h) -> int {
    if (h >= '0' && h <= '9') return h - '0';
    if (h >= 'a' && h <= 'f') return h - 'a' + 10;
    if (h >= 'A' && h <= 'F') return h - 'A' + 10;
    return -1;
  };
  switch (s->sub) {
    case kClean:
      if (c == '"') return StrStep::kClose;
      if (c == '\\') {
        if (!escapes) return StrStep::kReject;
        s->sub = kEsc;
        return StrStep::kNewChar;
      }
      if (c < 0x20) return StrStep::kReject;
      if (c < 0x80) return StrStep::kNewChar;
      // UTF-8 lead bytes (RFC 3629 table 3-7): the first continuation byte's range depends on
      // the lead, which excludes overlongs (E0, F0), surrogates (ED) and > U+10FFFF (F4).
      if (c < 0xC2) return StrStep::kReject;
      if (c < 0xE0)
        s->sub = kU1;
      else if (c == 0xE0)
        s->sub = kUE0;
      else if (c == 0xED)
        s->sub = kUED;
      else if (c < 0xF0)
        s->sub = kU2;
      else if (c == 0xF0)
        s->sub = kUF0;
      else if (c < 0xF4)
        s->sub = kU3;
      else if (c == 0xF4)
        s->sub = kUF4;
      else
        return StrStep::kReject;
      return StrStep::kNewChar;
    case kU1:
      return cont(0x80, 0xBF, kClean);
    case kU2:
      return cont(0x80, 0xBF, kU1);
    case kU3:
      return cont(0x80, 0xBF, kU2);
    case kUE0:
      return cont(0xA0, 0xBF, kU1);
    case kUED:
      return cont(0x80, 0x9F, kU1);
    case kUF0:
      return cont(0x90, 0xBF, kU2);
    case kUF4:
      return cont(0x80, 0x8F, kU2);
    case kEsc:
      if (c == 'u') {
        s->sub = kHex0;
        s->hex = 0;
        return StrStep::kCont;
      }
      if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' ||
          c == 't') {
        s->sub = kClean;
        return StrStep::kCont;
      }
      return StrStep::kReject;
    case kHex0:
    case kHex1:
    case kHex2:
    case kHex3: {
      const int h = hexval(c);
      if (h < 0) return StrStep::kReject;
      const uint32_t v = s->hex * 16 + uint32_t(h);
      if (s->sub == kHex1 && v >= 0xDC && v <= 0xDF) return StrStep::kReject;  // lone low half
      if (s->sub == kHex3) {
        s->sub = (v >= 0xD800 && v <= 0xDBFF) ? kLowBs : kClean;  // high half: a low must follow
        s->hex = 0;
      } else {
        s->hex = v;
        ++s->sub;
      }
      return StrStep::kCont;
    }
    case kLowBs:
      return cont('\\', '\\', kLowU);
    case kLowU:
      return cont('u', 'u', kLow0);
    case kLow0:
      return (c == 'd' || c == 'D') ? (s->sub = kLow1, StrStep::kCont) : StrStep::kReject;
    case kLow1:
      return ((c >= 'c' && c <= 'f') || (c >= 'C' && c <= 'F')) ? (s->sub = kLow2, StrStep::kCont)
                                                                : StrStep::kReject;
    case kLow2:
    case kLow3:
      if (hexval(c) < 0) return StrStep::kReject;
      s->sub = s->sub == kLow2 ? kLow3 : kClean;
      return StrStep::kCont;
    default:
      return StrStep::kReject;
  }
}

uint32_t str_pending(const StrState& s) {
  auto high = [](uint32_t two_digits) { return two_digits >= 0xD8 && two_digits <= 0xDB ? 6 : 0; };
  switch (s.sub) {
    case kClean:
      return 0;
    case kU1:
      return 1;
    case kU2:
    case kUE0:
    case kUED:
      return 2;
    case kU3:
    case kUF0:
    case kUF4:
      return 3;
    case kEsc:
      return 1;
    case kHex0:
      return 4;
    case kHex1:
      return 3;  // "\ud" may still be d000-d7ff
    case kHex2:
      return 2 + high(s.hex);
    case kHex3:
      return 1 + high(s.hex >> 4);
    case kLowBs:
      return 6;
    case kLowU:
      return 5;
    case kLow0:
      return 4;
    case kLow1:
      return 3;
    case kLow2:
      return 2;
    default:
      return 1;  // kLow3
  }
}

std::string encode_string(std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  std::string r;
  r.reserve(s.size());
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        r += "\\\"";
        break;
      case '\\':
        r += "\\\\";
        break;
      case '\b':
        r += "\\b";
        break;
      case '\f':
        r += "\\f";
        break;
      case '\n':
        r += "\\n";
        break;
      case '\r':
        r += "\\r";
        break;
      case '\t':
        r += "\\t";
        break;
      default:
        if (c < 0x20) {
          r += "\\u00";
          r += kHex[c >> 4];
          r += kHex[c & 15];
        } else {
          r += char(c);
        }
    }
  }
  return r;
}

void Builder::check_utf8(std::string_view s, const std::string& path) {
  StrState st;
  bool ok = true;
  for (unsigned char c : s) {
    if (st.sub == kClean && c < 0x80) continue;  // ASCII, quotes and controls included
    if (str_step(&st, c, false) == StrStep::kReject) {
      ok = false;
      break;
    }
  }
  if (!ok || st.sub != kClean) {
    throw CompileError{"invalid UTF-8 in a name or value at " + (path.empty() ? "/" : path)};
  }
}

// ---- Format automata ------------------------------------------------------------------------

namespace {

struct DfaMaker {
  Dfa d;
  uint8_t state() {
    d.next.emplace_back();
    d.next.back().fill(kDfaReject);
    d.accept.push_back(0);
    return uint8_t(d.next.size() - 1);
  }
  void on(uint8_t s, std::string_view chars, uint8_t t) {
    for (unsigned char c : chars) d.next[s][c] = t;
  }
  void digits(uint8_t s, char lo, char hi, uint8_t t) {
    for (char c = lo; c <= hi; ++c) d.next[s][uint8_t(c)] = t;
  }
  uint8_t chain(uint8_t s, std::string_view chars) {  // s -chars-> new state
    const uint8_t t = state();
    on(s, chars, t);
    return t;
  }
  uint8_t two(uint8_t s, char hi_first, char hi_second_at_max) {  // 00..(hi_first)(hi_second)
    // Two digits from "00" up to hi_first hi_second_at_max, e.g. ('2','3') for hours.
    const uint8_t end = state();
    const uint8_t low = state(), top = state();
    digits(s, '0', char(hi_first - 1), low);
    on(s, std::string(1, hi_first), top);
    digits(low, '0', '9', end);
    digits(top, '0', hi_second_at_max, end);
    return end;
  }
  // YYYY-MM-DD, year 0001-9999, day within the month's length (February up to 29).
  uint8_t date(uint8_t s) {
    const uint8_t y1 = state(), y1z = state(), y2 = state(), y2z = state(), y3 = state(),
                  y3z = state(), y4 = state();
    on(s, "0", y1z), digits(s, '1', '9', y1);
    on(y1z, "0", y2z), digits(y1z, '1', '9', y2), digits(y1, '0', '9', y2);
    on(y2z, "0", y3z), digits(y2z, '1', '9', y3), digits(y2, '0', '9', y3);
    digits(y3z, '1', '9', y4), digits(y3, '0', '9', y4);
    const uint8_t m0 = chain(y4, "-"), ma = chain(m0, "0"), mb = chain(m0, "1");
    const uint8_t m31 = state(), m30 = state(), m29 = state();
    on(ma, "13578", m31), on(ma, "469", m30), on(ma, "2", m29);
    on(mb, "02", m31), on(mb, "1", m30);
    const uint8_t end = state();
    for (const auto& [m, last] : {std::pair{m31, '1'}, {m30, '0'}, {m29, ' '}}) {
      const uint8_t d0 = chain(m, "-");
      const uint8_t d19 = chain(d0, "0"), d09 = chain(d0, "12");
      digits(d19, '1', '9', end), digits(d09, '0', '9', end);
      if (last != ' ') digits(chain(d0, "3"), '0', last, end);
    }
    return end;
  }
};

Dfa make_format(const std::string& name) {
  DfaMaker m;
  const uint8_t s0 = m.state();
  uint8_t end;
  if (name == "uuid") {
    end = s0;
    for (int i = 0; i < 36; ++i) {
      end = m.chain(end, (i == 8 || i == 13 || i == 18 || i == 23)
                             ? std::string_view("-")
                             : std::string_view("0123456789abcdefABCDEF"));
    }
  } else {
    end = m.date(s0);
    if (name == "date-time") {  // RFC 3339 as jsonschema checks it: no leap second 60
      const uint8_t h = m.chain(end, "Tt");
      const uint8_t hh = m.two(h, '2', '3');
      const uint8_t mm = m.two(m.chain(hh, ":"), '5', '9');
      const uint8_t ss = m.two(m.chain(mm, ":"), '5', '9');
      const uint8_t frac = m.state(), fracd = m.state();
      m.on(ss, ".", frac), m.digits(frac, '0', '9', fracd), m.digits(fracd, '0', '9', fracd);
      const uint8_t done = m.state(), sign = m.state();
      for (uint8_t s : {ss, fracd}) m.on(s, "Zz", done), m.on(s, "+-", sign);
      const uint8_t oh = m.two(sign, '2', '3');
      const uint8_t om = m.two(m.chain(oh, ":"), '5', '9');
      m.d.accept[om] = 1;
      end = done;
    }
  }
  m.d.accept[end] = 1;
  // Fewest bytes to acceptance: backward breadth-first search from the accepting states.
  const size_t n = m.d.next.size();
  m.d.dist.assign(n, kInf);
  std::vector<std::vector<uint8_t>> rev(n);
  for (size_t s = 0; s < n; ++s) {
    for (int c = 0; c < 256; ++c) {
      if (m.d.next[s][c] != kDfaReject) rev[m.d.next[s][c]].push_back(uint8_t(s));
    }
  }
  std::vector<uint8_t> q;
  for (size_t s = 0; s < n; ++s) {
    if (m.d.accept[s]) m.d.dist[s] = 0, q.push_back(uint8_t(s));
  }
  for (size_t i = 0; i < q.size(); ++i) {
    for (uint8_t p : rev[q[i]]) {
      if (m.d.dist[p] == kInf) m.d.dist[p] = m.d.dist[q[i]] + 1, q.push_back(p);
    }
  }
  return std::move(m.d);
}

}  // namespace

uint32_t Builder::format_dfa(const std::string& name) {
  for (const auto& [n, id] : dfa_ids_) {
    if (n == name) return id;
  }
  g.dfas.push_back(make_format(name));
  dfa_ids_.emplace_back(name, uint32_t(g.dfas.size() - 1));
  return uint32_t(g.dfas.size() - 1);
}

}  // namespace longctx::grammar_detail
