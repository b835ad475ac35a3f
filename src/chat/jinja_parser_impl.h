// Internal to the chat module: the recursive-descent parser of the Jinja2 subset, shared by
// jinja_parser.cpp (statements) and jinja_parse_expr.cpp (expressions, with jinja2's operator
// precedence). Only parse_template() in jinja_ast.h is public.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/jinja_ast.h"
#include "chat/jinja_lexer.h"

namespace longctx::chat::detail {

class Parser {
 public:
  Parser(std::vector<Token> tokens, const ParserLimits& limits)
      : toks_(std::move(tokens)), limits_(limits) {}

  Result<Body> parse() {
    Body body;
    std::string stop;
    LONGCTX_RETURN_IF_ERROR(parse_body(body, {}, &stop));
    return body;
  }

 private:
  const Token& peek(size_t ahead = 0) const {
    return toks_[std::min(pos_ + ahead, toks_.size() - 1)];
  }
  bool at_op(std::string_view op) const {
    return peek().kind == TokenKind::kOp && peek().text == op;
  }
  bool at_name(std::string_view n) const {
    return peek().kind == TokenKind::kName && peek().text == n;
  }
  Status error(const std::string& msg) const {
    return invalid_format("template syntax error at line " + std::to_string(peek().line) + ": " +
                          msg);
  }
  static std::string describe(const Token& t) {
    switch (t.kind) {
      case TokenKind::kEof:
        return "end of template";
      case TokenKind::kBlockEnd:
        return "end of statement block";
      case TokenKind::kVarEnd:
        return "end of print statement";
      case TokenKind::kText:
        return "template text";
      case TokenKind::kString:
        return "string " + python_str_repr(t.text);
      default:
        return "'" + t.text + "'";
    }
  }
  Status expect_op(std::string_view op) {
    if (!at_op(op)) return error("expected '" + std::string(op) + "', got " + describe(peek()));
    ++pos_;
    return Status::ok();
  }
  Status expect_block_end() {
    if (peek().kind != TokenKind::kBlockEnd)
      return error("expected end of statement block, got " + describe(peek()));
    ++pos_;
    return Status::ok();
  }
  Result<std::string> expect_name() {
    if (peek().kind != TokenKind::kName) return error("expected a name, got " + describe(peek()));
    return toks_[pos_++].text;
  }

  // Guards recursion depth so hostile nesting is rejected instead of overflowing the stack.
  struct DepthGuard {
    explicit DepthGuard(int& d) : d_(d) { ++d_; }
    ~DepthGuard() { --d_; }
    int& d_;
  };
  Status check_depth() const {
    if (depth_ > limits_.max_nesting)
      return error("nesting deeper than " + std::to_string(limits_.max_nesting));
    return Status::ok();
  }
  // A loop that builds a left-deep chain (a + b + c, x.a.b, x|f|g, a if b if c) makes the tree
  // one level taller per link without recursing, so each link counts as one level of nesting
  // until the chain ends: the tree height stays bounded by a small multiple of max_nesting
  // (one chain per precedence level), which the evaluator and the destructor can recurse over.
  struct ChainGuard {
    explicit ChainGuard(int& d) : d_(d), saved_(d) {}
    ~ChainGuard() { d_ = saved_; }
    int& d_;
    int saved_;
  };
  Status next_link() {
    ++depth_;
    return check_depth();
  }

  ExprPtr node(ExprKind kind, int line) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = line;
    return e;
  }

  Result<ExprPtr> binary(ExprPtr l, ExprPtr r, std::string op, int line) {
    auto b = node(ExprKind::kBinary, line);
    b->op = std::move(op);
    b->args.push_back(std::move(l));
    b->args.push_back(std::move(r));
    return b;
  }

  // Statements (jinja_parser.cpp). parse_body parses until a block tag named in `stops` (its
  // name is left in *stop, the parser positioned after it) or the end of the template (only
  // when stops is empty).
  Status parse_body(Body& body, std::initializer_list<std::string_view> stops, std::string* stop);
  Result<std::unique_ptr<Stmt>> parse_statement();
  Status parse_targets(std::vector<std::string>& targets);
  // Expressions (jinja_parse_expr.cpp), one method per precedence level. parse_tuple_or_expr:
  // "a, b" at the top of {{ }} or a set value is a tuple, as in jinja2.
  Result<ExprPtr> parse_tuple_or_expr();
  Result<ExprPtr> parse_expr();
  Result<ExprPtr> parse_or();
  Result<ExprPtr> parse_and();
  Result<ExprPtr> parse_not();
  Result<ExprPtr> parse_compare();
  Result<ExprPtr> parse_math1();
  Result<ExprPtr> parse_concat();
  Result<ExprPtr> parse_math2();
  Result<ExprPtr> parse_pow();
  Result<ExprPtr> parse_unary(bool with_filter);
  Result<ExprPtr> parse_primary();
  Status parse_call_args(Expr& call);
  Result<ExprPtr> parse_postfix(ExprPtr e);
  Result<ExprPtr> parse_filter(ExprPtr input);
  Result<ExprPtr> parse_filter_expr(ExprPtr e);

  std::vector<Token> toks_;
  ParserLimits limits_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;  // break/continue are only valid inside a for body
};

}  // namespace longctx::chat::detail
