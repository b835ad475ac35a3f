// OpenAI's Responses API translation (server/responses.h): input items to chat messages, tools
// and formats, refusals; the response object; the SSE event order and sequence numbers.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server/responses.h"

namespace longctx::server {
namespace {

Json convert(const Json& body) {
  std::string err;
  auto out = responses_to_chat(body, &err);
  EXPECT_TRUE(out.has_value()) << err;
  return out ? *out : Json();
}

std::string refusal(const Json& body) {
  std::string err;
  auto out = responses_to_chat(body, &err);
  EXPECT_FALSE(out.has_value()) << out->dump();
  return err;
}

TEST(ResponsesRequest, ItemsBecomeChatMessages) {
  const Json chat = convert(Json::parse(R"({
    "model": "m", "instructions": "Be brief.", "max_output_tokens": 7,
    "input": [
      {"role": "developer", "content": "Rules."},
      {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "a"},
                                                      {"type": "input_text", "text": "b"}]},
      {"type": "reasoning", "id": "rs_1", "summary": [],
       "content": [{"type": "reasoning_text", "text": "think"}]},
      {"role": "assistant", "content": [{"type": "output_text", "text": "Let me check."}]},
      {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{\"x\":1}"},
      {"type": "function_call", "call_id": "c2", "name": "g", "arguments": "{}"},
      {"type": "function_call_output", "call_id": "c1", "output": "one"},
      {"type": "function_call_output", "call_id": "c2",
       "output": [{"type": "input_text", "text": "two"}]}
    ]})"));
  const Json want = Json::parse(R"([
    {"role": "system", "content": "Be brief."},
    {"role": "system", "content": "Rules."},
    {"role": "user", "content": "a\nb"},
    {"role": "assistant", "content": "Let me check.", "reasoning_content": "think",
     "tool_calls": [
       {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"x\":1}"}},
       {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "{}"}}]},
    {"role": "tool", "tool_call_id": "c1", "content": "one"},
    {"role": "tool", "tool_call_id": "c2", "content": "two"}
  ])");
  EXPECT_EQ(chat["messages"], want) << chat["messages"].dump(1);
  EXPECT_EQ(chat["max_tokens"], 7);
  EXPECT_EQ(chat["model"], "m");
}

TEST(ResponsesRequest, StringInputToolsAndFormat) {
  const Json chat = convert(Json::parse(R"({
    "input": "hi", "temperature": 0.5, "stream": true, "top_k": 3,
    "tools": [{"type": "function", "name": "f", "description": "d",
               "parameters": {"type": "object"}, "strict": true}],
    "tool_choice": {"type": "function", "name": "f"},
    "text": {"format": {"type": "json_schema", "name": "s", "schema": {"type": "object"},
                        "strict": true}},
    "reasoning": {"effort": "minimal"}, "store": false, "metadata": {"k": "v"}})"));
  EXPECT_EQ(chat["messages"], Json::parse(R"([{"role": "user", "content": "hi"}])"));
  EXPECT_EQ(chat["tools"], Json::parse(R"([{"type": "function", "function":
      {"name": "f", "description": "d", "parameters": {"type": "object"}}}])"));
  EXPECT_EQ(chat["tool_choice"], Json::parse(R"({"type":"function","function":{"name":"f"}})"));
  EXPECT_EQ(chat["response_format"], Json::parse(R"({"type": "json_schema", "json_schema":
      {"name": "s", "schema": {"type": "object"}, "strict": true}})"));
  EXPECT_EQ(chat["chat_template_kwargs"]["enable_thinking"], false);
  EXPECT_EQ(chat["temperature"], 0.5);
  EXPECT_EQ(chat["top_k"], 3);
  EXPECT_EQ(chat["stream"], true);
  EXPECT_FALSE(chat.contains("store"));
  EXPECT_EQ(
      convert(Json::parse(R"({"input":"x","reasoning":{"effort":"high"}})"))["chat_template_kwargs"]
                                                                            ["enable_thinking"],
      true);
}

TEST(ResponsesRequest, RefusalsNameTheField) {
  EXPECT_NE(refusal(Json::array()).find("JSON object"), std::string::npos);
  EXPECT_NE(refusal(Json::parse(R"({})")).find("'input' is required"), std::string::npos);
  EXPECT_NE(refusal(Json::parse(R"({"input":"x","previous_response_id":"r"})"))
                .find("previous_response_id"),
            std::string::npos);
  EXPECT_NE(
      refusal(Json::parse(R"({"input":[{"role":"user","content":[{"type":"input_image"}]}]})"))
          .find("input.0.content.0"),
      std::string::npos);
  EXPECT_NE(refusal(Json::parse(R"({"input":[{"type":"function_call","name":"f"}]})"))
                .find("input.0.call_id"),
            std::string::npos);
  EXPECT_NE(
      refusal(Json::parse(R"({"input":"x","tools":[{"type":"file_search"}]})")).find("file_search"),
      std::string::npos);
  EXPECT_NE(
      refusal(Json::parse(R"({"input":"x","tool_choice":{"type":"mcp"}})")).find("tool_choice"),
      std::string::npos);
  EXPECT_NE(refusal(Json::parse(R"({"input":"x","instructions":3})")).find("instructions"),
            std::string::npos);
  EXPECT_NE(refusal(Json::parse(R"({"input":"x","background":true})")).find("background"),
            std::string::npos);
  // Wrong types anywhere are refusals, never exceptions.
  EXPECT_NE(refusal(Json::parse(R"({"input":"x","text":{"format":{"type":"json_schema",
      "name":5,"schema":{}}}})"))
                .find("text.format.name"),
            std::string::npos);
  EXPECT_NE(refusal(Json::parse(R"({"input":"x","tool_choice":{"type":7,"name":"f"}})"))
                .find("tool_choice"),
            std::string::npos);
  EXPECT_NE(refusal(Json::parse(R"({"input":"x","tool_choice":{"type":"function","name":[]}})"))
                .find("tool_choice"),
            std::string::npos);
  for (const char* bad : {
           R"({"input":[{"role":"user","content":5}]})",
           R"({"input":[{"role":"user","content":[5]}]})",
           R"({"input":[{"role":"user","content":[{"type":"input_text","text":null}]}]})",
           R"({"input":[{"role":3,"content":"x"}]})",
           R"({"input":[{"type":null,"role":"user","content":"x"}]})",
           R"({"input":[{"type":"function_call_output","call_id":"c"}]})",
           R"({"input":[{"type":"function_call_output","call_id":"c","output":{}}]})",
           R"({"input":[7]})",
           R"({"input":"x","tools":{}})",
           R"({"input":"x","tools":[{"type":"function","name":1}]})",
           R"({"input":"x","tools":[5]})",
           R"({"input":"x","text":5})",
           R"({"input":"x","text":{"format":[]}})",
           R"({"input":"x","reasoning":"high"})",
           R"({"input":"x","chat_template_kwargs":[1]})",
       }) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(refusal(Json::parse(bad)).empty());
  }
  // Odd but harmless shapes are accepted: a reasoning item with odd parts, a null tool_choice.
  convert(Json::parse(R"({"input":[{"type":"reasoning","content":[5,{"text":3}]},
      {"role":"assistant","content":"a"}],"tool_choice":null,"reasoning":{"effort":3}})"));
}

ResponsesReply reply() {
  ResponsesReply r;
  r.id = responses_id(3);
  r.model = "m";
  r.created_at = 100;
  r.reasoning = "hmm";
  r.text = "Hello";
  r.tool_calls = {{"call_1", "f", "{}"}};
  r.input_tokens = 10;
  r.cached_tokens = 4;
  r.output_tokens = 6;
  r.reasoning_tokens = 2;
  return r;
}

TEST(ResponsesBody, ItemsUsageAndStatus) {
  const Json req = Json::parse(R"({"input":"x","instructions":"I","temperature":0.2})");
  Json b = responses_body(reply(), req);
  EXPECT_EQ(b["object"], "response");
  EXPECT_EQ(b["status"], "completed");
  EXPECT_TRUE(b["incomplete_details"].is_null());
  ASSERT_EQ(b["output"].size(), 3u);
  EXPECT_EQ(b["output"][0]["type"], "reasoning");
  EXPECT_EQ(b["output"][0]["content"][0]["text"], "hmm");
  EXPECT_EQ(b["output"][1]["type"], "message");
  EXPECT_EQ(b["output"][1]["content"][0]["text"], "Hello");
  EXPECT_EQ(b["output"][2]["call_id"], "call_1");
  EXPECT_EQ(b["instructions"], "I");
  EXPECT_EQ(b["temperature"], 0.2);
  EXPECT_EQ(b["usage"], Json::parse(R"({"input_tokens": 10,
      "input_tokens_details": {"cached_tokens": 4}, "output_tokens": 6,
      "output_tokens_details": {"reasoning_tokens": 2}, "total_tokens": 16})"));
  ResponsesReply cut = reply();
  cut.truncated = true;
  b = responses_body(cut, req);
  EXPECT_EQ(b["status"], "incomplete");
  EXPECT_EQ(b["incomplete_details"]["reason"], "max_output_tokens");
}

// The events of a stream, as (type, data) pairs, checking the SSE framing.
std::vector<Json> events(const std::string& s) {
  std::vector<Json> out;
  size_t at = 0;
  while (at < s.size()) {
    const size_t end = s.find("\n\n", at);
    EXPECT_NE(end, std::string::npos);
    if (end == std::string::npos) break;
    const std::string frame = s.substr(at, end - at);
    const size_t nl = frame.find('\n');
    EXPECT_EQ(frame.rfind("event: ", 0), 0u) << frame;
    EXPECT_EQ(frame.compare(nl + 1, 6, "data: "), 0) << frame;
    Json d = Json::parse(frame.substr(nl + 7));
    EXPECT_EQ(d["type"], frame.substr(7, nl - 7));
    out.push_back(std::move(d));
    at = end + 2;
  }
  return out;
}

TEST(ResponsesStream, EventOrderAndSequence) {
  ResponsesStream s(responses_id(3), "m", 100, Json::parse(R"({"input":"x"})"));
  std::string all = s.start();
  all += s.reasoning("hm");
  all += s.reasoning("m");
  all += s.text("Hel");
  all += s.text("lo", Json{{"predicted_n", 2}});
  all += s.tool_call({"call_1", "f", "{}"});
  all += s.finish(reply(), Json{{"predicted_n", 6}});
  EXPECT_EQ(s.finish(reply(), Json()), "");  // nothing after the end
  const std::vector<Json> ev = events(all);
  std::vector<std::string> types;
  for (size_t i = 0; i < ev.size(); ++i) {
    EXPECT_EQ(ev[i]["sequence_number"], static_cast<int64_t>(i));
    types.push_back(ev[i]["type"]);
  }
  const std::vector<std::string> want = {"response.created",
                                         "response.in_progress",
                                         "response.output_item.added",
                                         "response.reasoning_text.delta",
                                         "response.reasoning_text.delta",
                                         "response.reasoning_text.done",
                                         "response.output_item.done",
                                         "response.output_item.added",
                                         "response.content_part.added",
                                         "response.output_text.delta",
                                         "response.output_text.delta",
                                         "response.output_text.done",
                                         "response.content_part.done",
                                         "response.output_item.done",
                                         "response.output_item.added",
                                         "response.function_call_arguments.delta",
                                         "response.function_call_arguments.done",
                                         "response.output_item.done",
                                         "response.completed"};
  EXPECT_EQ(types, want);
  EXPECT_EQ(ev[5]["text"], "hmm");
  EXPECT_EQ(ev[11]["text"], "Hello");
  EXPECT_EQ(ev[10]["timings"]["predicted_n"], 2);
  EXPECT_FALSE(ev[9].contains("timings"));
  // Item ids and output indexes agree with the final response object.
  const Json& resp = ev.back()["response"];
  EXPECT_EQ(ev[2]["item"]["id"], resp["output"][0]["id"]);
  EXPECT_EQ(ev[7]["item"]["id"], resp["output"][1]["id"]);
  EXPECT_EQ(ev[9]["item_id"], resp["output"][1]["id"]);
  EXPECT_EQ(ev[14]["item"]["id"], resp["output"][2]["id"]);
  EXPECT_EQ(ev[14]["output_index"], 2);
  EXPECT_EQ(ev.back()["timings"]["predicted_n"], 6);
}

TEST(ResponsesStream, EmptyReplyStillHasItsMessageAndErrorsEndTheStream) {
  ResponsesStream s(responses_id(1), "m", 1, Json::object());
  ResponsesReply r;
  r.id = responses_id(1);
  const std::vector<Json> ev = events(s.finish(r, Json()));
  ASSERT_EQ(ev.size(), 5u);  // created, in_progress, item added, item done, completed
  EXPECT_EQ(ev[3]["item"]["id"], ev[4]["response"]["output"][0]["id"]);
  ResponsesStream e(responses_id(2), "m", 1, Json::object());
  const std::vector<Json> err = events(e.start() + e.error(500, "boom"));
  EXPECT_EQ(err.back()["type"], "error");
  EXPECT_EQ(err.back()["message"], "boom");
  EXPECT_EQ(e.text("late"), "");
}

}  // namespace
}  // namespace longctx::server
