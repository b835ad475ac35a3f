// Syntax tree of the Jinja2 template subset, produced by parse_template() from the lexer's
// tokens. One node type per family (expressions, statements) keeps the evaluator a plain switch.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/value.h"
#include "core/status.h"

namespace longctx::chat {

enum class ExprKind {
  kLiteral,  // value
  kName,     // name
  kList,     // args
  kTuple,    // args
  kDict,     // args: key0, value0, key1, value1, ...
  kGetAttr,  // args[0].name
  kGetItem,  // args[0][args[1]]
  kSlice,    // args[0][args[1]:args[2]:args[3]] (null children for omitted parts)
  kCall,     // args[0](args[1:], kwargs)
  kFilter,   // args[0] | name(args[1:], kwargs)
  kTest,     // args[0] is [not] name(args[1:]); negated when op == "not"
  kUnary,    // op args[0]: "-", "+", "not"
  kBinary,   // args[0] op args[1]: + - * / // % ** ~ and or in "not in"
  kCompare,  // args[0] ops[0] args[1] ops[1] args[2] ... (chained, as in Python)
  kCond,     // args[1] if args[0] else args[2] (args[2] null: undefined)
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  Expr() = default;
  Expr(const Expr&) = delete;
  Expr& operator=(const Expr&) = delete;
  ~Expr();  // frees the subtree in a loop, so no tree height can overflow the stack
  ExprKind kind = ExprKind::kLiteral;
  int line = 0;
  Value value;
  std::string name;  // name, attribute, filter or test
  std::string op;
  std::vector<std::string> ops;  // kCompare operators
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
};

enum class StmtKind {
  kText,      // text
  kOutput,    // {{ expr }}
  kIf,        // conds[i] -> bodies[i]; a trailing extra body is the else branch
  kFor,       // for targets in expr [if filter] body [else else_body]
  kSet,       // set targets (or ns.attr) = expr
  kSetBlock,  // set targets %} body {% endset
  kMacro,     // macro name(params, defaults) body
  kBreak,
  kContinue,
  kScope,        // a body rendered as is ({% generation %} of Hugging Face's AssistantTracker)
  kFilterBlock,  // {% filter name(args) %} body {% endfilter %}: expr is the filter call on a
                 // placeholder name
};

struct Stmt;
using Body = std::vector<std::unique_ptr<Stmt>>;

struct Stmt {
  StmtKind kind = StmtKind::kText;
  int line = 0;
  std::string text;
  ExprPtr expr;                      // output, for iterable, set value, filter block call
  ExprPtr filter;                    // for ... if filter
  std::vector<ExprPtr> conds;        // if/elif conditions
  std::vector<Body> bodies;          // if/elif bodies (+ else), for body (+ else), macro body
  std::vector<std::string> targets;  // for/set names; set to "ns.attr": targets = {ns}, attr
  std::string attr;                  // set ns.attr
  std::string name;                  // macro name
  std::vector<std::string> params;   // macro parameters
  std::vector<ExprPtr> defaults;     // macro defaults (null when none), parallel to params
};

struct ParserLimits {
  int max_nesting = 128;  // nested blocks and expressions; deeper input is rejected, not recursed
};

Result<Body> parse_template(std::string_view source, const ParserLimits& limits);

}  // namespace longctx::chat
