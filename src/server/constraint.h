// Grammars for constrained replies (runtime/grammar.h): OpenAI's response_format (json_object,
// json_schema), llama-server's GBNF `grammar` (runtime/gbnf.h) and a tool_choice that forces a
// call, as Qwen3 writes one:
// "<tool_call>\n{\"name\": NAME, \"arguments\": ARGS}\n</tool_call>" with ARGS following the
// tool's parameter schema.
#pragma once

#include <memory>
#include <string>

#include "chat/chat_template.h"
#include "core/status.h"

namespace longctx {
class GbnfGrammar;
class GbnfVocab;
class Grammar;
class TokenVocab;
class Tokenizer;
class TokenConstraint;
}  // namespace longctx

namespace longctx::server {

// {"type": "text"} -> null (free text); json_object -> any JSON object; json_schema ->
// {"json_schema": {"name", "schema", "strict"}}'s schema. An error names what is wrong.
// after_think: the model writes its reasoning first; the document follows "\n\n" after it.
Result<std::shared_ptr<const Grammar>> response_format_grammar(const chat::Json& response_format,
                                                               bool after_think);

// A call of the named tool ("" = any of them) with arguments that follow its parameters.
Result<std::shared_ptr<const Grammar>> tool_call_grammar(const chat::Json& tools,
                                                         const std::string& name, bool after_think);

// The tokenizer's vocabulary as byte strings for grammar matching (special tokens excluded: a
// grammar never produces them; end-of-generation is allowed when the grammar is complete).
std::shared_ptr<const TokenVocab> make_token_vocab(const Tokenizer& tok);

// A generation's constraint (runtime/generate.h) from a grammar, over logits of n_logits ids:
// after_think leaves the model free until it closes its think block (at most half of
// max_tokens, then </think> is forced).
std::shared_ptr<TokenConstraint> make_constraint(std::shared_ptr<const Grammar> grammar,
                                                 std::shared_ptr<const TokenVocab> vocab,
                                                 const Tokenizer& tok, int64_t n_logits,
                                                 bool after_think, int64_t max_tokens);

// llama-server's `grammar` field: whether the body has one ("" and null are none), and it
// parsed (null when none; an error names the line, column and problem). after_think: the
// sentence follows the blank line Qwen3 writes after its think block.
bool has_gbnf_grammar(const chat::Json& body);
Result<std::shared_ptr<const GbnfGrammar>> gbnf_grammar(const chat::Json& body, bool after_think);

// A constraint for a GBNF grammar, over the vocabulary as a trie.
std::shared_ptr<const GbnfVocab> make_gbnf_vocab(const TokenVocab& vocab);
std::shared_ptr<TokenConstraint> make_constraint(std::shared_ptr<const GbnfGrammar> grammar,
                                                 std::shared_ptr<const GbnfVocab> vocab,
                                                 const Tokenizer& tok, int64_t n_logits,
                                                 bool after_think, int64_t max_tokens);

}  // namespace longctx::server
