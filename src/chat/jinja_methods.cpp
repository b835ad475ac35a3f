// Attribute and item access, slicing, iteration, global functions, and the Python methods of
// str / dict / list that templates call (s.startswith, d.items(), ...), under jinja2's
// ImmutableSandboxedEnvironment rules: methods that mutate a list or dict are refused.
#include <algorithm>
#include <ctime>

#include <utf8proc.h>

#include "chat/jinja_builtins.h"

namespace longctx::chat {

std::string py_lower(const std::string& s) {
  std::string out;
  for (uint32_t cp : utf8_decode(s))
    utf8_append(out, static_cast<uint32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
  return out;
}

std::string py_upper(const std::string& s) {
  std::string out;
  for (uint32_t cp : utf8_decode(s)) {
    if (cp == 0xDF) {  // Python applies the full mapping: "ß".upper() == "SS"
      out += "SS";
      continue;
    }
    utf8_append(out, static_cast<uint32_t>(utf8proc_toupper(static_cast<utf8proc_int32_t>(cp))));
  }
  return out;
}

std::string py_capitalize(const std::string& s) {
  auto cps = utf8_decode(s);
  std::string out;
  for (size_t k = 0; k < cps.size(); ++k) {
    auto cp = static_cast<utf8proc_int32_t>(cps[k]);
    utf8_append(out, static_cast<uint32_t>(k == 0 ? utf8proc_totitle(cp) : utf8proc_tolower(cp)));
  }
  return out;
}

std::string py_strip(const std::string& s, const Value& chars, bool left, bool right) {
  auto cps = utf8_decode(s);
  std::vector<uint32_t> set;
  const bool whitespace = !chars.is_string();
  if (!whitespace) set = utf8_decode(chars.as_string());
  auto strip_it = [&](uint32_t cp) {
    return whitespace ? is_python_space(cp) : std::find(set.begin(), set.end(), cp) != set.end();
  };
  size_t b = 0, e = cps.size();
  if (left) {
    while (b < e && strip_it(cps[b])) ++b;
  }
  if (right) {
    while (e > b && strip_it(cps[e - 1])) --e;
  }
  return utf8_encode(cps, b, e);
}

std::vector<std::string> py_splitlines(const std::string& s) {
  auto cps = utf8_decode(s);
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t k = 0; k < cps.size(); ++k) {
    uint32_t c = cps[k];
    bool brk = c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || (c >= 0x1C && c <= 0x1E) ||
               c == 0x85 || c == 0x2028 || c == 0x2029;
    if (!brk) continue;
    lines.push_back(utf8_encode(cps, start, k));
    if (c == '\r' && k + 1 < cps.size() && cps[k + 1] == '\n') ++k;
    start = k + 1;
  }
  if (start < cps.size()) lines.push_back(utf8_encode(cps, start, cps.size()));
  return lines;
}

namespace {

Status arg_error(const std::string& method, const std::string& msg) {
  return invalid_format(method + "(): " + msg);
}

// str.split / str.rsplit. sep none: runs of whitespace, no empty parts.
Result<Value> split(const std::string& s, const Value* sep, const Value* maxsplit_v,
                    bool from_right) {
  int64_t maxsplit =
      maxsplit_v && (maxsplit_v->is_int() || maxsplit_v->is_bool()) ? maxsplit_v->as_int() : -1;
  auto cps = utf8_decode(s);
  std::vector<std::string> parts;
  if (!sep || sep->is_none()) {
    // Whitespace split: tokens are maximal non-space runs; maxsplit limits splits.
    std::vector<std::pair<size_t, size_t>> words;
    size_t k = 0;
    while (k < cps.size()) {
      while (k < cps.size() && is_python_space(cps[k])) ++k;
      if (k == cps.size()) break;
      size_t b = k;
      while (k < cps.size() && !is_python_space(cps[k])) ++k;
      words.emplace_back(b, k);
    }
    if (maxsplit < 0 || static_cast<size_t>(maxsplit) + 1 >= words.size()) {
      for (auto [b, e] : words) parts.push_back(utf8_encode(cps, b, e));
    } else if (!from_right) {
      for (int64_t w = 0; w < maxsplit; ++w)
        parts.push_back(utf8_encode(cps, words[w].first, words[w].second));
      size_t rest = words[maxsplit].first, end = cps.size();
      while (end > rest && is_python_space(cps[end - 1])) --end;
      parts.push_back(utf8_encode(cps, rest, end));
    } else {
      size_t first_kept = words.size() - static_cast<size_t>(maxsplit);
      size_t b = 0, end = words[first_kept - 1].second;
      while (b < end && is_python_space(cps[b])) ++b;
      parts.push_back(utf8_encode(cps, b, end));
      for (size_t w = first_kept; w < words.size(); ++w)
        parts.push_back(utf8_encode(cps, words[w].first, words[w].second));
    }
  } else {
    if (!sep->is_string()) return arg_error("split", "must be str or None");
    const std::string& d = sep->as_string();
    if (d.empty()) return arg_error("split", "empty separator");
    // Work on bytes: a UTF-8 separator matches only at code-point boundaries.
    if (!from_right) {
      size_t start = 0;
      int64_t n = 0;
      while (maxsplit < 0 || n < maxsplit) {
        size_t p = s.find(d, start);
        if (p == std::string::npos) break;
        parts.push_back(s.substr(start, p - start));
        start = p + d.size();
        ++n;
      }
      parts.push_back(s.substr(start));
    } else {
      size_t end = s.size();
      int64_t n = 0;
      std::vector<std::string> rev;
      while (maxsplit < 0 || n < maxsplit) {
        if (end < d.size()) break;
        size_t p = s.rfind(d, end - d.size());
        if (p == std::string::npos) break;
        rev.push_back(s.substr(p + d.size(), end - p - d.size()));
        end = p;
        ++n;
      }
      rev.push_back(s.substr(0, end));
      parts.assign(rev.rbegin(), rev.rend());
    }
  }
  std::vector<Value> items;
  for (auto& p : parts) items.push_back(Value::string(std::move(p)));
  return Value::list(std::move(items));
}

bool affix_match(const std::string& s, const Value& affix, bool prefix) {
  auto one = [&](const std::string& a) {
    if (a.size() > s.size()) return false;
    return prefix ? s.compare(0, a.size(), a) == 0
                  : s.compare(s.size() - a.size(), a.size(), a) == 0;
  };
  if (affix.is_string()) return one(affix.as_string());
  if (affix.is_list()) {
    for (const auto& a : affix.as_list().items) {
      if (a.is_string() && one(a.as_string())) return true;
    }
  }
  return false;
}

size_t count_substr(const std::string& s, const std::string& sub) {
  if (sub.empty()) return utf8_decode(s).size() + 1;
  size_t n = 0;
  for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
  return n;
}

// Byte offset -> code-point index, for find()/rfind().
int64_t cp_index(const std::string& s, size_t byte_pos) {
  return static_cast<int64_t>(utf8_decode(std::string_view(s).substr(0, byte_pos)).size());
}

Result<Value> string_method(const std::string& s, const std::string& name, const CallArgs& a) {
  const Value* a0 = a.get(0, "");
  auto need_str = [&](const Value* v) -> Status {
    if (!v || !v->is_string()) return arg_error(name, "expects a string argument");
    return Status::ok();
  };
  if (name == "startswith" || name == "endswith") {
    if (!a0 || !(a0->is_string() || a0->is_list()))
      return arg_error(name, "expects a string or tuple");
    return Value::boolean(affix_match(s, *a0, name == "startswith"));
  }
  if (name == "split" || name == "rsplit")
    return split(s, a.get(0, "sep"), a.get(1, "maxsplit"), name == "rsplit");
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    return Value::string(py_strip(s, a0 ? *a0 : Value::none(), name != "rstrip", name != "lstrip"));
  }
  if (name == "upper") return Value::string(py_upper(s));
  if (name == "lower") return Value::string(py_lower(s));
  if (name == "capitalize") return Value::string(py_capitalize(s));
  if (name == "title") {
    // Python str.title: a letter after a non-letter starts a word.
    std::string out;
    bool prev_cased = false;
    for (uint32_t cp : utf8_decode(s)) {
      auto c = static_cast<utf8proc_int32_t>(cp);
      bool cased = utf8proc_tolower(c) != c || utf8proc_toupper(c) != c;
      utf8_append(out, static_cast<uint32_t>(
                           cased ? (prev_cased ? utf8proc_tolower(c) : utf8proc_totitle(c)) : c));
      prev_cased = cased;
    }
    return Value::string(out);
  }
  if (name == "replace") {
    LONGCTX_RETURN_IF_ERROR(need_str(a0));
    const Value* nv = a.get(1, "new");
    LONGCTX_RETURN_IF_ERROR(need_str(nv));
    const Value* cv = a.get(2, "count");
    int64_t count = cv && cv->is_int() ? cv->as_int() : -1;
    const std::string& from = a0->as_string();
    const std::string& to = nv->as_string();
    std::string out;
    if (from.empty()) {
      // Python inserts `to` between every code point (and at both ends).
      auto cps = utf8_decode(s);
      int64_t n = 0;
      for (size_t k = 0; k <= cps.size(); ++k) {
        if (count < 0 || n < count) {
          out += to;
          ++n;
        }
        if (k < cps.size()) utf8_append(out, cps[k]);
      }
      return Value::string(out);
    }
    size_t start = 0;
    int64_t n = 0;
    while (count < 0 || n < count) {
      size_t p = s.find(from, start);
      if (p == std::string::npos) break;
      out.append(s, start, p - start);
      out += to;
      start = p + from.size();
      ++n;
    }
    out.append(s, start, std::string::npos);
    return Value::string(out);
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex") {
    LONGCTX_RETURN_IF_ERROR(need_str(a0));
    size_t p =
        (name == "find" || name == "index") ? s.find(a0->as_string()) : s.rfind(a0->as_string());
    if (p == std::string::npos && (name == "index" || name == "rindex"))
      return arg_error(name, "substring not found");
    return Value::integer(p == std::string::npos ? -1 : cp_index(s, p));
  }
  if (name == "count") {
    LONGCTX_RETURN_IF_ERROR(need_str(a0));
    return Value::integer(static_cast<int64_t>(count_substr(s, a0->as_string())));
  }
  if (name == "join") {
    if (!a0) return arg_error(name, "expects an iterable");
    auto items = iterate(*a0);
    if (!items.is_ok()) return items.status();
    std::string out;
    for (size_t k = 0; k < items->size(); ++k) {
      if (!(*items)[k].is_string())
        return arg_error(name, "sequence item " + std::to_string(k) + ": expected str");
      if (k) out += s;
      out += (*items)[k].as_string();
    }
    return Value::string(out);
  }
  if (name == "removeprefix" || name == "removesuffix") {
    LONGCTX_RETURN_IF_ERROR(need_str(a0));
    bool prefix = name == "removeprefix";
    if (!affix_match(s, *a0, prefix)) return Value::string(s);
    size_t n = a0->as_string().size();
    return Value::string(prefix ? s.substr(n) : s.substr(0, s.size() - n));
  }
  if (name == "splitlines") {
    std::vector<Value> items;
    for (auto& l : py_splitlines(s)) items.push_back(Value::string(l));
    return Value::list(std::move(items));
  }
  if (name.rfind("is", 0) == 0) {
    auto cps = utf8_decode(s);
    if (cps.empty()) return Value::boolean(false);
    bool all = true, any_cased = false;
    for (uint32_t cp : cps) {
      auto c = static_cast<utf8proc_int32_t>(cp);
      auto cat = utf8proc_category(c);
      bool is_alpha = cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
      bool is_digit = cat == UTF8PROC_CATEGORY_ND;
      bool lower = utf8proc_toupper(c) != c, upper = utf8proc_tolower(c) != c;
      any_cased = any_cased || lower || upper;
      if (name == "isdigit" || name == "isnumeric" || name == "isdecimal")
        all = all && is_digit;
      else if (name == "isalpha")
        all = all && is_alpha;
      else if (name == "isalnum")
        all = all && (is_alpha || is_digit);
      else if (name == "isspace")
        all = all && is_python_space(cp);
      else if (name == "islower")
        all = all && !upper;
      else if (name == "isupper")
        all = all && !lower;
      else
        return unsupported("str." + name + "() is not supported");
    }
    if (name == "islower" || name == "isupper") all = all && any_cased;
    return Value::boolean(all);
  }
  return unsupported("str." + name + "() is not supported");
}

bool is_string_method(const std::string& n) {
  static const char* kNames[] = {
      "startswith",   "endswith",     "split",      "rsplit",     "strip",     "lstrip",
      "rstrip",       "upper",        "lower",      "capitalize", "title",     "replace",
      "find",         "rfind",        "index",      "rindex",     "count",     "join",
      "removeprefix", "removesuffix", "splitlines", "isdigit",    "isnumeric", "isdecimal",
      "isalpha",      "isalnum",      "isspace",    "islower",    "isupper",   "format"};
  return std::find_if(std::begin(kNames), std::end(kNames),
                      [&](const char* k) { return n == k; }) != std::end(kNames);
}

Value unsafe(const char* type, const std::string& name) {
  return Value::undefined("access to attribute '" + name + "' of '" + type + "' object is unsafe.");
}

Value bound(const std::string& name, std::function<Result<Value>(const CallArgs&)> fn) {
  return Value::callable(name, std::move(fn));
}

Value dict_method(const Value& obj, const std::string& name) {
  if (name == "items" || name == "keys" || name == "values") {
    return bound(name, [obj, name](const CallArgs&) -> Result<Value> {
      std::vector<Value> out;
      for (const auto& [k, v] : obj.as_dict().items) {
        if (name == "items")
          out.push_back(Value::list({Value::string(k), v}, true));
        else
          out.push_back(name == "keys" ? Value::string(k) : v);
      }
      return Value::list(std::move(out));
    });
  }
  if (name == "get") {
    return bound(name, [obj](const CallArgs& a) -> Result<Value> {
      const Value* key = a.get(0, "key");
      if (!key) return arg_error("get", "expects a key");
      const Value* def = a.get(1, "default");
      const Value* found = key->is_string() ? obj.as_dict().find(key->as_string()) : nullptr;
      if (found) return *found;
      return def ? *def : Value::none();
    });
  }
  return Value::undefined();
}

bool is_dict_method(const std::string& n) {
  return n == "items" || n == "keys" || n == "values" || n == "get";
}
bool is_unsafe_dict_method(const std::string& n) {
  return n == "clear" || n == "pop" || n == "popitem" || n == "setdefault" || n == "update";
}
bool is_unsafe_list_method(const std::string& n) {
  return n == "append" || n == "clear" || n == "extend" || n == "insert" || n == "pop" ||
         n == "remove" || n == "reverse" || n == "sort";
}

Value missing_attr(const Value& obj, const std::string& name) {
  return Value::undefined(std::string("'") + obj.type_name() + " object' has no attribute '" +
                          name + "'");
}

}  // namespace

Value get_attr(const Value& obj, const std::string& name) {
  switch (obj.kind()) {
    case ValueKind::kNamespace: {
      const Value* v = obj.as_dict().find(name);
      return v ? *v : missing_attr(obj, name);
    }
    case ValueKind::kDict: {
      // jinja2 tries the Python attribute first: d.items is the method even if "items" is a key.
      if (is_dict_method(name)) return dict_method(obj, name);
      if (is_unsafe_dict_method(name)) return unsafe("dict", name);
      const Value* v = obj.as_dict().find(name);
      return v ? *v : missing_attr(obj, name);
    }
    case ValueKind::kString:
      if (!is_string_method(name)) return missing_attr(obj, name);
      if (name == "format") return unsafe("str", name);
      return bound(name, [s = obj.as_string(), name](const CallArgs& a) {
        return string_method(s, name, a);
      });
    case ValueKind::kList:
      if (is_unsafe_list_method(name)) return unsafe("list", name);
      if (name == "index" || name == "count") {
        return bound(name, [obj, name](const CallArgs& a) -> Result<Value> {
          const Value* x = a.get(0, "value");
          if (!x) return arg_error(name, "expects a value");
          int64_t n = 0;
          const auto& items = obj.as_list().items;
          for (size_t k = 0; k < items.size(); ++k) {
            auto eq = values_equal(items[k], *x);
            if (!eq.is_ok()) return eq.status();
            if (!*eq) continue;
            if (name == "index") return Value::integer(static_cast<int64_t>(k));
            ++n;
          }
          if (name == "index") return arg_error(name, "value is not in list");
          return Value::integer(n);
        });
      }
      return missing_attr(obj, name);
    default:
      return missing_attr(obj, name);
  }
}

Value get_item(const Value& obj, const Value& key) {
  if (obj.is_dict() || obj.is_namespace()) {
    // Subscript tries the key first, then the attribute (d['items'] is the key when present).
    if (key.is_string()) {
      const Value* v = obj.as_dict().find(key.as_string());
      if (v) return *v;
      return get_attr(obj, key.as_string());
    }
    return Value::undefined("'dict object' has no attribute '" + key.str_for_message() + "'");
  }
  if ((obj.is_list() || obj.is_string()) && (key.is_int() || key.is_bool())) {
    int64_t i = key.as_int();
    if (obj.is_list()) {
      const auto& items = obj.as_list().items;
      auto n = static_cast<int64_t>(items.size());
      if (i < 0) i += n;
      if (i < 0 || i >= n)
        return Value::undefined(std::string("'") + obj.type_name() + " object' has no element " +
                                key.str_for_message());
      return items[static_cast<size_t>(i)];
    }
    auto cps = utf8_decode(obj.as_string());
    auto n = static_cast<int64_t>(cps.size());
    if (i < 0) i += n;
    if (i < 0 || i >= n)
      return Value::undefined("'str object' has no element " + key.str_for_message());
    return Value::string(utf8_encode(cps, static_cast<size_t>(i), static_cast<size_t>(i) + 1));
  }
  if (key.is_string()) return get_attr(obj, key.as_string());
  return Value::undefined(std::string("'") + obj.type_name() + " object' has no element " +
                          key.str_for_message());
}

Result<Value> slice_value(const Value& obj, const Value& start, const Value& stop,
                          const Value& step) {
  auto as_index = [](const Value& v, const char* what) -> Result<int64_t> {
    if (v.is_int() || v.is_bool()) return v.as_int();
    return invalid_format(std::string("slice ") + what + " must be an integer or None, not " +
                          v.type_name());
  };
  int64_t st = 1;
  if (!step.is_none()) {
    auto r = as_index(step, "step");
    if (!r.is_ok()) return r.status();
    st = *r;
    if (st == 0) return invalid_format("slice step cannot be zero");
  }
  std::vector<uint32_t> cps;
  int64_t n = 0;
  if (obj.is_string()) {
    cps = utf8_decode(obj.as_string());
    n = static_cast<int64_t>(cps.size());
  } else if (obj.is_list()) {
    n = static_cast<int64_t>(obj.as_list().items.size());
  } else {
    return invalid_format(std::string("'") + obj.type_name() + "' object is not subscriptable");
  }
  // Python's slice.indices(): clamp each bound into range for the step's direction.
  auto bound = [&](const Value& v, int64_t def) -> Result<int64_t> {
    if (v.is_none()) return def;
    auto r = as_index(v, "index");
    if (!r.is_ok()) return r;
    int64_t i = *r;
    if (i < 0) i += n;
    if (st > 0) return std::clamp<int64_t>(i, 0, n);
    return std::clamp<int64_t>(i, -1, n - 1);
  };
  auto b = bound(start, st > 0 ? 0 : n - 1);
  if (!b.is_ok()) return b.status();
  auto e = bound(stop, st > 0 ? n : -1);
  if (!e.is_ok()) return e.status();
  std::vector<size_t> idx;
  for (int64_t i = *b; st > 0 ? i < *e : i > *e; i += st) idx.push_back(static_cast<size_t>(i));
  if (obj.is_string()) {
    std::string out;
    for (size_t i : idx) utf8_append(out, cps[i]);
    return Value::string(out);
  }
  std::vector<Value> items;
  for (size_t i : idx) items.push_back(obj.as_list().items[i]);
  return Value::list(std::move(items), obj.as_list().is_tuple);
}

Result<std::vector<Value>> iterate(const Value& v) {
  std::vector<Value> out;
  switch (v.kind()) {
    case ValueKind::kUndefined:
      return out;
    case ValueKind::kList:
      return v.as_list().items;
    case ValueKind::kDict:
      for (const auto& [k, x] : v.as_dict().items) out.push_back(Value::string(k));
      return out;
    case ValueKind::kString:
      for (uint32_t cp : utf8_decode(v.as_string())) {
        std::string s;
        utf8_append(s, cp);
        out.push_back(Value::string(std::move(s)));
      }
      return out;
    default:
      return invalid_format(std::string("'") + v.type_name() + "' object is not iterable");
  }
}

namespace {

Result<Value> range_fn(const CallArgs& a) {
  std::vector<int64_t> n;
  for (const auto& v : a.positional) {
    if (!v.is_int() && !v.is_bool())
      return invalid_format(std::string("range() expects integers, got ") + v.type_name());
    n.push_back(v.as_int());
  }
  if (n.empty() || n.size() > 3) return invalid_format("range() takes 1 to 3 arguments");
  int64_t start = n.size() == 1 ? 0 : n[0], stop = n.size() == 1 ? n[0] : n[1],
          step = n.size() == 3 ? n[2] : 1;
  if (step == 0) return invalid_format("range() arg 3 must not be zero");
  // Length computed in long double so extreme bounds cannot overflow.
  long double len = step > 0 ? ((long double)stop - start + step - 1) / step
                             : ((long double)start - stop - step - 1) / -step;
  if (len > kMaxRange) {
    return invalid_format("Range too big. The sandbox blocks ranges larger than MAX_RANGE (" +
                          std::to_string(kMaxRange) + ").");
  }
  std::vector<Value> items;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step)
    items.push_back(Value::integer(i));
  return Value::list(std::move(items));
}

Result<Value> namespace_fn(const CallArgs& a, bool is_namespace) {
  auto d = std::make_shared<ValueDict>();
  for (const auto& v : a.positional) {
    if (!v.is_dict())
      return invalid_format(is_namespace ? "namespace() takes a dict and keywords"
                                         : "dict() takes a dict and keywords");
    for (const auto& [k, x] : v.as_dict().items) d->set(k, x);
  }
  for (const auto& [k, x] : a.keyword) d->set(k, x);
  return is_namespace ? Value::name_space(d) : Value::dict(d);
}

}  // namespace

// raise_exception(message) prints a non-string message as str() would, up to this size.
constexpr size_t kMaxRaiseMessageBytes = size_t{1} << 20;

void add_globals(ValueDict& globals) {
  globals.set("range", Value::callable("range", range_fn));
  globals.set("namespace", Value::callable("namespace", [](const CallArgs& a) {
                return namespace_fn(a, true);
              }));
  globals.set("dict",
              Value::callable("dict", [](const CallArgs& a) { return namespace_fn(a, false); }));
  globals.set("raise_exception",
              Value::callable("raise_exception", [](const CallArgs& a) -> Result<Value> {
                const Value* m = a.get(0, "message");
                auto text = m ? m->str(kMaxRaiseMessageBytes) : Result<std::string>(std::string());
                if (!text.is_ok()) return text.status();
                return invalid_argument(std::string(kRaiseExceptionPrefix) + *text);
              }));
  // Hugging Face's strftime_now(format): the local time now, formatted by strftime.
  globals.set("strftime_now",
              Value::callable("strftime_now", [](const CallArgs& a) -> Result<Value> {
                const Value* f = a.get(0, "format");
                if (!f || !f->is_string())
                  return invalid_format("strftime_now() expects a format string");
                if (f->as_string().size() > 256)
                  return invalid_format("strftime_now() format longer than 256 bytes");
                std::time_t now = std::time(nullptr);
                std::tm tm{};
                localtime_r(&now, &tm);
                char buf[1024];
                size_t n = std::strftime(buf, sizeof(buf), f->as_string().c_str(), &tm);
                return Value::string(std::string(buf, n));
              }));
}

}  // namespace longctx::chat
