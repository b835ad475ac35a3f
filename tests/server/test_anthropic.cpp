// The Anthropic Messages translation (server/anthropic.h) without a model: request conversion
// field by field, the exact error for each malformed input, message bodies, and the exact SSE
// event sequence of a stream, checked against the shapes Anthropic's API reference publishes.
#include "server/anthropic.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace longctx::server {
namespace {

Json user(const Json& content) { return {{"role", "user"}, {"content", content}}; }
Json assistant(const Json& content) { return {{"role", "assistant"}, {"content", content}}; }

// An initializer list, not a Json: a braced single Json would be copied, not wrapped in an
// array, by some compilers (clang), so arrays are always built explicitly here.
Json request(std::initializer_list<Json> messages) {
  return {
      {"model", "claude-x"}, {"max_tokens", 64}, {"messages", Json(std::vector<Json>(messages))}};
}

Json convert(const Json& body) {
  std::string err;
  auto out = anthropic_to_chat(body, &err);
  EXPECT_TRUE(out.has_value()) << err;
  return out ? *out : Json();
}

std::string error_of(const Json& body) {
  std::string err;
  auto out = anthropic_to_chat(body, &err);
  EXPECT_FALSE(out.has_value()) << "accepted: " << body.dump();
  return err;
}

const Json kWeatherTool = {{"name", "get_weather"},
                           {"description", "Weather of a city"},
                           {"input_schema",
                            {{"type", "object"},
                             {"properties", {{"city", {{"type", "string"}}}}},
                             {"required", {"city"}}}}};

// ---- Requests -----------------------------------------------------------------------------

TEST(AnthropicRequest, MinimalRequest) {
  const Json out = convert(request({user("Hello")}));
  const Json want = {{"model", "claude-x"},
                     {"messages", {{{"role", "user"}, {"content", "Hello"}}}},
                     {"max_tokens", 64},
                     {"chat_template_kwargs", {{"enable_thinking", false}}}};
  EXPECT_EQ(out, want) << out.dump(2);
}

TEST(AnthropicRequest, SystemStringAndBlocks) {
  Json body = request({user("Hi")});
  body["system"] = "Be brief.";
  Json out = convert(body);
  ASSERT_EQ(out["messages"].size(), 2u);
  EXPECT_EQ(out["messages"][0], Json({{"role", "system"}, {"content", "Be brief."}}));
  EXPECT_EQ(out["messages"][1]["role"], "user");

  body["system"] = Json::array(
      {{{"type", "text"}, {"text", "One."}},
       {{"type", "text"}, {"text", "Two."}, {"cache_control", {{"type", "ephemeral"}}}}});
  out = convert(body);
  EXPECT_EQ(out["messages"][0]["content"], "One.\n\nTwo.");

  body["system"] = "";  // an empty system prompt adds no message
  EXPECT_EQ(convert(body)["messages"].size(), 1u);
  body["system"] = nullptr;
  EXPECT_EQ(convert(body)["messages"].size(), 1u);
}

TEST(AnthropicRequest, TextBlocksAreJoined) {
  const Json out =
      convert(request({user(Json::array({{{"type", "text"}, {"text", "What is"}},
                                         {{"type", "text"}, {"text", "the answer?"}}})),
                       assistant("Hi there!"), user("How are you?")}));
  ASSERT_EQ(out["messages"].size(), 3u);
  EXPECT_EQ(out["messages"][0], Json({{"role", "user"}, {"content", "What is\n\nthe answer?"}}));
  EXPECT_EQ(out["messages"][1], Json({{"role", "assistant"}, {"content", "Hi there!"}}));
  EXPECT_EQ(out["messages"][2], Json({{"role", "user"}, {"content", "How are you?"}}));
}

TEST(AnthropicRequest, ToolUseBecomesToolCalls) {
  const Json out =
      convert(request({user("Weather in Paris?"),
                       assistant(Json::array({{{"type", "tool_use"},
                                               {"id", "toolu_1"},
                                               {"name", "get_weather"},
                                               {"input", {{"city", "Paris"}, {"unit", "C"}}}}}))}));
  const Json& m = out["messages"][1];
  const Json want = {
      {"role", "assistant"},
      {"content", nullptr},
      {"tool_calls",
       {{{"id", "toolu_1"},
         {"type", "function"},
         {"function",
          {{"name", "get_weather"}, {"arguments", "{\"city\":\"Paris\",\"unit\":\"C\"}"}}}}}}};
  EXPECT_EQ(m, want) << m.dump(2);
}

TEST(AnthropicRequest, AssistantTextThinkingAndTwoToolCalls) {
  const Json out = convert(request(
      {user("Fix the bug"),
       assistant(Json::array(
           {{{"type", "thinking"}, {"thinking", "Look first."}, {"signature", "abc"}},
            {{"type", "redacted_thinking"}, {"data", "opaque"}},
            {{"type", "text"}, {"text", "Let me look."}},
            {{"type", "tool_use"}, {"id", "a"}, {"name", "ls"}, {"input", Json::object()}},
            {{"type", "tool_use"}, {"id", "b"}, {"name", "cat"}, {"input", {{"p", "x"}}}}}))}));
  const Json& m = out["messages"][1];
  EXPECT_EQ(m["content"], "Let me look.");
  EXPECT_EQ(m["reasoning_content"], "Look first.");
  ASSERT_EQ(m["tool_calls"].size(), 2u);
  EXPECT_EQ(m["tool_calls"][0]["function"]["arguments"], "{}");
  EXPECT_EQ(m["tool_calls"][1]["id"], "b");
  EXPECT_EQ(m["tool_calls"][1]["function"]["name"], "cat");
  // Key order: role, content, reasoning_content, tool_calls.
  std::vector<std::string> keys;
  for (auto it = m.begin(); it != m.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"role", "content", "reasoning_content", "tool_calls"}));
}

TEST(AnthropicRequest, ToolResultsBecomeToolMessages) {
  const Json out = convert(
      request({user("Weather?"),
               assistant(Json::array(
                   {{{"type", "tool_use"}, {"id", "t1"}, {"name", "w"}, {"input", {{"c", "P"}}}},
                    {{"type", "tool_use"}, {"id", "t2"}, {"name", "w"}, {"input", {{"c", "L"}}}}})),
               user(Json::array(
                   {{{"type", "text"}, {"text", "Here are the results:"}},
                    {{"type", "tool_result"}, {"tool_use_id", "t1"}, {"content", "Sunny, 25°C"}},
                    {{"type", "tool_result"},
                     {"tool_use_id", "t2"},
                     {"is_error", true},
                     {"content", Json::array({{{"type", "text"}, {"text", "City"}},
                                              {{"type", "text"}, {"text", "not found"}}})}},
                    {{"type", "tool_result"}, {"tool_use_id", "t3"}}}))}));
  const Json& ms = out["messages"];
  ASSERT_EQ(ms.size(), 6u) << ms.dump(2);
  EXPECT_EQ(ms[2], Json({{"role", "tool"}, {"tool_call_id", "t1"}, {"content", "Sunny, 25°C"}}));
  EXPECT_EQ(
      ms[3],
      Json({{"role", "tool"}, {"tool_call_id", "t2"}, {"content", "Error: City\n\nnot found"}}));
  EXPECT_EQ(ms[4], Json({{"role", "tool"}, {"tool_call_id", "t3"}, {"content", ""}}));
  EXPECT_EQ(ms[5], Json({{"role", "user"}, {"content", "Here are the results:"}}));
}

TEST(AnthropicRequest, ToolResultOnlyAddsNoUserMessage) {
  const Json out = convert(request(
      {user("x"),
       assistant(Json::array(
           {{{"type", "tool_use"}, {"id", "t"}, {"name", "f"}, {"input", Json::object()}}})),
       user(Json::array({{{"type", "tool_result"},
                          {"tool_use_id", "t"},
                          {"content", "ok"},
                          {"is_error", false}}}))}));
  ASSERT_EQ(out["messages"].size(), 3u);
  EXPECT_EQ(out["messages"][2], Json({{"role", "tool"}, {"tool_call_id", "t"}, {"content", "ok"}}));
}

TEST(AnthropicRequest, ToolsAndToolChoice) {
  Json body = request({user("x")});
  body["tools"] =
      Json::array({kWeatherTool,
                   {{"name", "noop"}, {"input_schema", {{"type", "object"}}}, {"type", "custom"}}});
  Json out = convert(body);
  const Json want_tools = {
      {{"type", "function"},
       {"function",
        {{"name", "get_weather"},
         {"description", "Weather of a city"},
         {"parameters", kWeatherTool["input_schema"]}}}},
      {{"type", "function"},
       {"function", {{"name", "noop"}, {"parameters", {{"type", "object"}}}}}}};
  EXPECT_EQ(out["tools"], want_tools) << out["tools"].dump(2);
  EXPECT_FALSE(out.contains("tool_choice"));

  const std::vector<std::pair<Json, Json>> cases = {
      {{{"type", "auto"}}, "auto"},
      {{{"type", "any"}}, "required"},
      {{{"type", "none"}}, "none"},
      {{{"type", "tool"}, {"name", "get_weather"}},
       {{"type", "function"}, {"function", {{"name", "get_weather"}}}}}};
  for (const auto& [in, want] : cases) {
    body["tool_choice"] = in;
    out = convert(body);
    EXPECT_EQ(out["tool_choice"], want) << in.dump();
    EXPECT_FALSE(out.contains("parallel_tool_calls"));
  }
  body["tool_choice"] = {{"type", "any"}, {"disable_parallel_tool_use", true}};
  out = convert(body);
  EXPECT_EQ(out["parallel_tool_calls"], false);
  body["tools"] = Json::array();  // no tools: no "tools" key
  EXPECT_FALSE(convert(body).contains("tools"));
}

TEST(AnthropicRequest, SamplingStopAndStream) {
  Json body = request({user("x")});
  body["stop_sequences"] = {"\n", "END"};
  body["temperature"] = 0.5;
  body["top_p"] = 0.9;
  body["top_k"] = 40;
  body["stream"] = true;
  body["metadata"] = {{"user_id", "u"}};
  body["service_tier"] = "auto";
  const Json out = convert(body);
  const Json want = {{"model", "claude-x"},
                     {"messages", {{{"role", "user"}, {"content", "x"}}}},
                     {"max_tokens", 64},
                     {"stop", {"\n", "END"}},
                     {"temperature", 0.5},
                     {"top_p", 0.9},
                     {"top_k", 40},
                     {"stream", true},
                     {"stream_options", {{"include_usage", true}}},
                     {"chat_template_kwargs", {{"enable_thinking", false}}}};
  EXPECT_EQ(out, want) << out.dump(2);

  body["stream"] = false;
  body["stop_sequences"] = Json::array();
  const Json out2 = convert(body);
  EXPECT_EQ(out2["stream"], false);
  EXPECT_FALSE(out2.contains("stream_options"));
  EXPECT_FALSE(out2.contains("stop"));
}

TEST(AnthropicRequest, ThinkingSwitchesTheTemplate) {
  Json body = request({user("2+2?")});
  body["thinking"] = {{"type", "enabled"}, {"budget_tokens", 1024}};
  EXPECT_EQ(convert(body)["chat_template_kwargs"]["enable_thinking"], true);
  body["thinking"] = {{"type", "adaptive"}};
  EXPECT_EQ(convert(body)["chat_template_kwargs"]["enable_thinking"], true);
  body["thinking"] = {{"type", "disabled"}};
  EXPECT_EQ(convert(body)["chat_template_kwargs"]["enable_thinking"], false);
  body.erase("thinking");
  EXPECT_EQ(convert(body)["chat_template_kwargs"]["enable_thinking"], false);
}

TEST(AnthropicRequest, ModelIsOptional) {
  Json body = request({user("x")});
  body.erase("model");
  EXPECT_FALSE(convert(body).contains("model"));  // parse_chat_request falls back to the alias
}

TEST(AnthropicRequest, CountTokensNeedsNoMaxTokens) {
  Json body = {{"model", "m"},
               {"system", "S"},
               {"messages", Json::array({user("Hello world")})},
               {"tools", Json::array({kWeatherTool})},
               {"thinking", {{"type", "enabled"}, {"budget_tokens", 2048}}}};
  std::string err;
  auto out = anthropic_count_tokens_request(body, &err);
  ASSERT_TRUE(out) << err;
  EXPECT_EQ((*out)["messages"].size(), 2u);
  EXPECT_EQ((*out)["tools"].size(), 1u);
  EXPECT_EQ((*out)["chat_template_kwargs"]["enable_thinking"], true);
  // Generation-only fields are not carried (nor checked) for a count.
  body["max_tokens"] = "lots";
  body["stream"] = true;
  body["temperature"] = "hot";
  out = anthropic_count_tokens_request(body, &err);
  ASSERT_TRUE(out) << err;
  EXPECT_FALSE(out->contains("max_tokens"));
  EXPECT_FALSE(out->contains("stream"));
  EXPECT_FALSE(out->contains("temperature"));
  // Structural errors still are.
  body["messages"] = "Hello";
  EXPECT_FALSE(anthropic_count_tokens_request(body, &err));
  EXPECT_EQ(err, "messages: must be an array");
}

TEST(AnthropicRequest, ErrorsNameTheField) {
  const Json ok_tool_use = {
      {"type", "tool_use"}, {"id", "t"}, {"name", "f"}, {"input", Json::object()}};
  auto with = [](const char* key, Json v) {
    Json b = request({user("x")});
    b[key] = std::move(v);
    return b;
  };
  auto without = [](const char* key) {
    Json b = request({user("x")});
    b.erase(key);
    return b;
  };
  auto block = [](Json b) { return request({user(Json::array({std::move(b)}))}); };
  auto ablock = [](Json b) { return request({user("x"), assistant(Json::array({std::move(b)}))}); };
  Json tu_no_id = ok_tool_use;
  tu_no_id.erase("id");
  Json tu_empty_id = ok_tool_use;
  tu_empty_id["id"] = "";
  Json tu_no_name = ok_tool_use;
  tu_no_name.erase("name");
  Json tu_no_input = ok_tool_use;
  tu_no_input.erase("input");
  Json tu_bad_input = ok_tool_use;
  tu_bad_input["input"] = "{\"a\":1}";
  Json tool_no_schema = kWeatherTool;
  tool_no_schema.erase("input_schema");
  Json tool_bad_schema = kWeatherTool;
  tool_bad_schema["input_schema"] = "object";
  Json tool_no_name = kWeatherTool;
  tool_no_name.erase("name");
  const Json image = {
      {"type", "image"},
      {"source", {{"type", "base64"}, {"media_type", "image/png"}, {"data", "AA=="}}}};

  const std::vector<std::pair<Json, std::string>> cases = {
      {Json::array(), "the request body must be a JSON object"},
      {without("max_tokens"), "max_tokens: field required"},
      {with("max_tokens", 0), "max_tokens: must be an integer >= 1"},
      {with("max_tokens", -5), "max_tokens: must be an integer >= 1"},
      {with("max_tokens", 1.5), "max_tokens: must be an integer >= 1"},
      {with("max_tokens", "10"), "max_tokens: must be an integer >= 1"},
      {with("model", 7), "model: must be a string"},
      {without("messages"), "messages: field required"},
      {with("messages", "hi"), "messages: must be an array"},
      {with("messages", Json::array()), "messages: at least one message is required"},
      {request({"hi"}), "messages.0: must be an object"},
      {request({{{"content", "x"}}}), "messages.0.role: field required"},
      {request({{{"role", 1}, {"content", "x"}}}), "messages.0.role: must be a string"},
      {request({{{"role", "system"}, {"content", "x"}}}),
       "messages.0.role: unknown role 'system': must be 'user' or 'assistant'"},
      {request({{{"role", "user"}}}), "messages.0.content: field required"},
      {request({user(42)}), "messages.0.content: must be a string or an array of content blocks"},
      {block("text"), "messages.0.content.0: must be an object"},
      {block({{"text", "x"}}), "messages.0.content.0.type: field required"},
      {request({user("a"), assistant("b"), user(Json::array({{{"type", "foo"}}}))}),
       "messages.2.content.0.type: unknown block type 'foo'"},
      {block({{"type", "text"}}), "messages.0.content.0.text: field required"},
      {block({{"type", "text"}, {"text", 3}}), "messages.0.content.0.text: must be a string"},
      {block(image),
       "messages.0.content.0: image input is not supported: this server runs a "
       "text-only model"},
      {block({{"type", "document"}, {"source", Json::object()}}),
       "messages.0.content.0: document input is not supported: this server runs a text-only model"},
      {ablock(tu_no_id), "messages.1.content.0.id: field required"},
      {ablock(tu_empty_id), "messages.1.content.0.id: must be a non-empty string"},
      {ablock(tu_no_name), "messages.1.content.0.name: field required"},
      {ablock(tu_no_input), "messages.1.content.0.input: field required"},
      {ablock(tu_bad_input), "messages.1.content.0.input: must be an object"},
      {block(ok_tool_use),
       "messages.0.content.0.type: 'tool_use' blocks belong in assistant messages"},
      {block({{"type", "thinking"}, {"thinking", "x"}}),
       "messages.0.content.0.type: 'thinking' blocks belong in assistant messages"},
      {ablock({{"type", "tool_result"}, {"tool_use_id", "t"}}),
       "messages.1.content.0.type: 'tool_result' blocks belong in user messages"},
      {ablock({{"type", "thinking"}}), "messages.1.content.0.thinking: field required"},
      {block({{"type", "tool_result"}, {"content", "x"}}),
       "messages.0.content.0.tool_use_id: field required"},
      {block({{"type", "tool_result"}, {"tool_use_id", "t"}, {"content", 5}}),
       "messages.0.content.0.content: must be a string or an array of content blocks"},
      {block({{"type", "tool_result"}, {"tool_use_id", "t"}, {"is_error", "yes"}}),
       "messages.0.content.0.is_error: must be a boolean"},
      {block({{"type", "tool_result"},
              {"tool_use_id", "t"},
              {"content", Json::array({{{"type", "text"}, {"text", "a"}}, image})}}),
       "messages.0.content.0.content.1: image input is not supported: this server runs a "
       "text-only model"},
      {block({{"type", "tool_result"},
              {"tool_use_id", "t"},
              {"content", Json::array({{{"type", "bar"}}})}}),
       "messages.0.content.0.content.0.type: unknown block type 'bar'"},
      {with("system", 5), "system: must be a string or an array of text blocks"},
      {with("system", Json::array({{{"type", "image"}}})),
       "system.0.type: must be 'text', got 'image'"},
      {with("system", Json::array({"x"})), "system.0: must be an object"},
      {with("system", Json::array({{{"type", "text"}}})), "system.0.text: field required"},
      {with("tools", kWeatherTool), "tools: must be an array"},
      {with("tools", Json::array({"t"})), "tools.0: must be an object"},
      {with("tools", Json::array({kWeatherTool, tool_no_schema})),
       "tools.1.input_schema: field required"},
      {with("tools", Json::array({tool_bad_schema})), "tools.0.input_schema: must be an object"},
      {with("tools", Json::array({tool_no_name})), "tools.0.name: field required"},
      {with("tools", Json::array({{{"type", "bash_20250124"}, {"name", "bash"}}})),
       "tools.0.type: server tool 'bash_20250124' is not supported: declare a custom tool with "
       "name and input_schema"},
      {with("tool_choice", "auto"), "tool_choice: must be an object"},
      {with("tool_choice", Json::object()), "tool_choice.type: field required"},
      {with("tool_choice", {{"type", "some"}}),
       "tool_choice.type: must be 'auto', 'any', 'tool' or 'none', got 'some'"},
      {with("tool_choice", {{"type", "tool"}}), "tool_choice.name: field required"},
      {with("tool_choice", {{"type", "auto"}, {"disable_parallel_tool_use", 1}}),
       "tool_choice.disable_parallel_tool_use: must be a boolean"},
      {with("stop_sequences", "END"), "stop_sequences: must be an array of strings"},
      {with("stop_sequences", {"a", 1}), "stop_sequences.1: must be a non-empty string"},
      {with("stop_sequences", {""}), "stop_sequences.0: must be a non-empty string"},
      {with("stop_sequences", Json(std::vector<std::string>(17, "x"))),
       "stop_sequences: at most 16 are supported"},
      {with("temperature", "hot"), "temperature: must be a number"},
      {with("top_p", true), "top_p: must be a number"},
      {with("top_k", 1.5), "top_k: must be an integer"},
      {with("stream", "yes"), "stream: must be a boolean"},
      {with("thinking", true), "thinking: must be an object"},
      {with("thinking", {{"budget_tokens", 10}}), "thinking.type: field required"},
      {with("thinking", {{"type", "on"}}),
       "thinking.type: must be 'enabled', 'adaptive' or 'disabled', got 'on'"},
      {with("thinking", {{"type", "enabled"}, {"budget_tokens", "many"}}),
       "thinking.budget_tokens: must be an integer"},
  };
  for (const auto& [body, want] : cases) EXPECT_EQ(error_of(body), want) << body.dump();
}

// ---- Responses ----------------------------------------------------------------------------

AnthropicReply reply() {
  AnthropicReply r;
  r.id = anthropic_message_id(7);
  r.model = "claude-x";
  r.usage = {.prompt_tokens = 20, .cached_tokens = 5, .output_tokens = 9};
  return r;
}

TEST(AnthropicResponse, MessageIdAndStopReasons) {
  EXPECT_EQ(anthropic_message_id(7), "msg_00000000000000000007");
  EXPECT_EQ(anthropic_stop_reason("stop", false), "end_turn");
  EXPECT_EQ(anthropic_stop_reason("length", false), "max_tokens");
  EXPECT_EQ(anthropic_stop_reason("length", true), "max_tokens");
  EXPECT_EQ(anthropic_stop_reason("tool_calls", false), "tool_use");
  EXPECT_EQ(anthropic_stop_reason("stop", true), "tool_use");
  EXPECT_EQ(anthropic_stop_reason("stop_sequence", false), "stop_sequence");
  EXPECT_EQ(anthropic_stop_reason("cancelled", false), "end_turn");
}

TEST(AnthropicResponse, TextMessage) {
  AnthropicReply r = reply();
  r.text = "Hello!";
  const Json want = {{"id", "msg_00000000000000000007"},
                     {"type", "message"},
                     {"role", "assistant"},
                     {"model", "claude-x"},
                     {"content", {{{"type", "text"}, {"text", "Hello!"}}}},
                     {"stop_reason", "end_turn"},
                     {"stop_sequence", nullptr},
                     {"usage",
                      {{"input_tokens", 15},
                       {"cache_creation_input_tokens", 0},
                       {"cache_read_input_tokens", 5},
                       {"output_tokens", 9}}}};
  const Json got = anthropic_message_body(r);
  EXPECT_EQ(got, want) << got.dump(2);
  EXPECT_EQ(got.dump(), want.dump());  // key order too
  EXPECT_FALSE(got.contains("timings"));
}

TEST(AnthropicResponse, ThinkingTextAndToolUse) {
  AnthropicReply r = reply();
  r.reasoning = "Paris is in France.";
  r.text = "Checking.";
  r.tool_calls = {
      {"call_a", "get_weather", "{\"city\":\"Paris\"}"}, {"", "noop", ""}, {"", "bad", "[1,2]"}};
  r.finish = "tool_calls";
  const Json got = anthropic_message_body(r);
  const Json want_content = {
      {{"type", "thinking"}, {"thinking", "Paris is in France."}, {"signature", ""}},
      {{"type", "text"}, {"text", "Checking."}},
      {{"type", "tool_use"},
       {"id", "call_a"},
       {"name", "get_weather"},
       {"input", {{"city", "Paris"}}}},
      {{"type", "tool_use"},
       {"id", "toolu_00000000000000000007_1"},
       {"name", "noop"},
       {"input", Json::object()}},
      {{"type", "tool_use"},
       {"id", "toolu_00000000000000000007_2"},
       {"name", "bad"},
       {"input", Json::object()}}};
  EXPECT_EQ(got["content"], want_content) << got["content"].dump(2);
  EXPECT_EQ(got["stop_reason"], "tool_use");
  EXPECT_TRUE(got["stop_sequence"].is_null());
}

TEST(AnthropicResponse, ToolUseOnlyHasNoTextBlock) {
  AnthropicReply r = reply();
  r.tool_calls = {{"t", "f", "{}"}};
  r.finish = "stop";  // a tool call makes it tool_use whatever finish says
  const Json got = anthropic_message_body(r);
  ASSERT_EQ(got["content"].size(), 1u);
  EXPECT_EQ(got["content"][0]["type"], "tool_use");
  EXPECT_EQ(got["stop_reason"], "tool_use");
}

TEST(AnthropicResponse, StopsAndEmptyReplies) {
  AnthropicReply r = reply();
  r.finish = "length";
  r.reasoning = "unfinished thought";
  Json got = anthropic_message_body(r);
  EXPECT_EQ(got["stop_reason"], "max_tokens");
  ASSERT_EQ(got["content"].size(), 1u);  // thinking only: no empty text block after it
  EXPECT_EQ(got["content"][0]["type"], "thinking");

  r = reply();
  r.finish = "stop_sequence";
  r.stop_sequence = "END";
  r.text = "1 2 3";
  got = anthropic_message_body(r);
  EXPECT_EQ(got["stop_reason"], "stop_sequence");
  EXPECT_EQ(got["stop_sequence"], "END");

  r.stop_sequence = "";  // matched string unknown
  EXPECT_TRUE(anthropic_message_body(r)["stop_sequence"].is_null());

  r = reply();  // nothing generated at all: one empty text block
  got = anthropic_message_body(r);
  EXPECT_EQ(got["content"], Json::array({{{"type", "text"}, {"text", ""}}}));
  EXPECT_EQ(got["stop_reason"], "end_turn");
}

TEST(AnthropicResponse, InvalidUtf8DoesNotThrow) {
  AnthropicReply r = reply();
  r.text = std::string("ok \xff");
  AnthropicStream s(r.id, r.model, 3);
  const std::string frames = s.text(r.text);
  EXPECT_NE(frames.find("ok \xef\xbf\xbd"), std::string::npos);  // U+FFFD
}

// ---- Streaming ----------------------------------------------------------------------------

struct Event {
  std::string name;
  Json data;
};

// Splits SSE text into frames, checking each is exactly "event: NAME\ndata: JSON\n\n" with
// data.type == NAME.
std::vector<Event> parse_sse(const std::string& sse) {
  std::vector<Event> out;
  size_t pos = 0;
  while (pos < sse.size()) {
    const size_t end = sse.find("\n\n", pos);
    EXPECT_NE(end, std::string::npos) << "unterminated frame at " << pos;
    if (end == std::string::npos) break;
    const std::string f = sse.substr(pos, end - pos);
    pos = end + 2;
    EXPECT_EQ(f.rfind("event: ", 0), 0u) << f;
    const size_t nl = f.find('\n');
    EXPECT_NE(nl, std::string::npos) << f;
    if (nl == std::string::npos) continue;
    Event e;
    e.name = f.substr(7, nl - 7);
    const std::string data = f.substr(nl + 1);
    EXPECT_EQ(data.rfind("data: ", 0), 0u) << f;
    EXPECT_EQ(data.find('\n'), std::string::npos) << "multi-line data: " << f;
    e.data = Json::parse(data.substr(6), nullptr, false);
    EXPECT_FALSE(e.data.is_discarded()) << "data is not JSON: " << f;
    EXPECT_EQ(e.data.value("type", ""), e.name) << f;
    out.push_back(std::move(e));
  }
  return out;
}

// "name" or "name:detail", where detail is the block type (start) or delta type (delta) and
// the index, to compare whole sequences at a glance.
std::vector<std::string> shape(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const Event& e : events) {
    std::string s = e.name;
    if (e.name == "content_block_start") {
      s += ":" + e.data["content_block"]["type"].get<std::string>() + "@" + e.data["index"].dump();
    } else if (e.name == "content_block_delta") {
      s += ":" + e.data["delta"]["type"].get<std::string>() + "@" + e.data["index"].dump();
    } else if (e.name == "content_block_stop") {
      s += "@" + e.data["index"].dump();
    } else if (e.name == "message_delta") {
      s += ":" + e.data["delta"]["stop_reason"].get<std::string>();
    }
    out.push_back(s);
  }
  return out;
}

using Shape = std::vector<std::string>;
const AnthropicUsage kUsage = {.prompt_tokens = 12, .cached_tokens = 4, .output_tokens = 6};

TEST(AnthropicStreamTest, TextOnly) {
  AnthropicStream s("msg_1", "claude-x", 12);
  std::string sse = s.start();
  sse += s.text("Hel");
  sse += s.text("");  // nothing
  sse += s.text("lo");
  sse += s.finish("stop", "", kUsage);
  const auto ev = parse_sse(sse);
  EXPECT_EQ(shape(ev),
            (Shape{"message_start", "ping", "content_block_start:text@0",
                   "content_block_delta:text_delta@0", "content_block_delta:text_delta@0",
                   "content_block_stop@0", "message_delta:end_turn", "message_stop"}));
  const Json want_start = {{"type", "message_start"},
                           {"message",
                            {{"id", "msg_1"},
                             {"type", "message"},
                             {"role", "assistant"},
                             {"model", "claude-x"},
                             {"content", Json::array()},
                             {"stop_reason", nullptr},
                             {"stop_sequence", nullptr},
                             {"usage",
                              {{"input_tokens", 12},
                               {"cache_creation_input_tokens", 0},
                               {"cache_read_input_tokens", 0},
                               {"output_tokens", 0}}}}}};
  EXPECT_EQ(ev[0].data, want_start);
  EXPECT_EQ(ev[2].data, Json({{"type", "content_block_start"},
                              {"index", 0},
                              {"content_block", {{"type", "text"}, {"text", ""}}}}));
  EXPECT_EQ(ev[3].data, Json({{"type", "content_block_delta"},
                              {"index", 0},
                              {"delta", {{"type", "text_delta"}, {"text", "Hel"}}}}));
  EXPECT_EQ(ev[5].data, Json({{"type", "content_block_stop"}, {"index", 0}}));
  EXPECT_EQ(ev[6].data, Json({{"type", "message_delta"},
                              {"delta", {{"stop_reason", "end_turn"}, {"stop_sequence", nullptr}}},
                              {"usage",
                               {{"input_tokens", 8},
                                {"cache_creation_input_tokens", 0},
                                {"cache_read_input_tokens", 4},
                                {"output_tokens", 6}}}}));
  EXPECT_EQ(ev[7].data, Json({{"type", "message_stop"}}));
  EXPECT_TRUE(s.finished());
  EXPECT_EQ(s.text("late"), "");
  EXPECT_EQ(s.finish("stop", "", kUsage), "");
}

TEST(AnthropicStreamTest, ThinkingThenText) {
  AnthropicStream s("msg_1", "m", 12);
  std::string sse = s.thinking("Let me ");  // starts the message by itself
  sse += s.thinking("think.");
  sse += s.text("4");
  sse += s.finish("stop", "", kUsage);
  const auto ev = parse_sse(sse);
  EXPECT_EQ(shape(ev),
            (Shape{"message_start", "ping", "content_block_start:thinking@0",
                   "content_block_delta:thinking_delta@0", "content_block_delta:thinking_delta@0",
                   "content_block_delta:signature_delta@0", "content_block_stop@0",
                   "content_block_start:text@1", "content_block_delta:text_delta@1",
                   "content_block_stop@1", "message_delta:end_turn", "message_stop"}));
  EXPECT_EQ(ev[2].data["content_block"],
            Json({{"type", "thinking"}, {"thinking", ""}, {"signature", ""}}));
  EXPECT_EQ(ev[3].data["delta"], Json({{"type", "thinking_delta"}, {"thinking", "Let me "}}));
  EXPECT_EQ(ev[5].data["delta"], Json({{"type", "signature_delta"}, {"signature", ""}}));
}

TEST(AnthropicStreamTest, TextThenToolCall) {
  AnthropicStream s("msg_00000000000000000009", "m", 12);
  std::string sse = s.start();
  sse += s.text("Checking.");
  sse += s.tool_call({"", "get_weather", "{\"city\": \"Paris\"}"});
  sse += s.finish("stop", "", kUsage);
  const auto ev = parse_sse(sse);
  EXPECT_EQ(shape(ev),
            (Shape{"message_start", "ping", "content_block_start:text@0",
                   "content_block_delta:text_delta@0", "content_block_stop@0",
                   "content_block_start:tool_use@1", "content_block_delta:input_json_delta@1",
                   "content_block_stop@1", "message_delta:tool_use", "message_stop"}));
  EXPECT_EQ(ev[5].data["content_block"], Json({{"type", "tool_use"},
                                               {"id", "toolu_00000000000000000009_0"},
                                               {"name", "get_weather"},
                                               {"input", Json::object()}}));
  EXPECT_EQ(ev[6].data["delta"],
            Json({{"type", "input_json_delta"}, {"partial_json", "{\"city\":\"Paris\"}"}}));
}

TEST(AnthropicStreamTest, ToolCallsOnly) {
  AnthropicStream s("msg_1", "m", 12);
  std::string sse = s.start();
  sse += s.tool_call({"call_1", "a", "{\"x\":1}"});
  sse += s.tool_call({"call_2", "b", "not json"});
  sse += s.finish("tool_calls", "", kUsage);
  const auto ev = parse_sse(sse);
  EXPECT_EQ(shape(ev),
            (Shape{"message_start", "ping", "content_block_start:tool_use@0",
                   "content_block_delta:input_json_delta@0", "content_block_stop@0",
                   "content_block_start:tool_use@1", "content_block_delta:input_json_delta@1",
                   "content_block_stop@1", "message_delta:tool_use", "message_stop"}));
  // What a client accumulates from the partial_json deltas parses to the input object.
  std::string acc0, acc1;
  for (const Event& e : ev) {
    if (e.name != "content_block_delta") continue;
    (e.data["index"] == 0 ? acc0 : acc1) += e.data["delta"]["partial_json"].get<std::string>();
  }
  EXPECT_EQ(Json::parse(acc0), Json({{"x", 1}}));
  EXPECT_EQ(Json::parse(acc1), Json::object());
  EXPECT_EQ(ev[2].data["content_block"]["id"], "call_1");
}

TEST(AnthropicStreamTest, MaxTokensStopAndStopSequence) {
  AnthropicStream s("msg_1", "m", 12);
  std::string sse = s.thinking("never ends");
  sse += s.finish("length", "", kUsage);
  auto ev = parse_sse(sse);
  EXPECT_EQ(shape(ev),
            (Shape{"message_start", "ping", "content_block_start:thinking@0",
                   "content_block_delta:thinking_delta@0", "content_block_delta:signature_delta@0",
                   "content_block_stop@0", "message_delta:max_tokens", "message_stop"}));
  EXPECT_EQ(ev[6].data["usage"]["output_tokens"], 6);

  AnthropicStream t("msg_2", "m", 12);
  std::string sse2 = t.text("1 2");  // (each call its own statement: + does not sequence)
  sse2 += t.finish("stop_sequence", "END", kUsage);
  ev = parse_sse(sse2);
  EXPECT_EQ(ev[ev.size() - 2].data["delta"],
            Json({{"stop_reason", "stop_sequence"}, {"stop_sequence", "END"}}));
}

TEST(AnthropicStreamTest, EmptyReplyStillHasATextBlock) {
  AnthropicStream s("msg_1", "m", 12);
  std::string sse = s.start();
  sse += s.start();  // a second start emits nothing
  sse += s.finish("stop", "", kUsage);
  const auto ev = parse_sse(sse);
  EXPECT_EQ(shape(ev), (Shape{"message_start", "ping", "content_block_start:text@0",
                              "content_block_stop@0", "message_delta:end_turn", "message_stop"}));
}

TEST(AnthropicStreamTest, ThinkingAfterTextOpensANewBlock) {
  AnthropicStream s("msg_1", "m", 12);
  std::string sse = s.text("a");
  sse += s.thinking("b");
  sse += s.text("c");
  sse += s.finish("stop", "", kUsage);
  const auto ev = parse_sse(sse);
  EXPECT_EQ(shape(ev),
            (Shape{"message_start", "ping", "content_block_start:text@0",
                   "content_block_delta:text_delta@0", "content_block_stop@0",
                   "content_block_start:thinking@1", "content_block_delta:thinking_delta@1",
                   "content_block_delta:signature_delta@1", "content_block_stop@1",
                   "content_block_start:text@2", "content_block_delta:text_delta@2",
                   "content_block_stop@2", "message_delta:end_turn", "message_stop"}));
}

TEST(AnthropicStreamTest, PingAndErrorFrames) {
  EXPECT_EQ(AnthropicStream::ping(), "event: ping\ndata: {\"type\":\"ping\"}\n\n");
  EXPECT_EQ(anthropic_sse_error(503, "busy"),
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
            "\"message\":\"busy\"}}\n\n");
  const auto ev = parse_sse(anthropic_sse_error(500, "boom"));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data["error"]["type"], "api_error");
}

// ---- Errors and count_tokens --------------------------------------------------------------

TEST(AnthropicErrors, StatusMap) {
  const std::vector<std::pair<int, std::string>> cases = {{400, "invalid_request_error"},
                                                          {401, "authentication_error"},
                                                          {403, "permission_error"},
                                                          {404, "not_found_error"},
                                                          {413, "request_too_large"},
                                                          {429, "rate_limit_error"},
                                                          {500, "api_error"},
                                                          {503, "overloaded_error"},
                                                          {529, "overloaded_error"},
                                                          {504, "timeout_error"},
                                                          {422, "invalid_request_error"},
                                                          {502, "api_error"}};
  for (const auto& [status, type] : cases) EXPECT_EQ(anthropic_error_type(status), type) << status;
  EXPECT_EQ(anthropic_error_body(401, "invalid or missing API key").dump(),
            "{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\",\"message\":"
            "\"invalid or missing API key\"}}");
}

TEST(AnthropicErrors, CountTokensBody) {
  EXPECT_EQ(anthropic_count_tokens_body(42).dump(), "{\"input_tokens\":42}");
}

}  // namespace
}  // namespace longctx::server
