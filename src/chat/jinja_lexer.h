// Lexer of the Jinja2 template subset: splits template text from {{ }}, {% %} and {# #} tags
// and tokenizes the expressions inside, applying whitespace control ("-"/"+" markers) and
// trim_blocks + lstrip_blocks exactly as jinja2's lexer does with Hugging Face's settings.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace longctx::chat {

enum class TokenKind {
  kText,
  kVarBegin,
  kVarEnd,
  kBlockBegin,
  kBlockEnd,
  kName,
  kString,
  kInt,
  kFloat,
  kOp,
  kEof
};

struct Token {
  TokenKind kind = TokenKind::kEof;
  std::string text;  // text, name, decoded string literal, number spelling or operator
  int line = 1;
};

struct LexerOptions {
  bool trim_blocks = true;    // drop the first newline after a block tag
  bool lstrip_blocks = true;  // drop spaces and tabs before a block tag at the start of a line
};

Result<std::vector<Token>> lex_template(std::string_view source, const LexerOptions& options);

}  // namespace longctx::chat
