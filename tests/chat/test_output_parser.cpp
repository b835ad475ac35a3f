// Parsing model output back into reasoning, content and tool calls (Qwen3 markers), including
// output that starts inside a think block, unterminated blocks and malformed tool-call JSON.
#include <gtest/gtest.h>

#include "chat/output_parser.h"

namespace longctx::chat {
namespace {

TEST(OutputParser, PlainContentIsTrimmedAndHasNoReasoning) {
  ParsedOutput p = parse_model_output("\n  Hello there.  \n");
  EXPECT_EQ(p.content, "Hello there.");
  EXPECT_EQ(p.reasoning, "");
  EXPECT_FALSE(p.reasoning_unterminated);
  EXPECT_TRUE(p.tool_calls.empty());
}

TEST(OutputParser, ThinkBlockSplitsReasoningFromContent) {
  ParsedOutput p = parse_model_output("<think>\nStep 1.\nStep 2.\n</think>\n\nThe answer is 4.");
  EXPECT_EQ(p.reasoning, "Step 1.\nStep 2.");
  EXPECT_EQ(p.content, "The answer is 4.");
  EXPECT_FALSE(p.reasoning_unterminated);
}

TEST(OutputParser, EmptyThinkBlockFromThinkingOff) {
  ParsedOutput p = parse_model_output("<think>\n\n</think>\n\nHi!");
  EXPECT_EQ(p.reasoning, "");
  EXPECT_EQ(p.content, "Hi!");
}

TEST(OutputParser, OutputStartingInsideThinkBlock) {
  OutputParseOptions o;
  o.starts_in_think = true;  // the prompt ended with "<think>\n"
  ParsedOutput p = parse_model_output("reasoning here\n</think>\n\nvisible", o);
  EXPECT_EQ(p.reasoning, "reasoning here");
  EXPECT_EQ(p.content, "visible");
}

TEST(OutputParser, BareCloseTagMeansThePromptOpenedTheBlock) {
  ParsedOutput p = parse_model_output("thinking without an open tag</think>\nanswer");
  EXPECT_EQ(p.reasoning, "thinking without an open tag");
  EXPECT_EQ(p.content, "answer");
}

TEST(OutputParser, UnterminatedThinkBlockIsAllReasoning) {
  ParsedOutput p = parse_model_output("<think>\nstill going, <tool_call> mentioned");
  EXPECT_TRUE(p.reasoning_unterminated);
  EXPECT_EQ(p.reasoning, "still going, <tool_call> mentioned");
  EXPECT_EQ(p.content, "");
  EXPECT_TRUE(p.tool_calls.empty());  // text inside reasoning is never a call
}

TEST(OutputParser, ToolCallsAreExtracted) {
  ParsedOutput p = parse_model_output(
      "<think>\nneed weather\n</think>\n\nChecking both.\n<tool_call>\n{\"name\": \"get_weather\", "
      "\"arguments\": {\"city\": \"Zürich\", \"days\": 2}}\n</tool_call>\n<tool_call>\n{\"name\": "
      "\"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>");
  EXPECT_EQ(p.reasoning, "need weather");
  EXPECT_EQ(p.content, "Checking both.");
  ASSERT_EQ(p.tool_calls.size(), 2u);
  EXPECT_EQ(p.tool_calls[0].name, "get_weather");
  EXPECT_EQ(p.tool_calls[0].error, "");
  EXPECT_EQ(p.tool_calls[0].arguments,
            "{\"city\":\"Zürich\",\"days\":2}");  // UTF-8 kept, key order kept
  EXPECT_EQ(p.tool_calls[0].arguments_json["days"], 2);
  EXPECT_EQ(p.tool_calls[1].arguments_json["city"], "Oslo");
}

TEST(OutputParser, ArgumentsGivenAsJsonStringAreDecoded) {
  ParsedOutput p = parse_model_output(
      "<tool_call>{\"name\": \"f\", \"arguments\": \"{\\\"x\\\": [1, 2]}\"}</tool_call>");
  ASSERT_EQ(p.tool_calls.size(), 1u);
  EXPECT_EQ(p.tool_calls[0].error, "");
  EXPECT_EQ(p.tool_calls[0].arguments, "{\"x\":[1,2]}");
}

TEST(OutputParser, MissingArgumentsMeansEmptyObject) {
  ParsedOutput p = parse_model_output("<tool_call>{\"name\": \"now\"}</tool_call>");
  ASSERT_EQ(p.tool_calls.size(), 1u);
  EXPECT_EQ(p.tool_calls[0].arguments, "{}");
}

TEST(OutputParser, MalformedCallIsReportedAndOthersKept) {
  ParsedOutput p = parse_model_output(
      "<tool_call>\n{\"name\": \"a\", \"arguments\": {\"k\": 1}}\n</tool_call>\n"
      "<tool_call>\n{\"name\": \"b\", \"arguments\": {\"k\": }\n</tool_call>\n"
      "<tool_call>\n{\"arguments\": {}}\n</tool_call>\n"
      "<tool_call>\n{\"name\": \"d\", \"arguments\": [1]}\n</tool_call>\n"
      "<tool_call>\n{\"name\": \"e\", \"arguments\": {}}\n</tool_call>");
  ASSERT_EQ(p.tool_calls.size(), 5u);
  EXPECT_EQ(p.tool_calls[0].error, "");
  EXPECT_NE(p.tool_calls[1].error.find("not valid JSON"), std::string::npos);
  EXPECT_NE(p.tool_calls[1].raw.find("\"b\""), std::string::npos);  // raw text kept for the caller
  EXPECT_NE(p.tool_calls[2].error.find("'name'"), std::string::npos);
  EXPECT_NE(p.tool_calls[3].error.find("'arguments' must be a JSON object"), std::string::npos);
  EXPECT_EQ(p.tool_calls[4].error, "");
  EXPECT_EQ(p.tool_calls[4].name, "e");
  EXPECT_EQ(p.content, "");
}

TEST(OutputParser, DeeplyNestedArgumentsAreAnErrorNotAStackOverflow) {
  // Copying or dumping 20k-deep JSON recurses 20k deep; the call is refused, the others kept.
  const std::string deep = std::string(20000, '[') + std::string(20000, ']');
  ParsedOutput p = parse_model_output(
      "<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": " + deep + "}}\n</tool_call>\n" +
      "<tool_call>\n{\"name\": \"b\", \"arguments\": \"" + deep + "\"}\n</tool_call>\n" +
      "<tool_call>\n{\"name\": \"c\", \"arguments\": {}}\n</tool_call>");
  ASSERT_EQ(p.tool_calls.size(), 3u);
  EXPECT_EQ(p.tool_calls[0].error.rfind("tool call: 'arguments.x[0][0]", 0), 0u)
      << p.tool_calls[0].error;
  EXPECT_NE(p.tool_calls[0].error.find("nested deeper than 256 levels"), std::string::npos);
  EXPECT_EQ(p.tool_calls[1].error.rfind("tool call 'b': '[0][0]", 0), 0u) << p.tool_calls[1].error;
  EXPECT_EQ(p.tool_calls[2].error, "");
  EXPECT_EQ(p.tool_calls[2].arguments, "{}");
}

TEST(OutputParser, UnterminatedToolCallIsAnError) {
  ParsedOutput p = parse_model_output("Sure.\n<tool_call>\n{\"name\": \"a\", \"argum");
  EXPECT_EQ(p.content, "Sure.");
  ASSERT_EQ(p.tool_calls.size(), 1u);
  EXPECT_NE(p.tool_calls[0].error.find("unterminated <tool_call>"), std::string::npos);
}

TEST(OutputParser, TextAroundCallsStaysContent) {
  ParsedOutput p = parse_model_output("before <tool_call>{\"name\": \"x\"}</tool_call> after");
  EXPECT_EQ(p.content, "before  after");
  ASSERT_EQ(p.tool_calls.size(), 1u);
}

}  // namespace
}  // namespace longctx::chat
