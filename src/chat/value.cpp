// Python semantics of template values: truthiness, bounded str()/repr(), equality and ordering
// (depth- and work-limited), float repr, UTF-8 code-point helpers, and freeing deeply nested
// containers without recursion. JSON conversion and json.dumps() are in value_json.cpp.
#include "chat/value.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <utf8proc.h>

namespace longctx::chat {

namespace {

// While a container is being freed, the containers it owns are parked here instead of being
// freed inside its destructor; the outermost destructor frees the parked values one by one (each
// may park more), so freeing a value of any depth uses a bounded amount of stack.
thread_local std::vector<Value>* t_parked = nullptr;

bool holds_reference(const Value& v) {
  return v.is_list() || v.is_dict() || v.is_namespace() || v.is_callable();
}

template <typename ParkAll>
void release_nested(ParkAll park_all) {
  if (t_parked) {
    park_all(*t_parked);
    return;
  }
  std::vector<Value> parked;
  park_all(parked);
  if (parked.empty()) return;
  t_parked = &parked;
  while (!parked.empty()) {
    Value v = std::move(parked.back());
    parked.pop_back();
  }  // v is freed here; containers it was the last owner of park their items on `parked`
  t_parked = nullptr;
}

}  // namespace

ValueList::~ValueList() {
  release_nested([this](std::vector<Value>& into) {
    for (auto& v : items) {
      if (holds_reference(v)) into.push_back(std::move(v));
    }
  });
}

ValueDict::~ValueDict() {
  release_nested([this](std::vector<Value>& into) {
    for (auto& kv : items) {
      if (holds_reference(kv.second)) into.push_back(std::move(kv.second));
    }
  });
}

const Value* ValueDict::find(std::string_view key) const {
  for (const auto& [k, v] : items) {
    if (k == key) return &v;
  }
  return nullptr;
}

void ValueDict::set(const std::string& key, Value v) {
  for (auto& [k, old] : items) {
    if (k == key) {
      old = std::move(v);
      return;
    }
  }
  items.emplace_back(key, std::move(v));
}

const Value* CallArgs::get(size_t index, std::string_view name) const {
  if (index < positional.size()) return &positional[index];
  for (const auto& [k, v] : keyword) {
    if (k == name) return &v;
  }
  return nullptr;
}

Value Value::list(std::vector<Value> items, bool is_tuple) {
  Value v = with_kind(ValueKind::kList);
  v.list_ = std::make_shared<ValueList>();
  v.list_->items = std::move(items);
  v.list_->is_tuple = is_tuple;
  return v;
}

Value Value::dict(std::shared_ptr<ValueDict> d) {
  Value v = with_kind(ValueKind::kDict);
  v.dict_ = d ? std::move(d) : std::make_shared<ValueDict>();
  return v;
}

Value Value::name_space(std::shared_ptr<ValueDict> d) {
  Value v = dict(std::move(d));
  v.kind_ = ValueKind::kNamespace;
  return v;
}

Value Value::callable(std::string name, std::function<Result<Value>(const CallArgs&)> fn) {
  Value v = with_kind(ValueKind::kCallable);
  v.fn_ = std::make_shared<Callable>(Callable{std::move(name), std::move(fn)});
  return v;
}

bool Value::truthy() const {
  switch (kind_) {
    case ValueKind::kUndefined:
    case ValueKind::kNone:
      return false;
    case ValueKind::kBool:
    case ValueKind::kInt:
      return int_ != 0;
    case ValueKind::kFloat:
      return float_ != 0.0;
    case ValueKind::kString:
      return !str_.empty();
    case ValueKind::kList:
      return !list_->items.empty();
    case ValueKind::kDict:
      return !dict_->items.empty();
    case ValueKind::kNamespace:
    case ValueKind::kCallable:
      return true;
  }
  return false;
}

const char* Value::type_name() const {
  switch (kind_) {
    case ValueKind::kUndefined:
      return "Undefined";
    case ValueKind::kNone:
      return "NoneType";
    case ValueKind::kBool:
      return "bool";
    case ValueKind::kInt:
      return "int";
    case ValueKind::kFloat:
      return "float";
    case ValueKind::kString:
      return "str";
    case ValueKind::kList:
      return list_->is_tuple ? "tuple" : "list";
    case ValueKind::kDict:
      return "dict";
    case ValueKind::kNamespace:
      return "Namespace";
    case ValueKind::kCallable:
      return "function";
  }
  return "?";
}

std::string python_float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
  // Shortest round-trip digits in scientific form, e.g. "-1.2345e+02".
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  bool negative = sci[0] == '-';
  if (negative) sci.erase(0, 1);
  size_t e_pos = sci.find('e');
  std::string digits;
  for (size_t k = 0; k < e_pos; ++k) {
    if (sci[k] != '.') digits += sci[k];
  }
  int exp = std::atoi(sci.c_str() + e_pos + 1);
  std::string out = negative ? "-" : "";
  // Python's repr switches to exponent notation when the decimal exponent is < -4 or >= 16.
  if (exp >= -4 && exp < 16) {
    // Appended piece by piece: `"." + std::string` trips a GCC 12 -Wrestrict false positive.
    if (exp < 0) {
      out += "0.";
      out.append(static_cast<size_t>(-exp - 1), '0');
      out += digits;
    } else if (static_cast<size_t>(exp) + 1 >= digits.size()) {
      out += digits;
      out.append(static_cast<size_t>(exp) + 1 - digits.size(), '0');
      out += ".0";
    } else {
      out.append(digits, 0, static_cast<size_t>(exp) + 1);
      out += '.';
      out.append(digits, static_cast<size_t>(exp) + 1);
    }
  } else {
    out += digits[0];
    if (digits.size() > 1) {
      out += '.';
      out.append(digits, 1);
    }
    char ebuf[16];
    std::snprintf(ebuf, sizeof(ebuf), "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    out += ebuf;
  }
  return out;
}

std::vector<uint32_t> utf8_decode(std::string_view s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) {
      out.push_back(0xFFFD);  // invalid byte: the replacement character, one per byte
      ++i;
      continue;
    }
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    bool ok = true;
    for (int k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 2) ok = false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (!ok) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

void utf8_append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string utf8_encode(const std::vector<uint32_t>& cps, size_t begin, size_t end) {
  std::string out;
  for (size_t k = begin; k < end; ++k) utf8_append(out, cps[k]);
  return out;
}

bool is_python_space(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

namespace {

// Python's str.isprintable() for one code point: not a separator (other than the space) and
// not in the "other" categories (control, format, surrogate, private use, unassigned).
bool is_printable(uint32_t cp) {
  if (cp == ' ') return true;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
      return false;
    default:
      return true;
  }
}

std::string repr_string(const std::string& s) {
  // Python picks single quotes unless the text holds a ' and no ".
  char quote = (s.find('\'') != std::string::npos && s.find('"') == std::string::npos) ? '"' : '\'';
  std::string out(1, quote);
  for (uint32_t cp : utf8_decode(s)) {
    char buf[16];
    if (cp == '\\' || cp == static_cast<uint32_t>(quote)) {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (!is_printable(cp)) {
      // Python's repr escapes what str.isprintable() rejects: \xNN, \uNNNN or \UNNNNNNNN.
      if (cp <= 0xFF)
        std::snprintf(buf, sizeof(buf), "\\x%02x", cp);
      else if (cp <= 0xFFFF)
        std::snprintf(buf, sizeof(buf), "\\u%04x", cp);
      else
        std::snprintf(buf, sizeof(buf), "\\U%08x", cp);
      out += buf;
    } else {
      utf8_append(out, cp);
    }
  }
  out += quote;
  return out;
}

}  // namespace

std::string python_str_repr(const std::string& s) { return repr_string(s); }

namespace {

Status nested_too_deep() {
  return invalid_argument("value nested deeper than " + std::to_string(kMaxValueDepth) + " levels");
}

Status printed_too_long(size_t max_bytes) {
  return invalid_argument("printed value exceeds " + std::to_string(max_bytes) + " bytes");
}

// Appends repr(v). Every value visited appends at least one byte, so checking the budget on
// entry bounds the work even when sub-values are shared (a list holding one list twice, 40
// times over, prints 2^40 items). `level` counts the containers enclosing v.
Status append_repr(std::string& out, const Value& v, size_t max_bytes, int level) {
  if (out.size() > max_bytes) return printed_too_long(max_bytes);
  switch (v.kind()) {
    case ValueKind::kUndefined:
      return Status::ok();
    case ValueKind::kNone:
      out += "None";
      return Status::ok();
    case ValueKind::kBool:
      out += v.as_bool() ? "True" : "False";
      return Status::ok();
    case ValueKind::kInt:
      out += std::to_string(v.as_int());
      return Status::ok();
    case ValueKind::kFloat:
      out += python_float_repr(v.as_double());
      return Status::ok();
    case ValueKind::kString:
      out += repr_string(v.as_string());
      return Status::ok();
    case ValueKind::kList: {
      if (level >= kMaxValueDepth) return nested_too_deep();
      const ValueList& l = v.as_list();
      out += l.is_tuple ? "(" : "[";
      for (size_t k = 0; k < l.items.size(); ++k) {
        if (k) out += ", ";
        LONGCTX_RETURN_IF_ERROR(append_repr(out, l.items[k], max_bytes, level + 1));
      }
      if (l.is_tuple && l.items.size() == 1) out += ",";
      out += l.is_tuple ? ")" : "]";
      return Status::ok();
    }
    case ValueKind::kDict:
    case ValueKind::kNamespace: {
      if (level >= kMaxValueDepth) return nested_too_deep();
      const bool ns = v.is_namespace();
      out += ns ? "<Namespace {" : "{";
      const auto& items = v.as_dict().items;
      for (size_t k = 0; k < items.size(); ++k) {
        if (k) out += ", ";
        out += repr_string(items[k].first) + ": ";
        LONGCTX_RETURN_IF_ERROR(append_repr(out, items[k].second, max_bytes, level + 1));
      }
      out += ns ? "}>" : "}";
      return Status::ok();
    }
    case ValueKind::kCallable:
      out += "<function " + v.as_callable().name + ">";
      return Status::ok();
  }
  return Status::ok();
}

}  // namespace

Result<std::string> Value::str(size_t max_bytes) const {
  if (kind_ == ValueKind::kString) return str_;  // already exists; printing copies it as is
  return repr(max_bytes);
}

Result<std::string> Value::repr(size_t max_bytes) const {
  std::string out;
  LONGCTX_RETURN_IF_ERROR(append_repr(out, *this, max_bytes, 0));
  if (out.size() > max_bytes) return printed_too_long(max_bytes);
  return out;
}

std::string Value::str_for_message() const {
  constexpr size_t kMessageBytes = 200;
  if (kind_ == ValueKind::kString && str_.size() > kMessageBytes) {
    size_t n = kMessageBytes;
    while (n > 0 && (static_cast<unsigned char>(str_[n]) & 0xC0) == 0x80) --n;  // whole chars
    return str_.substr(0, n) + "...";
  }
  auto s = str(kMessageBytes);
  return s.is_ok() ? *s : std::string("<") + type_name() + " object>";
}

namespace {

// values_equal with the nesting `level` of a and b and a shared budget of item pairs.
Result<bool> equal_at(const Value& a, const Value& b, int level, uint64_t& budget) {
  if (budget == 0) {
    return invalid_argument("comparison visits more than " + std::to_string(kMaxCompareItems) +
                            " items");
  }
  --budget;
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_double() == b.as_double();
    return a.as_int() == b.as_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case ValueKind::kUndefined:
    case ValueKind::kNone:
      return true;
    case ValueKind::kString:
      return a.as_string() == b.as_string();
    case ValueKind::kList: {
      const auto& x = a.as_list();
      const auto& y = b.as_list();
      if (&x == &y) return true;  // Python: identical items compare equal without a look inside
      if (x.is_tuple != y.is_tuple || x.items.size() != y.items.size()) return false;
      if (level >= kMaxValueDepth) return nested_too_deep();
      for (size_t k = 0; k < x.items.size(); ++k) {
        auto eq = equal_at(x.items[k], y.items[k], level + 1, budget);
        if (!eq.is_ok() || !*eq) return eq;
      }
      return true;
    }
    case ValueKind::kDict: {
      const auto& x = a.as_dict();
      const auto& y = b.as_dict();
      if (&x == &y) return true;
      if (x.items.size() != y.items.size()) return false;
      if (level >= kMaxValueDepth) return nested_too_deep();
      for (const auto& [k, v] : x.items) {
        const Value* other = y.find(k);
        if (!other) return false;
        auto eq = equal_at(v, *other, level + 1, budget);
        if (!eq.is_ok() || !*eq) return eq;
      }
      return true;
    }
    case ValueKind::kNamespace:
      return &a.as_dict() == &b.as_dict();
    case ValueKind::kCallable:
      return &a.as_callable() == &b.as_callable();
    default:
      return false;
  }
}

Result<bool> less_at(const Value& a, const Value& b, int level, uint64_t& budget) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_double() < b.as_double();
    return a.as_int() < b.as_int();
  }
  // UTF-8 byte order equals code-point order, which is how Python orders str.
  if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();
  if (a.is_list() && b.is_list()) {
    if (level >= kMaxValueDepth) return nested_too_deep();
    const auto& x = a.as_list().items;
    const auto& y = b.as_list().items;
    for (size_t k = 0; k < x.size() && k < y.size(); ++k) {
      auto eq = equal_at(x[k], y[k], level + 1, budget);
      if (!eq.is_ok()) return eq;
      if (*eq) continue;
      return less_at(x[k], y[k], level + 1, budget);
    }
    return x.size() < y.size();
  }
  return invalid_argument(std::string("'<' not supported between instances of '") + a.type_name() +
                          "' and '" + b.type_name() + "'");
}

}  // namespace

Result<bool> values_equal(const Value& a, const Value& b) {
  uint64_t budget = kMaxCompareItems;
  return equal_at(a, b, 0, budget);
}

Result<bool> value_less(const Value& a, const Value& b) {
  uint64_t budget = kMaxCompareItems;
  return less_at(a, b, 0, budget);
}

}  // namespace longctx::chat
