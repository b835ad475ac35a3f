// serve --memory's endpoints: GET /v1/conversations, GET|DELETE /v1/conversations/NAME (its turns,
// summary, facts and last report), and its facts: GET|POST /v1/conversations/NAME/facts,
// POST|DELETE /v1/conversations/NAME/facts/ID (pin a proposed fact, remove one). Also without
// the /v1 prefix.
#include <httplib.h>

#include "server/http_impl.h"
#include "server/memory_server.h"

namespace longctx::server {
namespace {

int http_status(const Status& st) {
  switch (st.code()) {
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kNotFound:
      return 404;
    default:
      return 500;
  }
}

void fail(httplib::Response& res, const Status& st) {
  const int code = http_status(st);
  send_error(res,
             api_error(code, code == 500 ? "server_error" : "invalid_request_error", st.message()));
}

Json fact_json(const memory::Fact& f) {
  return {{"id", f.id},         {"text", f.text},       {"status", f.status},
          {"source", f.source}, {"created", f.created}, {"tokens", f.n_tokens}};
}

// The store and the named conversation, or an answered error.
struct Opened {
  std::unique_ptr<memory::Store> store;
  memory::Conversation conv;
};
std::optional<Opened> open_conv(const std::string& db, const std::string& name,
                                httplib::Response& res) {
  Result<std::unique_ptr<memory::Store>> s = memory::Store::open(db);
  if (!s.is_ok()) {
    fail(res, s.status());
    return std::nullopt;
  }
  Result<std::optional<memory::Conversation>> c = (*s)->find(name);
  if (!c.is_ok()) {
    fail(res, c.status());
    return std::nullopt;
  }
  if (!c->has_value()) {
    send_error(res, api_error(404, "not_found_error", "no conversation '" + name + "'"));
    return std::nullopt;
  }
  return Opened{std::move(s).value(), **c};
}

}  // namespace

void ServerMemory::routes(httplib::Server& svr) {
  const std::string db = db_;
  for (const std::string prefix : {"/v1", ""}) {
    svr.Get(prefix + "/conversations", [db](const httplib::Request&, httplib::Response& res) {
      Result<std::unique_ptr<memory::Store>> s = memory::Store::open(db);
      if (!s.is_ok()) return fail(res, s.status());
      Result<std::vector<memory::Conversation>> all = (*s)->list();
      if (!all.is_ok()) return fail(res, all.status());
      Json data = Json::array();
      for (const auto& c : *all) {
        data.push_back({{"id", c.name},
                        {"object", "conversation"},
                        {"turns", c.n_turns},
                        {"tokens", c.n_tokens},
                        {"created", c.created}});
      }
      send_json(res, 200, {{"object", "list"}, {"data", data}});
    });
    svr.Get(prefix + R"(/conversations/([^/]+))",
            [this, db](const httplib::Request& req, httplib::Response& res) {
              auto o = open_conv(db, req.matches[1], res);
              if (!o) return;
              memory::Store& s = *o->store;
              const int64_t n = o->conv.n_turns;
              int64_t from = std::max<int64_t>(0, n - 100), to = n;
              if (req.has_param("from")) from = std::atoll(req.get_param_value("from").c_str());
              if (req.has_param("to")) to = std::atoll(req.get_param_value("to").c_str());
              Result<std::vector<memory::Turn>> turns = s.turns(o->conv.id, from, to);
              Result<std::vector<memory::Fact>> facts = s.facts(o->conv.id, false);
              Result<std::optional<memory::Summary>> sum = s.latest_summary(o->conv.id);
              Result<std::vector<std::string>> rep = s.reports(o->conv.id, 1);
              Result<std::string> sys = s.system_prompt(o->conv.id);
              if (!turns.is_ok()) return fail(res, turns.status());
              if (!facts.is_ok()) return fail(res, facts.status());
              if (!sum.is_ok()) return fail(res, sum.status());
              if (!rep.is_ok()) return fail(res, rep.status());
              if (!sys.is_ok()) return fail(res, sys.status());
              Json msgs = Json::array();
              for (const auto& t : *turns) {
                msgs.push_back({{"turn", t.pos},
                                {"role", t.role},
                                {"name", t.name},
                                {"time", t.time},
                                {"content", t.content},
                                {"tokens", t.n_tokens}});
              }
              Json fs = Json::array();
              for (const auto& f : *facts) fs.push_back(fact_json(f));
              Json out = {{"id", o->conv.name},
                          {"object", "conversation"},
                          {"created", o->conv.created},
                          {"turns", n},
                          {"tokens", o->conv.n_tokens},
                          {"system", *sys},
                          {"facts", fs},
                          {"messages", msgs}};
              out["summary"] = sum->has_value() ? Json{{"version", (**sum).version},
                                                       {"covers", {0, (**sum).last_pos}},
                                                       {"tokens", (**sum).n_tokens},
                                                       {"text", (**sum).text}}
                                                : Json();
              out["last_report"] = rep->empty() ? Json() : Json::parse((*rep)[0]);
              out["compacting"] = compacting(o->conv.name);
              send_json(res, 200, out);
            });
    svr.Delete(prefix + R"(/conversations/([^/]+))",
               [this, db](const httplib::Request& req, httplib::Response& res) {
                 const std::string name = req.matches[1];
                 acquire(name);  // not while a turn of it is in flight
                 struct Release {
                   ServerMemory* m;
                   std::string n;
                   ~Release() { m->release(n); }
                 } release{this, name};
                 auto o = open_conv(db, name, res);
                 if (!o) return;
                 if (Status st = o->store->remove(o->conv.id); !st) return fail(res, st);
                 send_json(res, 200, {{"id", name}, {"object", "conversation"}, {"deleted", true}});
               });
    svr.Get(prefix + R"(/conversations/([^/]+)/facts)",
            [db](const httplib::Request& req, httplib::Response& res) {
              auto o = open_conv(db, req.matches[1], res);
              if (!o) return;
              Result<std::vector<memory::Fact>> facts = o->store->facts(o->conv.id, false);
              if (!facts.is_ok()) return fail(res, facts.status());
              Json data = Json::array();
              for (const auto& f : *facts) data.push_back(fact_json(f));
              send_json(res, 200, {{"object", "list"}, {"data", data}});
            });
    // A new pinned fact: {"text": "..."}.
    svr.Post(prefix + R"(/conversations/([^/]+)/facts)",
             [this, db](const httplib::Request& req, httplib::Response& res) {
               Json body;
               if (auto e = parse_body(req, &body, 1 << 20)) return send_error(res, *e);
               if (!body.contains("text") || !body["text"].is_string() ||
                   body["text"].get<std::string>().empty()) {
                 return send_error(res, api_error(400, "invalid_request_error",
                                                  "a fact needs \"text\" (a non-empty string)"));
               }
               auto o = open_conv(db, req.matches[1], res);
               if (!o) return;
               const std::string text = body["text"].get<std::string>();
               const int n = static_cast<int>(counter()(text));
               Result<int64_t> id = o->store->add_fact(o->conv.id, text, "pinned", "user", n);
               if (!id.is_ok()) return fail(res, id.status());
               send_json(res, 201, {{"id", *id}, {"text", text}, {"status", "pinned"}});
             });
    // {"status": "pinned" | "removed"}: pin a proposed fact, or remove one.
    auto set_status = [db](const httplib::Request& req, httplib::Response& res,
                           const std::string& status) {
      auto o = open_conv(db, req.matches[1], res);
      if (!o) return;
      const int64_t id = std::atoll(std::string(req.matches[2]).c_str());
      if (Status st = o->store->set_fact_status(o->conv.id, id, status); !st) {
        return fail(res, st);
      }
      send_json(res, 200, {{"id", id}, {"status", status}});
    };
    svr.Post(prefix + R"(/conversations/([^/]+)/facts/(\d+))",
             [set_status](const httplib::Request& req, httplib::Response& res) {
               Json body;
               if (auto e = parse_body(req, &body, 1 << 20)) return send_error(res, *e);
               const std::string status = body.contains("status") && body["status"].is_string()
                                              ? body["status"].get<std::string>()
                                              : "";
               if (status != "pinned" && status != "removed") {
                 return send_error(res, api_error(400, "invalid_request_error",
                                                  "\"status\" must be \"pinned\" or \"removed\""));
               }
               set_status(req, res, status);
             });
    svr.Delete(prefix + R"(/conversations/([^/]+)/facts/(\d+))",
               [set_status](const httplib::Request& req, httplib::Response& res) {
                 set_status(req, res, "removed");
               });
  }
}

}  // namespace longctx::server
