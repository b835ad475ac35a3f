// serve --memory against a server in this process: a conversation named by a field, a header or
// a model suffix; whole histories resent (only the new turn stored, its prefix reused), edits and
// regenerations replacing turns, the report in the response and in the stream, the
// conversations and facts endpoints, one turn at a time per conversation, and refusals.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <string>

#include "common/temp_path.h"
#include "server/openai.h"
#include "server/server_fixture.h"

namespace longctx::server {
namespace {

using testing::TestServer;
namespace fs = std::filesystem;

std::string temp_db() {
  static const fs::path dir = testing_util::unique_temp_dir("srvmem");
  static int n = 0;
  const fs::path p = dir / ("m" + std::to_string(n++) + ".db");
  fs::remove(p);
  return p.string();
}

HttpOptions memory_options() {
  HttpOptions ho;
  ho.memory_db = temp_db();
  return ho;
}

Json send(httplib::Client& c, const std::string& method, const std::string& path, const Json& body,
          int* status, const httplib::Headers& h = {}) {
  httplib::Result r = method == "GET" ? c.Get(path.c_str(), h)
                      : method == "DELETE"
                          ? c.Delete(path.c_str(), h)
                          : c.Post(path.c_str(), h, body.dump(), "application/json");
  if (!r) {
    ADD_FAILURE() << "no response for " << method << " " << path;
    return Json();
  }
  *status = r->status;
  Json j = Json::parse(r->body, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r->body;
  return j;
}

Json msgs(std::initializer_list<std::pair<const char*, std::string>> m) {
  Json a = Json::array();
  for (const auto& [role, text] : m) a.push_back({{"role", role}, {"content", text}});
  return a;
}

Json chat(const Json& messages, const char* model = "tiny") {
  return {{"model", model}, {"messages", messages}, {"max_tokens", 4}, {"temperature", 0}};
}

int64_t stored_turns(httplib::Client& c, const std::string& name) {
  int st = 0;
  const Json j = send(c, "GET", "/v1/conversations/" + name, {}, &st);
  return st == 200 ? j["turns"].get<int64_t>() : -1;
}

TEST(MemoryServer, ConversationsByFieldHeaderAndModelSuffix) {
  TestServer s(1, 1024, memory_options());
  ASSERT_TRUE(s.ok());
  auto c = s.client();
  int st = 0;
  Json body = chat(msgs({{"user", "hello there"}}));
  body["conversation"] = "a";
  Json j = send(c, "POST", "/v1/chat/completions", body, &st);
  ASSERT_EQ(st, 200) << j.dump();
  ASSERT_TRUE(j.contains("memory"));
  EXPECT_EQ(j["memory"]["turn"], 0);
  EXPECT_EQ(j["memory"]["prompt_tokens"], j["usage"]["prompt_tokens"]);
  j = send(c, "POST", "/v1/chat/completions", chat(msgs({{"user", "second"}})), &st,
           {{"X-Conversation", "a"}});
  ASSERT_EQ(st, 200);
  EXPECT_EQ(j["memory"]["turn"], 2);
  j = send(c, "POST", "/v1/chat/completions", chat(msgs({{"user", "third"}}), "tiny@b"), &st);
  ASSERT_EQ(st, 200);
  EXPECT_EQ(j["memory"]["turn"], 0);
  EXPECT_EQ(stored_turns(c, "a"), 4);
  EXPECT_EQ(stored_turns(c, "b"), 2);
  // No conversation named: an ordinary request, nothing stored, no report.
  j = send(c, "POST", "/v1/chat/completions", chat(msgs({{"user", "plain"}})), &st);
  ASSERT_EQ(st, 200);
  EXPECT_FALSE(j.contains("memory"));
  j = send(c, "GET", "/v1/conversations", {}, &st);
  ASSERT_EQ(st, 200);
  EXPECT_EQ(j["data"].size(), 2u);
}

TEST(MemoryServer, AResentHistoryStoresOnlyTheNewTurnAndReusesTheCache) {
  TestServer s(1, 1024, memory_options());
  ASSERT_TRUE(s.ok());
  auto c = s.client();
  int st = 0;
  Json h = msgs({{"system", "Be brief."}, {"user", "my cat is called Murka"}});
  Json j = send(c, "POST", "/v1/chat/completions", chat(h, "tiny@h"), &st);
  ASSERT_EQ(st, 200);
  const std::string reply = j["choices"][0]["message"]["content"];
  h.push_back({{"role", "assistant"}, {"content", reply}});
  h.push_back({{"role", "user"}, {"content", "and the dog is Rex"}});
  j = send(c, "POST", "/v1/chat/completions", chat(h, "tiny@h"), &st);
  ASSERT_EQ(st, 200) << j.dump();
  EXPECT_EQ(j["memory"]["turn"], 2);
  EXPECT_GT(j["usage"]["prompt_tokens_details"]["cached_tokens"].get<int>(), 5);
  EXPECT_EQ(stored_turns(c, "h"), 4);
  const Json conv = send(c, "GET", "/v1/conversations/h", {}, &st);
  EXPECT_EQ(conv["system"], "Be brief.");
  EXPECT_EQ(conv["messages"][2]["content"], "and the dog is Rex");
  // Regenerate: the history cut back to the last user message replaces its reply.
  h.erase(h.size() - 1);
  h.push_back({{"role", "user"}, {"content", "and the dog is Rex"}});
  j = send(c, "POST", "/v1/chat/completions", chat(h, "tiny@h"), &st);
  ASSERT_EQ(st, 200);
  EXPECT_EQ(stored_turns(c, "h"), 4);
  // Edit: the second user message changed replaces it and what followed.
  h[3]["content"] = "and the dog is Bim";
  j = send(c, "POST", "/v1/chat/completions", chat(h, "tiny@h"), &st);
  ASSERT_EQ(st, 200);
  const Json after = send(c, "GET", "/v1/conversations/h", {}, &st);
  EXPECT_EQ(after["turns"], 4);
  EXPECT_EQ(after["messages"][2]["content"], "and the dog is Bim");
}

TEST(MemoryServer, AFullHistoryReplacesWhatFollowsItsFirstDifference) {
  TestServer s(1, 1024, memory_options());
  ASSERT_TRUE(s.ok());
  auto c = s.client();
  int st = 0;
  Json h = msgs({{"user", "hello"}});
  Json body = chat(h, "tiny@full");
  body["history"] = "full";
  Json j = send(c, "POST", "/v1/chat/completions", body, &st);
  ASSERT_EQ(st, 200);
  h.push_back({{"role", "assistant"}, {"content", j["choices"][0]["message"]["content"]}});
  h.push_back({{"role", "user"}, {"content", "more"}});
  body = chat(h, "tiny@full");
  body["history"] = "full";
  send(c, "POST", "/v1/chat/completions", body, &st);
  ASSERT_EQ(st, 200);
  EXPECT_EQ(stored_turns(c, "full"), 4);
  // The first message edited: a restart of the stored conversation, not one more turn.
  body = chat(msgs({{"user", "hello again"}}), "tiny@full");
  body["history"] = "full";
  j = send(c, "POST", "/v1/chat/completions", body, &st);
  ASSERT_EQ(st, 200) << j.dump();
  EXPECT_EQ(j["memory"]["turn"], 0);
  EXPECT_EQ(stored_turns(c, "full"), 2);
  body["history"] = "sometimes";
  send(c, "POST", "/v1/chat/completions", body, &st);
  EXPECT_EQ(st, 400);
}

TEST(MemoryServer, TheStreamCarriesTheReportBeforeDone) {
  TestServer s(1, 1024, memory_options());
  ASSERT_TRUE(s.ok());
  auto c = s.client();
  Json body = chat(msgs({{"user", "stream me"}}), "tiny@s");
  body["stream"] = true;
  auto r = c.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  const size_t m = r->body.find("\"memory\"");
  ASSERT_NE(m, std::string::npos) << r->body;
  EXPECT_LT(m, r->body.find("[DONE]"));
  EXPECT_EQ(stored_turns(c, "s"), 2);
}

TEST(MemoryServer, FactsEndpoints) {
  TestServer s(1, 1024, memory_options());
  ASSERT_TRUE(s.ok());
  auto c = s.client();
  int st = 0;
  send(c, "POST", "/v1/chat/completions", chat(msgs({{"user", "hi"}}), "tiny@f"), &st);
  ASSERT_EQ(st, 200);
  Json j =
      send(c, "POST", "/v1/conversations/f/facts", {{"text", "Anna is allergic to nuts"}}, &st);
  ASSERT_EQ(st, 201);
  const int64_t id = j["id"];
  j = send(c, "POST", "/v1/chat/completions", chat(msgs({{"user", "what now"}}), "tiny@f"), &st);
  EXPECT_GT(j["memory"]["sections"]["facts"].get<int>(), 0);
  j = send(c, "GET", "/v1/conversations/f/facts", {}, &st);
  ASSERT_EQ(j["data"].size(), 1u);
  EXPECT_EQ(j["data"][0]["status"], "pinned");
  send(c, "DELETE", "/v1/conversations/f/facts/" + std::to_string(id), {}, &st);
  EXPECT_EQ(st, 200);
  j = send(c, "GET", "/v1/conversations/f/facts", {}, &st);
  EXPECT_TRUE(j["data"].empty());
  send(c, "POST", "/v1/conversations/f/facts/999", {{"status", "pinned"}}, &st);
  EXPECT_EQ(st, 404);
  send(c, "POST", "/v1/conversations/f/facts", {{"text", ""}}, &st);
  EXPECT_EQ(st, 400);
  send(c, "POST", "/v1/conversations/f/facts/" + std::to_string(id), {{"status", "bogus"}}, &st);
  EXPECT_EQ(st, 400);
  send(c, "GET", "/v1/conversations/nobody/facts", {}, &st);
  EXPECT_EQ(st, 404);
  send(c, "DELETE", "/v1/conversations/f", {}, &st);
  EXPECT_EQ(st, 200);
  send(c, "GET", "/v1/conversations/f", {}, &st);
  EXPECT_EQ(st, 404);
}

// /props tells clients (the web UI) whether conversations can be remembered, and the budgets;
// its "memory" key stays the plan's figures.
TEST(MemoryServer, PropsTellWhetherMemoryIsOn) {
  int st = 0;
  {
    TestServer s(1, 1024, memory_options());
    ASSERT_TRUE(s.ok());
    auto c = s.client();
    const Json j = send(c, "GET", "/props", {}, &st);
    ASSERT_EQ(st, 200);
    ASSERT_TRUE(j.contains("conversation_memory")) << j.dump();
    const Json& m = j["conversation_memory"];
    EXPECT_EQ(m["enabled"], true);
    EXPECT_EQ(m["budgets"]["ctx"], 1024);
    EXPECT_EQ(m["budgets"]["reply"], 1024 / 8);  // the defaults, resolved
    EXPECT_EQ(m["budgets"]["facts"], 1024 / 32);
    EXPECT_EQ(m["budgets"]["summary"], 1024 / 16);
    EXPECT_EQ(m["budgets"]["recall"], 1024 / 16);
    EXPECT_TRUE(j["memory"].is_object());
  }
  TestServer s(1, 1024);
  ASSERT_TRUE(s.ok());
  auto c = s.client();
  const Json j = send(c, "GET", "/props", {}, &st);
  ASSERT_EQ(st, 200);
  EXPECT_EQ(j["conversation_memory"], Json({{"enabled", false}})) << j.dump();
}

TEST(MemoryServer, OneTurnAtATimePerConversation) {
  TestServer s(2, 1024, memory_options());
  ASSERT_TRUE(s.ok());
  auto one = [&](const std::string& text) {
    auto c = s.client();
    int st = 0;
    send(c, "POST", "/v1/chat/completions", chat(msgs({{"user", text}}), "tiny@q"), &st);
    return st;
  };
  auto f1 = std::async(std::launch::async, one, "first");
  auto f2 = std::async(std::launch::async, one, "second");
  EXPECT_EQ(f1.get(), 200);
  EXPECT_EQ(f2.get(), 200);
  auto c = s.client();
  int st = 0;
  const Json conv = send(c, "GET", "/v1/conversations/q", {}, &st);
  ASSERT_EQ(conv["turns"], 4);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(conv["messages"][i]["role"], i % 2 ? "assistant" : "user") << i;
  }
}

TEST(MemoryServer, Refusals) {
  TestServer s(1, 1024, memory_options());
  ASSERT_TRUE(s.ok());
  auto c = s.client();
  int st = 0;
  Json body = chat(msgs({{"user", "x"}}), "tiny@r");
  body["n"] = 2;
  send(c, "POST", "/v1/chat/completions", body, &st);
  EXPECT_EQ(st, 400);
  send(c, "POST", "/v1/chat/completions",
       chat(msgs({{"user", "x"}, {"assistant", "prefill"}}), "tiny@r"), &st);
  EXPECT_EQ(st, 400);
  send(c, "POST", "/v1/chat/completions", chat(msgs({{"user", std::string(20000, 'a')}}), "tiny@r"),
       &st);
  EXPECT_EQ(st, 400);
}

}  // namespace
}  // namespace longctx::server
