// The value type of the chat-template interpreter: Python-like values as jinja2 sees them
// (undefined, None, bool, int, float, str, list/tuple, dict, namespace, callable), with the
// Python str()/repr() and json.dumps() renderings that templates print.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace longctx::chat {

class Value;

// Deepest nesting of lists/dicts that values may have where they are walked recursively
// (converted from JSON, printed, compared, dumped); the outermost container is level 1.
inline constexpr int kMaxValueDepth = 256;
// Most item pairs one comparison may visit: shared sub-values ([x, x] repeated) make a value
// exponentially larger than the memory it takes.
inline constexpr uint64_t kMaxCompareItems = uint64_t{1} << 22;

// Lists and dicts are shared by reference, like Python objects (a namespace is a dict that
// templates may assign attributes on). Their destructors free nested containers in a loop, not
// by recursion, so a value nested 100k deep (built by a template loop) cannot overflow the stack.
struct ValueList {
  ValueList() = default;
  ValueList(const ValueList&) = default;
  ValueList& operator=(const ValueList&) = default;
  ~ValueList();
  std::vector<Value> items;
  bool is_tuple = false;  // only changes how it prints: (a, b) instead of [a, b]
};
struct ValueDict {
  ValueDict() = default;
  ValueDict(const ValueDict&) = default;
  ValueDict& operator=(const ValueDict&) = default;
  ~ValueDict();
  std::vector<std::pair<std::string, Value>> items;  // insertion order, as Python dicts keep it
  const Value* find(std::string_view key) const;
  void set(const std::string& key, Value v);
};

// Arguments of a call: positional then keyword, in source order.
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
  // Argument `index` by position, else by `name`; nullptr when absent.
  const Value* get(size_t index, std::string_view name) const;
};
struct Callable {
  std::string name;
  std::function<Result<Value>(const CallArgs&)> fn;
};

enum class ValueKind {
  kUndefined,
  kNone,
  kBool,
  kInt,
  kFloat,
  kString,
  kList,
  kDict,
  kNamespace,
  kCallable
};

class Value {
 public:
  Value() = default;  // undefined
  static Value undefined(std::string hint = "") {
    Value v;
    v.str_ = std::move(hint);
    return v;
  }
  static Value none() { return with_kind(ValueKind::kNone); }
  static Value boolean(bool b) {
    Value v = with_kind(ValueKind::kBool);
    v.int_ = b;
    return v;
  }
  static Value integer(int64_t i) {
    Value v = with_kind(ValueKind::kInt);
    v.int_ = i;
    return v;
  }
  static Value number(double f) {
    Value v = with_kind(ValueKind::kFloat);
    v.float_ = f;
    return v;
  }
  static Value string(std::string s) {
    Value v = with_kind(ValueKind::kString);
    v.str_ = std::move(s);
    return v;
  }
  static Value list(std::vector<Value> items = {}, bool is_tuple = false);
  static Value dict(std::shared_ptr<ValueDict> d = nullptr);
  static Value name_space(std::shared_ptr<ValueDict> d = nullptr);
  static Value callable(std::string name, std::function<Result<Value>(const CallArgs&)> fn);

  ValueKind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == ValueKind::kUndefined; }
  bool is_none() const { return kind_ == ValueKind::kNone; }
  bool is_bool() const { return kind_ == ValueKind::kBool; }
  bool is_int() const { return kind_ == ValueKind::kInt; }
  bool is_float() const { return kind_ == ValueKind::kFloat; }
  bool is_string() const { return kind_ == ValueKind::kString; }
  bool is_list() const { return kind_ == ValueKind::kList; }
  bool is_dict() const { return kind_ == ValueKind::kDict; }
  bool is_namespace() const { return kind_ == ValueKind::kNamespace; }
  bool is_callable() const { return kind_ == ValueKind::kCallable; }
  // Python's numbers.Number: bool, int and float.
  bool is_number() const { return is_bool() || is_int() || is_float(); }

  bool as_bool() const { return int_ != 0; }
  int64_t as_int() const { return int_; }  // also valid for bools (Python: True == 1)
  double as_double() const { return is_float() ? float_ : static_cast<double>(int_); }
  const std::string& as_string() const { return str_; }
  const std::string& undefined_hint() const { return str_; }
  ValueList& as_list() const { return *list_; }
  ValueDict& as_dict() const { return *dict_; }  // dicts and namespaces
  const Callable& as_callable() const { return *fn_; }

  // Python truthiness; undefined is false.
  bool truthy() const;
  // Python str(): what {{ value }} prints (undefined prints nothing). An error when the text
  // would exceed max_bytes or the value nests deeper than kMaxValueDepth (checked while
  // printing, so shared sub-values cannot make it run long).
  Result<std::string> str(size_t max_bytes) const;
  // Python repr(): how values print inside lists and dicts; bounded like str().
  Result<std::string> repr(size_t max_bytes) const;
  // str() for an error message: at most ~200 bytes, "<type object>" when longer.
  std::string str_for_message() const;
  // Python's type name, for error messages ("NoneType", "str", "dict", ...).
  const char* type_name() const;

  // An error naming the path (e.g. 'messages[0].content') where j nests deeper than
  // kMaxValueDepth.
  static Result<Value> from_json(const nlohmann::ordered_json& j);

 private:
  static Value with_kind(ValueKind k) {
    Value v;
    v.kind_ = k;
    return v;
  }
  ValueKind kind_ = ValueKind::kUndefined;
  int64_t int_ = 0;
  double float_ = 0;
  std::string str_;
  std::shared_ptr<ValueList> list_;
  std::shared_ptr<ValueDict> dict_;
  std::shared_ptr<Callable> fn_;
};

// Python ==, so 1 == 1.0 == True; undefined equals only undefined. Like Python, identical
// items (the same shared list or dict) are equal without looking inside. An error past
// kMaxValueDepth or kMaxCompareItems.
Result<bool> values_equal(const Value& a, const Value& b);
// Python <, for numbers, strings and lists; an error for other pairs (and as values_equal).
Result<bool> value_less(const Value& a, const Value& b);

// Checks that a JSON document nests at most max_depth containers deep (the root is level 1),
// without recursion, so it is safe on any parsed input before it is copied or converted. The
// error names `what` and the path to the first too-deep node, e.g.
// "request: 'tools[0].function.parameters[0][0]...' is nested deeper than 256 levels".
Status check_json_depth(const nlohmann::ordered_json& j, int max_depth, const std::string& what);

// Options of json.dumps as Hugging Face's tojson filter passes them.
struct JsonDumpOptions {
  int indent = -1;  // < 0: no indent (one line, ", " and ": " separators)
  bool ensure_ascii = false;
  bool sort_keys = false;
  std::string item_separator;  // empty: json.dumps' default for the indent mode
  std::string key_separator;
  size_t max_bytes = size_t{64} << 20;  // longer output is an error (checked while writing)
};
// json.dumps(value, ...) byte for byte; an error for undefined and callables.
Result<std::string> json_dumps(const Value& v, const JsonDumpOptions& options);

// Python's repr() of a str: quoted and escaped.
std::string python_str_repr(const std::string& s);

// Python's float repr: shortest round-trip digits, exponent form outside 1e-4 <= |x| < 1e16.
std::string python_float_repr(double d);

// UTF-8 helpers: Python strings index code points, not bytes.
std::vector<uint32_t> utf8_decode(std::string_view s);
void utf8_append(std::string& out, uint32_t cp);
std::string utf8_encode(const std::vector<uint32_t>& cps, size_t begin, size_t end);
// Python's str.isspace() for one code point.
bool is_python_space(uint32_t cp);

}  // namespace longctx::chat
