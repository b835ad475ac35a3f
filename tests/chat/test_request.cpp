// OpenAI chat-completions request -> template context: defaults, chat_template_kwargs, content
// parts, tool-call arguments, validation errors naming the field; and an end-to-end check that
// a request renders exactly as the jinja2 fixture of the equivalent conversation.
#include <gtest/gtest.h>

#include <string>

#include "chat/chat_template.h"
#include "core/file_io.h"

namespace longctx::chat {
namespace {

TemplateSource qwen3_source() {
  TemplateSource s;
  s.eos_token = "<|im_end|>";
  s.pad_token = "<|endoftext|>";
  return s;
}

Result<Json> convert(const std::string& body) {
  return context_from_request(Json::parse(body), qwen3_source());
}

std::string convert_error(const std::string& body) {
  auto r = convert(body);
  EXPECT_FALSE(r.is_ok()) << "accepted: " << body;
  return r.is_ok() ? "" : r.status().message();
}

TEST(RequestContext, DefaultsAndKwargs) {
  auto ctx =
      convert(R"({"model": "x", "temperature": 0.2, "messages": [{"role": "user", "content": "hi"}],
                         "chat_template_kwargs": {"enable_thinking": false, "add_generation_prompt": false}})");
  ASSERT_TRUE(ctx.is_ok()) << ctx.status().message();
  EXPECT_TRUE((*ctx)["tools"].is_null());
  EXPECT_EQ((*ctx)["enable_thinking"], false);
  EXPECT_EQ((*ctx)["add_generation_prompt"], false);  // kwargs are merged last, as HF does
  EXPECT_EQ((*ctx)["eos_token"], "<|im_end|>");
  EXPECT_FALSE(ctx->contains("bos_token"));  // Qwen has none
  EXPECT_FALSE(ctx->contains("model"));
  auto plain = convert(R"({"messages": [{"role": "user", "content": "hi"}]})");
  ASSERT_TRUE(plain.is_ok());
  EXPECT_EQ((*plain)["add_generation_prompt"], true);
  EXPECT_FALSE(plain->contains("enable_thinking"));
}

TEST(RequestContext, ContentPartsNullContentAndToolArguments) {
  auto ctx = convert(R"({"messages": [
      {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
      {"role": "assistant", "content": null, "tool_calls": [
        {"id": "1", "type": "function", "function": {"name": "f", "arguments": "{\"z\": 1, \"a\": [2]}"}},
        {"id": "2", "type": "function", "function": {"name": "g", "arguments": "not json"}}]},
      {"role": "tool", "tool_call_id": "1", "content": "r"}]})");
  ASSERT_TRUE(ctx.is_ok()) << ctx.status().message();
  const Json& m = (*ctx)["messages"];
  EXPECT_EQ(m[0]["content"], "ab");
  EXPECT_EQ(m[1]["content"], "");
  EXPECT_TRUE(m[1]["tool_calls"][0]["function"]["arguments"].is_object());
  EXPECT_EQ(m[1]["tool_calls"][0]["function"]["arguments"].dump(),
            R"({"z":1,"a":[2]})");                                        // order kept
  EXPECT_EQ(m[1]["tool_calls"][1]["function"]["arguments"], "not json");  // left as given
}

TEST(RequestContext, BadRequestsNameTheField) {
  EXPECT_EQ(convert_error(R"([1])"), "request body must be a JSON object");
  EXPECT_EQ(convert_error(R"({})"), "request: 'messages' is required");
  EXPECT_EQ(convert_error(R"({"messages": []})"), "request: 'messages' must be a non-empty array");
  EXPECT_EQ(convert_error(R"({"messages": [{"role": "user", "content": "a"}, {"content": "b"}]})"),
            "messages[1].role must be a string");
  EXPECT_EQ(convert_error(R"({"messages": [{"role": "user", "content": 5}]})"),
            "messages[0].content must be a string, an array of text parts, or null");
  EXPECT_EQ(convert_error(R"({"messages": [{"role": "user"}]})"),
            "messages[0].content is required for role 'user'");
  EXPECT_EQ(
      convert_error(
          R"({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]})"),
      "messages[0].content[0].type 'image_url' is not supported (text only)");
  EXPECT_EQ(
      convert_error(
          R"({"messages": [{"role": "assistant", "content": "", "tool_calls": [{"function": {"arguments": "{}"}}]}]})"),
      "messages[0].tool_calls[0].function.name must be a string");
  EXPECT_EQ(
      convert_error(
          R"({"messages": [{"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "f", "arguments": 3}}]}]})"),
      "messages[0].tool_calls[0].function.arguments must be a JSON string or an object");
  EXPECT_EQ(convert_error(R"({"messages": [{"role": "user", "content": "a"}], "tools": {}})"),
            "request: 'tools' must be an array");
  EXPECT_EQ(convert_error(
                R"({"messages": [{"role": "user", "content": "a"}], "chat_template_kwargs": []})"),
            "request: 'chat_template_kwargs' must be an object");
  EXPECT_EQ(
      convert_error(
          R"({"messages": [{"role": "user", "content": "a"}], "add_generation_prompt": "yes"})"),
      "request: 'add_generation_prompt' must be a boolean");
}

TEST(RequestContext, TemplateSourceFromConfig) {
  auto s = template_source_from_config(
      Json::parse(R"({"chat_template": [{"name": "tool_use", "template": "T"},
      {"name": "default", "template": "D"}], "bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>",
      "pad_token": null})"));
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  EXPECT_EQ(s->chat_template, "D");
  EXPECT_EQ(s->bos_token, "<s>");
  EXPECT_EQ(s->eos_token, "</s>");
  EXPECT_EQ(s->pad_token, "");
  EXPECT_EQ(template_source_from_config(Json::parse(R"({"eos_token": "x"})")).status().message(),
            "tokenizer_config.json: no 'chat_template'");
}

// An OpenAI-style request (arguments as a JSON string) must render exactly as jinja2 rendered
// the same conversation with arguments as an object (fixture case tool_call_object_arguments).
TEST(RequestContext, RequestRendersLikeTheJinja2Fixture) {
  auto fixture_text = read_file(std::string(LONGCTX_TEST_DATA_DIR) + "/qwen3_cases.json");
  ASSERT_TRUE(fixture_text.is_ok());
  Json fixture = Json::parse(*fixture_text);
  const Json* expected = nullptr;
  for (const auto& c : fixture["cases"]) {
    if (c["name"] == "tool_call_object_arguments") expected = &c;
  }
  ASSERT_NE(expected, nullptr);
  Json request = {{"model", "qwen3"},
                  {"messages", (*expected)["context"]["messages"]},
                  {"tools", (*expected)["context"]["tools"]}};
  Json& fn = request["messages"][1]["tool_calls"][0]["function"];
  fn["arguments"] = fn["arguments"].dump();  // as OpenAI clients send it
  auto config =
      read_file(std::string(LONGCTX_SOURCE_DIR) + "/data/qwen3-tokenizer/tokenizer_config.json");
  ASSERT_TRUE(config.is_ok());
  auto source = template_source_from_config(Json::parse(*config));
  ASSERT_TRUE(source.is_ok());
  auto ctx = context_from_request(request, *source);
  ASSERT_TRUE(ctx.is_ok()) << ctx.status().message();
  auto prompt = render_prompt(source->chat_template, *ctx);
  ASSERT_TRUE(prompt.is_ok()) << prompt.status().message();
  EXPECT_FALSE(prompt->used_fallback);
  EXPECT_EQ(prompt->text, (*expected)["expected"].get<std::string>());
}

}  // namespace
}  // namespace longctx::chat
