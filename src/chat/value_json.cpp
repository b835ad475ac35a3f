// Template values and JSON: conversion from nlohmann JSON (request/context) with a nesting
// limit, an iterative depth check for untrusted documents, and json.dumps() as Hugging Face's
// tojson filter calls it, within an output budget.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "chat/value.h"

namespace longctx::chat {

namespace {

using Json = nlohmann::ordered_json;

// 'a.b[0][1]' from path parts ("a", "b", "[0]", "[1]"), cut after a few parts: the start
// names the field, the rest of a 20k-deep path would only bloat the message.
std::string json_path(const std::vector<std::string>& parts) {
  constexpr size_t kShownParts = 10;
  std::string out;
  for (size_t k = 0; k < parts.size() && k < kShownParts; ++k) {
    if (k && parts[k][0] != '[') out += '.';
    out += parts[k];
  }
  if (parts.size() > kShownParts) out += "...";
  return "'" + out + "'";
}

Status json_too_deep(const std::vector<std::string>& parts) {
  return invalid_argument(json_path(parts) + " is nested deeper than " +
                          std::to_string(kMaxValueDepth) + " levels");
}

std::string index_part(size_t k) {
  std::string part = std::to_string(k);  // built in place: "[" + ... trips a GCC 12 -Wrestrict
  part.insert(part.begin(), '[');
  part.push_back(']');
  return part;
}

// `level` is j's nesting level if it is a container (the root is 1); `path` leads to j.
Result<Value> from_json_at(const Json& j, int level, std::vector<std::string>& path) {
  if (j.is_structured() && level > kMaxValueDepth) return json_too_deep(path);
  switch (j.type()) {
    case Json::value_t::null:
      return Value::none();
    case Json::value_t::boolean:
      return Value::boolean(j.get<bool>());
    case Json::value_t::number_integer:
      return Value::integer(j.get<int64_t>());
    case Json::value_t::number_unsigned: {
      auto u = j.get<uint64_t>();
      if (u <= static_cast<uint64_t>(INT64_MAX)) return Value::integer(static_cast<int64_t>(u));
      return Value::number(static_cast<double>(u));
    }
    case Json::value_t::number_float:
      return Value::number(j.get<double>());
    case Json::value_t::string:
      return Value::string(j.get<std::string>());
    case Json::value_t::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (size_t k = 0; k < j.size(); ++k) {
        path.push_back(index_part(k));
        auto e = from_json_at(j[k], level + 1, path);
        if (!e.is_ok()) return e;
        path.pop_back();
        items.push_back(std::move(*e));
      }
      return Value::list(std::move(items));
    }
    case Json::value_t::object: {
      auto d = std::make_shared<ValueDict>();
      for (const auto& [k, e] : j.items()) {
        path.push_back(k);
        auto v = from_json_at(e, level + 1, path);
        if (!v.is_ok()) return v;
        path.pop_back();
        d->items.emplace_back(k, std::move(*v));
      }
      return Value::dict(std::move(d));
    }
    default:
      return Value::none();
  }
}

}  // namespace

Result<Value> Value::from_json(const nlohmann::ordered_json& j) {
  std::vector<std::string> path;
  return from_json_at(j, 1, path);
}

Status check_json_depth(const nlohmann::ordered_json& j, int max_depth, const std::string& what) {
  // Depth-first walk with an explicit stack; `part` is how the frame's node is reached.
  struct Frame {
    const Json* node;
    Json::const_iterator it;
    size_t index;
    std::string part;
  };
  if (!j.is_structured()) return Status::ok();
  std::vector<Frame> stack;
  stack.push_back({&j, j.cbegin(), 0, ""});
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.it == f.node->cend()) {
      stack.pop_back();
      continue;
    }
    const Json& child = *f.it;
    std::string part = f.node->is_object() ? f.it.key() : index_part(f.index);
    ++f.it;
    ++f.index;
    if (!child.is_structured()) continue;
    if (static_cast<int>(stack.size()) + 1 > max_depth) {
      std::vector<std::string> parts;
      for (size_t k = 1; k < stack.size(); ++k) parts.push_back(stack[k].part);
      parts.push_back(part);
      return invalid_argument(what + ": " + json_path(parts) + " is nested deeper than " +
                              std::to_string(max_depth) + " levels");
    }
    stack.push_back({&child, child.cbegin(), 0, std::move(part)});
  }
  return Status::ok();
}

namespace {

void json_string(std::string& out, const std::string& s, bool ensure_ascii) {
  out += '"';
  for (uint32_t cp : utf8_decode(s)) {
    char buf[16];
    switch (cp) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\b':
        out += "\\b";
        continue;
      case '\f':
        out += "\\f";
        continue;
      default:
        break;
    }
    if (cp < 0x20 || (ensure_ascii && cp >= 0x7F && cp < 0x10000)) {
      std::snprintf(buf, sizeof(buf), "\\u%04x", cp);
      out += buf;
    } else if (ensure_ascii && cp >= 0x10000) {
      // UTF-16 surrogate pair, as json.dumps writes astral characters with ensure_ascii.
      uint32_t v = cp - 0x10000;
      std::snprintf(buf, sizeof(buf), "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
      out += buf;
    } else {
      utf8_append(out, cp);
    }
  }
  out += '"';
}

Status dump_too_long(size_t max_bytes) {
  return invalid_argument("tojson: result exceeds " + std::to_string(max_bytes) + " bytes");
}

// Appends json.dumps(v); `depth` counts the containers enclosing v. As in append_repr, each
// value visited writes at least one byte, so the budget check on entry bounds the work.
Status dump(std::string& out, const Value& v, const JsonDumpOptions& o, int depth) {
  if (out.size() > o.max_bytes) return dump_too_long(o.max_bytes);
  if ((v.is_list() || v.is_dict()) && depth >= kMaxValueDepth) {
    return invalid_argument("tojson: value nested deeper than " + std::to_string(kMaxValueDepth) +
                            " levels");
  }
  const std::string& item_sep = o.item_separator;
  const std::string& key_sep = o.key_separator;
  auto newline = [&](int level) {
    if (o.indent < 0) return;
    out += '\n';
    out.append(static_cast<size_t>(o.indent) * level, ' ');
  };
  switch (v.kind()) {
    case ValueKind::kNone:
      out += "null";
      return Status::ok();
    case ValueKind::kBool:
      out += v.as_bool() ? "true" : "false";
      return Status::ok();
    case ValueKind::kInt:
      out += std::to_string(v.as_int());
      return Status::ok();
    case ValueKind::kFloat: {
      double d = v.as_double();
      if (std::isnan(d))
        out += "NaN";
      else if (std::isinf(d))
        out += d < 0 ? "-Infinity" : "Infinity";
      else
        out += python_float_repr(d);
      return Status::ok();
    }
    case ValueKind::kString:
      json_string(out, v.as_string(), o.ensure_ascii);
      return Status::ok();
    case ValueKind::kList: {
      const auto& items = v.as_list().items;
      if (items.empty()) {
        out += "[]";
        return Status::ok();
      }
      out += '[';
      for (size_t k = 0; k < items.size(); ++k) {
        if (k) out += item_sep;
        newline(depth + 1);
        LONGCTX_RETURN_IF_ERROR(dump(out, items[k], o, depth + 1));
      }
      newline(depth);
      out += ']';
      return Status::ok();
    }
    case ValueKind::kDict: {
      std::vector<const std::pair<std::string, Value>*> items;
      for (const auto& kv : v.as_dict().items) items.push_back(&kv);
      if (items.empty()) {
        out += "{}";
        return Status::ok();
      }
      if (o.sort_keys) {
        std::stable_sort(items.begin(), items.end(),
                         [](auto* a, auto* b) { return a->first < b->first; });
      }
      out += '{';
      for (size_t k = 0; k < items.size(); ++k) {
        if (k) out += item_sep;
        newline(depth + 1);
        json_string(out, items[k]->first, o.ensure_ascii);
        out += key_sep;
        LONGCTX_RETURN_IF_ERROR(dump(out, items[k]->second, o, depth + 1));
      }
      newline(depth);
      out += '}';
      return Status::ok();
    }
    default:
      return invalid_argument(std::string("tojson: Object of type ") + v.type_name() +
                              " is not JSON serializable");
  }
}

}  // namespace

Result<std::string> json_dumps(const Value& v, const JsonDumpOptions& options) {
  JsonDumpOptions o = options;
  // json.dumps' defaults: (', ', ': ') on one line, (',', ': ') when indenting.
  if (o.item_separator.empty()) o.item_separator = o.indent < 0 ? ", " : ",";
  if (o.key_separator.empty()) o.key_separator = ": ";
  std::string out;
  LONGCTX_RETURN_IF_ERROR(dump(out, v, o, 0));
  if (out.size() > o.max_bytes) return dump_too_long(o.max_bytes);
  return out;
}

}  // namespace longctx::chat
