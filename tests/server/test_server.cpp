// The HTTP endpoints of `longctx serve` against a server in this process: response shapes and
// usage as OpenAI documents them, SSE streams equal to the non-streamed answer (greedy), prefix
// reuse across requests, concurrent requests equal to sequential ones, and every bad input
// answered with a JSON error and the right status (the text of a random-weight model is not
// asserted, only protocol and behaviour).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "server/openai.h"
#include "server/server_fixture.h"

namespace longctx::server {
namespace {

using testing::TestServer;

Json post(httplib::Client& c, const std::string& path, const Json& body, int* status = nullptr) {
  auto r = c.Post(path.c_str(), body.dump(), "application/json");
  if (!r) {
    ADD_FAILURE() << "no response for " << path;
    return Json();
  }
  if (status) *status = r->status;
  Json j = Json::parse(r->body, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r->body;
  return j;
}

Json chat_body(const std::string& text, int max_tokens, bool stream = false) {
  return {{"model", "tiny"},
          {"messages", Json::array({{{"role", "user"}, {"content", text}}})},
          {"max_tokens", max_tokens},
          {"temperature", 0},
          {"stream", stream}};
}

// The data payloads of an SSE body (comments and blank lines skipped); "[DONE]" included.
std::vector<std::string> sse_data(const std::string& body) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < body.size()) {
    size_t nl = body.find('\n', at);
    if (nl == std::string::npos) nl = body.size();
    const std::string line = body.substr(at, nl - at);
    if (line.rfind("data: ", 0) == 0) out.push_back(line.substr(6));
    at = nl + 1;
  }
  return out;
}

TEST(Server, HealthAndModels) {
  TestServer s;
  ASSERT_TRUE(s.ok());
  auto c = s.client();
  auto h = c.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(Json::parse(h->body)["status"], "ok");
  for (const char* path : {"/v1/models", "/models"}) {
    auto m = c.Get(path);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->status, 200);
    const Json j = Json::parse(m->body);
    EXPECT_EQ(j["object"], "list");
    ASSERT_EQ(j["data"].size(), 1u);
    EXPECT_EQ(j["data"][0]["id"], "tiny");
    EXPECT_EQ(j["data"][0]["object"], "model");
    EXPECT_EQ(j["data"][0]["meta"]["n_ctx"], 256);
  }
}

TEST(Server, RangeHeadersAreIgnored) {
  // Every answer is generated per request: a Range gets the whole body with 200 (RFC 9110
  // allows it), never a cut JSON body or an empty 416.
  TestServer s;
  ASSERT_TRUE(s.ok());
  auto c = s.client();
  for (const char* range : {"bytes=0-9", "bytes=999999-", "bytes=0-1,5-8", "bytes=x"}) {
    SCOPED_TRACE(range);
    auto h = c.Get("/health", httplib::Headers{{"Range", range}});
    ASSERT_TRUE(h);
    auto p = c.Get("/props", httplib::Headers{{"Range", range}});
    ASSERT_TRUE(p);
    if (std::string(range) == "bytes=x") {
      // Unparseable: cpp-httplib refuses it before routing; the body is still a JSON error.
      EXPECT_EQ(h->status, 416);
      EXPECT_TRUE(Json::parse(h->body).contains("error"));
      continue;
    }
    EXPECT_EQ(h->status, 200);
    EXPECT_EQ(Json::parse(h->body)["status"], "ok");
    EXPECT_EQ(p->status, 200);
    EXPECT_TRUE(Json::parse(p->body).is_object());
  }
}

TEST(Server, ChatCompletionShapeAndUsage) {
  TestServer s;
  ASSERT_TRUE(s.ok());
  auto c = s.client();
  int status = 0;
  const Json j = post(c, "/v1/chat/completions", chat_body("Hello there", 5), &status);
  ASSERT_EQ(status, 200) << j.dump();
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["model"], "tiny");
  EXPECT_TRUE(j["id"].get<std::string>().rfind("chatcmpl-", 0) == 0);
  ASSERT_EQ(j["choices"].size(), 1u);
  const Json& ch = j["choices"][0];
  EXPECT_EQ(ch["index"], 0);
  EXPECT_EQ(ch["message"]["role"], "assistant");
  EXPECT_TRUE(ch["message"].contains("content"));
  const Json& u = j["usage"];
  EXPECT_GT(u["prompt_tokens"].get<int>(), 5);
  EXPECT_EQ(u["total_tokens"].get<int>(),
            u["prompt_tokens"].get<int>() + u["completion_tokens"].get<int>());
  EXPECT_LE(u["completion_tokens"].get<int>(), 5);
  if (u["completion_tokens"].get<int>() == 5) {
    EXPECT_EQ(ch["finish_reason"], "length");
  }
  EXPECT_EQ(u["prompt_tokens_details"]["cached_tokens"], 0);
  // The same conversation again reuses the cached prompt (the sequence kept it).
  const Json again = post(c, "/chat/completions", chat_body("Hello there", 5), &status);
  ASSERT_EQ(status, 200);
  EXPECT_EQ(again["usage"]["prompt_tokens_details"]["cached_tokens"],
            again["usage"]["prompt_tokens"]);
  EXPECT_EQ(again["choices"][0]["message"], ch["message"]);  // greedy: the same reply
}

TEST(Server, StreamEqualsTheNonStreamedAnswer) {
  TestServer s;
  ASSERT_TRUE(s.ok());
  auto c = s.client();
  Json body = {{"prompt", "The quick brown fox"}, {"max_tokens", 12}, {"temperature", 0}};
  int status = 0;
  const Json whole = post(c, "/v1/completions", body, &status);
  ASSERT_EQ(status, 200) << whole.dump();
  EXPECT_EQ(whole["object"], "text_completion");
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  auto r = c.Post("/v1/completions", body.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->get_header_value("Content-Type").find("text/event-stream"), std::string::npos);
  const std::vector<std::string> data = sse_data(r->body);
  ASSERT_GE(data.size(), 3u) << r->body;
  EXPECT_EQ(data.back(), "[DONE]");
  std::string text, finish;
  Json usage;
  for (size_t i = 0; i + 1 < data.size(); ++i) {
    const Json j = Json::parse(data[i]);
    if (j.contains("usage")) {
      usage = j["usage"];
      EXPECT_TRUE(j["choices"].empty());
      continue;
    }
    text += j["choices"][0]["text"].get<std::string>();
    if (!j["choices"][0]["finish_reason"].is_null()) finish = j["choices"][0]["finish_reason"];
  }
  EXPECT_EQ(text, whole["choices"][0]["text"]);
  EXPECT_EQ(finish, whole["choices"][0]["finish_reason"]);
  EXPECT_EQ(usage["completion_tokens"], whole["usage"]["completion_tokens"]);
  EXPECT_EQ(usage["prompt_tokens"], whole["usage"]["prompt_tokens"]);
}

TEST(Server, ChatStreamStartsWithTheRoleAndEndsWithAFinishReason) {
  TestServer s;
  ASSERT_TRUE(s.ok());
  auto c = s.client();
  auto r = c.Post("/v1/chat/completions", chat_body("Hi", 6, true).dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  const std::vector<std::string> data = sse_data(r->body);
  ASSERT_GE(data.size(), 3u);
  const Json first = Json::parse(data[0]);
  EXPECT_EQ(first["object"], "chat.completion.chunk");
  EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
  const Json last = Json::parse(data[data.size() - 2]);
  EXPECT_FALSE(last["choices"][0]["finish_reason"].is_null());
  EXPECT_EQ(data.back(), "[DONE]");
}

// Three requests on two sequences at once (continuous batching, one waits in the queue): each
// answer equals the one the same request gets alone.
TEST(Server, ConcurrentRequestsEqualSequentialOnes) {
  const std::vector<std::string> prompts = {"one two three", "a b c d e f", "hello"};
  std::vector<Json> alone;
  {
    TestServer s(1);
    ASSERT_TRUE(s.ok());
    auto c = s.client();
    for (const std::string& p : prompts) {
      alone.push_back(
          post(c, "/v1/completions", {{"prompt", p}, {"max_tokens", 10}, {"temperature", 0}}));
    }
  }
  TestServer s(2);
  ASSERT_TRUE(s.ok());
  std::vector<std::future<Json>> futs;
  for (const std::string& p : prompts) {
    futs.push_back(std::async(std::launch::async, [&s, p] {
      auto c = s.client();
      return post(c, "/v1/completions", {{"prompt", p}, {"max_tokens", 10}, {"temperature", 0}});
    }));
  }
  for (size_t i = 0; i < futs.size(); ++i) {
    const Json j = futs[i].get();
    EXPECT_EQ(j["choices"][0]["text"], alone[i]["choices"][0]["text"]) << prompts[i];
    EXPECT_EQ(j["usage"]["completion_tokens"], alone[i]["usage"]["completion_tokens"]);
  }
}

TEST(Server, BadInputGetsJsonErrors) {
  TestServer s(1, 64);
  ASSERT_TRUE(s.ok());
  auto c = s.client();
  auto expect_error = [&](const std::string& path, const std::string& body, int want,
                          const std::string& needle) -> Json {
    auto r = c.Post(path.c_str(), body, "application/json");
    if (!r) {
      ADD_FAILURE() << "no response: " << path;
      return Json();
    }
    EXPECT_EQ(r->status, want) << body.substr(0, 80) << " -> " << r->body;
    const Json j = Json::parse(r->body, nullptr, false);
    if (j.is_discarded() || !j.contains("error")) {
      ADD_FAILURE() << "not an error body: " << r->body;
      return Json();
    }
    EXPECT_NE(j["error"]["message"].get<std::string>().find(needle), std::string::npos) << r->body;
    return j;
  };
  expect_error("/v1/chat/completions", "{not json", 400, "not valid JSON");
  expect_error("/v1/chat/completions", "[1, 2]", 400, "object");
  expect_error("/v1/chat/completions", std::string(100, '[') + std::string(100, ']'), 400,
               "deeper");
  expect_error("/v1/chat/completions", R"({"messages": "hi"})", 400, "messages");
  expect_error("/v1/chat/completions",
               R"({"messages": [{"role": "user", "content": "x"}], "temperature": "hot"})", 400,
               "temperature");
  expect_error("/v1/chat/completions",
               R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 1.5})", 400,
               "max_tokens");
  expect_error("/v1/chat/completions",
               R"({"messages": [{"role": "user", "content": "x"}], "stop": [1]})", 400, "stop");
  expect_error("/v1/completions", R"({"prompt": [999999999]})", 400, "token ids");
  // A prompt longer than the context: 400 before any SSE byte, both clients' fields.
  std::string longp;
  for (int i = 0; i < 200; ++i) longp += "word ";
  const Json j = expect_error(
      "/v1/chat/completions",
      Json{{"messages", Json::array({{{"role", "user"}, {"content", longp}}})}, {"stream", true}}
          .dump(),
      400, "context");
  EXPECT_EQ(j["error"]["type"], "exceed_context_size_error");
  EXPECT_EQ(j["error"]["code"], "context_length_exceeded");
  EXPECT_EQ(j["error"]["n_ctx"], 64);
  EXPECT_GT(j["error"]["n_prompt_tokens"].get<int>(), 64);
  // Unknown route, and a body over the limit.
  auto nf = c.Get("/v1/nothing");
  ASSERT_TRUE(nf);
  EXPECT_EQ(nf->status, 404);
  EXPECT_TRUE(Json::parse(nf->body).contains("error"));
}

TEST(Server, OversizeBodyIs413) {
  HttpOptions ho;
  ho.max_body_bytes = 1024;
  TestServer s(1, 64, ho);
  ASSERT_TRUE(s.ok());
  auto c = s.client();
  auto r = c.Post("/v1/completions", std::string(4096, ' '), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
}

TEST(Server, ApiKeyIsCheckedExceptForHealthModelsAndPreflight) {
  HttpOptions ho;
  ho.api_key = "sekret";
  ho.cors_origins = {"http://ui.example"};
  TestServer s(1, 64, ho);
  ASSERT_TRUE(s.ok());
  auto c = s.client();
  int status = 0;
  const Json j = post(c, "/v1/completions", {{"prompt", "x"}, {"max_tokens", 1}}, &status);
  EXPECT_EQ(status, 401);
  EXPECT_EQ(j["error"]["type"], "authentication_error");
  EXPECT_EQ(c.Get("/health")->status, 200);
  EXPECT_EQ(c.Get("/v1/models")->status, 200);
  httplib::Headers pre = {{"Origin", "http://ui.example"},
                          {"Access-Control-Request-Method", "POST"}};
  auto o = c.Options("/v1/chat/completions", pre);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->status, 200);  // llama-server answers preflights with 200
  EXPECT_EQ(o->get_header_value("Access-Control-Allow-Origin"), "http://ui.example");
  EXPECT_EQ(o->get_header_value("Access-Control-Allow-Credentials"), "true");
  // An origin not on the list gets no CORS headers (the browser then refuses the call).
  httplib::Headers other = {{"Origin", "http://evil.example"},
                            {"Access-Control-Request-Method", "POST"}};
  auto o2 = c.Options("/v1/chat/completions", other);
  ASSERT_TRUE(o2);
  EXPECT_FALSE(o2->has_header("Access-Control-Allow-Origin"));
  c.set_bearer_token_auth("sekret");
  const Json ok = post(c, "/v1/completions", {{"prompt", "x"}, {"max_tokens", 1}}, &status);
  EXPECT_EQ(status, 200) << ok.dump();
  c.set_bearer_token_auth("wrong");
  post(c, "/v1/completions", {{"prompt", "x"}, {"max_tokens", 1}}, &status);
  EXPECT_EQ(status, 401);
}

TEST(Server, TokenizeDetokenizeRoundTrip) {
  TestServer s(1, 64);
  ASSERT_TRUE(s.ok());
  auto c = s.client();
  const Json t = post(c, "/tokenize", {{"content", "Hello, world! <|im_start|>"}});
  ASSERT_TRUE(t["tokens"].is_array());
  EXPECT_GE(t["tokens"].size(), 4u);
  const Json d = post(c, "/detokenize", {{"tokens", t["tokens"]}});
  EXPECT_EQ(d["content"], "Hello, world! <|im_start|>");
  int status = 0;
  post(c, "/detokenize", {{"tokens", Json::array({-1})}}, &status);
  EXPECT_EQ(status, 400);
}

// A client that sends a streaming request, reads the first bytes of the answer and closes the
// socket (a browser tab closed mid-reply).
void stream_then_hang_up(int port, const std::string& body) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string req =
      "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: "
      "application/json\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  ASSERT_EQ(::send(fd, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
  std::string got;
  char buf[512];
  while (got.find("data: ") == std::string::npos) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  EXPECT_NE(got.find("200"), std::string::npos) << got;
  ::close(fd);
}

TEST(Server, ADisconnectedStreamFreesItsSequence) {
  TestServer s(1, 256);
  ASSERT_TRUE(s.ok());
  stream_then_hang_up(s.port,
                      Json{{"prompt", "tell me"}, {"max_tokens", 200}, {"stream", true}}.dump());
  // The sequence is free again soon: a failed write cancels the generation.
  auto c = s.client();
  bool idle = false;
  for (int i = 0; i < 200 && !idle; ++i) {
    const Json sl = Json::parse(c.Get("/slots")->body);
    idle = !sl[0]["is_processing"].get<bool>();
    if (!idle) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(idle);
  int status = 0;
  const Json j = post(c, "/v1/completions", {{"prompt", "x"}, {"max_tokens", 1}}, &status);
  EXPECT_EQ(status, 200);
  // The hung-up request ended early: far fewer than 200 tokens were generated in all.
  auto m = c.Get("/metrics");
  ASSERT_TRUE(m);
  const size_t at = m->body.find("\nlongctx:tokens_predicted_total ");
  ASSERT_NE(at, std::string::npos) << m->body;
  EXPECT_LT(std::stod(m->body.substr(at + 32)), 200.0) << m->body;
}

TEST(Server, MetricsArePrometheusText) {
  TestServer s(1, 64);
  ASSERT_TRUE(s.ok());
  auto c = s.client();
  post(c, "/v1/completions", {{"prompt", "x"}, {"max_tokens", 2}});
  auto m = c.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_NE(m->body.find("# TYPE longctx:prompt_tokens_total counter"), std::string::npos);
  EXPECT_NE(m->body.find("longctx:requests_total 1"), std::string::npos) << m->body;
  EXPECT_NE(m->body.find("longctx:kv_cache_tokens_total 64"), std::string::npos);
}

TEST(Server, CorsAnswersAnyOriginByDefaultAndLocalOnesWithLocalhost) {
  {
    TestServer s(1, 64);  // no --cors-origins: llama-server's default, any origin
    ASSERT_TRUE(s.ok());
    auto c = s.client();
    auto o = c.Options("/v1/chat/completions",
                       httplib::Headers{{"Origin", "http://web.example"},
                                        {"Access-Control-Request-Method", "POST"},
                                        {"Access-Control-Request-Headers", "Authorization"}});
    ASSERT_TRUE(o);
    EXPECT_EQ(o->status, 200);
    EXPECT_EQ(o->get_header_value("Access-Control-Allow-Origin"), "http://web.example");
    EXPECT_EQ(o->get_header_value("Access-Control-Allow-Headers"), "*");
    EXPECT_EQ(o->get_header_value("Access-Control-Allow-Methods"), "GET, POST, DELETE, OPTIONS");
  }
  HttpOptions ho;
  ho.cors_origins = {"localhost"};
  TestServer s(1, 64, ho);
  ASSERT_TRUE(s.ok());
  auto c = s.client();
  for (const char* origin : {"http://localhost:5173", "http://127.0.0.1:8080", "https://[::1]"}) {
    auto o = c.Options("/v1/chat/completions",
                       httplib::Headers{{"Origin", origin},
                                        {"Access-Control-Request-Method", "POST"},
                                        {"Access-Control-Request-Headers", "Authorization"}});
    ASSERT_TRUE(o);
    EXPECT_EQ(o->status, 200);
    EXPECT_EQ(o->get_header_value("Access-Control-Allow-Origin"), origin);
    // Origins of one's own: the asked headers by name (a browser never takes "*" for
    // Authorization).
    EXPECT_EQ(o->get_header_value("Access-Control-Allow-Headers"), "Authorization");
  }
  for (const char* origin :
       {"http://evil.example", "http://localhost.evil.example", "http://127.0.0.1.evil.example"}) {
    auto o =
        c.Options("/v1/chat/completions",
                  httplib::Headers{{"Origin", origin}, {"Access-Control-Request-Method", "POST"}});
    ASSERT_TRUE(o);
    EXPECT_FALSE(o->has_header("Access-Control-Allow-Origin")) << origin;
  }
}

}  // namespace
}  // namespace longctx::server
