// Expression parsing with jinja2's operator precedence (lowest first): conditional
// expression, or, and, not, comparisons/in, + -, ~, * / // %, **, unary - +, then postfix
// (.attr, [item], call) and filters/tests.
#include <cerrno>
#include <cstdlib>

#include "chat/jinja_parser_impl.h"

namespace longctx::chat::detail {

Result<ExprPtr> Parser::parse_tuple_or_expr() {
  auto first = parse_expr();
  if (!first.is_ok() || !at_op(",")) return first;
  auto t = node(ExprKind::kTuple, (*first)->line);
  t->args.push_back(std::move(*first));
  while (at_op(",")) {
    ++pos_;
    auto e = parse_expr();
    if (!e.is_ok()) return e.status();
    t->args.push_back(std::move(*e));
  }
  return t;
}

Result<ExprPtr> Parser::parse_expr() {
  DepthGuard guard(depth_);
  LONGCTX_RETURN_IF_ERROR(check_depth());
  auto e = parse_or();
  if (!e.is_ok()) return e;
  ChainGuard chain(depth_);
  while (at_name("if")) {
    LONGCTX_RETURN_IF_ERROR(next_link());
    int line = peek().line;
    ++pos_;
    auto cond = parse_or();
    if (!cond.is_ok()) return cond;
    auto c = node(ExprKind::kCond, line);
    c->args.push_back(std::move(*cond));
    c->args.push_back(std::move(*e));
    if (at_name("else")) {
      ++pos_;
      auto other = parse_expr();
      if (!other.is_ok()) return other;
      c->args.push_back(std::move(*other));
    } else {
      c->args.push_back(nullptr);
    }
    e = std::move(c);
  }
  return e;
}

Result<ExprPtr> Parser::parse_or() {
  auto l = parse_and();
  ChainGuard chain(depth_);
  while (l.is_ok() && at_name("or")) {
    LONGCTX_RETURN_IF_ERROR(next_link());
    int line = peek().line;
    ++pos_;
    auto r = parse_and();
    if (!r.is_ok()) return r;
    l = binary(std::move(*l), std::move(*r), "or", line);
  }
  return l;
}

Result<ExprPtr> Parser::parse_and() {
  auto l = parse_not();
  ChainGuard chain(depth_);
  while (l.is_ok() && at_name("and")) {
    LONGCTX_RETURN_IF_ERROR(next_link());
    int line = peek().line;
    ++pos_;
    auto r = parse_not();
    if (!r.is_ok()) return r;
    l = binary(std::move(*l), std::move(*r), "and", line);
  }
  return l;
}

Result<ExprPtr> Parser::parse_not() {
  if (at_name("not")) {
    DepthGuard guard(depth_);
    LONGCTX_RETURN_IF_ERROR(check_depth());
    int line = peek().line;
    ++pos_;
    auto inner = parse_not();
    if (!inner.is_ok()) return inner;
    auto u = node(ExprKind::kUnary, line);
    u->op = "not";
    u->args.push_back(std::move(*inner));
    return u;
  }
  return parse_compare();
}

Result<ExprPtr> Parser::parse_compare() {
  auto first = parse_math1();
  if (!first.is_ok()) return first;
  ExprPtr cmp;
  while (true) {
    std::string op;
    const Token& t = peek();
    if (t.kind == TokenKind::kOp && (t.text == "==" || t.text == "!=" || t.text == "<" ||
                                     t.text == ">" || t.text == "<=" || t.text == ">=")) {
      op = t.text;
      ++pos_;
    } else if (at_name("in")) {
      op = "in";
      ++pos_;
    } else if (at_name("not") && peek(1).kind == TokenKind::kName && peek(1).text == "in") {
      op = "not in";
      pos_ += 2;
    } else {
      break;
    }
    auto rhs = parse_math1();
    if (!rhs.is_ok()) return rhs;
    if (!cmp) {
      cmp = node(ExprKind::kCompare, t.line);
      cmp->args.push_back(std::move(*first));
    }
    cmp->ops.push_back(op);
    cmp->args.push_back(std::move(*rhs));
  }
  if (cmp) return cmp;
  return first;
}

Result<ExprPtr> Parser::parse_math1() {
  auto l = parse_concat();
  ChainGuard chain(depth_);
  while (l.is_ok() && (at_op("+") || at_op("-"))) {
    LONGCTX_RETURN_IF_ERROR(next_link());
    std::string op = peek().text;
    int line = peek().line;
    ++pos_;
    auto r = parse_concat();
    if (!r.is_ok()) return r;
    l = binary(std::move(*l), std::move(*r), op, line);
  }
  return l;
}

Result<ExprPtr> Parser::parse_concat() {
  auto l = parse_math2();
  ChainGuard chain(depth_);
  while (l.is_ok() && at_op("~")) {
    LONGCTX_RETURN_IF_ERROR(next_link());
    int line = peek().line;
    ++pos_;
    auto r = parse_math2();
    if (!r.is_ok()) return r;
    l = binary(std::move(*l), std::move(*r), "~", line);
  }
  return l;
}

Result<ExprPtr> Parser::parse_math2() {
  auto l = parse_pow();
  ChainGuard chain(depth_);
  while (l.is_ok() && (at_op("*") || at_op("/") || at_op("//") || at_op("%"))) {
    LONGCTX_RETURN_IF_ERROR(next_link());
    std::string op = peek().text;
    int line = peek().line;
    ++pos_;
    auto r = parse_pow();
    if (!r.is_ok()) return r;
    l = binary(std::move(*l), std::move(*r), op, line);
  }
  return l;
}

Result<ExprPtr> Parser::parse_pow() {
  auto l = parse_unary(true);
  ChainGuard chain(depth_);
  while (l.is_ok() && at_op("**")) {
    LONGCTX_RETURN_IF_ERROR(next_link());
    int line = peek().line;
    ++pos_;
    auto r = parse_unary(true);
    if (!r.is_ok()) return r;
    l = binary(std::move(*l), std::move(*r), "**", line);
  }
  return l;
}

Result<ExprPtr> Parser::parse_unary(bool with_filter) {
  DepthGuard guard(depth_);
  LONGCTX_RETURN_IF_ERROR(check_depth());
  Result<ExprPtr> e = ExprPtr();
  if (at_op("-") || at_op("+")) {
    auto u = node(ExprKind::kUnary, peek().line);
    u->op = peek().text;
    ++pos_;
    auto inner = parse_unary(false);
    if (!inner.is_ok()) return inner;
    u->args.push_back(std::move(*inner));
    e = std::move(u);
  } else {
    e = parse_primary();
  }
  if (!e.is_ok()) return e;
  e = parse_postfix(std::move(*e));
  if (e.is_ok() && with_filter) e = parse_filter_expr(std::move(*e));
  return e;
}

Result<ExprPtr> Parser::parse_primary() {
  const Token t = peek();
  switch (t.kind) {
    case TokenKind::kName: {
      ++pos_;
      auto e = node(ExprKind::kLiteral, t.line);
      if (t.text == "true" || t.text == "True")
        e->value = Value::boolean(true);
      else if (t.text == "false" || t.text == "False")
        e->value = Value::boolean(false);
      else if (t.text == "none" || t.text == "None")
        e->value = Value::none();
      else {
        e->kind = ExprKind::kName;
        e->name = t.text;
      }
      return e;
    }
    case TokenKind::kString: {
      // Adjacent string literals concatenate, as in Python.
      std::string s;
      while (peek().kind == TokenKind::kString) s += toks_[pos_++].text;
      auto e = node(ExprKind::kLiteral, t.line);
      e->value = Value::string(std::move(s));
      return e;
    }
    case TokenKind::kInt: {
      ++pos_;
      auto e = node(ExprKind::kLiteral, t.line);
      errno = 0;
      char* end = nullptr;
      long long v = std::strtoll(t.text.c_str(), &end, 10);
      if (errno == ERANGE) return error("integer literal " + t.text + " out of range");
      e->value = Value::integer(v);
      return e;
    }
    case TokenKind::kFloat: {
      ++pos_;
      auto e = node(ExprKind::kLiteral, t.line);
      e->value = Value::number(std::strtod(t.text.c_str(), nullptr));
      return e;
    }
    case TokenKind::kOp: {
      if (t.text == "(") {
        ++pos_;
        if (at_op(")")) {
          ++pos_;
          return node(ExprKind::kTuple, t.line);
        }
        auto first = parse_expr();
        if (!first.is_ok()) return first;
        if (at_op(")")) {
          ++pos_;
          return first;
        }
        auto tuple = node(ExprKind::kTuple, t.line);
        tuple->args.push_back(std::move(*first));
        while (at_op(",")) {
          ++pos_;
          if (at_op(")")) break;
          auto e = parse_expr();
          if (!e.is_ok()) return e;
          tuple->args.push_back(std::move(*e));
        }
        LONGCTX_RETURN_IF_ERROR(expect_op(")"));
        return tuple;
      }
      if (t.text == "[") {
        ++pos_;
        auto list = node(ExprKind::kList, t.line);
        while (!at_op("]")) {
          auto e = parse_expr();
          if (!e.is_ok()) return e;
          list->args.push_back(std::move(*e));
          if (!at_op(",")) break;
          ++pos_;
        }
        LONGCTX_RETURN_IF_ERROR(expect_op("]"));
        return list;
      }
      if (t.text == "{") {
        ++pos_;
        auto dict = node(ExprKind::kDict, t.line);
        while (!at_op("}")) {
          auto k = parse_expr();
          if (!k.is_ok()) return k;
          LONGCTX_RETURN_IF_ERROR(expect_op(":"));
          auto v = parse_expr();
          if (!v.is_ok()) return v;
          dict->args.push_back(std::move(*k));
          dict->args.push_back(std::move(*v));
          if (!at_op(",")) break;
          ++pos_;
        }
        LONGCTX_RETURN_IF_ERROR(expect_op("}"));
        return dict;
      }
      break;
    }
    default:
      break;
  }
  return error("unexpected " + describe(t) + " in expression");
}

Status Parser::parse_call_args(Expr& call) {
  LONGCTX_RETURN_IF_ERROR(expect_op("("));
  while (!at_op(")")) {
    if (peek().kind == TokenKind::kName && peek(1).kind == TokenKind::kOp && peek(1).text == "=") {
      std::string key = peek().text;
      pos_ += 2;
      auto v = parse_expr();
      if (!v.is_ok()) return v.status();
      call.kwargs.emplace_back(key, std::move(*v));
    } else {
      if (!call.kwargs.empty()) return error("positional argument after keyword argument");
      auto v = parse_expr();
      if (!v.is_ok()) return v.status();
      call.args.push_back(std::move(*v));
    }
    if (!at_op(",")) break;
    ++pos_;
  }
  return expect_op(")");
}

Result<ExprPtr> Parser::parse_postfix(ExprPtr e) {
  ChainGuard chain(depth_);
  while (true) {
    int line = peek().line;
    if (at_op(".") || at_op("[") || at_op("(")) LONGCTX_RETURN_IF_ERROR(next_link());
    if (at_op(".")) {
      ++pos_;
      auto get = node(ExprKind::kGetAttr, line);
      if (peek().kind == TokenKind::kInt) {  // x.0 is x[0] in jinja2
        get->kind = ExprKind::kGetItem;
        auto idx = node(ExprKind::kLiteral, line);
        idx->value = Value::integer(std::strtoll(peek().text.c_str(), nullptr, 10));
        ++pos_;
        get->args.push_back(std::move(e));
        get->args.push_back(std::move(idx));
      } else {
        auto n = expect_name();
        if (!n.is_ok()) return n.status();
        get->name = *n;
        get->args.push_back(std::move(e));
      }
      e = std::move(get);
    } else if (at_op("[")) {
      ++pos_;
      auto sub = node(ExprKind::kGetItem, line);
      sub->args.push_back(std::move(e));
      // An index, or a slice with up to three optional parts.
      ExprPtr parts[3];
      int n_colons = 0;
      for (int part = 0; part < 3; ++part) {
        if (!at_op(":") && !at_op("]")) {
          auto x = parse_expr();
          if (!x.is_ok()) return x;
          parts[part] = std::move(*x);
        }
        if (!at_op(":") || part == 2) break;
        ++pos_;
        ++n_colons;
      }
      LONGCTX_RETURN_IF_ERROR(expect_op("]"));
      if (n_colons == 0) {
        if (!parts[0]) return error("empty subscript");
        sub->args.push_back(std::move(parts[0]));
      } else {
        sub->kind = ExprKind::kSlice;
        for (auto& p : parts) sub->args.push_back(std::move(p));
      }
      e = std::move(sub);
    } else if (at_op("(")) {
      auto call = node(ExprKind::kCall, line);
      call->args.push_back(std::move(e));
      LONGCTX_RETURN_IF_ERROR(parse_call_args(*call));
      e = std::move(call);
    } else {
      return e;
    }
  }
}

Result<ExprPtr> Parser::parse_filter(ExprPtr input) {
  int line = peek().line;
  auto name = expect_name();
  if (!name.is_ok()) return name.status();
  auto f = node(ExprKind::kFilter, line);
  f->name = *name;
  f->args.push_back(std::move(input));
  if (at_op("(")) LONGCTX_RETURN_IF_ERROR(parse_call_args(*f));
  return f;
}

Result<ExprPtr> Parser::parse_filter_expr(ExprPtr e) {
  ChainGuard chain(depth_);
  while (true) {
    if (at_op("|") || at_name("is") || at_op("(")) LONGCTX_RETURN_IF_ERROR(next_link());
    if (at_op("|")) {
      ++pos_;
      auto f = parse_filter(std::move(e));
      if (!f.is_ok()) return f;
      e = std::move(*f);
    } else if (at_name("is")) {
      int line = peek().line;
      ++pos_;
      auto test = node(ExprKind::kTest, line);
      if (at_name("not")) {
        test->op = "not";
        ++pos_;
      }
      // Test names may be keywords: "is none", "is true", "is in".
      if (peek().kind != TokenKind::kName)
        return error("expected a test name after 'is', got " + describe(peek()));
      test->name = toks_[pos_++].text;
      test->args.push_back(std::move(e));
      if (at_op("(")) {
        LONGCTX_RETURN_IF_ERROR(parse_call_args(*test));
      } else if (peek().kind == TokenKind::kString || peek().kind == TokenKind::kInt ||
                 peek().kind == TokenKind::kFloat ||
                 (peek().kind == TokenKind::kName && !at_name("and") && !at_name("or") &&
                  !at_name("else") && !at_name("if") && !at_name("in") && !at_name("not") &&
                  !at_name("is"))) {
        // jinja2 allows one bare argument: "x is divisibleby 3", "x is sameas y".
        auto arg = parse_primary();
        if (!arg.is_ok()) return arg;
        auto arg2 = parse_postfix(std::move(*arg));
        if (!arg2.is_ok()) return arg2;
        test->args.push_back(std::move(*arg2));
      }
      e = std::move(test);
    } else if (at_op("(")) {
      auto call = node(ExprKind::kCall, peek().line);
      call->args.push_back(std::move(e));
      LONGCTX_RETURN_IF_ERROR(parse_call_args(*call));
      e = std::move(call);
    } else {
      return e;
    }
  }
}

}  // namespace longctx::chat::detail
