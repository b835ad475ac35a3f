// JSON Schema -> grammar nodes: keyword handling (which keywords are honoured, ignored or refused),
// $ref resolution with a worklist (recursive schemas become cycles in the node graph, never an
// expansion), enum/const as literal tries, and the shared any-JSON value. Finalisation (costs,
// pruning, tables) is in grammar_build.cpp.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>

#include "runtime/grammar_internal.h"

namespace longctx::grammar_detail {
namespace {

using Json = Grammar::Json;

// Keywords that carry no validation (or that grammar.h documents as not enforced).
const std::set<std::string, std::less<>> kIgnored = {"title",
                                                     "description",
                                                     "examples",
                                                     "example",
                                                     "default",
                                                     "$schema",
                                                     "$id",
                                                     "$comment",
                                                     "deprecated",
                                                     "readOnly",
                                                     "writeOnly",
                                                     "contentMediaType",
                                                     "contentEncoding",
                                                     "contentSchema",
                                                     "$anchor",
                                                     "$dynamicAnchor",
                                                     "$recursiveAnchor",
                                                     "$vocabulary",
                                                     "$defs",
                                                     "definitions",
                                                     "discriminator",
                                                     "nullable",
                                                     "xml",
                                                     "externalDocs",
                                                     "pattern",
                                                     "minimum",
                                                     "maximum",
                                                     "exclusiveMinimum",
                                                     "exclusiveMaximum",
                                                     "strict"};
// Keywords that change validity and are not implemented: refused rather than silently dropped.
const std::set<std::string, std::less<>> kUnsupported = {"not",
                                                         "if",
                                                         "then",
                                                         "else",
                                                         "patternProperties",
                                                         "propertyNames",
                                                         "minProperties",
                                                         "maxProperties",
                                                         "dependentRequired",
                                                         "dependentSchemas",
                                                         "dependencies",
                                                         "unevaluatedProperties",
                                                         "unevaluatedItems",
                                                         "contains",
                                                         "minContains",
                                                         "maxContains",
                                                         "multipleOf",
                                                         "$dynamicRef",
                                                         "$recursiveRef"};
// Validation keywords handled here; which may stand next to which is checked per schema.
const std::set<std::string, std::less<>> kConstraining = {
    "type",      "enum",        "const",           "anyOf",      "oneOf",
    "allOf",     "$ref",        "properties",      "required",   "additionalProperties",
    "items",     "prefixItems", "additionalItems", "minItems",   "maxItems",
    "minLength", "maxLength",   "format",          "uniqueItems"};
const char* const kTypes[] = {"object", "array", "string", "number", "integer", "boolean", "null"};

std::string pointer_escape(const std::string& s) {
  std::string r;
  for (char c : s) {
    if (c == '~')
      r += "~0";
    else if (c == '/')
      r += "~1";
    else
      r += c;
  }
  return r;
}

bool enforced_format(const Json& s) {
  const auto f = s.find("format");
  if (f == s.end() || !f->is_string()) return false;
  const auto& v = f->get_ref<const std::string&>();
  return v == "date" || v == "date-time" || v == "uuid";
}

// Code points of a UTF-8 string (valid: the caller checked).
uint64_t code_points(const std::string& s) {
  uint64_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool type_matches(const Json& v, const std::string& t) {
  if (t == "object") return v.is_object();
  if (t == "array") return v.is_array();
  if (t == "string") return v.is_string();
  if (t == "number") return v.is_number();
  if (t == "integer") {
    if (v.is_number_integer()) return true;
    if (!v.is_number_float()) return false;
    const double d = v.get<double>();
    return std::isfinite(d) && d == std::floor(d);
  }
  if (t == "boolean") return v.is_boolean();
  if (t == "null") return v.is_null();
  return false;
}

}  // namespace

// ---- One schema document --------------------------------------------------------------------

class SchemaCompiler {
 public:
  SchemaCompiler(Builder* b, const Json& root) : b_(*b), root_(root) {}

  // Compiles the document's root and every schema its $refs reach.
  uint32_t compile_document() {
    const uint32_t r = compile(root_, "", 0);
    // Refs queue their targets; compiling a target may queue more. Running them here, not
    // nested, keeps the C++ recursion bounded by one schema's nesting.
    for (size_t i = 0; i < pending_.size(); ++i) {
      const auto [ptr, id] = pending_[i];
      const Json& target = root_.at(Json::json_pointer(ptr));
      const uint32_t t = compile(target, ptr, 0);
      b_.g.nodes[id].members = {t};
    }
    return r;
  }

 private:
  [[noreturn]] void fail(const std::string& msg, const std::string& path) {
    throw CompileError{msg + " at " + (path.empty() ? std::string("/") : path)};
  }

  uint32_t compile(const Json& s, const std::string& path, int depth) {
    if (depth > Grammar::kMaxSchemaDepth) {
      fail("schema nested deeper than " + std::to_string(Grammar::kMaxSchemaDepth) + " levels",
           path);
    }
    if (s.is_boolean()) return s.get<bool>() ? b_.any() : b_.unsat();
    if (!s.is_object()) fail("a schema must be an object or a boolean", path);
    if (depth == 0 && path.empty() && s.contains("schema") && s.contains("name")) {
      fail("this looks like the json_schema wrapper; pass its inner \"schema\"", path);
    }
    std::vector<std::string> constraining;
    for (const auto& [k, v] : s.items()) {
      if (kUnsupported.count(k)) fail("unsupported JSON Schema keyword '" + k + "'", path);
      if (k == "uniqueItems" && !(v.is_boolean() && !v.get<bool>())) {
        fail("unsupported JSON Schema keyword 'uniqueItems' (true)", path);
      }
      if (k == "allOf" && !(v.is_array() && v.size() == 1)) {
        fail("unsupported JSON Schema keyword 'allOf' with other than one entry", path);
      }
      if (k == "format" && !enforced_format(s)) continue;
      if (kConstraining.count(k) && k != "uniqueItems") constraining.push_back(k);
    }
    auto only_with = [&](const char* key, std::initializer_list<const char*> allowed) {
      for (const auto& k : constraining) {
        if (k == key) continue;
        bool ok = false;
        for (const char* a : allowed) ok |= k == a;
        if (!ok)
          fail("JSON Schema keyword '" + k + "' next to '" + key + "' is not supported", path);
      }
    };
    if (s.contains("$ref")) {
      only_with("$ref", {});
      return ref(s["$ref"], path);
    }
    if (s.contains("allOf")) {
      only_with("allOf", {});
      return compile(s["allOf"][0], path + "/allOf/0", depth + 1);
    }
    for (const char* key : {"anyOf", "oneOf"}) {
      if (!s.contains(key)) continue;
      only_with(key, {});
      const Json& list = s[key];
      if (!list.is_array()) fail(std::string("'") + key + "' must be an array", path);
      Node alt;
      for (size_t i = 0; i < list.size(); ++i) {
        alt.members.push_back(
            compile(list[i], path + "/" + key + "/" + std::to_string(i), depth + 1));
      }
      return b_.add(std::move(alt));
    }
    std::vector<std::string> types = type_list(s, path);
    if (s.contains("enum") || s.contains("const")) {
      only_with(s.contains("enum") ? "enum" : "const",
                {"enum", "const", "type", "minLength", "maxLength", "minItems", "maxItems"});
      return enum_values(s, types, path, depth);
    }
    if (types.empty()) {  // no "type": infer it from the keywords (a sound subset of the values)
      auto any_of = [&](std::initializer_list<const char*> ks) {
        for (const char* k : ks)
          if (s.contains(k)) return true;
        return false;
      };
      if (any_of({"properties", "required", "additionalProperties"}))
        types = {"object"};
      else if (any_of({"items", "prefixItems", "additionalItems", "minItems", "maxItems"}))
        types = {"array"};
      else if (any_of({"minLength", "maxLength"}) || enforced_format(s))
        types = {"string"};
      else
        return b_.any();
    }
    Node alt;
    const bool has_number = std::find(types.begin(), types.end(), "number") != types.end();
    std::vector<std::string> literals;
    for (const auto& t : types) {
      if (t == "object")
        alt.members.push_back(object(s, path, depth));
      else if (t == "array")
        alt.members.push_back(array(s, path, depth));
      else if (t == "string")
        alt.members.push_back(string(s, path));
      else if (t == "number" || (t == "integer" && !has_number))
        alt.members.push_back(number(s, t));
      else if (t == "boolean")
        literals.insert(literals.end(), {"true", "false"});
      else if (t == "null")
        literals.push_back("null");
    }
    if (!literals.empty()) alt.members.push_back(b_.literals(literals));
    if (alt.members.size() == 1) return alt.members[0];
    return b_.add(std::move(alt));
  }

  std::vector<std::string> type_list(const Json& s, const std::string& path) {
    std::vector<std::string> types;
    const auto t = s.find("type");
    if (t == s.end()) return types;
    auto add = [&](const Json& v) {
      if (!v.is_string()) fail("'type' must be a string or an array of strings", path);
      const auto& name = v.get_ref<const std::string&>();
      bool known = false;
      for (const char* k : kTypes) known |= name == k;
      if (!known) fail("unknown type '" + name + "'", path);
      if (std::find(types.begin(), types.end(), name) == types.end()) types.push_back(name);
    };
    if (t->is_array()) {
      for (const auto& v : *t) add(v);
      if (types.empty()) types.push_back("");  // matches nothing
    } else {
      add(*t);
    }
    return types;
  }

  uint32_t ref(const Json& r, const std::string& path) {
    if (!r.is_string()) fail("'$ref' must be a string", path);
    const auto& s = r.get_ref<const std::string&>();
    if (s.empty() || s[0] != '#' || (s.size() > 1 && s[1] != '/')) {
      fail("only local '$ref' (\"#\" or \"#/...\") is supported, not '" + s + "'", path);
    }
    const std::string ptr = s.substr(1);
    if (const auto it = refs_.find(ptr); it != refs_.end()) return it->second;
    bool found = false;
    try {
      found = root_.contains(Json::json_pointer(ptr));
    } catch (const std::exception&) {
      fail("malformed '$ref' '" + s + "'", path);
    }
    if (!found) fail("'$ref' '" + s + "' points to nothing", path);
    const uint32_t id = b_.add(Node{});  // an alias (kAlt with one member), filled later
    refs_.emplace(ptr, id);
    pending_.emplace_back(ptr, id);
    return id;
  }

  uint32_t count(const Json& s, const char* key, uint32_t dflt, const std::string& path) {
    const auto it = s.find(key);
    if (it == s.end()) return dflt;
    double d = -1;
    if (it->is_number()) d = it->get<double>();
    if (!(d >= 0) || d != std::floor(d)) {
      fail(std::string("'") + key + "' must be a non-negative integer", path);
    }
    return d >= double(kNone - 1) ? kNone - 1 : uint32_t(d);
  }

  // Reads minX/maxX; a lower bound above kMaxMinCount and min > max are refused.
  std::pair<uint32_t, uint32_t> bounds(const Json& s, const char* lo, const char* hi,
                                       const std::string& path) {
    const uint32_t mn = count(s, lo, 0, path);
    uint32_t mx = count(s, hi, kNone, path);
    if (mn > Grammar::kMaxMinCount) fail(std::string("'") + lo + "' is too large", path);
    if (mx != kNone && mn > mx) fail(std::string("'") + lo + "' > '" + hi + "'", path);
    return {mn, mx};
  }

  uint32_t object(const Json& s, const std::string& path, int depth) {
    Node n;
    n.kind = Kind::kObject;
    std::map<std::string, size_t> names;  // name -> index in n.props
    if (const auto p = s.find("properties"); p != s.end()) {
      if (!p->is_object()) fail("'properties' must be an object", path);
      for (const auto& [name, sub] : p->items()) {
        b_.check_utf8(name, path);
        names.emplace(name, n.props.size());
        n.props.push_back({encode_string(name),
                           compile(sub, path + "/properties/" + pointer_escape(name), depth + 1),
                           false});
      }
    }
    const auto ap = s.find("additionalProperties");
    if (ap == s.end())
      n.additional = s.contains("properties") ? kNone : b_.any();
    else
      n.additional = compile(*ap, path + "/additionalProperties", depth + 1);
    if (const auto r = s.find("required"); r != s.end()) {
      if (!r->is_array()) fail("'required' must be an array of strings", path);
      std::set<std::string> seen;
      for (const auto& v : *r) {
        if (!v.is_string()) fail("'required' must be an array of strings", path);
        const auto& name = v.get_ref<const std::string&>();
        if (!seen.insert(name).second) continue;
        b_.check_utf8(name, path);
        if (const auto it = names.find(name); it != names.end()) {
          n.props[it->second].required = true;
        } else {  // required but not listed: a listed key whose value follows the extra-key schema
          const bool absent = ap == s.end();
          n.props.push_back(
              {encode_string(name),
               absent ? b_.any() : (n.additional == kNone ? b_.unsat() : n.additional), true});
        }
      }
    }
    return b_.add(std::move(n));
  }

  uint32_t array(const Json& s, const std::string& path, int depth) {
    Node n;
    n.kind = Kind::kArray;
    const auto items = s.find("items");
    const Json* rest = nullptr;
    std::string rest_path;
    auto prefix = [&](const Json& list, const std::string& p) {
      if (!list.is_array()) fail("'prefixItems' must be an array", path);
      for (size_t i = 0; i < list.size(); ++i) {
        n.prefix.push_back(compile(list[i], p + "/" + std::to_string(i), depth + 1));
      }
    };
    if (const auto pi = s.find("prefixItems"); pi != s.end()) {
      if (items != s.end() && items->is_array()) fail("'items' array next to 'prefixItems'", path);
      prefix(*pi, path + "/prefixItems");
      if (items != s.end()) rest = &*items, rest_path = path + "/items";
    } else if (items != s.end() && items->is_array()) {  // draft 4-7 tuple form
      prefix(*items, path + "/items");
      if (const auto ai = s.find("additionalItems"); ai != s.end()) {
        rest = &*ai, rest_path = path + "/additionalItems";
      }
    } else if (items != s.end()) {
      rest = &*items, rest_path = path + "/items";
    }
    n.items = rest ? compile(*rest, rest_path, depth + 1) : b_.any();
    std::tie(n.min_items, n.max_items) = bounds(s, "minItems", "maxItems", path);
    return b_.add(std::move(n));
  }

  uint32_t string(const Json& s, const std::string& path) {
    Node n;
    n.kind = Kind::kString;
    std::tie(n.min_len, n.max_len) = bounds(s, "minLength", "maxLength", path);
    if (enforced_format(s)) {
      if (s.contains("minLength") || s.contains("maxLength")) {
        fail("'minLength'/'maxLength' next to 'format' are not supported", path);
      }
      n.dfa = b_.format_dfa(s["format"].get<std::string>());
    }
    return b_.add(std::move(n));
  }

  uint32_t number(const Json& s, const std::string& t) {
    Node n;
    n.kind = Kind::kNumber;
    n.integer = t == "integer";
    for (const char* k : {"minimum", "exclusiveMinimum"}) {
      const auto it = s.find(k);
      if (it != s.end() && it->is_number() && it->get<double>() >= 0) n.no_minus = true;
    }
    return b_.add(std::move(n));
  }

  uint32_t enum_values(const Json& s, const std::vector<std::string>& types,
                       const std::string& path, int depth) {
    std::vector<const Json*> values;
    if (const auto e = s.find("enum"); e != s.end()) {
      if (!e->is_array()) fail("'enum' must be an array", path);
      if (e->size() > Grammar::kMaxEnumValues) {
        fail("'enum' has more than " + std::to_string(Grammar::kMaxEnumValues) + " values", path);
      }
      for (const auto& v : *e) values.push_back(&v);
    }
    if (const auto c = s.find("const"); c != s.end()) {
      if (s.contains("enum")) {
        std::erase_if(values, [&](const Json* v) { return !(*v == *c); });
      } else {
        values.push_back(&*c);
      }
    }
    const auto [min_len, max_len] = bounds(s, "minLength", "maxLength", path);
    const auto [min_items, max_items] = bounds(s, "minItems", "maxItems", path);
    Node alt;
    std::vector<std::string> literals;
    for (const Json* v : values) {
      bool ok = types.empty();
      for (const auto& t : types) ok |= type_matches(*v, t);
      if (v->is_string()) {
        b_.check_utf8(v->get_ref<const std::string&>(), path);
        const uint64_t len = code_points(v->get_ref<const std::string&>());
        ok &= len >= min_len && (max_len == kNone || len <= max_len);
      }
      if (v->is_array())
        ok &= v->size() >= min_items && (max_items == kNone || v->size() <= max_items);
      if (!ok) continue;
      if (v->is_object() || v->is_array())
        alt.members.push_back(constant(*v, path, depth));
      else
        literals.push_back(v->is_string() ? "\"" + encode_string(v->get<std::string>()) + "\""
                                          : v->dump());
    }
    if (!literals.empty()) alt.members.push_back(b_.literals(literals));
    if (alt.members.size() == 1) return alt.members[0];
    return b_.add(std::move(alt));  // empty: no value allowed
  }

  // A structured constant: an object with exactly its keys (in order) or an array of its items.
  uint32_t constant(const Json& v, const std::string& path, int depth) {
    if (depth > Grammar::kMaxSchemaDepth) {
      fail("constant nested deeper than " + std::to_string(Grammar::kMaxSchemaDepth) + " levels",
           path);
    }
    if (v.is_string()) {
      b_.check_utf8(v.get_ref<const std::string&>(), path);
      return b_.literals({"\"" + encode_string(v.get<std::string>()) + "\""});
    }
    if (!v.is_object() && !v.is_array()) return b_.literals({v.dump()});
    Node n;
    if (v.is_object()) {
      n.kind = Kind::kObject;
      for (const auto& [k, x] : v.items()) {
        b_.check_utf8(k, path);
        n.props.push_back({encode_string(k), constant(x, path, depth + 1), true});
      }
    } else {
      n.kind = Kind::kArray;
      for (const auto& x : v) n.prefix.push_back(constant(x, path, depth + 1));
      n.min_items = n.max_items = uint32_t(v.size());
    }
    return b_.add(std::move(n));
  }

  Builder& b_;
  const Json& root_;
  std::map<std::string, uint32_t> refs_;
  std::vector<std::pair<std::string, uint32_t>> pending_;
};

uint32_t compile_schema_document(Builder* b, const Grammar::Json& schema) {
  return SchemaCompiler(b, schema).compile_document();
}

}  // namespace longctx::grammar_detail
