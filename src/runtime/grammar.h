// Constrained decoding: a JSON grammar (any object, a JSON Schema subset, or literal/schema
// sequences such as a forced tool call) compiled to an immutable pushdown machine over bytes, and a
// per-request matcher that masks a token vocabulary so every sampled reply stays a valid prefix.
// docs: the comments below are the reference; grammar_internal.h explains the machine.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace longctx {

namespace grammar_detail {
struct GrammarImpl;
struct VocabImpl;
struct MatchState;
}  // namespace grammar_detail

// A compiled grammar. Immutable once built: share one across requests (shared_ptr<const Grammar>).
//
// JSON syntax accepted (RFC 8259, with bounds that stop a model from stalling):
//  - no whitespace before the first byte or after the last byte of a document;
//  - between tokens of a JSON value, a whitespace run holds at most one '\n', one '\r' and
//    kMaxWsIndent spaces/tabs (enough for pretty-printing, not for whitespace forever);
//  - strings: UTF-8 validated byte by byte (RFC 3629: no overlongs, no surrogates, <= U+10FFFF),
//    no raw control bytes, escapes \" \\ \/ \b \f \n \r \t \uXXXX where a \u high surrogate must
//    be followed by a \u low surrogate and a lone low surrogate is refused (so that strict
//    parsers such as nlohmann::json accept every output);
//  - numbers per the JSON grammar (no leading zeros, no '+', no bare '.'), kept finite as a
//    double (strict parsers refuse 1e400): at most 308 integer digits, and a positive exponent
//    only while integer digits - 1 + exponent <= 307;
//  - objects may repeat a key only where the schema allows extra keys (see below);
//  - ambiguity (anyOf branches sharing a prefix, a number or literal that may end or go on) is
//    followed with parallel parses, at most kMaxStacks of them; past that, later ones are dropped
//    (what is generated stays valid, some branches just become unreachable).
//  A document may be any JSON value (json_any_value, json_schema) or must be an object
//  (json_any_object).
//
// JSON Schema subset (the caller passes the inner "schema" of OpenAI's json_schema wrapper):
//  - type (one name or an array), enum, const, anyOf, oneOf (treated as anyOf: a value matching
//    several branches is accepted), allOf with exactly one entry, $ref to any JSON pointer inside
//    the same document ("#", "#/$defs/x", "#/definitions/x", ...; recursion is fine), boolean
//    schemas true/false.
//  - objects: properties are emitted in schema order: required ones mandatory, optional ones
//    optional, never reordered. additionalProperties false => only the listed keys; true or a
//    schema => extra keys (whose values follow that schema) may come after all listed ones,
//    written without escapes and never equal to a listed name; absent => false when "properties"
//    is given, else any extra keys (so {"type":"object"} is any object). Names in "required" but
//    not in "properties" are appended as listed keys whose value follows additionalProperties
//    (any value when it is absent or true; unsatisfiable when false). Extra keys are not checked
//    against each other, so a duplicate extra key is possible.
//  - arrays: items, prefixItems (and the older items-as-array + additionalItems), minItems,
//    maxItems; uniqueItems false.
//  - strings: minLength, maxLength (in code points; a surrogate pair counts once). format
//    "date" (YYYY-MM-DD, year >= 1, day within the month's length but February 29 in any year),
//    "date-time" (RFC 3339: date, T, HH:MM:SS[.frac], Z or +-HH:MM; T/Z in either case; no leap
//    second) and "uuid" (8-4-4-4-12 hex digits) are enforced; other formats and "pattern" are NOT
//    enforced (plain strings). minLength/maxLength next to an enforced format are refused.
//  - numbers: "integer" allows no fraction/exponent; minimum/maximum/exclusive* are not enforced,
//    except that a lower bound >= 0 forbids the minus sign.
//  - enum/const: values are emitted in compact canonical form (strings with nlohmann-style
//    escapes, numbers as nlohmann prints them); objects/arrays inside may carry whitespace.
//    Siblings allowed next to enum/const: type, minLength/maxLength, minItems/maxItems (used to
//    filter the values) and the ignored keywords.
//  - no "type": inferred from the keywords present (object, array or string keywords, in that
//    order; none: any value). This generates a subset of what the schema allows, never more.
//  - ignored: annotations (title, description, examples, default, $schema, $id, $comment,
//    deprecated, readOnly, writeOnly, ...), $defs/definitions (only reachable through $ref),
//    unknown keywords (as JSON Schema itself ignores them).
//  - refused with kInvalidArgument naming the keyword and its location (keywords that change
//    validity and are not honoured): not, if/then/else, patternProperties, propertyNames,
//    min/maxProperties, dependentRequired/dependentSchemas/dependencies, unevaluated*, contains,
//    min/maxContains, multipleOf, uniqueItems true, $dynamicRef, $recursiveRef, allOf with several
//    entries, validation keywords next to $ref/anyOf/oneOf/allOf/enum/const.
//  - limits (untrusted bodies): nesting deeper than kMaxSchemaDepth, more than kMaxEnumValues
//    values in one enum, more than kMaxNodes compiled nodes or kMaxLiteralBytes literal/key bytes,
//    minItems/minLength above kMaxMinCount, minItems > maxItems, minLength > maxLength, a schema
//    no JSON value can satisfy: all refused with a clear message, never a crash.
class Grammar {
 public:
  using Json = nlohmann::ordered_json;

  static constexpr int kMaxWsIndent = 48;
  static constexpr int kMaxSchemaDepth = 64;
  static constexpr size_t kMaxEnumValues = 16384;
  static constexpr size_t kMaxNodes = 65536;
  static constexpr size_t kMaxLiteralBytes = 4u << 20;
  static constexpr uint32_t kMaxMinCount = 1u << 20;
  static constexpr size_t kMaxStacks = 256;

  // response_format {"type": "json_object"}: any JSON object.
  static Result<std::shared_ptr<const Grammar>> json_any_object();
  // Any JSON value (for tests and tools).
  static Result<std::shared_ptr<const Grammar>> json_any_value();
  // response_format {"type": "json_schema"}: a value of the schema. `context` prefixes errors.
  static Result<std::shared_ptr<const Grammar>> json_schema(
      const Json& schema, std::string_view context = "response_format");

  // One part of a sequence: literal bytes (schema unset) or one JSON value of `schema` (literal
  // then empty). Literal bytes are matched exactly, without whitespace around them.
  struct Part {
    std::string literal;
    std::optional<Json> schema;
  };
  // Any one of the sequences; e.g. a forced Qwen3 tool call is the single alternative
  //   {"<tool_call>\n{\"name\": \"get_weather\", \"arguments\": ", <parameters schema>,
  //   "}\n</tool_call>"}
  // and tool_choice "required" over several tools is one alternative per tool. Each schema is a
  // separate document for $ref purposes. An empty alternative makes the empty reply complete.
  static Result<std::shared_ptr<const Grammar>> sequence_alternatives(
      const std::vector<std::vector<Part>>& alternatives, std::string_view context = "tools");

  // Fewest bytes of a complete document.
  uint32_t min_document_bytes() const;
  size_t node_count() const;

  ~Grammar();
  const grammar_detail::GrammarImpl& impl() const { return *impl_; }

 private:
  explicit Grammar(std::unique_ptr<grammar_detail::GrammarImpl> impl);
  static std::shared_ptr<const Grammar> wrap(std::unique_ptr<grammar_detail::GrammarImpl> impl);
  std::unique_ptr<grammar_detail::GrammarImpl> impl_;
};

// The token vocabulary organised for masking: a byte trie of all tokens, plus tables for the hot
// "inside a plain string" state. Build once per tokenizer (about 0.1-0.3 s for 152k tokens) and
// share; immutable, so thread-safe.
class TokenVocab {
 public:
  // token_bytes[id] = the bytes the token decodes to (byte-level BPE: possibly partial UTF-8).
  // An empty string marks a token that is never allowed (special / control tokens), as does one
  // longer than 65535 bytes.
  explicit TokenVocab(std::vector<std::string> token_bytes);
  ~TokenVocab();
  size_t size() const;
  const std::string& token(int32_t id) const;
  const grammar_detail::VocabImpl& impl() const { return *impl_; }

 private:
  std::unique_ptr<grammar_detail::VocabImpl> impl_;
};

// The state of one generation against a grammar. Cheap to create; copyable (a copy is an
// independent matcher at the same position). Not thread-safe: one per request.
class GrammarMatcher {
 public:
  GrammarMatcher(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const TokenVocab> vocab);
  GrammarMatcher(const GrammarMatcher&);
  GrammarMatcher& operator=(const GrammarMatcher&);
  GrammarMatcher(GrammarMatcher&&) noexcept;
  GrammarMatcher& operator=(GrammarMatcher&&) noexcept;
  ~GrammarMatcher();

  // Resizes *mask to the vocabulary size; mask[id] = 1 when token id may come next: its bytes keep
  // the output a prefix of some complete document (never a dead end). End-of-generation is not a
  // vocabulary entry here: the caller allows EOS when is_complete().
  //
  // Budget: tokens_left = how many tokens may still be generated counting this one (-1 =
  // unknown, no budget rule). Let D(s) be the fewest bytes that complete the document from state s.
  // A token is allowed only if D(after it) <= tokens_left - 1: every later token can carry at
  // least one byte (byte-level BPE has all 256 single bytes), so the document can still be closed
  // within the budget. If the output started with D <= tokens_left, this keeps it so and a reply
  // cut at the budget ends complete. If no token satisfies the rule (the budget was already too
  // small), the tokens with the smallest D(after) are allowed instead. The guarantees assume the
  // vocabulary can spell every byte (all 256 single-byte tokens, as byte-level BPE has); with a
  // vocabulary that cannot, a mask may come out empty.
  void fill_mask(std::vector<uint8_t>* mask, int64_t tokens_left = -1);

  // Advances by the token's bytes; false (and no state change) if that is not allowed.
  bool accept_token(int32_t id);
  // Advances by raw bytes; false (and no state change) if they leave the grammar.
  bool accept_bytes(std::string_view bytes);

  // The bytes so far are a whole valid document (EOS may be allowed).
  bool is_complete() const;
  // More bytes may follow (false once the document is closed and nothing can extend it).
  bool can_continue() const;
  // D(current state): fewest bytes that complete the document (0 when complete).
  uint32_t min_bytes_to_complete() const;

 private:
  std::shared_ptr<const Grammar> grammar_;
  std::shared_ptr<const TokenVocab> vocab_;
  std::unique_ptr<grammar_detail::MatchState> st_;
};

}  // namespace longctx
