// Grammars for response_format and forced tool calls, and the generation constraint that applies
// them (see constraint.h).
#include "server/constraint.h"

#include <cmath>
#include <vector>

#include "runtime/gbnf.h"
#include "runtime/generate.h"
#include "runtime/grammar.h"
#include "tokenizer/tokenizer.h"

namespace longctx::server {
namespace {

using Part = Grammar::Part;

// After a think block Qwen3 writes "\n\n" before its answer: the grammar starts with it then.
std::vector<std::vector<Part>> with_think_gap(std::vector<std::vector<Part>> alts,
                                              bool after_think) {
  if (!after_think) return alts;
  for (auto& a : alts) a.insert(a.begin(), Part{"\n\n", std::nullopt});
  return alts;
}

// The GBNF matcher in the JSON matcher's shape.
class GbnfTokenMatcher {
 public:
  GbnfTokenMatcher(std::shared_ptr<const GbnfGrammar> g, std::shared_ptr<const GbnfVocab> v)
      : m_(std::move(g), std::move(v)) {}
  void fill_mask(std::vector<uint8_t>* mask, int64_t tokens_left) {
    m_.fill_mask(mask, tokens_left);
  }
  bool accept_token(int32_t id) { return m_.accept_token(id); }
  bool is_complete() const { return m_.is_complete(); }
  bool can_continue() const { return m_.can_continue(); }

 private:
  GbnfMatcher m_;
};

// A TokenConstraint over a grammar matcher (GrammarMatcher for JSON, GbnfTokenMatcher). With
// after_think the reply opens a think block, the model is free inside it until it closes it (the
// </think> token); if it has not by half of max_tokens, </think> is forced, so the constrained
// answer still gets room. End-of-generation is allowed only when the document is complete, and
// forced once nothing can extend it.
template <class Matcher>
class GrammarConstraint final : public TokenConstraint {
 public:
  template <class G, class V>
  GrammarConstraint(std::shared_ptr<G> g, std::shared_ptr<V> v, const Tokenizer& tok,
                    int64_t n_logits, bool after_think, int64_t max_tokens)
      : matcher_(std::move(g), std::move(v)),
        n_logits_(static_cast<size_t>(n_logits)),
        waiting_(after_think) {
    const int32_t n = tok.n_vocab();
    for (int32_t id = 0; id < n; ++id) {
      if (tok.is_end_of_generation(id)) eog_.push_back(id);
    }
    if (auto id = tok.token_id("<think>")) think_open_ = *id;
    if (auto id = tok.token_id("</think>")) think_close_ = *id;
    // Without the think tokens the constraint holds from the start.
    if (waiting_ && (think_open_ < 0 || think_close_ < 0)) waiting_ = false;
    think_budget_ = max_tokens > 0 ? max_tokens / 2 : -1;
    mask_.reserve(static_cast<size_t>(n));
    saved_.resize(eog_.size());
  }

  void mask(float* logits, int64_t tokens_left) override {
    const size_t n = n_logits_;
    if (waiting_) {
      // The reply is "<think>" reasoning "</think>", then the document: the block opens first
      // (as Qwen3 opens it), and closes by half of the budget at the latest.
      const int32_t only = thought_ == 0                                     ? think_open_
                           : think_budget_ >= 0 && thought_ >= think_budget_ ? think_close_
                                                                             : -1;
      for (int32_t e : eog_) logits[e] = -INFINITY;  // the answer has not started yet
      if (only >= 0) {
        const float keep = logits[only];
        for (size_t i = 0; i < n; ++i) logits[i] = -INFINITY;
        logits[only] = std::isfinite(keep) ? keep : 0.0f;
      }
      return;
    }
    for (size_t k = 0; k < eog_.size(); ++k) saved_[k] = logits[eog_[k]];
    const bool complete = matcher_.is_complete();
    if (complete && !matcher_.can_continue()) {
      for (size_t i = 0; i < n; ++i) logits[i] = -INFINITY;
    } else {
      matcher_.fill_mask(&mask_, tokens_left);
      // Ids past the tokenizer's vocabulary (padding rows of the output matrix) never come.
      for (size_t i = 0; i < n; ++i) {
        if (i >= mask_.size() || !mask_[i]) logits[i] = -INFINITY;
      }
    }
    if (complete) {
      for (size_t k = 0; k < eog_.size(); ++k) {
        logits[eog_[k]] = std::isfinite(saved_[k]) ? saved_[k] : 0.0f;
      }
    }
  }

  void accept(int32_t id) override {
    if (waiting_) {
      ++thought_;
      if (id == think_close_ && thought_ > 1) waiting_ = false;
      return;
    }
    for (int32_t e : eog_) {
      if (id == e) return;
    }
    matcher_.accept_token(id);
  }

 private:
  Matcher matcher_;
  size_t n_logits_;
  bool waiting_;
  int32_t think_open_ = -1, think_close_ = -1;
  int64_t think_budget_ = -1;
  int64_t thought_ = 0;
  std::vector<int32_t> eog_;
  std::vector<float> saved_;
  std::vector<uint8_t> mask_;
};

}  // namespace

Result<std::shared_ptr<const Grammar>> response_format_grammar(const chat::Json& rf,
                                                               bool after_think) {
  if (!rf.is_object() || !rf.contains("type") || !rf["type"].is_string()) {
    return invalid_argument("'response_format' must be an object with a string 'type'");
  }
  const std::string type = rf["type"].get<std::string>();
  chat::Json schema;
  if (type == "text") return std::shared_ptr<const Grammar>();
  if (type == "json_object") {
    // llama-server also takes a schema here.
    schema = rf.contains("schema") ? rf["schema"] : chat::Json{{"type", "object"}};
    if (!schema.is_object() && !schema.is_boolean()) {
      return invalid_argument("'response_format.schema' must be a JSON Schema object");
    }
  } else if (type == "json_schema") {
    const auto js = rf.find("json_schema");
    if (js == rf.end() || !js->is_object()) {
      return invalid_argument("'response_format.json_schema' must be an object");
    }
    const auto s = js->find("schema");
    if (s == js->end()) return invalid_argument("'response_format.json_schema.schema' is required");
    if (!s->is_object() && !s->is_boolean()) {
      return invalid_argument("'response_format.json_schema.schema' must be a JSON Schema object");
    }
    schema = *s;
  } else {
    return invalid_argument(
        "'response_format.type' must be text, json_object or json_schema, "
        "got '" +
        type + "'");
  }
  if (!after_think && type == "json_object" && !rf.contains("schema")) {
    return Grammar::json_any_object();
  }
  if (!after_think) return Grammar::json_schema(schema, "response_format");
  return Grammar::sequence_alternatives(with_think_gap({{Part{"", schema}}}, true),
                                        "response_format");
}

Result<std::shared_ptr<const Grammar>> tool_call_grammar(const chat::Json& tools,
                                                         const std::string& name,
                                                         bool after_think) {
  std::vector<std::vector<Part>> alts;
  for (const chat::Json& t : tools) {
    const chat::Json& f = t["function"];
    const std::string n = f["name"].get<std::string>();
    if (!name.empty() && n != name) continue;
    chat::Json params = f.contains("parameters") ? f["parameters"] : chat::Json{{"type", "object"}};
    // Qwen3's form: the name as a JSON string, then the arguments object.
    alts.push_back({Part{"<tool_call>\n{\"name\": " + chat::Json(n).dump() + ", \"arguments\": ",
                         std::nullopt},
                    Part{"", params}, Part{"}\n</tool_call>", std::nullopt}});
  }
  if (alts.empty()) {
    return invalid_argument("'tool_choice' names the function '" + name +
                            "', which is not in 'tools'");
  }
  return Grammar::sequence_alternatives(with_think_gap(std::move(alts), after_think), "tools");
}

std::shared_ptr<const TokenVocab> make_token_vocab(const Tokenizer& tok) {
  std::vector<std::string> bytes(static_cast<size_t>(tok.n_vocab()));
  for (int32_t id = 0; id < tok.n_vocab(); ++id) {
    // Control tokens (<|im_end|>, ...) are never part of a document; added text tokens such as
    // <tool_call> are, as the bytes they stand for.
    if (tok.token_kind(id) == TokenKind::kControl) continue;
    bytes[static_cast<size_t>(id)] = tok.token_piece(id);
  }
  return std::make_shared<const TokenVocab>(std::move(bytes));
}

std::shared_ptr<TokenConstraint> make_constraint(std::shared_ptr<const Grammar> grammar,
                                                 std::shared_ptr<const TokenVocab> vocab,
                                                 const Tokenizer& tok, int64_t n_logits,
                                                 bool after_think, int64_t max_tokens) {
  if (!grammar || !vocab) return nullptr;
  return std::make_shared<GrammarConstraint<GrammarMatcher>>(
      std::move(grammar), std::move(vocab), tok, n_logits, after_think, max_tokens);
}

bool has_gbnf_grammar(const chat::Json& body) {
  const auto g = body.find("grammar");
  return g != body.end() && !g->is_null() &&
         !(g->is_string() && g->get_ref<const std::string&>().empty());
}

Result<std::shared_ptr<const GbnfGrammar>> gbnf_grammar(const chat::Json& body, bool after_think) {
  if (!has_gbnf_grammar(body)) return std::shared_ptr<const GbnfGrammar>();
  const chat::Json& g = body["grammar"];
  if (!g.is_string()) return invalid_argument("'grammar' must be a string (a GBNF grammar)");
  auto parsed = GbnfGrammar::parse(g.get_ref<const std::string&>(), after_think ? "\n\n" : "");
  if (!parsed) {
    std::string why = parsed.status().message();
    if (why.rfind("grammar: ", 0) == 0) why.erase(0, 9);
    return invalid_argument("'grammar' is not a valid GBNF grammar: " + why);
  }
  return parsed;
}

std::shared_ptr<const GbnfVocab> make_gbnf_vocab(const TokenVocab& vocab) {
  std::vector<std::string> bytes(vocab.size());
  for (size_t id = 0; id < vocab.size(); ++id) bytes[id] = vocab.token(static_cast<int32_t>(id));
  return std::make_shared<const GbnfVocab>(std::move(bytes));
}

std::shared_ptr<TokenConstraint> make_constraint(std::shared_ptr<const GbnfGrammar> grammar,
                                                 std::shared_ptr<const GbnfVocab> vocab,
                                                 const Tokenizer& tok, int64_t n_logits,
                                                 bool after_think, int64_t max_tokens) {
  if (!grammar || !vocab) return nullptr;
  return std::make_shared<GrammarConstraint<GbnfTokenMatcher>>(
      std::move(grammar), std::move(vocab), tok, n_logits, after_think, max_tokens);
}

}  // namespace longctx::server
