// Tests of constrained decoding (src/runtime/grammar*.cpp): the jsonschema oracle
// (tests/runtime/data/grammar_cases.json, made by tools/grammar_make_fixtures.py), JSON syntax edge
// cases, refused schemas, random walks over a synthetic vocabulary (every output parses, re-matches
// and conforms), fill_mask against brute force, the budget rule, forced tool-call sequences, and a
// timing print of fill_mask on a 150k-token vocabulary (printed, never asserted).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/grammar.h"

namespace longctx {
namespace {

using Json = Grammar::Json;
using GrammarPtr = std::shared_ptr<const Grammar>;

const Json& fixture() {
  static const Json j = [] {
    std::ifstream f(std::string(LONGCTX_TEST_DATA_DIR) + "/grammar_cases.json");
    std::stringstream ss;
    ss << f.rdbuf();
    return Json::parse(ss.str());
  }();
  return j;
}

GrammarPtr compile(const Json& schema) {
  auto g = Grammar::json_schema(schema);
  EXPECT_TRUE(g.is_ok()) << g.status().message() << "\n" << schema.dump();
  return g.is_ok() ? g.value() : nullptr;
}

// 256 single bytes, then n random tokens made of JSON-ish pieces (quotes, braces, escapes, keys
// of the fixture schemas, UTF-8 characters and pieces of them), some cut at a random byte so that
// they split characters and escapes; a few empty (special) tokens and duplicates.
std::vector<std::string> synthetic_vocab(uint32_t seed, size_t n) {
  static const char* const kPieces[] = {
      "\"",          "{",        "}",        "[",        "]",        ",",        ":",
      " ",           "\n",       "  ",       "\t",       "\r\n",     "\\",       "\\\"",
      "\\\\",        "\\n",      "\\u",      "\\u00e9",  "\\ud83d",  "\\ude00",  "\\/",
      "0",           "1",        "12",       "7",        "-",        "+",        ".",
      "e",           "E",        "00",       "true",     "false",    "null",     "tr",
      "ue",          "nu",       "ll",       "fa",       "a",        "b",        "x",
      "k",           "name",     "age",      "value",    "children", "location", "unit",
      "celsius",     "red",      "kind",     "next",     "address",  "zip",      "street",
      "tags",        "\"}",      "\"]",      "\": ",     "\", \"",   "{\"",      "[{",
      "}]",          "},",       "\":\"",    "é",        "日本",     "😀",        "ключ",
      "키",          "\xe6",     "\x97\xa5", "\xf0\x9f", "\x98\x80", "\xc3",     "2024",
      "-01",         "T",        "Z",        ":00",      "123e4567", "-e89b",    "abc",
      "Hello",       " world",   "  \"",     "<tool",    "_call",    ">\n",      "</",
      "get_weather", "get_time", "arguments"};
  std::mt19937 rng(seed);
  std::vector<std::string> v;
  for (int b = 0; b < 256; ++b) v.push_back(std::string(1, char(b)));
  const size_t np = sizeof(kPieces) / sizeof(kPieces[0]);
  for (size_t i = 0; i < n; ++i) {
    std::string t;
    const int k = 1 + int(rng() % 4);
    for (int j = 0; j < k; ++j) t += kPieces[rng() % np];
    if (rng() % 5 == 0 && t.size() > 1) t.resize(1 + rng() % (t.size() - 1));
    v.push_back(t);
  }
  for (int i = 0; i < 5; ++i) v.push_back("");  // specials: never allowed
  v.push_back("{\"");                           // a duplicate of a likely token
  return v;
}

std::shared_ptr<const TokenVocab> test_vocab() {
  static const auto v = std::make_shared<const TokenVocab>(synthetic_vocab(7, 3000));
  return v;
}

// Feeds doc one byte at a time; true when every byte is accepted and the document is complete.
bool accepts(const GrammarPtr& g, const std::string& doc, size_t* stopped = nullptr) {
  GrammarMatcher m(g, test_vocab());
  for (size_t i = 0; i < doc.size(); ++i) {
    if (!m.accept_bytes(doc.substr(i, 1))) {
      if (stopped) *stopped = i;
      return false;
    }
  }
  if (stopped) *stopped = doc.size();
  return m.is_complete();
}

// ---- Oracle fixtures --------------------------------------------------------------------------

TEST(Grammar, FixtureCasesMatchJsonschema) {
  const Json& cases = fixture()["cases"];
  ASSERT_GE(cases.size(), 30u);
  size_t n_docs = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const GrammarPtr g = compile(c["schema"]);
    ASSERT_TRUE(g);
    for (const auto& d : c["valid"]) {
      const std::string doc = d.get<std::string>();
      size_t at = 0;
      EXPECT_TRUE(accepts(g, doc, &at)) << "valid document refused at byte " << at << ": " << doc;
      GrammarMatcher whole(g, test_vocab());  // the same in one call
      EXPECT_TRUE(whole.accept_bytes(doc) && whole.is_complete()) << doc;
      ++n_docs;
    }
    for (const char* list : {"invalid", "outside_subset"}) {
      for (const auto& d : c[list]) {
        const std::string doc = d.get<std::string>();
        EXPECT_FALSE(accepts(g, doc)) << list << " document accepted: " << doc;
        ++n_docs;
      }
    }
  }
  EXPECT_GE(n_docs, 300u);
}

// Along every valid document, the mask allows the next byte's single-byte token, and the
// document's bytes never meet an empty mask.
TEST(Grammar, FixtureValidDocumentsStayInsideTheMask) {
  const auto v = test_vocab();
  std::vector<uint8_t> mask;
  for (const auto& c : fixture()["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const GrammarPtr g = compile(c["schema"]);
    ASSERT_TRUE(g);
    for (const auto& d : c["valid"]) {
      const std::string doc = d.get<std::string>();
      GrammarMatcher m(g, v);
      for (size_t i = 0; i < doc.size(); ++i) {
        m.fill_mask(&mask);
        ASSERT_TRUE(mask[uint8_t(doc[i])]) << "byte " << i << " of " << doc;
        ASSERT_TRUE(m.accept_token(uint8_t(doc[i])));
      }
    }
  }
}

// ---- JSON syntax ------------------------------------------------------------------------------

TEST(Grammar, JsonSyntaxEdgeCases) {
  auto any = Grammar::json_any_value();
  ASSERT_TRUE(any.is_ok());
  const GrammarPtr g = any.value();
  struct Case {
    std::string doc;
    bool ok;
  };
  const std::vector<Case> cases = {
      {"\"\xc3\xa9\"", true},           // é
      {"\"\xe2\x82\xac\"", true},       // €
      {"\"\xf0\x9f\x98\x80\"", true},   // 😀
      {"\"\xf4\x8f\xbf\xbf\"", true},   // U+10FFFF
      {"\"\xc0\x80\"", false},          // overlong NUL
      {"\"\xc1\xbf\"", false},          // overlong
      {"\"\xe0\x80\x80\"", false},      // overlong 3-byte
      {"\"\xe0\x9f\xbf\"", false},      // overlong 3-byte
      {"\"\xed\xa0\x80\"", false},      // UTF-16 surrogate encoded in UTF-8
      {"\"\xf0\x80\x80\x80\"", false},  // overlong 4-byte
      {"\"\xf4\x90\x80\x80\"", false},  // > U+10FFFF
      {"\"\xf5\x80\x80\x80\"", false},
      {"\"\xff\"", false},
      {"\"\x80\"", false},  // continuation without a lead
      {"\"\xc3\"", false},  // truncated
      {"\"\xe2\x82\"", false},
      {"\"\\ud83d\\ude00\"", true},
      {"\"\\uD83D\\uDE00\"", true},
      {"\"\\ud83d\"", false},  // lone high surrogate
      {"\"\\ude00\"", false},  // lone low surrogate
      {"\"\\ud83d\\u0041\"", false},
      {"\"\\ud83dx\"", false},
      {"\"\\u00zz\"", false},
      {"\"\x01\"", false},
      {"\"\x7f\"", true},
      {"[1,2,[3,[4,{\"a\":[]}]]]", true},
      {"[1 , 2 ]", true},
      {"[\n\n1]", false},  // two newlines in one whitespace run
      {"[\n\t\t1]", true},
      {"{\"a\" :1}", true},
      {"-", false},
      {"-1.5e-7", true},
      {"1.5e+07", true},
      {"0.0", true},
      {"1e", false},
      {"1e307", true},
      {"1e308", false},  // would overflow a double past 1.79e308
      {"99e306", true},
      {"99e307", false},
      {"1e-99999", true},  // underflow is finite
      {"0.5e307", true},
      {"1e0000000000307", true},
      {"truefalse", false},
      {"\"a\"\"b\"", false},
      {"nul", false},
      {"", false},
  };
  for (const auto& c : cases) EXPECT_EQ(accepts(g, c.doc), c.ok) << c.doc;
  // Deep nesting: the matcher's stack is data, not C++ recursion.
  std::string deep(20000, '[');
  deep += std::string(20000, ']');
  EXPECT_TRUE(accepts(g, deep));
  GrammarMatcher m(g, test_vocab());
  EXPECT_FALSE(m.is_complete());
  EXPECT_TRUE(m.can_continue());
  EXPECT_TRUE(m.accept_bytes("12"));
  EXPECT_TRUE(m.is_complete());
  EXPECT_TRUE(m.can_continue());  // "123" is still possible
  EXPECT_FALSE(m.accept_bytes("x"));
  EXPECT_TRUE(m.accept_bytes("3"));
}

TEST(Grammar, AnyObjectAndTokenIds) {
  auto g = Grammar::json_any_object();
  ASSERT_TRUE(g.is_ok());
  const auto v = test_vocab();
  GrammarMatcher m(g.value(), v);
  std::vector<uint8_t> mask;
  m.fill_mask(&mask);
  ASSERT_EQ(mask.size(), v->size());
  for (size_t i = 0; i < v->size(); ++i) {
    if (mask[i]) {
      EXPECT_EQ(v->token(int32_t(i))[0], '{') << i;
    }
    if (v->token(int32_t(i)).empty()) {
      EXPECT_FALSE(mask[i]);
    }
  }
  EXPECT_FALSE(m.accept_token(-1));
  EXPECT_FALSE(m.accept_token(int32_t(v->size())));
  EXPECT_FALSE(m.accept_token(int32_t(v->size()) - 2));  // an empty (special) token
  EXPECT_FALSE(m.accept_bytes("["));
  EXPECT_TRUE(m.accept_bytes("{}"));
  EXPECT_TRUE(m.is_complete());
  EXPECT_FALSE(m.can_continue());
  m.fill_mask(&mask);
  EXPECT_EQ(std::count(mask.begin(), mask.end(), 1), 0);
}

TEST(Grammar, MatcherCopiesAreIndependent) {
  const GrammarPtr g = compile(fixture()["cases"][0]["schema"]);  // simple_object
  GrammarMatcher a(g, test_vocab());
  ASSERT_TRUE(a.accept_bytes("{\"name\": \"A"));
  GrammarMatcher b = a;
  EXPECT_TRUE(a.accept_bytes("nn\", \"age\": 3}"));
  EXPECT_TRUE(a.is_complete());
  EXPECT_FALSE(b.is_complete());
  EXPECT_FALSE(b.accept_bytes("\", \"age\": \"3\"}"));
  EXPECT_TRUE(b.accept_bytes("\", \"age\": 30}"));
  EXPECT_TRUE(b.is_complete());
}

// ---- Refused schemas ----------------------------------------------------------------------------

TEST(Grammar, BadSchemasAreRefusedClearly) {
  struct Case {
    const char* schema;
    const char* message;  // a substring of the error
  };
  const Case cases[] = {
      {"5", "a schema must be an object or a boolean"},
      {R"({"$ref": "#/$defs/missing"})", "'#/$defs/missing' points to nothing"},
      {R"({"type":"object","properties":{"y":{"type":"string","not":{}}}})",
       "response_format: unsupported JSON Schema keyword 'not' at /properties/y"},
      {R"({"patternProperties":{"a":{}}})",
       "unsupported JSON Schema keyword 'patternProperties' at /"},
      {R"({"type":"array","minItems":3,"maxItems":2})", "'minItems' > 'maxItems' at /"},
      {R"({"type":"string","minLength":3,"maxLength":2})", "'minLength' > 'maxLength'"},
      {R"({"type":"strin"})", "unknown type 'strin'"},
      {R"({"$ref":"http://example.com/s.json"})", "only local '$ref'"},
      {R"({"$ref":"#/a~2"})", "malformed '$ref'"},
      {R"({"allOf":[{},{}]})", "'allOf' with other than one entry"},
      {R"({"anyOf":[{"type":"string"}],"type":"string"})", "'type' next to 'anyOf'"},
      {R"({"$ref":"#/$defs/a","minLength":2,"$defs":{"a":{}}})", "'minLength' next to '$ref'"},
      {R"({"enum":[1],"properties":{}})", "'properties' next to 'enum'"},
      {R"({"type":"object","required":["a"],"additionalProperties":false})", "cannot be satisfied"},
      {R"({"enum":[]})", "cannot be satisfied"},
      {R"({"type":"integer","enum":["a"]})", "cannot be satisfied"},
      {R"({"$defs":{"a":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"})", "cannot be satisfied"},
      {R"({"$defs":{"a":{"type":"object","properties":{"x":{"$ref":"#/$defs/a"}},"required":["x"]}},
          "$ref":"#/$defs/a"})",
       "cannot be satisfied"},
      {R"({"name":"x","schema":{"type":"object"},"strict":true})", "pass its inner \"schema\""},
      {R"({"type":"array","uniqueItems":true})", "'uniqueItems' (true)"},
      {R"({"type":"string","format":"date","maxLength":3})", "next to 'format'"},
      {R"({"type":"array","minItems":2000000})", "'minItems' is too large"},
      {R"({"type":"array","minItems":-1})", "'minItems' must be a non-negative integer"},
      {R"({"type":"array","maxItems":1.5})", "'maxItems' must be a non-negative integer"},
      {R"({"type":"object","required":"a"})", "'required' must be an array of strings"},
      {R"({"multipleOf":2})", "'multipleOf'"},
  };
  for (const auto& c : cases) {
    auto g = Grammar::json_schema(Json::parse(c.schema));
    ASSERT_FALSE(g.is_ok()) << c.schema;
    EXPECT_EQ(g.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(g.status().message().find(c.message), std::string::npos)
        << c.schema << "\n  got: " << g.status().message();
  }
}

TEST(Grammar, HostileSchemasFailFastWithoutCrashing) {
  // Deep nesting, built without recursion (as a parser would hand it over).
  Json deep = Json::object();
  for (int i = 0; i < 100000; ++i) deep = Json{{"type", "array"}, {"items", std::move(deep)}};
  auto g = Grammar::json_schema(deep);
  ASSERT_FALSE(g.is_ok());
  EXPECT_NE(g.status().message().find("nested deeper than 64 levels"), std::string::npos);
  // 64 levels are fine.
  Json ok = Json{{"type", "integer"}};
  for (int i = 0; i < 60; ++i)
    ok = Json{{"type", "array"}, {"items", std::move(ok)}, {"maxItems", 1}};
  EXPECT_TRUE(Grammar::json_schema(ok).is_ok());
  // A deeply nested constant.
  Json c = 1;
  for (int i = 0; i < 1000; ++i) c = Json::array({std::move(c)});
  g = Grammar::json_schema(Json{{"const", c}});
  ASSERT_FALSE(g.is_ok());
  EXPECT_NE(g.status().message().find("nested deeper"), std::string::npos);
  // Huge enums and property lists are bounded.
  Json e = Json::array();
  for (int i = 0; i < 20000; ++i) e.push_back("v" + std::to_string(i));
  g = Grammar::json_schema(Json{{"enum", e}});
  ASSERT_FALSE(g.is_ok());
  EXPECT_NE(g.status().message().find("more than 16384 values"), std::string::npos);
  e.erase(e.begin() + 16000, e.end());
  EXPECT_TRUE(Grammar::json_schema(Json{{"enum", e}}).is_ok());
  Json many = Json::array();
  for (int i = 0; i < 70000; ++i) many.push_back(Json{{"type", "null"}});
  g = Grammar::json_schema(Json{{"anyOf", many}});
  ASSERT_FALSE(g.is_ok());
  EXPECT_NE(g.status().message().find("schema too large"), std::string::npos);
  // More anyOf branches sharing a prefix than parallel parses are kept: outputs stay valid.
  Json branches = Json::array();
  for (int i = 0; i < 300; ++i) {
    branches.push_back(Json{{"type", "object"},
                            {"properties", {{"k", {{"const", i}}}}},
                            {"required", {"k"}},
                            {"additionalProperties", false}});
  }
  auto wide = Grammar::json_schema(Json{{"anyOf", branches}});
  ASSERT_TRUE(wide.is_ok()) << wide.status().message();
  EXPECT_TRUE(accepts(wide.value(), "{\"k\": 7}"));
  std::mt19937 rng(3);
  for (int i = 0; i < 5; ++i) {
    GrammarMatcher m(wide.value(), test_vocab());
    std::vector<uint8_t> mask;
    std::string out;
    for (int t = 0; t < 40 && !m.is_complete(); ++t) {
      m.fill_mask(&mask, 40 - t);
      std::vector<int32_t> ids;
      for (size_t k = 0; k < mask.size(); ++k) {
        if (mask[k]) ids.push_back(int32_t(k));
      }
      ASSERT_FALSE(ids.empty()) << out;
      const int32_t id = ids[rng() % ids.size()];
      ASSERT_TRUE(m.accept_token(id));
      out += test_vocab()->token(id);
    }
    ASSERT_TRUE(m.is_complete()) << out;
    const Json d = Json::parse(out);
    EXPECT_TRUE(d["k"].is_number_integer() && d["k"].get<int>() < 300) << out;
  }
  // Invalid UTF-8 in a name or value (possible when the Json was built in code).
  g = Grammar::json_schema(Json{{"enum", {std::string("\xff")}}});
  ASSERT_FALSE(g.is_ok());
  EXPECT_NE(g.status().message().find("invalid UTF-8"), std::string::npos);
  // Long $ref alias chains are handled without recursion.
  Json defs = Json::object();
  for (int i = 0; i < 5000; ++i) {
    defs["d" + std::to_string(i)] = Json{{"$ref", "#/$defs/d" + std::to_string(i + 1)}};
  }
  defs["d5000"] = Json{{"type", "boolean"}};
  auto chain = Grammar::json_schema(Json{{"$defs", defs}, {"$ref", "#/$defs/d0"}});
  ASSERT_TRUE(chain.is_ok()) << chain.status().message();
  EXPECT_TRUE(accepts(chain.value(), "false"));
}

// ---- Sequences (forced tool calls)
// ---------------------------------------------------------------

TEST(Grammar, ForcedToolCallSequence) {
  const Json weather = Json::parse(
      R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"],
          "additionalProperties":false})");
  const Json time = Json::parse(
      R"({"type":"object","properties":{"tz":{"enum":["UTC","CET"]}},"required":["tz"],
          "additionalProperties":false})");
  auto call = [](const std::string& name, const Json& params) {
    return std::vector<Grammar::Part>{
        {"<tool_call>\n{\"name\": \"" + name + "\", \"arguments\": ", std::nullopt},
        {"", params},
        {"}\n</tool_call>", std::nullopt}};
  };
  auto g = Grammar::sequence_alternatives({call("get_weather", weather), call("get_time", time)});
  ASSERT_TRUE(g.is_ok()) << g.status().message();
  const GrammarPtr gp = g.value();
  EXPECT_TRUE(accepts(gp,
                      "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
                      "\"Paris\"}}\n</tool_call>"));
  EXPECT_TRUE(accepts(gp,
                      "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"tz\":\"CET\"}}"
                      "\n</tool_call>"));
  EXPECT_FALSE(accepts(gp,
                       "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"city\": "
                       "\"Paris\"}}\n</tool_call>"));
  EXPECT_FALSE(accepts(gp, "<tool_call>\n{\"name\": \"get_wind\""));
  EXPECT_FALSE(accepts(gp, "<tool_call> {\"name\": \"get_time\""));  // literals are exact
  EXPECT_FALSE(accepts(gp,
                       "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
                       "\"Paris\"}}\n</tool_call>\n"));
  GrammarMatcher m(gp, test_vocab());
  EXPECT_EQ(m.min_bytes_to_complete(), gp->min_document_bytes());
  std::vector<uint8_t> mask;
  m.fill_mask(&mask);
  for (size_t i = 0; i < mask.size(); ++i) {
    if (mask[i]) {
      EXPECT_EQ(test_vocab()->token(int32_t(i))[0], '<');
    }
  }
  // A part is a literal or a schema; an empty alternative makes the empty reply complete.
  EXPECT_FALSE(Grammar::sequence_alternatives({{{"x", Json::object()}}}).is_ok());
  auto opt = Grammar::sequence_alternatives({{}, call("get_time", time)});
  ASSERT_TRUE(opt.is_ok());
  GrammarMatcher e(opt.value(), test_vocab());
  EXPECT_TRUE(e.is_complete());
  EXPECT_TRUE(e.can_continue());
  // Errors name the alternative and part.
  auto bad = Grammar::sequence_alternatives({call("f", Json{{"not", {}}})});
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("tools: alternative 0, part 1: unsupported JSON Schema "
                                        "keyword 'not' at /"),
            std::string::npos)
      << bad.status().message();
}

TEST(Grammar, NumberFollowedByLiteralIsAmbiguousButExact) {
  auto g =
      Grammar::sequence_alternatives({{{"", Json{{"type", "integer"}}}, {"0;", std::nullopt}}});
  ASSERT_TRUE(g.is_ok());
  EXPECT_TRUE(accepts(g.value(), "100;"));  // 10 then "0;"
  EXPECT_TRUE(accepts(g.value(), "00;"));   // 0 then "0;"
  EXPECT_TRUE(accepts(g.value(), "10;"));   // 1 then "0;"
  EXPECT_FALSE(accepts(g.value(), "1;"));
  EXPECT_FALSE(accepts(g.value(), "0;"));
}

// ---- Independent conformance check for walk outputs
// ------------------------------------------------

// nlohmann stores integers beyond 64 bits as doubles; JSON Schema still calls them integers.
bool is_integral(const Json& d) {
  if (d.is_number_integer()) return true;
  return d.is_number_float() && d.get<double>() == std::floor(d.get<double>());
}

// A tiny validator for the keywords the fixture schemas use (type, properties, required,
// additionalProperties, items/prefixItems, min/maxItems, min/maxLength, enum, const, anyOf/oneOf
// (as anyOf), allOf, $ref). format and numeric bounds are not checked here.
bool conforms(const Json& d, const Json& s, const Json& root, int depth = 0) {
  if (depth > 200) return false;
  if (s.is_boolean()) return s.get<bool>();
  if (s.contains("$ref")) {
    return conforms(d, root.at(Json::json_pointer(s["$ref"].get<std::string>().substr(1))), root,
                    depth + 1);
  }
  if (s.contains("allOf") && !conforms(d, s["allOf"][0], root, depth + 1)) return false;
  for (const char* k : {"anyOf", "oneOf"}) {
    if (!s.contains(k)) continue;
    bool any = false;
    for (const auto& b : s[k]) any = any || conforms(d, b, root, depth + 1);
    if (!any) return false;
  }
  if (s.contains("enum") && std::find(s["enum"].begin(), s["enum"].end(), d) == s["enum"].end()) {
    return false;
  }
  if (s.contains("const") && !(s["const"] == d)) return false;
  if (s.contains("type")) {
    const Json types = s["type"].is_array() ? s["type"] : Json::array({s["type"]});
    bool ok = false;
    for (const auto& t : types) {
      const std::string n = t.get<std::string>();
      ok = ok || (n == "object" && d.is_object()) || (n == "array" && d.is_array()) ||
           (n == "string" && d.is_string()) || (n == "number" && d.is_number()) ||
           (n == "integer" && is_integral(d)) || (n == "boolean" && d.is_boolean()) ||
           (n == "null" && d.is_null());
    }
    if (!ok) return false;
  }
  if (d.is_string()) {
    size_t cps = 0;
    for (unsigned char c : d.get<std::string>()) cps += (c & 0xC0) != 0x80;
    if (s.contains("minLength") && cps < s["minLength"].get<size_t>()) return false;
    if (s.contains("maxLength") && cps > s["maxLength"].get<size_t>()) return false;
  }
  if (d.is_array()) {
    if (s.contains("minItems") && d.size() < s["minItems"].get<size_t>()) return false;
    if (s.contains("maxItems") && d.size() > s["maxItems"].get<size_t>()) return false;
    Json prefix = Json::array(), rest = true;
    if (s.contains("prefixItems")) {
      prefix = s["prefixItems"];
      if (s.contains("items")) rest = s["items"];
    } else if (s.contains("items") && s["items"].is_array()) {
      prefix = s["items"];
      if (s.contains("additionalItems")) rest = s["additionalItems"];
    } else if (s.contains("items")) {
      rest = s["items"];
    }
    for (size_t i = 0; i < d.size(); ++i) {
      if (!conforms(d[i], i < prefix.size() ? prefix[i] : rest, root, depth + 1)) return false;
    }
  }
  if (d.is_object()) {
    const Json props = s.value("properties", Json::object());
    for (const auto& r : s.value("required", Json::array())) {
      if (!d.contains(r.get<std::string>())) return false;
    }
    for (const auto& [k, v] : d.items()) {
      if (props.contains(k)) {
        if (!conforms(v, props[k], root, depth + 1)) return false;
      } else if (s.contains("additionalProperties") &&
                 !conforms(v, s["additionalProperties"], root, depth + 1)) {
        return false;
      }
    }
  }
  return true;
}

// ---- Random walks -----------------------------------------------------------------------------

struct Walk {
  std::string out;
  bool complete = false;
  bool dead_end = false;
  int tokens = 0;
};

// Draws uniformly among allowed tokens; when the document may end, stops with probability
// p_stop. With a budget, fill_mask is told how many tokens are left.
Walk random_walk(const GrammarPtr& g, const std::shared_ptr<const TokenVocab>& v, std::mt19937& rng,
                 int max_tokens, bool budget, double p_stop) {
  Walk w;
  GrammarMatcher m(g, v);
  std::vector<uint8_t> mask;
  std::vector<int32_t> allowed;
  std::uniform_real_distribution<double> u(0, 1);
  for (; w.tokens < max_tokens; ++w.tokens) {
    if (m.is_complete() && (!m.can_continue() || u(rng) < p_stop)) break;
    m.fill_mask(&mask, budget ? max_tokens - w.tokens : -1);
    allowed.clear();
    for (size_t i = 0; i < mask.size(); ++i) {
      if (mask[i]) allowed.push_back(int32_t(i));
    }
    if (allowed.empty()) {
      w.dead_end = !m.is_complete();
      break;
    }
    const int32_t id = allowed[rng() % allowed.size()];
    if (!m.accept_token(id)) {
      w.dead_end = true;
      break;
    }
    w.out += v->token(id);
  }
  w.complete = m.is_complete();
  return w;
}

void check_output(const GrammarPtr& g, const std::string& out, const Json* schema) {
  Json doc;
  try {
    doc = Json::parse(out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "output does not parse: " << e.what() << "\n" << out;
    return;
  }
  GrammarMatcher again(g, test_vocab());
  EXPECT_TRUE(again.accept_bytes(out) && again.is_complete()) << out;
  if (schema) {
    EXPECT_TRUE(conforms(doc, *schema, *schema)) << out;
  }
}

TEST(Grammar, RandomWalksProduceValidDocuments) {
  std::mt19937 rng(1234);
  const auto v = test_vocab();
  int finished = 0;
  auto any = Grammar::json_any_object();
  ASSERT_TRUE(any.is_ok());
  for (int i = 0; i < 40; ++i) {
    const Walk w = random_walk(any.value(), v, rng, 150, true, 0.5);
    ASSERT_FALSE(w.dead_end) << w.out;
    ASSERT_TRUE(w.complete) << w.out;
    check_output(any.value(), w.out, nullptr);
    EXPECT_EQ(w.out[0], '{');
    ++finished;
  }
  for (const auto& c : fixture()["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const GrammarPtr g = compile(c["schema"]);
    ASSERT_TRUE(g);
    for (int i = 0; i < 8; ++i) {
      const Walk w = random_walk(g, v, rng, 120, true, 0.5);
      ASSERT_FALSE(w.dead_end) << w.out;
      ASSERT_TRUE(w.complete) << w.out;
      check_output(g, w.out, &c["schema"]);
      ++finished;
    }
  }
  EXPECT_GT(finished, 400);
}

// Without a budget a walk may run out of tokens mid-document, but it never meets a dead end.
TEST(Grammar, RandomWalksWithoutBudgetNeverDeadEnd) {
  std::mt19937 rng(99);
  const auto v = test_vocab();
  int complete = 0, total = 0;
  for (const auto& c : fixture()["cases"]) {
    const GrammarPtr g = compile(c["schema"]);
    ASSERT_TRUE(g);
    for (int i = 0; i < 4; ++i) {
      const Walk w = random_walk(g, v, rng, 60, false, 0.7);
      ASSERT_FALSE(w.dead_end) << c["name"] << ": " << w.out;
      complete += w.complete;
      ++total;
      if (w.complete) check_output(g, w.out, &c["schema"]);
    }
  }
  std::printf("[          ] walks without budget: %d of %d complete within 60 tokens\n", complete,
              total);
}

// The budget rule: with max_tokens N >= the fewest bytes of a document, the reply is complete
// when the budget runs out.
TEST(Grammar, BudgetClosesDocuments) {
  std::mt19937 rng(5);
  const auto v = test_vocab();
  int runs = 0, complete = 0;
  std::vector<std::pair<GrammarPtr, Json>> grammars;
  for (const auto& c : fixture()["cases"]) grammars.emplace_back(compile(c["schema"]), c["schema"]);
  grammars.emplace_back(Grammar::json_any_object().value(), Json{{"type", "object"}});
  for (const auto& [g, schema] : grammars) {
    ASSERT_TRUE(g);
    for (int extra : {0, 1, 2, 5, 10, 30}) {
      const int n = int(g->min_document_bytes()) + extra;
      const Walk w = random_walk(g, v, rng, n, true, 0.0);  // never stops early by choice
      ASSERT_FALSE(w.dead_end);
      ++runs;
      complete += w.complete;
      EXPECT_TRUE(w.complete) << schema.dump() << " N=" << n << ": " << w.out;
      if (w.complete) check_output(g, w.out, &schema);
    }
  }
  std::printf("[          ] budget: %d of %d replies complete at max_tokens\n", complete, runs);
  // A budget below the minimum: fill_mask still allows something (the fastest way forward).
  const GrammarPtr g = grammars[0].first;
  GrammarMatcher m(g, v);
  std::vector<uint8_t> mask;
  m.fill_mask(&mask, 1);
  EXPECT_GT(std::count(mask.begin(), mask.end(), 1), 0);
}

// ---- fill_mask against brute force ------------------------------------------------------------

// Expected mask: every token whose bytes accept_bytes takes on a copy, then the budget rule on
// the copy's min_bytes_to_complete.
void expect_mask_is_brute_force(const GrammarMatcher& m, const TokenVocab& v, int64_t left,
                                const std::string& context) {
  GrammarMatcher probe = m;
  std::vector<uint8_t> mask;
  probe.fill_mask(&mask, left);
  std::vector<uint32_t> d(v.size(), UINT32_MAX);
  uint32_t best = UINT32_MAX;
  bool any_within = false;
  for (size_t i = 0; i < v.size(); ++i) {
    GrammarMatcher c = m;
    if (!c.accept_token(int32_t(i))) continue;
    d[i] = c.min_bytes_to_complete();
    best = std::min(best, d[i]);
    any_within |= left < 0 || int64_t(d[i]) <= left - 1;
  }
  for (size_t i = 0; i < v.size(); ++i) {
    const bool want = d[i] != UINT32_MAX &&
                      (left < 0 || int64_t(d[i]) <= left - 1 || (!any_within && d[i] == best));
    if (bool(mask[i]) != want) {
      ADD_FAILURE() << "token " << i << " '" << v.token(int32_t(i)) << "' mask " << int(mask[i])
                    << " brute force " << want << " (D after " << d[i] << ", left " << left
                    << ") after: " << context;
      return;
    }
  }
}

TEST(Grammar, MaskEqualsBruteForce) {
  std::mt19937 rng(77);
  const auto v = test_vocab();
  std::vector<std::pair<GrammarPtr, std::string>> grammars;
  for (const auto& c : fixture()["cases"]) {
    grammars.emplace_back(compile(c["schema"]), c["name"].get<std::string>());
  }
  grammars.emplace_back(Grammar::json_any_object().value(), "any_object");
  std::vector<uint8_t> mask;
  std::vector<int32_t> allowed;
  int states = 0;
  for (const auto& [g, name] : grammars) {
    ASSERT_TRUE(g);
    for (int walk = 0; walk < 2; ++walk) {
      GrammarMatcher m(g, v);
      std::string out;
      for (int step = 0; step < 40; ++step) {
        if (step % 3 == 0 || step < 3) {
          const int64_t left = (step % 2) ? -1 : int64_t(1 + rng() % 12);
          expect_mask_is_brute_force(m, *v, left, name + ": " + out);
          ++states;
        }
        m.fill_mask(&mask);
        allowed.clear();
        for (size_t i = 0; i < mask.size(); ++i) {
          if (mask[i]) allowed.push_back(int32_t(i));
        }
        if (allowed.empty()) break;
        const int32_t id = allowed[rng() % allowed.size()];
        ASSERT_TRUE(m.accept_token(id));
        out += v->token(id);
      }
    }
  }
  EXPECT_GT(states, 500);
}

// States picked to hit each masking path: plain string / extra key tables, keys on the names'
// trie with and without extra keys allowed, escapes and UTF-8 in progress, formats, enums, numbers.
TEST(Grammar, MaskEqualsBruteForceAtChosenStates) {
  const auto v = test_vocab();
  struct State {
    const char* schema;
    const char* prefix;
  };
  const State states[] = {
      {R"({"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"}},
           "required":["id"],"additionalProperties":true})",
       "{\"id\": 1, \""},
      {R"({"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"}},
           "required":["id"],"additionalProperties":true})",
       "{\"id\": 1, \"na"},
      {R"({"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"}},
           "required":["id"],"additionalProperties":true})",
       "{\"id\": 1, \"name"},
      {R"({"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"}},
           "required":["id"],"additionalProperties":true})",
       "{\"id\": 1, \"nx"},
      {R"({"type":"object","properties":{"a\"b":{"type":"integer"},"ключ":{"type":"integer"}},
           "additionalProperties":{"type":"string"}})",
       "{\"a\\"},
      {R"({"type":"object","properties":{"a\"b":{"type":"integer"},"ключ":{"type":"integer"}},
           "additionalProperties":{"type":"string"}})",
       "{\"\xd0"},
      {R"({"type":"object","properties":{"a\"b":{"type":"integer"},"ключ":{"type":"integer"}},
           "additionalProperties":false})",
       "{\""},
      {R"({"type":"object"})", "{\"k\xc3"},
      {R"({"type":"object"})", "{\"k\": \"a\\u00"},
      {R"({"type":"object"})", "{\"k\": \"a\\ud83d"},
      {R"({"type":"object"})", "{\"k\": \"a\\"},
      {R"({"type":"object"})", "{\"k\": -"},
      {R"({"type":"object"})", "{\"k\": 1.5e"},
      {R"({"type":"object"})", "{\"k\": [tr"},
      {R"({"type":"object"})", "{\"k\":\n  "},
      {R"({"type":"string","minLength":3,"maxLength":5})", "\"ab"},
      {R"({"type":"string","minLength":3,"maxLength":5})", "\"abcd"},
      {R"({"type":"string","format":"date-time"})", "\"2024-02-2"},
      {R"({"enum":["alpha","alps",1,12,{"a":1}]})", ""},
      {R"({"enum":["alpha","alps",1,12,{"a":1}]})", "\"al"},
      {R"({"enum":["alpha","alps",1,12,{"a":1}]})", "1"},
      {R"({"anyOf":[{"type":"string","maxLength":2},{"type":"string","format":"uuid"}]})", "\"1"},
  };
  for (const auto& st : states) {
    const GrammarPtr g = compile(Json::parse(st.schema));
    ASSERT_TRUE(g);
    GrammarMatcher m(g, v);
    ASSERT_TRUE(m.accept_bytes(st.prefix)) << st.prefix;
    for (int64_t left : {int64_t(-1), int64_t(1), int64_t(3), int64_t(6), int64_t(12)}) {
      expect_mask_is_brute_force(m, *v, left, std::string(st.schema) + " / " + st.prefix);
    }
  }
}

// ---- Random schemas ---------------------------------------------------------------------------

// Random schemas over every supported keyword (recursion through $defs included): each either
// compiles, and then budgeted random walks give documents that parse, re-match and conform, or
// is refused with a message (some are unsatisfiable, e.g. a required property whose schema is
// false).
Json random_schema(std::mt19937& rng, int depth) {
  auto pick = [&](int n) { return int(rng() % uint32_t(n)); };
  static const char* const kNames[] = {"a", "b", "name", "ключ", "x\"y", "tab\t", "", "id", "日本"};
  Json s = Json::object();
  const int kind = depth >= 3 ? 4 + pick(6) : pick(11);
  switch (kind) {
    case 0:
    case 1: {
      s["type"] = "object";
      Json props = Json::object();
      const int n = pick(4);
      for (int i = 0; i < n; ++i) props[kNames[pick(9)]] = random_schema(rng, depth + 1);
      if (n) s["properties"] = props;
      Json req = Json::array();
      for (const auto& [k, _] : props.items()) {
        if (pick(2)) req.push_back(k);
      }
      if (pick(4) == 0) req.push_back("zz");
      if (!req.empty()) s["required"] = req;
      const int ap = pick(4);
      if (ap == 1) s["additionalProperties"] = false;
      if (ap == 2) s["additionalProperties"] = true;
      if (ap == 3) s["additionalProperties"] = random_schema(rng, depth + 1);
      break;
    }
    case 2:
    case 3: {
      s["type"] = "array";
      if (pick(2)) {
        Json pre = Json::array();
        for (int i = 0, n = 1 + pick(2); i < n; ++i) pre.push_back(random_schema(rng, depth + 1));
        s["prefixItems"] = pre;
        if (pick(2)) s["items"] = pick(2) ? Json(false) : random_schema(rng, depth + 1);
      } else if (pick(3)) {
        s["items"] = random_schema(rng, depth + 1);
      }
      const int lo = pick(3);
      if (pick(2)) s["minItems"] = lo;
      if (pick(2)) s["maxItems"] = lo + pick(3);
      break;
    }
    case 4:
      s["type"] = "string";
      if (pick(2)) s["minLength"] = pick(3);
      if (pick(2)) s["maxLength"] = 3 + pick(3);
      if (pick(5) == 0) s = Json{{"type", "string"}, {"format", pick(2) ? "date" : "uuid"}};
      break;
    case 5:
      s["type"] = pick(2) ? "integer" : "number";
      if (pick(3) == 0) s["minimum"] = 0;
      break;
    case 6:
      s["enum"] = Json::array({"red", "é\"", 1, 12, nullptr, true, Json{{"k", Json::array({1})}}});
      if (pick(2)) s["type"] = pick(2) ? "string" : "integer";
      break;
    case 7:
      s["type"] = Json::array({"boolean", "null", "string"});
      if (pick(2)) s["const"] = pick(2) ? Json("c") : Json(nullptr);
      break;
    case 8:
      s["$ref"] = "#/$defs/node";
      break;
    case 9: {
      Json alts = Json::array();
      for (int i = 0, n = 1 + pick(3); i < n; ++i) alts.push_back(random_schema(rng, depth + 1));
      s[pick(2) ? "anyOf" : "oneOf"] = alts;
      break;
    }
    default:
      s = pick(2) ? Json::object() : Json(true);
      break;
  }
  if (pick(6) == 0 && s.is_object()) s["description"] = "ignored";
  return s;
}

TEST(Grammar, RandomSchemasWalkToConformingDocuments) {
  std::mt19937 rng(31337);
  const auto v = test_vocab();
  int compiled = 0, refused = 0, walks = 0;
  for (int i = 0; i < 250; ++i) {
    Json schema = random_schema(rng, 0);
    if (schema.is_object()) {
      schema["$defs"] = Json{
          {"node",
           {{"type", "object"},
            {"properties", {{"v", {{"type", "integer"}}}, {"next", {{"$ref", "#/$defs/node"}}}}},
            {"additionalProperties", false}}}};
    }
    auto g = Grammar::json_schema(schema);
    if (!g.is_ok()) {
      EXPECT_FALSE(g.status().message().empty());
      ++refused;
      continue;
    }
    ++compiled;
    if (i % 2 == 0) {  // masks along one walk against brute force
      GrammarMatcher m(g.value(), v);
      std::vector<uint8_t> mask;
      for (int step = 0; step < 24 && m.can_continue(); ++step) {
        if (step % 8 == 3) {
          expect_mask_is_brute_force(m, *v, step % 16 == 3 ? -1 : int64_t(2 + rng() % 8),
                                     schema.dump());
        }
        m.fill_mask(&mask);
        std::vector<int32_t> allowed;
        for (size_t t = 0; t < mask.size(); ++t) {
          if (mask[t]) allowed.push_back(int32_t(t));
        }
        if (allowed.empty()) break;
        ASSERT_TRUE(m.accept_token(allowed[rng() % allowed.size()]));
      }
    }
    for (int k = 0; k < 4; ++k) {
      const int budget = int(g.value()->min_document_bytes()) + int(rng() % 40);
      const Walk w = random_walk(g.value(), v, rng, budget, true, 0.3);
      ASSERT_FALSE(w.dead_end) << schema.dump() << "\n" << w.out;
      ASSERT_TRUE(w.complete) << schema.dump() << "\n" << w.out;
      SCOPED_TRACE(schema.dump());
      check_output(g.value(), w.out, &schema);
      ++walks;
    }
  }
  std::printf("[          ] random schemas: %d compiled (%d walks), %d refused\n", compiled, walks,
              refused);
  EXPECT_GT(compiled, 150);
}

// ---- Long generations
// ----------------------------------------------------------------------------

TEST(Grammar, LongAndDeepDocumentsKeepWorking) {
  const Json& tree =
      [] {
        for (const auto& c : fixture()["cases"]) {
          if (c["name"] == "recursive_tree") return std::cref(c["schema"]);
        }
        throw std::runtime_error("recursive_tree missing");
      }()
          .get();
  const GrammarPtr g = compile(tree);
  ASSERT_TRUE(g);
  std::string deep;
  for (int i = 0; i < 3000; ++i) deep += "{\"value\":" + std::to_string(i) + ",\"children\":[";
  deep += "{\"value\":-1}";
  for (int i = 0; i < 3000; ++i) deep += "]}";
  EXPECT_TRUE(accepts(g, deep));
  // Many values in sequence: the matcher's link arena is collected as it goes.
  auto any = Grammar::json_any_object();
  GrammarMatcher m(any.value(), test_vocab());
  ASSERT_TRUE(m.accept_bytes("{\"a\": ["));
  for (int i = 0; i < 50000; ++i) {
    ASSERT_TRUE(m.accept_bytes("{\"k\": [1, {\"z\": \"w\"}]}, "));
  }
  ASSERT_TRUE(m.accept_bytes("null]}"));
  EXPECT_TRUE(m.is_complete());
}

// ---- Timing on a Qwen3-sized vocabulary (printed, not asserted)
// ----------------------------------

// 151,643 tokens with Qwen3's length histogram; 35% start with a space, ~38% hold non-ASCII
// (CJK / Cyrillic, sometimes cut mid-character), ~1% hold a quote; the 256 single bytes.
std::vector<std::string> qwen_like_vocab() {
  std::mt19937 rng(2024);
  const std::pair<int, int> hist[] = {{2, 5073},  {3, 25206}, {4, 18359}, {5, 15992}, {6, 28818},
                                      {7, 13592}, {8, 10801}, {9, 12688}, {10, 5848}, {11, 4276},
                                      {12, 4814}, {13, 1786}, {14, 830},  {15, 1105}, {16, 1500},
                                      {18, 1000}, {22, 500},  {30, 200},  {64, 50}};
  const std::string punct = "!#$%&'()*+,-./:;<=>?@[]^_`{|}~\\";
  std::vector<std::string> v;
  for (int b = 0; b < 256; ++b) v.push_back(std::string(1, char(b)));
  for (const auto& [len, count] : hist) {
    for (int i = 0; i < count; ++i) {
      std::string t;
      const unsigned r = rng() % 100;
      if (r < 35) t = " ";
      if (r >= 35 && r < 73) {  // non-ASCII
        while (t.size() < size_t(len)) {
          if (rng() % 2) {
            const unsigned cp = 0x4E00 + rng() % 0x5000;  // CJK, 3 bytes
            t += char(0xE0 | (cp >> 12));
            t += char(0x80 | ((cp >> 6) & 0x3F));
            t += char(0x80 | (cp & 0x3F));
          } else {
            const unsigned cp = 0x410 + rng() % 0x40;  // Cyrillic, 2 bytes
            t += char(0xC0 | (cp >> 6));
            t += char(0x80 | (cp & 0x3F));
          }
        }
        t.resize(size_t(len));  // may cut a character
      } else {
        while (t.size() < size_t(len)) {
          const unsigned k = rng() % 100;
          if (k < 1)
            t += '"';
          else if (k < 8)
            t += punct[rng() % punct.size()];
          else if (k < 14)
            t += char('0' + rng() % 10);
          else if (k < 20)
            t += char('A' + rng() % 26);
          else
            t += char('a' + rng() % 26);
        }
      }
      v.push_back(t);
    }
  }
  return v;
}

TEST(Grammar, MaskTimingOnQwenSizedVocab) {
  auto t0 = std::chrono::steady_clock::now();
  const auto v = std::make_shared<const TokenVocab>(qwen_like_vocab());
  const double build_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[          ] TokenVocab of %zu tokens built in %.1f ms\n", v->size(), build_ms);
  const GrammarPtr obj = Grammar::json_any_object().value();
  const GrammarPtr tool = [] {
    for (const auto& c : fixture()["cases"]) {
      if (c["name"] == "tool_arguments") return compile(c["schema"]);
    }
    return GrammarPtr();
  }();
  ASSERT_TRUE(tool);
  struct State {
    const char* what;
    GrammarPtr g;
    std::string prefix;
    int64_t left;
  };
  const State states[] = {
      {"json_object: start", obj, "", -1},
      {"json_object: inside a key", obj, "{\"", -1},
      {"json_object: after a key (value start)", obj, "{\"key\": ", -1},
      {"json_object: inside a string value", obj, "{\"key\": \"some text", -1},
      {"json_object: inside a string, budget 8", obj, "{\"key\": \"some text", 8},
      {"json_object: string after half a UTF-8 char", obj, "{\"key\": \"\xe6", -1},
      {"json_object: inside a number", obj, "{\"key\": 12", -1},
      {"json_object: after a value", obj, "{\"key\": [1, 2]", -1},
      {"schema: inside a string value", tool, "{\"location\": \"Par", -1},
      {"schema: at the next key", tool, "{\"location\": \"Paris\", ", -1},
      {"schema: enum value start", tool, "{\"location\": \"Paris\", \"unit\": ", -1},
  };
  std::vector<uint8_t> mask;
  for (const auto& s : states) {
    GrammarMatcher m(s.g, v);
    ASSERT_TRUE(m.accept_bytes(s.prefix)) << s.what;
    m.fill_mask(&mask, s.left);  // warm
    const int reps = 20;
    double best = 1e9, total = 0;
    for (int r = 0; r < reps; ++r) {
      const auto a = std::chrono::steady_clock::now();
      m.fill_mask(&mask, s.left);
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count();
      best = std::min(best, ms);
      total += ms;
    }
    const long allowed = long(std::count(mask.begin(), mask.end(), 1));
    std::printf("[          ] fill_mask %-44s %7.3f ms (mean %7.3f), %6ld allowed\n", s.what, best,
                total / reps, allowed);
    EXPECT_GT(allowed, 0) << s.what;
  }
}

}  // namespace
}  // namespace longctx
