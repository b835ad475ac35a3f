// Built-ins of the Jinja2 subset: filters, tests, global functions and Python methods of str,
// dict and list, with jinja2's sandbox rules (no mutation of lists and dicts, range capped).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "chat/value.h"
#include "core/status.h"

namespace longctx::chat {

// jinja2's sandbox refuses range() results longer than this.
inline constexpr int64_t kMaxRange = 100000;

// The interpreter services a filter may need (map/select call other filters and tests).
class FilterHost {
 public:
  virtual ~FilterHost() = default;
  virtual Result<Value> filter(std::string_view name, const Value& input, const CallArgs& args) = 0;
  virtual Result<bool> test(std::string_view name, const Value& input, const CallArgs& args) = 0;
  virtual size_t max_string_bytes() const = 0;
};

Result<Value> apply_filter(FilterHost& host, std::string_view name, const Value& input,
                           const CallArgs& args);
Result<bool> apply_test(FilterHost& host, std::string_view name, const Value& input,
                        const CallArgs& args);

// obj.name: dict keys, bound methods of str/dict/list, namespace attributes. Missing gives
// undefined; unsafe methods give an undefined whose hint explains the refusal.
Value get_attr(const Value& obj, const std::string& name);
// obj[key]: list/str index (negative from the end), dict key; missing gives undefined.
Value get_item(const Value& obj, const Value& key);
// obj[start:stop:step] on lists and strings (null Values mean omitted parts).
Result<Value> slice_value(const Value& obj, const Value& start, const Value& stop,
                          const Value& step);
// The items a for loop visits: list items, dict keys, string characters; undefined is empty.
Result<std::vector<Value>> iterate(const Value& v);
// The global functions: range, namespace, dict, raise_exception, strftime_now.
void add_globals(ValueDict& globals);

// Python str helpers shared by filters and methods (code-point aware; case mapping by utf8proc).
std::string py_lower(const std::string& s);
std::string py_upper(const std::string& s);
std::string py_capitalize(const std::string& s);
// str.strip/lstrip/rstrip: `chars` none or undefined strips whitespace.
std::string py_strip(const std::string& s, const Value& chars, bool left, bool right);
// str.splitlines() (without keepends).
std::vector<std::string> py_splitlines(const std::string& s);

// Error raised by raise_exception(): the template rejected its input on purpose.
inline constexpr std::string_view kRaiseExceptionPrefix = "raise_exception: ";

}  // namespace longctx::chat
