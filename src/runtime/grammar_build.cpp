// Grammar construction: the factories, shared building blocks (any value, literal tries), and
// finalisation: flatten alternatives, fewest-bytes costs (Knuth's generalisation of
// Dijkstra, so recursive schemas cost no fixed-point loops), pruning of branches no value can
// satisfy (so the mask never leads into a dead end), and the per-node cost tables the matcher
// reads.
#include <algorithm>
#include <queue>

#include "runtime/grammar_internal.h"

namespace longctx {
namespace grammar_detail {

uint32_t Builder::add(Node n) {
  if (g.nodes.size() >= Grammar::kMaxNodes) {
    throw CompileError{"schema too large (more than " + std::to_string(Grammar::kMaxNodes) +
                       " grammar nodes)"};
  }
  g.nodes.push_back(std::move(n));
  return uint32_t(g.nodes.size() - 1);
}

uint32_t Builder::unsat() { return add(Node{}); }  // a kAlt without members

uint32_t Builder::any() {
  if (any_ != kNone) return any_;
  any_ = add(Node{});
  Node obj;
  obj.kind = Kind::kObject;
  obj.additional = any_;
  Node arr;
  arr.kind = Kind::kArray;
  arr.items = any_;
  Node str;
  str.kind = Kind::kString;
  Node num;
  num.kind = Kind::kNumber;
  std::vector<uint32_t> m = {add(std::move(obj)), add(std::move(arr)), add(std::move(str)),
                             add(std::move(num)), literals({"true", "false", "null"})};
  g.nodes[any_].members = std::move(m);
  return any_;
}

uint32_t Builder::any_object() {
  const uint32_t a = any();
  return g.nodes[a].members[0];
}

uint32_t Builder::literals(const std::vector<std::string>& lits) {
  std::vector<std::pair<std::string, uint32_t>> e;
  for (const auto& l : lits) {
    if (!l.empty()) e.emplace_back(l, 0);
  }
  Node n;
  n.kind = Kind::kLiterals;
  n.lit_trie = build_trie(e, false);
  return add(std::move(n));
}

uint32_t Builder::build_trie(const std::vector<std::pair<std::string, uint32_t>>& entries,
                             bool keys) {
  struct Tmp {
    std::vector<std::pair<uint8_t, uint32_t>> kids;
    uint32_t terminal = kNone;
    uint32_t depth = 0;
    std::vector<std::pair<uint32_t, uint32_t>> cands;
  };
  std::vector<Tmp> t(1);
  for (const auto& [s, term] : entries) {
    trie_bytes_ += s.size() + 1;
    if (trie_bytes_ > Grammar::kMaxLiteralBytes) {
      throw CompileError{"schema too large (more than " +
                         std::to_string(Grammar::kMaxLiteralBytes) + " bytes of names and values)"};
    }
    uint32_t x = 0;
    std::vector<uint32_t> path = {0};
    for (unsigned char c : s) {
      uint32_t y = kNone;
      for (const auto& [b, k] : t[x].kids) {
        if (b == c) y = k;
      }
      if (y == kNone) {
        y = uint32_t(t.size());
        t[x].kids.emplace_back(c, y);
        t.push_back(Tmp{});
        t[y].depth = t[x].depth + 1;
      }
      x = y;
      path.push_back(x);
    }
    if (t[x].terminal == kNone) {
      t[x].terminal = term;
      if (keys) {
        for (uint32_t p : path) t[p].cands.emplace_back(term, t[x].depth);
      }
    }
  }
  const uint32_t base = uint32_t(g.trie.size());
  g.trie.resize(base + t.size());
  for (uint32_t i = 0; i < t.size(); ++i) {
    std::sort(t[i].kids.begin(), t[i].kids.end());
    TrieNode& n = g.trie[base + i];
    n.first_edge = uint32_t(g.edges.size());
    n.n_edges = uint32_t(t[i].kids.size());
    for (const auto& [b, k] : t[i].kids) g.edges.push_back({b, base + k});
    n.terminal = t[i].terminal;
    n.depth = t[i].depth;
    std::sort(t[i].cands.begin(), t[i].cands.end());
    n.cand_begin = uint32_t(g.cands.size());
    g.cands.insert(g.cands.end(), t[i].cands.begin(), t[i].cands.end());
    n.cand_end = uint32_t(g.cands.size());
  }
  // Children are created after their parents, so a reverse sweep sees children first.
  for (uint32_t i = uint32_t(t.size()); i-- > 0;) {
    TrieNode& n = g.trie[base + i];
    n.min_rest = n.terminal != kNone ? 0 : kInf;
    for (const auto& [b, k] : t[i].kids)
      n.min_rest = std::min(n.min_rest, g.trie[base + k].min_rest + 1);
  }
  return base;
}

// ---- Finalisation ---------------------------------------------------------------------------

void Builder::finalize(uint32_t body) {
  Node root;
  root.kind = Kind::kSeq;
  root.members = {body};
  g.root = add(std::move(root));
  flatten_alts();
  min_costs();
  if (g.nodes[g.root].min_cost >= kInf && !g.nullable) {
    throw CompileError{"the schema cannot be satisfied by any JSON value"};
  }
  prune();
  tables();
  first_sets();
}

// Replaces each kAlt's members by the concrete nodes reachable through kAlt members (aliases from
// $ref, nested anyOf). The kAlt-to-kAlt graph is split into strongly connected components
// (iterative Tarjan, so long $ref chains cost neither recursion nor quadratic time); a component's
// set is its own concrete members plus the sets of the components it points to, which Tarjan
// completes first. Cycles of pure alternatives contribute nothing, as they should.
void Builder::flatten_alts() {
  const uint32_t n = uint32_t(g.nodes.size());
  auto is_alt = [&](uint32_t v) { return g.nodes[v].kind == Kind::kAlt; };
  std::vector<uint32_t> index(n, kNone), low(n, 0), comp(n, kNone), seen(n, kNone);
  std::vector<uint8_t> on_stack(n, 0);
  std::vector<uint32_t> stack;
  std::vector<std::vector<uint32_t>> flat(n);
  std::vector<std::pair<uint32_t, uint32_t>> dfs;  // (node, next member to visit)
  uint32_t counter = 0, n_comp = 0;
  size_t work = 0;
  for (uint32_t root = 0; root < n; ++root) {
    if (!is_alt(root) || index[root] != kNone) continue;
    dfs.emplace_back(root, 0);
    index[root] = low[root] = counter++;
    stack.push_back(root), on_stack[root] = 1;
    while (!dfs.empty()) {
      auto& [v, next] = dfs.back();
      const auto& mem = g.nodes[v].members;
      if (next < mem.size()) {
        const uint32_t w = mem[next++];
        if (!is_alt(w)) continue;
        if (index[w] == kNone) {
          index[w] = low[w] = counter++;
          stack.push_back(w), on_stack[w] = 1;
          dfs.emplace_back(w, 0);
        } else if (on_stack[w]) {
          low[v] = std::min(low[v], index[w]);
        }
        continue;
      }
      const uint32_t done = v;
      dfs.pop_back();
      if (!dfs.empty()) low[dfs.back().first] = std::min(low[dfs.back().first], low[done]);
      if (low[done] != index[done]) continue;
      // `done` roots a component: pop it and build its concrete set.
      std::vector<uint32_t> scc;
      uint32_t w;
      do {
        w = stack.back();
        stack.pop_back();
        on_stack[w] = 0;
        comp[w] = n_comp;
        scc.push_back(w);
      } while (w != done);
      std::vector<uint32_t> out;
      auto take = [&](uint32_t x) {
        if (seen[x] != n_comp) seen[x] = n_comp, out.push_back(x);
      };
      for (auto it = scc.rbegin(); it != scc.rend(); ++it) {
        for (uint32_t m : g.nodes[*it].members) {
          if (!is_alt(m))
            take(m);
          else if (comp[m] != n_comp)
            for (uint32_t x : flat[m]) take(x);
        }
      }
      work += out.size() * scc.size() + scc.size();
      if (work > 16 * Grammar::kMaxNodes) throw CompileError{"schema too complex (anyOf/$ref)"};
      for (uint32_t x : scc) flat[x] = out;
      ++n_comp;
    }
  }
  for (uint32_t v = 0; v < n; ++v) {
    if (is_alt(v)) g.nodes[v].members = std::move(flat[v]);
  }
}

// Fewest bytes of a value of each node. Each node is a "sum" rule (constant + its children's
// costs with multiplicities) or a "min" rule (kAlt); Knuth's algorithm settles nodes in cost
// order, so recursion through $ref needs no iteration. Unsettled nodes keep kInf: no finite value.
void Builder::min_costs() {
  const size_t n = g.nodes.size();
  std::vector<uint32_t> konst(n, 0), remaining(n, 0);
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> args(n);  // (child, multiplicity)
  for (uint32_t i = 0; i < n; ++i) {
    Node& nd = g.nodes[i];
    auto& a = args[i];
    switch (nd.kind) {
      case Kind::kAlt:
      case Kind::kSeq:
        for (uint32_t m : nd.members) a.emplace_back(m, 1);
        break;
      case Kind::kObject: {
        uint32_t c = 1;
        bool any_req = false;
        for (const auto& p : nd.props) {
          if (!p.required) continue;
          any_req = true;
          c = sat_add(c, uint32_t(p.key.size()) + 4);
          a.emplace_back(p.node, 1);
        }
        konst[i] = any_req ? c : 2;
        break;
      }
      case Kind::kArray: {
        const uint32_t plen = uint32_t(nd.prefix.size());
        for (uint32_t k = 0; k < std::min(nd.min_items, plen); ++k) a.emplace_back(nd.prefix[k], 1);
        if (nd.min_items > plen) {
          if (nd.items == kNone)
            konst[i] = kInf;
          else
            a.emplace_back(nd.items, nd.min_items - plen);
        }
        if (konst[i] == 0) konst[i] = nd.min_items == 0 ? 2 : sat_add(1, nd.min_items);
        break;
      }
      case Kind::kString:
        konst[i] = nd.dfa != kNone ? sat_add(2, g.dfas[nd.dfa].dist[0]) : sat_add(2, nd.min_len);
        break;
      case Kind::kNumber:
        konst[i] = 1;
        break;
      case Kind::kLiterals:
        konst[i] = g.trie[nd.lit_trie].min_rest;
        break;
    }
  }
  std::vector<std::vector<uint32_t>> users(n);
  using Item = std::pair<uint32_t, uint32_t>;  // (cost, node)
  std::priority_queue<Item, std::vector<Item>, std::greater<>> pq;
  for (uint32_t i = 0; i < n; ++i) {
    for (const auto& [m, mult] : args[i]) users[m].push_back(i);
    if (g.nodes[i].kind == Kind::kAlt) continue;
    remaining[i] = uint32_t(args[i].size());
    if (remaining[i] == 0 && konst[i] < kInf) pq.emplace(konst[i], i);
  }
  std::vector<uint8_t> done(n, 0);
  while (!pq.empty()) {
    const auto [c, i] = pq.top();
    pq.pop();
    if (done[i]) continue;
    done[i] = 1;
    g.nodes[i].min_cost = c;
    for (uint32_t u : users[i]) {
      if (done[u]) continue;
      if (g.nodes[u].kind == Kind::kAlt) {
        pq.emplace(c, u);
      } else if (--remaining[u] == 0) {
        uint32_t sum = konst[u];
        for (const auto& [m, mult] : args[u])
          sum = sat_add(sum, sat_mul(g.nodes[m].min_cost, mult));
        if (sum < kInf) pq.emplace(sum, u);
      }
    }
  }
}

// Drops what no finite value can use, so that every state the matcher reaches can be completed.
void Builder::prune() {
  auto dead = [&](uint32_t m) { return m == kNone || g.nodes[m].min_cost >= kInf; };
  for (Node& nd : g.nodes) {
    switch (nd.kind) {
      case Kind::kAlt:
        std::erase_if(nd.members, dead);
        break;
      case Kind::kObject:
        std::erase_if(nd.props, [&](const Prop& p) { return !p.required && dead(p.node); });
        if (dead(nd.additional)) nd.additional = kNone;
        break;
      case Kind::kArray:
        for (uint32_t k = 0; k < nd.prefix.size(); ++k) {
          if (dead(nd.prefix[k])) {
            nd.prefix.resize(k);
            nd.max_items = std::min(nd.max_items, k);
            nd.items = kNone;
            break;
          }
        }
        if (dead(nd.items)) nd.items = kNone;
        if (nd.items == kNone)
          nd.max_items = std::min<uint32_t>(nd.max_items, uint32_t(nd.prefix.size()));
        break;
      default:
        break;
    }
  }
}

void Builder::tables() {
  for (uint32_t i = 0; i < g.nodes.size(); ++i) {
    Node& nd = g.nodes[i];
    auto cost = [&](uint32_t m) { return g.nodes[m].min_cost; };
    if (nd.kind == Kind::kObject) {
      const uint32_t n = uint32_t(nd.props.size());
      std::vector<std::pair<std::string, uint32_t>> keys;
      for (uint32_t j = 0; j < n; ++j) keys.emplace_back(nd.props[j].key, j);
      nd.key_trie = build_trie(keys, true);
      nd.first_req.assign(n + 1, n);
      nd.req_suffix.assign(n + 1, 0);
      for (uint32_t j = n; j-- > 0;) {
        const Prop& p = nd.props[j];
        nd.first_req[j] = p.required ? j : nd.first_req[j + 1];
        nd.req_suffix[j] = nd.req_suffix[j + 1];
        if (p.required) {
          nd.req_suffix[j] =
              sat_add(nd.req_suffix[j], sat_add(uint32_t(p.key.size()) + 4, cost(p.node)));
        }
      }
      nd.min_extra_key = g.trie[nd.key_trie].terminal != kNone ? 1 : 0;
      const uint32_t extra =
          nd.additional == kNone ? kInf : sat_add(nd.min_extra_key + 4, cost(nd.additional));
      nd.comma_cost.assign(n + 1, kInf);
      uint32_t best = kInf;  // min over j in [i, first required >= i] of the cost via key j
      for (uint32_t j = n; j-- > 0;) {
        const Prop& p = nd.props[j];
        const uint32_t f =
            sat_add(sat_add(uint32_t(p.key.size()) + 4, cost(p.node)), nd.req_suffix[j + 1]);
        best = p.required ? f : std::min(best, f);
        nd.comma_cost[j] = best;
      }
      for (uint32_t j = 0; j <= n; ++j) {
        if (nd.first_req[j] == n) nd.comma_cost[j] = std::min(nd.comma_cost[j], extra);
      }
    } else if (nd.kind == Kind::kArray) {
      const uint32_t l = std::min<uint32_t>(nd.min_items, uint32_t(nd.prefix.size()));
      nd.item_suffix.assign(l + 1, 0);
      for (uint32_t k = l; k-- > 0;) {
        nd.item_suffix[k] = sat_add(nd.item_suffix[k + 1], sat_add(1, cost(nd.prefix[k])));
      }
    } else if (nd.kind == Kind::kSeq) {
      nd.seq_suffix.assign(nd.members.size() + 1, 0);
      for (size_t k = nd.members.size(); k-- > 0;) {
        nd.seq_suffix[k] = sat_add(nd.seq_suffix[k + 1], cost(nd.members[k]));
      }
    }
  }
}

void Builder::first_sets() {
  for (Node& nd : g.nodes) {
    switch (nd.kind) {
      case Kind::kObject:
        nd.first.set('{');
        break;
      case Kind::kArray:
        nd.first.set('[');
        break;
      case Kind::kString:
        nd.first.set('"');
        break;
      case Kind::kNumber:
        if (!nd.no_minus) nd.first.set('-');
        for (char c = '0'; c <= '9'; ++c) nd.first.set(uint8_t(c));
        break;
      case Kind::kLiterals: {
        const TrieNode& t = g.trie[nd.lit_trie];
        for (uint32_t e = 0; e < t.n_edges; ++e) nd.first.set(g.edges[t.first_edge + e].byte);
        break;
      }
      default:
        break;
    }
  }
  // kSeq starts like its first part, kAlt like any member; iterate (the nesting is shallow).
  for (bool changed = true; changed;) {
    changed = false;
    for (Node& nd : g.nodes) {
      if (nd.kind == Kind::kSeq && !nd.members.empty()) {
        const ByteSet f = g.nodes[nd.members[0]].first;
        changed |= nd.first.merge(f);
      } else if (nd.kind == Kind::kAlt) {
        for (uint32_t m : nd.members) {
          const ByteSet f = g.nodes[m].first;
          changed |= nd.first.merge(f);
        }
      }
    }
  }
}

}  // namespace grammar_detail

// ---- Factories ------------------------------------------------------------------------------

using grammar_detail::Builder;
using grammar_detail::CompileError;
using grammar_detail::GrammarImpl;

Grammar::Grammar(std::unique_ptr<GrammarImpl> impl) : impl_(std::move(impl)) {}
Grammar::~Grammar() = default;

uint32_t Grammar::min_document_bytes() const {
  return impl_->nullable ? 0 : impl_->nodes[impl_->root].min_cost;
}
size_t Grammar::node_count() const { return impl_->nodes.size(); }

namespace {

// Runs the builder; CompileError (and nlohmann's errors on malformed input) become Status.
template <class F>
Status build(std::string_view context, GrammarImpl* impl, F&& body) {
  try {
    Builder b(impl);
    b.finalize(body(b));
  } catch (const CompileError& e) {
    return invalid_argument(std::string(context) + ": " + e.message);
  } catch (const std::exception& e) {
    return invalid_argument(std::string(context) + ": malformed schema: " + e.what());
  }
  return Status::ok();
}

}  // namespace

std::shared_ptr<const Grammar> Grammar::wrap(std::unique_ptr<GrammarImpl> impl) {
  return std::shared_ptr<const Grammar>(new Grammar(std::move(impl)));
}

Result<std::shared_ptr<const Grammar>> Grammar::json_any_object() {
  auto impl = std::make_unique<GrammarImpl>();
  LONGCTX_RETURN_IF_ERROR(
      build("response_format", impl.get(), [](Builder& b) { return b.any_object(); }));
  return wrap(std::move(impl));
}

Result<std::shared_ptr<const Grammar>> Grammar::json_any_value() {
  auto impl = std::make_unique<GrammarImpl>();
  LONGCTX_RETURN_IF_ERROR(build("response_format", impl.get(), [](Builder& b) { return b.any(); }));
  return wrap(std::move(impl));
}

Result<std::shared_ptr<const Grammar>> Grammar::json_schema(const Json& schema,
                                                            std::string_view context) {
  auto impl = std::make_unique<GrammarImpl>();
  LONGCTX_RETURN_IF_ERROR(build(context, impl.get(), [&](Builder& b) {
    return grammar_detail::compile_schema_document(&b, schema);
  }));
  return wrap(std::move(impl));
}

Result<std::shared_ptr<const Grammar>> Grammar::sequence_alternatives(
    const std::vector<std::vector<Part>>& alternatives, std::string_view context) {
  auto impl = std::make_unique<GrammarImpl>();
  LONGCTX_RETURN_IF_ERROR(build(context, impl.get(), [&](Builder& b) {
    grammar_detail::Node alt;
    for (size_t i = 0; i < alternatives.size(); ++i) {
      grammar_detail::Node seq;
      seq.kind = grammar_detail::Kind::kSeq;
      for (size_t j = 0; j < alternatives[i].size(); ++j) {
        const Part& p = alternatives[i][j];
        const std::string at = "alternative " + std::to_string(i) + ", part " + std::to_string(j);
        if (p.schema.has_value()) {
          if (!p.literal.empty()) {
            throw CompileError{at + ": a part is a literal or a schema, not both"};
          }
          try {
            seq.members.push_back(grammar_detail::compile_schema_document(&b, *p.schema));
          } catch (const CompileError& e) {
            throw CompileError{at + ": " + e.message};
          }
        } else if (!p.literal.empty()) {
          seq.members.push_back(b.literals({p.literal}));
        }
      }
      if (seq.members.empty())
        b.g.nullable = true;
      else
        alt.members.push_back(b.add(std::move(seq)));
    }
    return b.add(std::move(alt));
  }));
  return wrap(std::move(impl));
}

}  // namespace longctx
