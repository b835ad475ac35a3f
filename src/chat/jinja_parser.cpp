// Statement parsing of the Jinja2 subset (if/for/set/macro/filter/generation blocks,
// break/continue) and parse_template(). Syntax errors name the line.
#include <algorithm>

#include "chat/jinja_parser_impl.h"

namespace longctx::chat {

Expr::~Expr() {
  // Children are moved onto a work list and freed one at a time; each freed child hands its
  // own children to the list first, so its destructor finds nothing left to recurse into.
  std::vector<ExprPtr> work;
  auto take_children = [&work](Expr& e) {
    for (auto& a : e.args) {
      if (a) work.push_back(std::move(a));
    }
    for (auto& kv : e.kwargs) {
      if (kv.second) work.push_back(std::move(kv.second));
    }
  };
  take_children(*this);
  while (!work.empty()) {
    ExprPtr e = std::move(work.back());
    work.pop_back();
    take_children(*e);
  }
}

namespace detail {

Status Parser::parse_body(Body& body, std::initializer_list<std::string_view> stops,
                          std::string* stop) {
  DepthGuard guard(depth_);
  LONGCTX_RETURN_IF_ERROR(check_depth());
  const int open_line = pos_ > 0 ? toks_[pos_ - 1].line : 1;
  while (true) {
    const Token& t = peek();
    if (t.kind == TokenKind::kEof) {
      if (stops.size() == 0) return Status::ok();
      return invalid_format("template syntax error at line " + std::to_string(t.line) +
                            ": unexpected end of template, expected '" +
                            std::string(*(stops.end() - 1)) +
                            "' to close the block opened at line " + std::to_string(open_line));
    }
    if (t.kind == TokenKind::kText) {
      auto s = std::make_unique<Stmt>();
      s->kind = StmtKind::kText;
      s->line = t.line;
      s->text = t.text;
      body.push_back(std::move(s));
      ++pos_;
      continue;
    }
    if (t.kind == TokenKind::kVarBegin) {
      ++pos_;
      auto s = std::make_unique<Stmt>();
      s->kind = StmtKind::kOutput;
      s->line = t.line;
      auto e = parse_tuple_or_expr();
      if (!e.is_ok()) return e.status();
      s->expr = std::move(*e);
      if (peek().kind != TokenKind::kVarEnd) return error("expected '}}', got " + describe(peek()));
      ++pos_;
      body.push_back(std::move(s));
      continue;
    }
    if (t.kind != TokenKind::kBlockBegin) return error("unexpected " + describe(t));
    ++pos_;
    if (peek().kind != TokenKind::kName)
      return error("expected a statement name, got " + describe(peek()));
    const std::string name = peek().text;
    for (auto s : stops) {
      if (name == s) {
        ++pos_;
        *stop = name;
        return Status::ok();
      }
    }
    auto stmt = parse_statement();
    if (!stmt.is_ok()) return stmt.status();
    body.push_back(std::move(*stmt));
  }
}

Result<std::unique_ptr<Stmt>> Parser::parse_statement() {
  const Token& t = peek();
  auto s = std::make_unique<Stmt>();
  s->line = t.line;
  const std::string name = t.text;
  ++pos_;
  std::string stop;
  if (name == "if") {
    s->kind = StmtKind::kIf;
    while (true) {
      auto cond = parse_tuple_or_expr();
      if (!cond.is_ok()) return cond.status();
      s->conds.push_back(std::move(*cond));
      LONGCTX_RETURN_IF_ERROR(expect_block_end());
      s->bodies.emplace_back();
      LONGCTX_RETURN_IF_ERROR(parse_body(s->bodies.back(), {"elif", "else", "endif"}, &stop));
      if (stop == "elif") continue;
      if (stop == "else") {
        LONGCTX_RETURN_IF_ERROR(expect_block_end());
        s->bodies.emplace_back();
        LONGCTX_RETURN_IF_ERROR(parse_body(s->bodies.back(), {"endif"}, &stop));
      }
      break;
    }
  } else if (name == "for") {
    s->kind = StmtKind::kFor;
    LONGCTX_RETURN_IF_ERROR(parse_targets(s->targets));
    if (!at_name("in")) return error("expected 'in' in for loop, got " + describe(peek()));
    ++pos_;
    // The iterable stops before "if" (loop filter) and "recursive"; no conditional expression.
    auto iter = parse_or();
    if (!iter.is_ok()) return iter.status();
    s->expr = std::move(*iter);
    if (at_name("if")) {
      ++pos_;
      auto f = parse_expr();
      if (!f.is_ok()) return f.status();
      s->filter = std::move(*f);
    }
    if (at_name("recursive")) return error("recursive for loops are not supported");
    LONGCTX_RETURN_IF_ERROR(expect_block_end());
    s->bodies.emplace_back();
    ++loop_depth_;
    Status body_status = parse_body(s->bodies.back(), {"else", "endfor"}, &stop);
    --loop_depth_;
    LONGCTX_RETURN_IF_ERROR(body_status);
    if (stop == "else") {
      LONGCTX_RETURN_IF_ERROR(expect_block_end());
      s->bodies.emplace_back();
      LONGCTX_RETURN_IF_ERROR(parse_body(s->bodies.back(), {"endfor"}, &stop));
    }
  } else if (name == "set") {
    auto first = expect_name();
    if (!first.is_ok()) return first.status();
    s->targets.push_back(*first);
    if (at_op(".")) {
      ++pos_;
      auto attr = expect_name();
      if (!attr.is_ok()) return attr.status();
      s->attr = *attr;
    } else {
      while (at_op(",")) {
        ++pos_;
        auto n = expect_name();
        if (!n.is_ok()) return n.status();
        s->targets.push_back(*n);
      }
    }
    if (at_op("=")) {
      ++pos_;
      s->kind = StmtKind::kSet;
      auto e = parse_tuple_or_expr();
      if (!e.is_ok()) return e.status();
      s->expr = std::move(*e);
    } else {
      s->kind = StmtKind::kSetBlock;
      if (s->targets.size() != 1) return error("block set takes one name");
      LONGCTX_RETURN_IF_ERROR(expect_block_end());
      s->bodies.emplace_back();
      LONGCTX_RETURN_IF_ERROR(parse_body(s->bodies.back(), {"endset"}, &stop));
    }
  } else if (name == "macro") {
    s->kind = StmtKind::kMacro;
    auto n = expect_name();
    if (!n.is_ok()) return n.status();
    s->name = *n;
    LONGCTX_RETURN_IF_ERROR(expect_op("("));
    while (!at_op(")")) {
      auto p = expect_name();
      if (!p.is_ok()) return p.status();
      s->params.push_back(*p);
      ExprPtr def;
      if (at_op("=")) {
        ++pos_;
        auto d = parse_expr();
        if (!d.is_ok()) return d.status();
        def = std::move(*d);
      }
      s->defaults.push_back(std::move(def));
      if (!at_op(",")) break;
      ++pos_;
    }
    LONGCTX_RETURN_IF_ERROR(expect_op(")"));
    LONGCTX_RETURN_IF_ERROR(expect_block_end());
    s->bodies.emplace_back();
    LONGCTX_RETURN_IF_ERROR(parse_body(s->bodies.back(), {"endmacro"}, &stop));
  } else if (name == "break" || name == "continue") {
    if (loop_depth_ == 0) return error("'" + name + "' outside of a for loop");
    s->kind = name == "break" ? StmtKind::kBreak : StmtKind::kContinue;
    LONGCTX_RETURN_IF_ERROR(expect_block_end());
    return s;
  } else if (name == "generation") {
    s->kind = StmtKind::kScope;
    LONGCTX_RETURN_IF_ERROR(expect_block_end());
    s->bodies.emplace_back();
    LONGCTX_RETURN_IF_ERROR(parse_body(s->bodies.back(), {"endgeneration"}, &stop));
  } else if (name == "filter") {
    s->kind = StmtKind::kFilterBlock;
    auto placeholder = std::make_unique<Expr>();
    placeholder->kind = ExprKind::kName;
    placeholder->name = " filter_body";
    placeholder->line = s->line;
    auto f = parse_filter(std::move(placeholder));
    if (!f.is_ok()) return f.status();
    s->expr = std::move(*f);
    LONGCTX_RETURN_IF_ERROR(expect_block_end());
    s->bodies.emplace_back();
    LONGCTX_RETURN_IF_ERROR(parse_body(s->bodies.back(), {"endfilter"}, &stop));
  } else {
    --pos_;
    return error("unknown or unsupported statement '" + name + "'");
  }
  // The closing tag: {% endif %}, {% endfor %}, ... (parse_body consumed its name).
  return expect_block_end().is_ok() ? Result<std::unique_ptr<Stmt>>(std::move(s))
                                    : Result<std::unique_ptr<Stmt>>(error(
                                          "expected end of statement block after '" + stop + "'"));
}

Status Parser::parse_targets(std::vector<std::string>& targets) {
  bool paren = at_op("(");
  if (paren) ++pos_;
  while (true) {
    auto n = expect_name();
    if (!n.is_ok()) return n.status();
    targets.push_back(*n);
    if (!at_op(",")) break;
    ++pos_;
  }
  if (paren) LONGCTX_RETURN_IF_ERROR(expect_op(")"));
  return Status::ok();
}

}  // namespace detail

Result<Body> parse_template(std::string_view source, const ParserLimits& limits) {
  auto tokens = lex_template(source, LexerOptions{});
  if (!tokens.is_ok()) return tokens.status();
  detail::Parser parser(std::move(*tokens), limits);
  return parser.parse();
}

}  // namespace longctx::chat
