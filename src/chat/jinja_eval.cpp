// Tree-walking evaluator (see jinja_eval.h). Errors carry the template line of the node that
// failed; Python's operator rules are followed so output matches jinja2 byte for byte.
#include "chat/jinja_eval.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <unordered_map>

#include "chat/jinja_builtins.h"

namespace longctx::chat {
namespace {

using Frame = std::unordered_map<std::string, Value>;

enum class Flow { kNormal, kBreak, kContinue };

Status at_line(int line, const Status& st) {
  if (st.is_ok()) return st;
  const std::string& m = st.message();
  if (m.rfind("template", 0) == 0 || m.rfind(kRaiseExceptionPrefix, 0) == 0) return st;
  return Status(st.code(), "template error at line " + std::to_string(line) + ": " + m);
}

Status undefined_error(const Value& v) {
  // Hints that are whole sentences (unsafe access, missing attribute) print as they are.
  if (v.undefined_hint().rfind("'", 0) == 0 ||
      v.undefined_hint().find(" is unsafe") != std::string::npos) {
    return invalid_format(v.undefined_hint());
  }
  return invalid_format("'" +
                        (v.undefined_hint().empty() ? std::string("value") : v.undefined_hint()) +
                        "' is undefined");
}

Status type_error(const char* op, const Value& a, const Value& b) {
  return invalid_format(std::string("unsupported operand type(s) for ") + op + ": '" +
                        a.type_name() + "' and '" + b.type_name() + "'");
}

class Interpreter final : public FilterHost {
 public:
  explicit Interpreter(const RenderLimits& limits) : limits_(limits) {}

  Result<std::string> run(const Body& body, const Value& context) {
    auto globals = std::make_shared<Frame>();
    ValueDict g;
    add_globals(g);
    for (auto& [k, v] : g.items) (*globals)[k] = v;
    if (context.is_dict()) {
      for (const auto& [k, v] : context.as_dict().items) (*globals)[k] = v;
    }
    frames_.push_back(globals);
    LONGCTX_RETURN_IF_ERROR(exec_body(body));
    return std::move(out_);
  }

  Result<Value> filter(std::string_view name, const Value& input, const CallArgs& args) override {
    return apply_filter(*this, name, input, args);
  }
  Result<bool> test(std::string_view name, const Value& input, const CallArgs& args) override {
    return apply_test(*this, name, input, args);
  }
  size_t max_string_bytes() const override { return limits_.max_output_bytes; }

 private:
  struct DepthGuard {
    explicit DepthGuard(int& d) : d_(d) { ++d_; }
    ~DepthGuard() { --d_; }
    int& d_;
  };

  Status enter() {
    if (depth_ > limits_.max_depth) {
      return invalid_format("template recursion deeper than " + std::to_string(limits_.max_depth));
    }
    return Status::ok();
  }

  Status step() {
    if (++steps_ > limits_.max_steps) {
      return invalid_format("template ran more than " + std::to_string(limits_.max_steps) +
                            " steps (runaway loop?)");
    }
    return Status::ok();
  }

  Status emit(const std::string& s) {
    if (out_.size() + s.size() > limits_.max_output_bytes) {
      return invalid_format("template output exceeds " + std::to_string(limits_.max_output_bytes) +
                            " bytes");
    }
    out_ += s;
    return Status::ok();
  }

  Status emit_value(const Value& v) {
    if (v.is_string()) return emit(v.as_string());
    auto text = v.str(limits_.max_output_bytes);
    if (!text.is_ok()) return text.status();
    return emit(*text);
  }

  // Most items one list may hold: the output budget counted in Values, as for list * n.
  size_t max_list_items() const { return limits_.max_output_bytes / sizeof(Value); }

  Value lookup(const std::string& name) const {
    for (auto it = frames_.rbegin(); it != frames_.rend(); ++it) {
      auto f = (*it)->find(name);
      if (f != (*it)->end()) return f->second;
    }
    return Value::undefined(name);
  }

  Status exec_body(const Body& body) {
    for (const auto& s : body) {
      LONGCTX_RETURN_IF_ERROR(exec(*s));
      if (flow_ != Flow::kNormal) return Status::ok();
    }
    return Status::ok();
  }

  // Renders `body` into a string of its own (block set, macro call, filter block).
  Result<std::string> capture(const Body& body) {
    std::string saved = std::move(out_);
    out_.clear();
    Status st = exec_body(body);
    std::string captured = std::move(out_);
    out_ = std::move(saved);
    if (!st.is_ok()) return st;
    return captured;
  }

  Status assign(const std::vector<std::string>& targets, const Value& v, Frame& frame) {
    if (targets.size() == 1) {
      frame[targets[0]] = v;
      return Status::ok();
    }
    auto items = iterate(v);
    if (!items.is_ok()) return items.status();
    if (items->size() != targets.size()) {
      return invalid_format("cannot unpack " + std::to_string(items->size()) + " values into " +
                            std::to_string(targets.size()) + " names");
    }
    for (size_t k = 0; k < targets.size(); ++k) frame[targets[k]] = (*items)[k];
    return Status::ok();
  }

  Status exec(const Stmt& s) {
    DepthGuard guard(depth_);
    LONGCTX_RETURN_IF_ERROR(enter());
    LONGCTX_RETURN_IF_ERROR(step());
    return at_line(s.line, exec_inner(s));
  }

  Status exec_inner(const Stmt& s) {
    switch (s.kind) {
      case StmtKind::kText:
        return emit(s.text);
      case StmtKind::kOutput: {
        auto v = eval(*s.expr);
        if (!v.is_ok()) return v.status();
        return emit_value(*v);
      }
      case StmtKind::kIf: {
        for (size_t k = 0; k < s.conds.size(); ++k) {
          auto c = eval(*s.conds[k]);
          if (!c.is_ok()) return c.status();
          if (c->truthy()) return exec_body(s.bodies[k]);
        }
        if (s.bodies.size() > s.conds.size()) return exec_body(s.bodies.back());
        return Status::ok();
      }
      case StmtKind::kFor:
        return exec_for(s);
      case StmtKind::kSet: {
        auto v = eval(*s.expr);
        if (!v.is_ok()) return v.status();
        if (!s.attr.empty()) {
          Value ns = lookup(s.targets[0]);
          if (!ns.is_namespace()) {
            return invalid_format("cannot assign attribute '" + s.attr + "' on '" + s.targets[0] +
                                  "': not a namespace");
          }
          ns.as_dict().set(s.attr, *v);
          return Status::ok();
        }
        return assign(s.targets, *v, *frames_.back());
      }
      case StmtKind::kSetBlock: {
        auto text = capture(s.bodies[0]);
        if (!text.is_ok()) return text.status();
        (*frames_.back())[s.targets[0]] = Value::string(std::move(*text));
        return Status::ok();
      }
      case StmtKind::kMacro: {
        const Stmt* macro = &s;
        (*frames_.back())[s.name] = Value::callable(
            s.name, [this, macro](const CallArgs& args) { return call_macro(*macro, args); });
        return Status::ok();
      }
      case StmtKind::kBreak:
        flow_ = Flow::kBreak;
        return Status::ok();
      case StmtKind::kContinue:
        flow_ = Flow::kContinue;
        return Status::ok();
      case StmtKind::kScope:
        return exec_body(s.bodies[0]);
      case StmtKind::kFilterBlock: {
        auto text = capture(s.bodies[0]);
        if (!text.is_ok()) return text.status();
        auto frame = std::make_shared<Frame>();
        (*frame)[" filter_body"] = Value::string(std::move(*text));
        frames_.push_back(frame);
        auto v = eval(*s.expr);
        frames_.pop_back();
        if (!v.is_ok()) return v.status();
        return emit_value(*v);
      }
    }
    return Status::ok();
  }

  Status exec_for(const Stmt& s) {
    auto iterable = eval(*s.expr);
    if (!iterable.is_ok()) return iterable.status();
    auto all = iterate(*iterable);
    if (!all.is_ok()) return all.status();
    // Loop filtering ("for x in xs if cond") drops items first, so loop.index/length count
    // only the kept items, as in jinja2.
    std::vector<Value> items;
    if (s.filter) {
      for (auto& item : *all) {
        LONGCTX_RETURN_IF_ERROR(step());
        auto frame = std::make_shared<Frame>();
        LONGCTX_RETURN_IF_ERROR(assign(s.targets, item, *frame));
        frames_.push_back(frame);
        auto keep = eval(*s.filter);
        frames_.pop_back();
        if (!keep.is_ok()) return keep.status();
        if (keep->truthy()) items.push_back(std::move(item));
      }
    } else {
      items = std::move(*all);
    }
    const auto n = static_cast<int64_t>(items.size());
    for (int64_t k = 0; k < n; ++k) {
      LONGCTX_RETURN_IF_ERROR(step());
      // Each iteration is a fresh scope: a plain {% set %} inside does not survive it.
      auto frame = std::make_shared<Frame>();
      LONGCTX_RETURN_IF_ERROR(assign(s.targets, items[k], *frame));
      auto loop = std::make_shared<ValueDict>();
      loop->items = {{"index0", Value::integer(k)},
                     {"index", Value::integer(k + 1)},
                     {"revindex0", Value::integer(n - k - 1)},
                     {"revindex", Value::integer(n - k)},
                     {"first", Value::boolean(k == 0)},
                     {"last", Value::boolean(k == n - 1)},
                     {"length", Value::integer(n)},
                     {"depth", Value::integer(1)},
                     {"depth0", Value::integer(0)},
                     {"previtem", k > 0 ? items[k - 1] : Value::undefined("loop.previtem")},
                     {"nextitem", k + 1 < n ? items[k + 1] : Value::undefined("loop.nextitem")}};
      loop->items.emplace_back(
          "cycle", Value::callable("loop.cycle", [k](const CallArgs& a) -> Result<Value> {
            if (a.positional.empty()) return invalid_format("loop.cycle needs at least one value");
            return a.positional[static_cast<size_t>(k) % a.positional.size()];
          }));
      (*frame)["loop"] = Value::dict(loop);
      frames_.push_back(frame);
      Status st = exec_body(s.bodies[0]);
      frames_.pop_back();
      LONGCTX_RETURN_IF_ERROR(st);
      Flow f = flow_;
      flow_ = Flow::kNormal;
      if (f == Flow::kBreak) break;
    }
    if (n == 0 && s.bodies.size() > 1) return exec_body(s.bodies[1]);
    return Status::ok();
  }

  Result<Value> call_macro(const Stmt& m, const CallArgs& args) {
    if (call_depth_ >= limits_.max_call_depth) {
      return invalid_format("macro '" + m.name + "' nested deeper than " +
                            std::to_string(limits_.max_call_depth) + " calls");
    }
    if (args.positional.size() > m.params.size()) {
      return invalid_format("macro '" + m.name + "' takes " + std::to_string(m.params.size()) +
                            " arguments, got " + std::to_string(args.positional.size()));
    }
    for (const auto& [k, v] : args.keyword) {
      if (std::find(m.params.begin(), m.params.end(), k) == m.params.end()) {
        return invalid_format("macro '" + m.name + "' has no parameter '" + k + "'");
      }
    }
    // A macro sees the template's top-level names and its own arguments, not the caller's locals.
    std::vector<std::shared_ptr<Frame>> saved = std::move(frames_);
    frames_ = {saved.front(), std::make_shared<Frame>()};
    Status st;
    for (size_t k = 0; k < m.params.size() && st.is_ok(); ++k) {
      const Value* given = args.get(k, m.params[k]);
      if (given) {
        (*frames_.back())[m.params[k]] = *given;
      } else if (m.defaults[k]) {
        auto d = eval(*m.defaults[k]);
        if (!d.is_ok())
          st = d.status();
        else
          (*frames_.back())[m.params[k]] = *d;
      } else {
        (*frames_.back())[m.params[k]] = Value::undefined(m.params[k]);
      }
    }
    Result<std::string> text = std::string();
    if (st.is_ok()) {
      ++call_depth_;
      text = capture(m.bodies[0]);
      --call_depth_;
    }
    frames_ = std::move(saved);
    flow_ = Flow::kNormal;
    if (!st.is_ok()) return st;
    if (!text.is_ok()) return text.status();
    return Value::string(std::move(*text));
  }

  Result<CallArgs> eval_args(const Expr& e, size_t first) {
    CallArgs args;
    for (size_t k = first; k < e.args.size(); ++k) {
      auto v = eval(*e.args[k]);
      if (!v.is_ok()) return v.status();
      args.positional.push_back(std::move(*v));
    }
    for (const auto& [name, x] : e.kwargs) {
      auto v = eval(*x);
      if (!v.is_ok()) return v.status();
      args.keyword.emplace_back(name, std::move(*v));
    }
    return args;
  }

  Result<Value> eval(const Expr& e) {
    DepthGuard guard(depth_);
    LONGCTX_RETURN_IF_ERROR(enter());
    auto r = eval_inner(e);
    if (!r.is_ok()) return at_line(e.line, r.status());
    return r;
  }

  Result<Value> eval_inner(const Expr& e) {
    switch (e.kind) {
      case ExprKind::kLiteral:
        return e.value;
      case ExprKind::kName:
        return lookup(e.name);
      case ExprKind::kList:
      case ExprKind::kTuple: {
        auto args = eval_args(e, 0);
        if (!args.is_ok()) return args.status();
        return Value::list(std::move(args->positional), e.kind == ExprKind::kTuple);
      }
      case ExprKind::kDict: {
        auto d = std::make_shared<ValueDict>();
        for (size_t k = 0; k + 1 < e.args.size(); k += 2) {
          auto key = eval(*e.args[k]);
          if (!key.is_ok()) return key;
          auto val = eval(*e.args[k + 1]);
          if (!val.is_ok()) return val;
          if (!key->is_string()) return unsupported("dict keys must be strings");
          d->set(key->as_string(), std::move(*val));
        }
        return Value::dict(d);
      }
      case ExprKind::kGetAttr: {
        auto obj = eval(*e.args[0]);
        if (!obj.is_ok()) return obj;
        if (obj->is_undefined()) return undefined_error(*obj);
        return get_attr(*obj, e.name);
      }
      case ExprKind::kGetItem: {
        auto obj = eval(*e.args[0]);
        if (!obj.is_ok()) return obj;
        if (obj->is_undefined()) return undefined_error(*obj);
        auto key = eval(*e.args[1]);
        if (!key.is_ok()) return key;
        return get_item(*obj, *key);
      }
      case ExprKind::kSlice: {
        auto obj = eval(*e.args[0]);
        if (!obj.is_ok()) return obj;
        if (obj->is_undefined()) return undefined_error(*obj);
        Value parts[3] = {Value::none(), Value::none(), Value::none()};
        for (int k = 0; k < 3; ++k) {
          if (!e.args[k + 1]) continue;
          auto p = eval(*e.args[k + 1]);
          if (!p.is_ok()) return p;
          parts[k] = *p;
        }
        return slice_value(*obj, parts[0], parts[1], parts[2]);
      }
      case ExprKind::kCall: {
        auto fn = eval(*e.args[0]);
        if (!fn.is_ok()) return fn;
        if (fn->is_undefined()) return undefined_error(*fn);
        if (!fn->is_callable())
          return invalid_format(std::string("'") + fn->type_name() + "' object is not callable");
        auto args = eval_args(e, 1);
        if (!args.is_ok()) return args.status();
        LONGCTX_RETURN_IF_ERROR(step());
        return fn->as_callable().fn(*args);
      }
      case ExprKind::kFilter: {
        auto input = eval(*e.args[0]);
        if (!input.is_ok()) return input;
        auto args = eval_args(e, 1);
        if (!args.is_ok()) return args.status();
        return apply_filter(*this, e.name, *input, *args);
      }
      case ExprKind::kTest: {
        auto input = eval(*e.args[0]);
        if (!input.is_ok()) return input;
        auto args = eval_args(e, 1);
        if (!args.is_ok()) return args.status();
        auto r = apply_test(*this, e.name, *input, *args);
        if (!r.is_ok()) return r.status();
        return Value::boolean(e.op == "not" ? !*r : *r);
      }
      case ExprKind::kUnary: {
        auto v = eval(*e.args[0]);
        if (!v.is_ok()) return v;
        if (e.op == "not") return Value::boolean(!v->truthy());
        if (v->is_undefined()) return undefined_error(*v);
        if (!v->is_number())
          return invalid_format(std::string("bad operand type for unary ") + e.op + ": '" +
                                v->type_name() + "'");
        if (e.op == "+") return v->is_float() ? *v : Value::integer(v->as_int());
        if (v->is_float()) return Value::number(-v->as_double());
        if (v->as_int() == INT64_MIN) return invalid_format("integer overflow");
        return Value::integer(-v->as_int());
      }
      case ExprKind::kBinary:
        return eval_binary(e);
      case ExprKind::kCompare: {
        auto left = eval(*e.args[0]);
        if (!left.is_ok()) return left;
        Value l = *left;
        for (size_t k = 0; k < e.ops.size(); ++k) {
          auto right = eval(*e.args[k + 1]);
          if (!right.is_ok()) return right;
          auto r = compare(e.ops[k], l, *right);
          if (!r.is_ok()) return r.status();
          if (!*r) return Value::boolean(false);
          l = *right;
        }
        return Value::boolean(true);
      }
      case ExprKind::kCond: {
        auto c = eval(*e.args[0]);
        if (!c.is_ok()) return c;
        if (c->truthy()) return eval(*e.args[1]);
        if (e.args[2]) return eval(*e.args[2]);
        return Value::undefined("conditional expression");
      }
    }
    return unsupported("unknown expression");
  }

  Result<bool> compare(const std::string& op, const Value& a, const Value& b) {
    if (op == "==" || op == "!=") {
      auto eq = values_equal(a, b);
      if (!eq.is_ok()) return eq;
      return op == "==" ? *eq : !*eq;
    }
    if (op == "in" || op == "not in") {
      auto r = contains(b, a);
      if (!r.is_ok()) return r;
      return op == "in" ? *r : !*r;
    }
    if (a.is_undefined()) return undefined_error(a);
    if (b.is_undefined()) return undefined_error(b);
    if (op == "<") return value_less(a, b);
    if (op == ">") return value_less(b, a);
    auto lt = value_less(op == "<=" ? b : a, op == "<=" ? a : b);  // a <= b is not (b < a)
    if (!lt.is_ok()) return lt;
    return !*lt;
  }

  static Result<bool> contains(const Value& container, const Value& needle) {
    if (container.is_string()) {
      if (!needle.is_string()) {
        return invalid_format(std::string("'in <string>' requires string as left operand, not ") +
                              needle.type_name());
      }
      return container.as_string().find(needle.as_string()) != std::string::npos;
    }
    if (container.is_list()) {
      for (const auto& x : container.as_list().items) {
        auto eq = values_equal(x, needle);
        if (!eq.is_ok() || *eq) return eq;
      }
      return false;
    }
    if (container.is_dict())
      return needle.is_string() && container.as_dict().find(needle.as_string()) != nullptr;
    if (container.is_undefined()) return false;  // iterating undefined yields nothing
    return invalid_format(std::string("argument of type '") + container.type_name() +
                          "' is not iterable");
  }

  Result<Value> eval_binary(const Expr& e) {
    auto left = eval(*e.args[0]);
    if (!left.is_ok()) return left;
    if (e.op == "and") return left->truthy() ? eval(*e.args[1]) : left;
    if (e.op == "or") return left->truthy() ? left : eval(*e.args[1]);
    auto right = eval(*e.args[1]);
    if (!right.is_ok()) return right;
    const Value& a = *left;
    const Value& b = *right;
    if (e.op == "~") {
      auto sa = a.str(limits_.max_output_bytes);
      if (!sa.is_ok()) return sa.status();
      auto sb = b.str(limits_.max_output_bytes);
      if (!sb.is_ok()) return sb.status();
      if (sa->size() + sb->size() > limits_.max_output_bytes)
        return invalid_format("string too long");
      return Value::string(*sa + *sb);
    }
    if (a.is_undefined()) return undefined_error(a);
    if (b.is_undefined()) return undefined_error(b);
    return arithmetic(e.op, a, b);
  }

  Result<Value> repeat(const Value& seq, const Value& count) {
    int64_t n = std::max<int64_t>(0, count.as_int());
    size_t unit =
        seq.is_string() ? seq.as_string().size() : seq.as_list().items.size() * sizeof(Value);
    if (unit > 0 && static_cast<uint64_t>(n) > limits_.max_output_bytes / unit) {
      return invalid_format("repetition result too large");
    }
    if (seq.is_string()) {
      std::string s;
      for (int64_t k = 0; k < n; ++k) s += seq.as_string();
      return Value::string(std::move(s));
    }
    std::vector<Value> items;
    for (int64_t k = 0; k < n; ++k) {
      for (const auto& x : seq.as_list().items) items.push_back(x);
    }
    return Value::list(std::move(items), seq.as_list().is_tuple);
  }

  Result<Value> arithmetic(const std::string& op, const Value& a, const Value& b) {
    const char* o = op.c_str();
    if (a.is_number() && b.is_number()) {
      const bool ints = !a.is_float() && !b.is_float();
      const int64_t x = a.as_int(), y = b.as_int();
      const double fx = a.as_double(), fy = b.as_double();
      int64_t r = 0;
      if (op == "+") {
        if (!ints) return Value::number(fx + fy);
        if (__builtin_add_overflow(x, y, &r)) return invalid_format("integer overflow");
        return Value::integer(r);
      }
      if (op == "-") {
        if (!ints) return Value::number(fx - fy);
        if (__builtin_sub_overflow(x, y, &r)) return invalid_format("integer overflow");
        return Value::integer(r);
      }
      if (op == "*") {
        if (!ints) return Value::number(fx * fy);
        if (__builtin_mul_overflow(x, y, &r)) return invalid_format("integer overflow");
        return Value::integer(r);
      }
      if (fy == 0 && (op == "/" || op == "//" || op == "%"))
        return invalid_format("division by zero");
      if (op == "/") return Value::number(fx / fy);
      // Python's // and % floor towards negative infinity (the remainder takes the divisor's sign).
      if (op == "//") {
        if (!ints) return Value::number(std::floor(fx / fy));
        if (x == INT64_MIN && y == -1) return invalid_format("integer overflow");
        int64_t q = x / y;
        if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
        return Value::integer(q);
      }
      if (op == "%") {
        if (!ints) {
          double m = std::fmod(fx, fy);
          if (m != 0 && ((m < 0) != (fy < 0))) m += fy;
          return Value::number(m);
        }
        if (y == -1) return Value::integer(0);
        int64_t m = x % y;
        if (m != 0 && ((m < 0) != (y < 0))) m += y;
        return Value::integer(m);
      }
      if (op == "**") {
        if (!ints || y < 0) return Value::number(std::pow(fx, fy));
        if (x == 0 || x == 1) return Value::integer(y == 0 ? 1 : x);
        if (x == -1) return Value::integer(y % 2 ? -1 : 1);
        // |x| >= 2, so the product overflows within 63 factors: the loop is short.
        int64_t acc = 1;
        for (int64_t k = 0; k < y; ++k) {
          if (__builtin_mul_overflow(acc, x, &acc)) return invalid_format("integer overflow in **");
        }
        return Value::integer(acc);
      }
    }
    if (op == "+") {
      if (a.is_string() && b.is_string()) {
        if (a.as_string().size() + b.as_string().size() > limits_.max_output_bytes)
          return invalid_format("string too long");
        return Value::string(a.as_string() + b.as_string());
      }
      if (a.is_list() && b.is_list() && a.as_list().is_tuple == b.as_list().is_tuple) {
        const size_t n = a.as_list().items.size() + b.as_list().items.size();
        if (n > max_list_items()) {
          return invalid_format("list too long: " + std::to_string(n) + " items (limit " +
                                std::to_string(max_list_items()) + ")");
        }
        std::vector<Value> items;
        items.reserve(n);
        const auto& xs = a.as_list().items;
        const auto& ys = b.as_list().items;
        items.insert(items.end(), xs.begin(), xs.end());
        items.insert(items.end(), ys.begin(), ys.end());
        return Value::list(std::move(items), a.as_list().is_tuple);
      }
      if (a.is_string()) {
        return invalid_format(std::string("can only concatenate str (not \"") + b.type_name() +
                              "\") to str");
      }
    }
    if (op == "*") {
      if ((a.is_string() || a.is_list()) && (b.is_int() || b.is_bool())) return repeat(a, b);
      if ((b.is_string() || b.is_list()) && (a.is_int() || a.is_bool())) return repeat(b, a);
    }
    if (op == "%" && a.is_string())
      return unsupported("printf-style string formatting ('%') is not supported");
    return type_error(o, a, b);
  }

  const RenderLimits& limits_;
  std::vector<std::shared_ptr<Frame>> frames_;
  std::string out_;
  uint64_t steps_ = 0;
  int depth_ = 0;
  int call_depth_ = 0;
  Flow flow_ = Flow::kNormal;
};

}  // namespace

Result<std::string> render_template(const Body& body, const Value& context,
                                    const RenderLimits& limits) {
  Interpreter interp(limits);
  return interp.run(body, context);
}

}  // namespace longctx::chat
