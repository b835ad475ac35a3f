// GGUF metadata values: type names, human-readable rendering (for `longctx info`) and the typed
// getters of GgufFile, whose errors name the key and what was found instead.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "gguf/gguf.h"

namespace longctx {
namespace {

// Strings longer than this are shown truncated with their length (chat templates run to 4 KB).
constexpr size_t kMaxShownString = 60;

// Quotes a string for display, escaping quotes, backslashes and control bytes.
std::string quote(const std::string& s, size_t max_bytes) {
  std::string out = "\"";
  const size_t n = s.size() < max_bytes ? s.size() : max_bytes;
  for (size_t k = 0; k < n; ++k) {
    const unsigned char ch = static_cast<unsigned char>(s[k]);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += static_cast<char>(ch);
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch < 0x20 || ch == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", ch);
      out += buf;
    } else {
      out += static_cast<char>(ch);
    }
  }
  out += '"';
  if (n < s.size()) out += "... (" + std::to_string(s.size()) + " bytes)";
  return out;
}

// Shortest decimal that reads back as the same value: 1e-06 rather than 9.99999997e-07 for a
// float32 (up to 9 digits), the same for a float64 (up to 17 digits).
std::string format_number(double v, bool is_f32) {
  char buf[40];
  const int max_digits = is_f32 ? 9 : 17;
  for (int digits = 1; digits <= max_digits; ++digits) {
    std::snprintf(buf, sizeof(buf), "%.*g", digits, v);
    const double back = std::strtod(buf, nullptr);
    if (is_f32 ? static_cast<float>(back) == static_cast<float>(v) : back == v) break;
  }
  return buf;
}

std::string type_error(std::string_view key, const GgufValue& v, const char* wanted) {
  return "key '" + std::string(key) + "' has type " + gguf_type_name(v.type) +
         (v.type == GgufType::ARRAY ? std::string(" of ") + gguf_type_name(v.elem_type) : "") +
         " (expected " + wanted + ")";
}

bool is_unsigned(GgufType t) {
  return t == GgufType::UINT8 || t == GgufType::UINT16 || t == GgufType::UINT32 ||
         t == GgufType::UINT64;
}

// The value of an integer-typed GgufValue as int64, or false if it does not fit.
bool as_int64(const GgufValue& v, int64_t* out) {
  if (is_unsigned(v.type)) {
    if (v.u > uint64_t{std::numeric_limits<int64_t>::max()}) return false;
    *out = static_cast<int64_t>(v.u);
    return true;
  }
  *out = v.i;
  return true;
}

}  // namespace

const char* gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::UINT8:
      return "uint8";
    case GgufType::INT8:
      return "int8";
    case GgufType::UINT16:
      return "uint16";
    case GgufType::INT16:
      return "int16";
    case GgufType::UINT32:
      return "uint32";
    case GgufType::INT32:
      return "int32";
    case GgufType::FLOAT32:
      return "float32";
    case GgufType::BOOL:
      return "bool";
    case GgufType::STRING:
      return "string";
    case GgufType::ARRAY:
      return "array";
    case GgufType::UINT64:
      return "uint64";
    case GgufType::INT64:
      return "int64";
    case GgufType::FLOAT64:
      return "float64";
  }
  return "unknown";
}

size_t gguf_elem_size(GgufType t) {
  switch (t) {
    case GgufType::UINT8:
    case GgufType::INT8:
    case GgufType::BOOL:
      return 1;
    case GgufType::UINT16:
    case GgufType::INT16:
      return 2;
    case GgufType::UINT32:
    case GgufType::INT32:
    case GgufType::FLOAT32:
      return 4;
    case GgufType::UINT64:
    case GgufType::INT64:
    case GgufType::FLOAT64:
      return 8;
    case GgufType::STRING:
    case GgufType::ARRAY:
      break;
  }
  return 0;
}

size_t GgufValue::size() const {
  if (type != GgufType::ARRAY) return 0;
  if (elem_type == GgufType::ARRAY || !nested.empty()) return nested.size();
  if (elem_type == GgufType::STRING) return ends.size();
  const size_t w = gguf_elem_size(elem_type);
  return w == 0 ? 0 : packed.size() / w;
}

namespace {

// The packed little-endian element at p as a T (GGUF and every supported host are little-endian).
template <class T>
T load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace

GgufValue GgufValue::element(size_t k) const {
  if (elem_type == GgufType::ARRAY || !nested.empty()) return nested[k];
  GgufValue e;
  e.type = elem_type;
  if (elem_type == GgufType::STRING) {
    e.str = string_element(k);
    return e;
  }
  const char* p = packed.data() + k * gguf_elem_size(elem_type);
  switch (elem_type) {
    case GgufType::UINT8:
    case GgufType::BOOL:
      e.u = load<uint8_t>(p);
      break;
    case GgufType::INT8:
      e.i = load<int8_t>(p);
      break;
    case GgufType::UINT16:
      e.u = load<uint16_t>(p);
      break;
    case GgufType::INT16:
      e.i = load<int16_t>(p);
      break;
    case GgufType::UINT32:
      e.u = load<uint32_t>(p);
      break;
    case GgufType::INT32:
      e.i = load<int32_t>(p);
      break;
    case GgufType::UINT64:
      e.u = load<uint64_t>(p);
      break;
    case GgufType::INT64:
      e.i = load<int64_t>(p);
      break;
    case GgufType::FLOAT32:
      e.f = load<float>(p);
      break;
    case GgufType::FLOAT64:
      e.f = load<double>(p);
      break;
    case GgufType::STRING:
    case GgufType::ARRAY:
      break;
  }
  return e;
}

bool GgufValue::is_integer() const {
  return is_unsigned(type) || type == GgufType::INT8 || type == GgufType::INT16 ||
         type == GgufType::INT32 || type == GgufType::INT64;
}

std::string GgufValue::to_string(size_t max_elems) const {
  if (is_unsigned(type)) return std::to_string(u);
  if (is_integer()) return std::to_string(i);
  switch (type) {
    case GgufType::BOOL:
      return u ? "true" : "false";
    case GgufType::FLOAT32:
      return format_number(f, true);
    case GgufType::FLOAT64:
      return format_number(f, false);
    case GgufType::STRING:
      return quote(str, kMaxShownString);
    case GgufType::ARRAY: {
      // Short arrays in full: [1, 2, 3]. Long ones: [151936 strings: "!", "\"", ... ].
      const size_t n = size();
      const bool abbreviated = n > max_elems;
      std::string out = "[";
      if (abbreviated) {
        out += std::to_string(n) + " " + gguf_type_name(elem_type) +
               (elem_type == GgufType::STRING ? "s: " : ": ");
      }
      const size_t shown = abbreviated ? max_elems : n;
      for (size_t k = 0; k < shown; ++k) {
        if (k) out += ", ";
        out += element(k).to_string(max_elems);
      }
      out += abbreviated ? ", ... ]" : "]";
      return out;
    }
    default:
      return "?";
  }
}

Result<std::string> GgufFile::get_string(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return not_found("metadata key '" + std::string(key) + "' is missing");
  if (v->type != GgufType::STRING) return invalid_format(type_error(key, *v, "string"));
  return v->str;
}

Result<uint64_t> GgufFile::get_uint(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return not_found("metadata key '" + std::string(key) + "' is missing");
  if (!v->is_integer()) return invalid_format(type_error(key, *v, "an integer"));
  if (is_unsigned(v->type)) return v->u;
  if (v->i < 0) {
    return invalid_format("key '" + std::string(key) + "' is " + std::to_string(v->i) +
                          " (expected a non-negative integer)");
  }
  return static_cast<uint64_t>(v->i);
}

Result<int64_t> GgufFile::get_int(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return not_found("metadata key '" + std::string(key) + "' is missing");
  if (!v->is_integer()) return invalid_format(type_error(key, *v, "an integer"));
  int64_t out = 0;
  if (!as_int64(*v, &out)) {
    return invalid_format("key '" + std::string(key) + "' is " + std::to_string(v->u) +
                          " (does not fit in int64)");
  }
  return out;
}

Result<double> GgufFile::get_float(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return not_found("metadata key '" + std::string(key) + "' is missing");
  if (v->is_float()) return v->f;
  if (is_unsigned(v->type)) return static_cast<double>(v->u);
  if (v->is_integer()) return static_cast<double>(v->i);
  return invalid_format(type_error(key, *v, "a number"));
}

Result<bool> GgufFile::get_bool(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return not_found("metadata key '" + std::string(key) + "' is missing");
  if (v->type != GgufType::BOOL) return invalid_format(type_error(key, *v, "bool"));
  return v->u != 0;
}

Result<std::vector<std::string>> GgufFile::get_string_array(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return not_found("metadata key '" + std::string(key) + "' is missing");
  if (v->type != GgufType::ARRAY || v->elem_type != GgufType::STRING) {
    return invalid_format(type_error(key, *v, "array of string"));
  }
  std::vector<std::string> out;
  out.reserve(v->size());
  for (size_t k = 0; k < v->size(); ++k) out.emplace_back(v->string_element(k));
  return out;
}

Result<std::vector<int64_t>> GgufFile::get_int_array(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return not_found("metadata key '" + std::string(key) + "' is missing");
  GgufValue probe;
  probe.type = v->elem_type;
  if (v->type != GgufType::ARRAY || !probe.is_integer()) {
    return invalid_format(type_error(key, *v, "array of integers"));
  }
  std::vector<int64_t> out(v->size());
  for (size_t k = 0; k < out.size(); ++k) {
    const GgufValue e = v->element(k);
    if (!as_int64(e, &out[k])) {
      return invalid_format("key '" + std::string(key) + "' element " + std::to_string(k) + " is " +
                            std::to_string(e.u) + " (does not fit in int64)");
    }
  }
  return out;
}

Result<std::vector<double>> GgufFile::get_float_array(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return not_found("metadata key '" + std::string(key) + "' is missing");
  GgufValue probe;
  probe.type = v->elem_type;
  if (v->type != GgufType::ARRAY || !(probe.is_integer() || probe.is_float())) {
    return invalid_format(type_error(key, *v, "array of numbers"));
  }
  std::vector<double> out(v->size());
  for (size_t k = 0; k < out.size(); ++k) {
    const GgufValue e = v->element(k);
    out[k] = e.is_float()          ? e.f
             : is_unsigned(e.type) ? static_cast<double>(e.u)
                                   : static_cast<double>(e.i);
  }
  return out;
}

}  // namespace longctx
