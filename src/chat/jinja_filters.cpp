// jinja2's built-in filters and tests, as Hugging Face's environment has them (its tojson
// replaces jinja2's: json.dumps with ensure_ascii=False and no HTML escaping, key order kept).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "chat/jinja_builtins.h"

namespace longctx::chat {
namespace {

Status filter_error(std::string_view filter, const std::string& msg) {
  return invalid_format("filter '" + std::string(filter) + "': " + msg);
}

bool flag(const CallArgs& a, size_t index, std::string_view name, bool def) {
  const Value* v = a.get(index, name);
  return v ? v->truthy() : def;
}

// Looks up a dotted attribute path ("a.b" or "0") the way jinja2's make_attrgetter does.
Value attr_path(const Value& obj, const std::string& path) {
  Value cur = obj;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool numeric = !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit);
    cur = numeric ? get_item(cur, Value::integer(std::atoll(part.c_str())))
                  : get_item(cur, Value::string(part));
    if (dot == std::string::npos || cur.is_undefined()) return cur;
    start = dot + 1;
  }
}

// Sort key for sort/unique/min/max: the attribute, lower-cased unless case sensitive.
Value sort_key(const Value& v, const Value* attribute, bool case_sensitive) {
  Value k = attribute && attribute->is_string() ? attr_path(v, attribute->as_string()) : v;
  if (!case_sensitive && k.is_string()) return Value::string(py_lower(k.as_string()));
  return k;
}

Result<std::vector<Value>> sorted(const std::vector<Value>& items, const Value* attribute,
                                  bool case_sensitive, bool reverse) {
  std::vector<std::pair<Value, Value>> keyed;
  for (const auto& v : items) keyed.emplace_back(sort_key(v, attribute, case_sensitive), v);
  Status err;
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
    auto lt = reverse ? value_less(y.first, x.first) : value_less(x.first, y.first);
    if (!lt.is_ok()) {
      if (err.is_ok()) err = lt.status();
      return false;
    }
    return *lt;
  });
  if (!err.is_ok()) return err;
  std::vector<Value> out;
  for (auto& [k, v] : keyed) out.push_back(std::move(v));
  return out;
}

// Whether some item of `items` equals `v` (Python's `v in items`).
Result<bool> contains_equal(const std::vector<Value>& items, const Value& v) {
  for (const auto& x : items) {
    auto eq = values_equal(x, v);
    if (!eq.is_ok() || *eq) return eq;
  }
  return false;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Python's int(str): optional sign, digits, surrounding whitespace, underscores between digits.
bool parse_int(const std::string& text, int64_t* out) {
  std::string s = py_strip(text, Value::none(), true, true);
  std::string digits;
  size_t k = 0;
  if (k < s.size() && (s[k] == '+' || s[k] == '-')) digits += s[k++];
  if (k >= s.size()) return false;
  for (; k < s.size(); ++k) {
    if (std::isdigit(static_cast<unsigned char>(s[k])))
      digits += s[k];
    else if (s[k] != '_')
      return false;
  }
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(digits.c_str(), &end, 10);
  if (errno == ERANGE || *end) return false;
  *out = v;
  return true;
}

bool parse_float(const std::string& text, double* out) {
  std::string s = py_strip(text, Value::none(), true, true);
  if (s.empty()) return false;
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (*end) return false;
  *out = d;
  return true;
}

// Python round(x, n): round-half-even on the exact binary value, which printf's %.*f also does.
double py_round(double x, int64_t precision) {
  if (!std::isfinite(x)) return x;
  if (precision == 0) return std::nearbyint(x);
  if (precision < 0 || precision > 300) return x;
  char buf[512];
  std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(precision), x);
  return std::strtod(buf, nullptr);
}

Result<Value> tojson(const Value& in, const CallArgs& a, size_t max_bytes) {
  JsonDumpOptions o;
  o.max_bytes = max_bytes;
  if (const Value* ind = a.get(0, "indent"); ind && !ind->is_none()) {
    if (!ind->is_int()) return filter_error("tojson", "indent must be an integer");
    o.indent = static_cast<int>(std::clamp<int64_t>(ind->as_int(), 0, 64));
  }
  o.ensure_ascii = flag(a, 99, "ensure_ascii", false);
  o.sort_keys = flag(a, 99, "sort_keys", false);
  if (const Value* sep = a.get(99, "separators"); sep && sep->is_list()) {
    const auto& parts = sep->as_list().items;
    if (parts.size() != 2 || !parts[0].is_string() || !parts[1].is_string()) {
      return filter_error("tojson", "separators must be two strings");
    }
    o.item_separator = parts[0].as_string();
    o.key_separator = parts[1].as_string();
  }
  auto s = json_dumps(in, o);
  if (!s.is_ok()) return s.status();
  return Value::string(std::move(*s));
}

Result<Value> select_like(FilterHost& host, std::string_view name, const Value& in,
                          const CallArgs& a) {
  const bool by_attr = name == "selectattr" || name == "rejectattr";
  const bool keep_if = name == "select" || name == "selectattr";
  auto items = iterate(in);
  if (!items.is_ok()) return items.status();
  size_t next = 0;
  std::string attr;
  if (by_attr) {
    if (a.positional.empty() || !a.positional[0].is_string())
      return filter_error(name, "expects an attribute name");
    attr = a.positional[0].as_string();
    next = 1;
  }
  std::string test;
  if (next < a.positional.size()) {
    if (!a.positional[next].is_string()) return filter_error(name, "expects a test name");
    test = a.positional[next].as_string();
  }
  CallArgs test_args;
  for (size_t k = next + 1; k < a.positional.size(); ++k)
    test_args.positional.push_back(a.positional[k]);
  std::vector<Value> out;
  for (const auto& item : *items) {
    Value v = by_attr ? attr_path(item, attr) : item;
    bool pass = v.truthy();
    if (!test.empty()) {
      auto r = host.test(test, v, test_args);
      if (!r.is_ok()) return r.status();
      pass = *r;
    }
    if (pass == keep_if) out.push_back(item);
  }
  return Value::list(std::move(out));
}

Result<Value> map_filter(FilterHost& host, const Value& in, const CallArgs& a) {
  auto items = iterate(in);
  if (!items.is_ok()) return items.status();
  std::vector<Value> out;
  if (const Value* attr = a.get(99, "attribute")) {
    if (!attr->is_string()) return filter_error("map", "attribute must be a string");
    const Value* def = a.get(99, "default");
    for (const auto& item : *items) {
      Value v = attr_path(item, attr->as_string());
      out.push_back(v.is_undefined() && def ? *def : v);
    }
    return Value::list(std::move(out));
  }
  if (a.positional.empty() || !a.positional[0].is_string())
    return filter_error("map", "expects a filter name or attribute=");
  CallArgs rest;
  for (size_t k = 1; k < a.positional.size(); ++k) rest.positional.push_back(a.positional[k]);
  rest.keyword = a.keyword;
  for (const auto& item : *items) {
    auto v = host.filter(a.positional[0].as_string(), item, rest);
    if (!v.is_ok()) return v.status();
    out.push_back(std::move(*v));
  }
  return Value::list(std::move(out));
}

Result<Value> indent(const std::string& in, const CallArgs& a, size_t max_bytes) {
  std::string pad(4, ' ');
  if (const Value* w = a.get(0, "width")) {
    if (w->is_string())
      pad = w->as_string();
    else if (w->is_int())
      pad.assign(static_cast<size_t>(std::clamp<int64_t>(w->as_int(), 0, 256)), ' ');
    else
      return filter_error("indent", "width must be an integer or string");
  }
  const bool first = flag(a, 1, "first", false);
  const bool blank = flag(a, 2, "blank", false);
  // jinja2 appends "\n" before splitlines(), so a trailing newline does not add a line.
  auto lines = py_splitlines(in + "\n");
  std::string out;
  for (size_t k = 0; k < lines.size(); ++k) {
    if (k) out += "\n";
    if (k > 0 && (blank || !lines[k].empty())) out += pad;
    out += lines[k];
    if (out.size() > max_bytes) return filter_error("indent", "result too long");
  }
  if (first) out = pad + out;
  return Value::string(out);
}

bool is_text_filter(std::string_view name) {
  for (std::string_view t : {"escape", "e", "trim", "lower", "upper", "capitalize", "title",
                             "replace", "indent", "wordcount"}) {
    if (name == t) return true;
  }
  return false;
}

// The filters that work on str(input): `s` is that text, within the string budget.
Result<Value> text_filter(std::string_view name, const std::string& s, const CallArgs& a,
                          size_t max_bytes) {
  const Value* a0 = a.get(0, "");
  if (name == "escape" || name == "e") return Value::string(html_escape(s));
  if (name == "trim") return Value::string(py_strip(s, a0 ? *a0 : Value::none(), true, true));
  if (name == "lower") return Value::string(py_lower(s));
  if (name == "upper") return Value::string(py_upper(s));
  if (name == "capitalize") return Value::string(py_capitalize(s));
  if (name == "title") {
    // jinja2's title: words start after whitespace or one of - ( { [ <.
    std::string out;
    bool start = true;
    for (uint32_t cp : utf8_decode(s)) {
      bool sep =
          is_python_space(cp) || cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<';
      std::string one;
      utf8_append(one, cp);
      out += sep ? one : (start ? py_upper(one) : py_lower(one));
      start = sep;
    }
    return Value::string(out);
  }
  if (name == "replace") {
    CallArgs args;
    args.positional = a.positional;
    return get_attr(Value::string(s), "replace").as_callable().fn(args);
  }
  if (name == "indent") return indent(s, a, max_bytes);
  // wordcount
  auto words = get_attr(Value::string(s), "split").as_callable().fn(CallArgs{});
  if (!words.is_ok()) return words.status();
  return Value::integer(static_cast<int64_t>(words->as_list().items.size()));
}

Result<Value> min_max(std::string_view name, const Value& in, const CallArgs& a) {
  auto items = iterate(in);
  if (!items.is_ok()) return items.status();
  if (items->empty()) return Value::undefined("no items for " + std::string(name));
  const Value* attr = a.get(99, "attribute");
  bool cs = flag(a, 0, "case_sensitive", false);
  auto s = sorted(*items, attr, cs, false);
  if (!s.is_ok()) return s.status();
  return name == "min" ? s->front() : s->back();
}

}  // namespace

Result<Value> apply_filter(FilterHost& host, std::string_view name, const Value& in,
                           const CallArgs& a) {
  const Value* a0 = a.get(0, "");
  if (name == "tojson") return tojson(in, a, host.max_string_bytes());
  if (name == "safe" || name == "string" || is_text_filter(name)) {
    if (in.is_string() && (name == "safe" || name == "string")) return in;
    auto text = in.str(host.max_string_bytes());
    if (!text.is_ok()) return text.status();
    if (name == "safe" || name == "string") return Value::string(std::move(*text));
    return text_filter(name, *text, a, host.max_string_bytes());
  }
  if (name == "length" || name == "count") {
    if (in.is_string())
      return Value::integer(static_cast<int64_t>(utf8_decode(in.as_string()).size()));
    if (in.is_list()) return Value::integer(static_cast<int64_t>(in.as_list().items.size()));
    if (in.is_dict() || in.is_namespace())
      return Value::integer(static_cast<int64_t>(in.as_dict().items.size()));
    if (in.is_undefined()) return Value::integer(0);
    return filter_error(name, std::string("object of type '") + in.type_name() + "' has no len()");
  }
  if (name == "default" || name == "d") {
    bool use_default = in.is_undefined() || (flag(a, 1, "boolean", false) && !in.truthy());
    if (!use_default) return in;
    return a0 ? *a0 : Value::string("");
  }
  if (name == "join") {
    auto items = iterate(in);
    if (!items.is_ok()) return items.status();
    const Value* attr = a.get(1, "attribute");
    const size_t max_bytes = host.max_string_bytes();
    auto sep = a0 ? a0->str(max_bytes) : Result<std::string>(std::string());
    if (!sep.is_ok()) return sep.status();
    std::string out;
    for (size_t k = 0; k < items->size(); ++k) {
      if (k) out += *sep;
      const Value& item = (*items)[k];
      auto text =
          (attr && attr->is_string() ? attr_path(item, attr->as_string()) : item).str(max_bytes);
      if (!text.is_ok()) return text.status();
      out += *text;
      if (out.size() > max_bytes) return filter_error(name, "result too long");
    }
    return Value::string(out);
  }
  if (name == "first" || name == "last") {
    auto items = iterate(in);
    if (!items.is_ok()) return items.status();
    if (items->empty())
      return Value::undefined(std::string("No ") + std::string(name) +
                              " item, sequence was empty.");
    return name == "first" ? items->front() : items->back();
  }
  if (name == "list") {
    auto items = iterate(in);
    if (!items.is_ok()) return items.status();
    return Value::list(std::move(*items));
  }
  if (name == "reverse") {
    if (in.is_string()) {
      auto cps = utf8_decode(in.as_string());
      std::reverse(cps.begin(), cps.end());
      return Value::string(utf8_encode(cps, 0, cps.size()));
    }
    auto items = iterate(in);
    if (!items.is_ok()) return items.status();
    std::reverse(items->begin(), items->end());
    return Value::list(std::move(*items));
  }
  if (name == "items" || name == "dictsort") {
    if (in.is_undefined()) return Value::list();
    if (!in.is_dict()) return filter_error(name, "can only get item pairs from a mapping");
    std::vector<Value> out;
    for (const auto& [k, v] : in.as_dict().items)
      out.push_back(Value::list({Value::string(k), v}, true));
    if (name == "items") return Value::list(std::move(out));
    // dictsort sorts by key (case-insensitive unless case_sensitive=true).
    Value key_attr = Value::string("0");
    auto s =
        sorted(out, &key_attr, flag(a, 0, "case_sensitive", false), flag(a, 2, "reverse", false));
    if (!s.is_ok()) return s.status();
    return Value::list(std::move(*s));
  }
  if (name == "sort") {
    auto items = iterate(in);
    if (!items.is_ok()) return items.status();
    auto s = sorted(*items, a.get(2, "attribute"), flag(a, 1, "case_sensitive", false),
                    flag(a, 0, "reverse", false));
    if (!s.is_ok()) return s.status();
    return Value::list(std::move(*s));
  }
  if (name == "unique") {
    auto items = iterate(in);
    if (!items.is_ok()) return items.status();
    const Value* attr = a.get(1, "attribute");
    bool cs = flag(a, 0, "case_sensitive", false);
    std::vector<Value> out, seen;
    for (const auto& v : *items) {
      Value k = sort_key(v, attr, cs);
      auto found = contains_equal(seen, k);
      if (!found.is_ok()) return found.status();
      if (*found) continue;
      seen.push_back(k);
      out.push_back(v);
    }
    return Value::list(std::move(out));
  }
  if (name == "min" || name == "max") return min_max(name, in, a);
  if (name == "sum") {
    auto items = iterate(in);
    if (!items.is_ok()) return items.status();
    const Value* attr = a.get(0, "attribute");
    const Value* start = a.get(1, "start");
    bool is_float = start && start->is_float();
    int64_t isum = start && !is_float ? start->as_int() : 0;
    double fsum = start ? start->as_double() : 0;
    for (const auto& item : *items) {
      Value v = attr && attr->is_string() ? attr_path(item, attr->as_string()) : item;
      if (!v.is_number())
        return filter_error(name, std::string("cannot add '") + v.type_name() + "'");
      if (v.is_float()) is_float = true;
      if (__builtin_add_overflow(isum, v.as_int(), &isum))
        return filter_error(name, "integer overflow");
      fsum += v.as_double();
    }
    return is_float ? Value::number(fsum) : Value::integer(isum);
  }
  if (name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr")
    return select_like(host, name, in, a);
  if (name == "map") return map_filter(host, in, a);
  if (name == "abs") {
    if (in.is_float()) return Value::number(std::fabs(in.as_double()));
    if (in.is_int() || in.is_bool()) {
      if (in.as_int() == INT64_MIN) return filter_error(name, "integer overflow");
      return Value::integer(std::llabs(in.as_int()));
    }
    return filter_error(name, std::string("bad operand type for abs(): '") + in.type_name() + "'");
  }
  if (name == "int") {
    const Value* def = a.get(0, "default");
    Value fallback = def ? *def : Value::integer(0);
    int64_t i = 0;
    double d = 0;
    if (in.is_int() || in.is_bool()) return Value::integer(in.as_int());
    if (in.is_float())
      return std::isfinite(in.as_double()) ? Value::integer(static_cast<int64_t>(in.as_double()))
                                           : fallback;
    if (in.is_string() && parse_int(in.as_string(), &i)) return Value::integer(i);
    if (in.is_string() && parse_float(in.as_string(), &d) && std::isfinite(d) &&
        std::fabs(d) < 9.2e18) {
      return Value::integer(static_cast<int64_t>(d));
    }
    return fallback;
  }
  if (name == "float") {
    const Value* def = a.get(0, "default");
    double d = 0;
    if (in.is_number()) return Value::number(in.as_double());
    if (in.is_string() && parse_float(in.as_string(), &d)) return Value::number(d);
    return def ? *def : Value::number(0.0);
  }
  if (name == "round") {
    const Value* p = a.get(0, "precision");
    int64_t precision = p && p->is_int() ? p->as_int() : 0;
    const Value* m = a.get(1, "method");
    std::string method = m && m->is_string() ? m->as_string() : "common";
    if (!in.is_number())
      return filter_error(name, std::string("cannot round '") + in.type_name() + "'");
    if (method == "common") {
      if (!in.is_float()) return Value::integer(in.as_int());
      return Value::number(py_round(in.as_double(), precision));
    }
    if (method != "floor" && method != "ceil")
      return filter_error(name, "method must be common, ceil or floor");
    double scale = std::pow(10.0, static_cast<double>(precision));
    double x = in.as_double() * scale;
    return Value::number((method == "floor" ? std::floor(x) : std::ceil(x)) / scale);
  }
  return unsupported("unknown or unsupported filter '" + std::string(name) + "'");
}

Result<bool> apply_test(FilterHost& host, std::string_view name, const Value& v,
                        const CallArgs& a) {
  const Value* a0 = a.get(0, "");
  auto need_arg = [&]() -> Status {
    if (!a0) return invalid_format("test '" + std::string(name) + "' needs an argument");
    return Status::ok();
  };
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.as_bool();
  if (name == "false") return v.is_bool() && !v.as_bool();
  if (name == "string") return v.is_string();
  if (name == "number") return v.is_number();
  if (name == "integer") return v.is_int();
  if (name == "float") return v.is_float();
  if (name == "mapping") return v.is_dict();
  // Python's Iterable / Sequence checks: jinja2's Undefined is iterable and has a length.
  if (name == "iterable" || name == "sequence")
    return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined();
  if (name == "callable") return v.is_callable() || v.is_undefined();
  if (name == "escaped") return false;
  if (name == "lower" || name == "upper") {
    auto text = v.str(host.max_string_bytes());
    if (!text.is_ok()) return text.status();
    auto r = get_attr(Value::string(std::move(*text)), name == "lower" ? "islower" : "isupper")
                 .as_callable()
                 .fn(CallArgs{});
    if (!r.is_ok()) return r.status();
    return r->as_bool();
  }
  if (name == "even" || name == "odd" || name == "divisibleby") {
    if (!v.is_number())
      return invalid_format(std::string("test '") + std::string(name) + "' needs a number, got " +
                            v.type_name());
    int64_t d = 2;
    if (name == "divisibleby") {
      LONGCTX_RETURN_IF_ERROR(need_arg());
      if (!a0->is_int() || a0->as_int() == 0)
        return invalid_format("test 'divisibleby' needs a non-zero integer");
      d = a0->as_int();
    }
    double m = std::fmod(v.as_double(), static_cast<double>(d));
    int64_t im = v.is_float() ? 0 : v.as_int() % d;
    bool zero = v.is_float() ? m == 0 : im == 0;
    return name == "odd" ? !zero : zero;
  }
  if (name == "eq" || name == "equalto" || name == "==" || name == "sameas") {
    LONGCTX_RETURN_IF_ERROR(need_arg());
    if (name == "sameas" && v.kind() != a0->kind()) return false;
    return values_equal(v, *a0);
  }
  if (name == "ne" || name == "!=") {
    LONGCTX_RETURN_IF_ERROR(need_arg());
    auto eq = values_equal(v, *a0);
    if (!eq.is_ok()) return eq;
    return !*eq;
  }
  if (name == "lt" || name == "lessthan" || name == "<" || name == "gt" || name == "greaterthan" ||
      name == ">" || name == "le" || name == "<=" || name == "ge" || name == ">=") {
    LONGCTX_RETURN_IF_ERROR(need_arg());
    const bool less =
        name == "lt" || name == "lessthan" || name == "<" || name == "ge" || name == ">=";
    auto r = less ? value_less(v, *a0) : value_less(*a0, v);
    if (!r.is_ok()) return r.status();
    const bool strict = name == "lt" || name == "lessthan" || name == "<" || name == "gt" ||
                        name == "greaterthan" || name == ">";
    return strict ? *r : !*r;
  }
  if (name == "in") {
    LONGCTX_RETURN_IF_ERROR(need_arg());
    if (a0->is_string())
      return v.is_string() && a0->as_string().find(v.as_string()) != std::string::npos;
    auto items = iterate(*a0);
    if (!items.is_ok()) return items.status();
    if (a0->is_dict()) return v.is_string() && a0->as_dict().find(v.as_string()) != nullptr;
    return contains_equal(*items, v);
  }
  return unsupported("unknown or unsupported test '" + std::string(name) + "'");
}

}  // namespace longctx::chat
