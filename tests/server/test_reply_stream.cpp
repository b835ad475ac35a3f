// ReplyStream against its definition: the reasoning, content and tool calls it hands out do not
// depend on how the model's text was cut into pieces (every split into two pieces, one byte at a
// time, random cuts with a fixed seed), and they agree with the independent whole-text parser
// chat::parse_model_output wherever the two are meant to agree (reasoning, trimmed content and
// well-formed, terminated tool calls). Where they are documented to differ (a malformed call is
// content text for the stream but a failed call for the parser; an unterminated call that parses
// is a call for the stream but an error for the parser) the stream's own contract is asserted.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "chat/output_parser.h"
#include "server/reply_stream.h"

namespace longctx::server {
namespace {

// A tool call as the tests compare it: its name and compact arguments.
struct Call {
  std::string name, arguments;
  bool operator==(const Call& o) const { return name == o.name && arguments == o.arguments; }
};

// What a whole stream handed out: the concatenations, the calls, and the order of the parts
// (adjacent deltas of the same text kind merged, so the order does not depend on the chunking).
struct Collected {
  std::string content, reasoning;
  std::vector<Call> calls;
  std::vector<std::pair<int, std::string>> parts;  // kind, text (kToolCall: name + arguments)
  bool operator==(const Collected& o) const {
    return content == o.content && reasoning == o.reasoning && calls == o.calls && parts == o.parts;
  }
};

std::ostream& operator<<(std::ostream& os, const Collected& c) {
  os << "{content=\"" << c.content << "\", reasoning=\"" << c.reasoning << "\", calls=[";
  for (const Call& k : c.calls) os << k.name << k.arguments << " ";
  os << "], parts=" << c.parts.size() << "}";
  return os;
}

Collected collect(const std::vector<ReplyDelta>& deltas) {
  Collected c;
  for (const ReplyDelta& d : deltas) {
    std::string text;
    switch (d.kind) {
      case ReplyDelta::kContent:
        c.content += d.text;
        text = d.text;
        break;
      case ReplyDelta::kReasoning:
        c.reasoning += d.text;
        text = d.text;
        break;
      case ReplyDelta::kToolCall:
        EXPECT_TRUE(d.call.error.empty()) << d.call.error;
        c.calls.push_back({d.call.name, d.call.arguments});
        text = d.call.name + d.call.arguments;
        break;
    }
    if (d.kind != ReplyDelta::kToolCall && text.empty()) continue;
    if (d.kind != ReplyDelta::kToolCall && !c.parts.empty() && c.parts.back().first == d.kind) {
      c.parts.back().second += text;
    } else {
      c.parts.emplace_back(static_cast<int>(d.kind), text);
    }
  }
  return c;
}

Collected feed(const ReplyStreamOptions& o, const std::vector<std::string_view>& pieces) {
  ReplyStream s(o);
  std::vector<ReplyDelta> out;
  for (std::string_view p : pieces) s.push(p, &out);
  s.finish(&out);
  return collect(out);
}

Collected feed_whole(const ReplyStreamOptions& o, std::string_view text) { return feed(o, {text}); }

// Every way of cutting `text` into two pieces, one byte at a time, and random cuts (fixed seed):
// each must hand out what feeding the text whole does.
void expect_chunking_invariant(const ReplyStreamOptions& o, std::string_view text,
                               const std::string& label) {
  const Collected whole = feed_whole(o, text);
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    const Collected two = feed(o, {text.substr(0, cut), text.substr(cut)});
    ASSERT_EQ(two, whole) << label << ": split at byte " << cut << " of \"" << text << "\"";
  }
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < text.size(); ++i) bytes.push_back(text.substr(i, 1));
  ASSERT_EQ(feed(o, bytes), whole) << label << ": one byte at a time";
  std::mt19937 rng(20240607);
  for (int trial = 0; trial < 200; ++trial) {
    std::uniform_int_distribution<size_t> len(0, 9);  // empty pieces included
    std::vector<std::string_view> pieces;
    std::string cuts;
    for (size_t at = 0; at < text.size();) {
      const size_t n = std::min(len(rng), text.size() - at);
      pieces.push_back(text.substr(at, n));
      cuts += std::to_string(n) + " ";
      at += n;
    }
    ASSERT_EQ(feed(o, pieces), whole) << label << ": random pieces " << cuts;
  }
}

ReplyStreamOptions chat_opts(bool tools, bool in_think = false) {
  ReplyStreamOptions o;
  o.chat = true;
  o.parse_tools = tools;
  o.starts_in_think = in_think;
  return o;
}

constexpr std::string_view kCallF =
    "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": 1}}\n</tool_call>";

// The whole-text parser's reading, for the cases where stream and parser agree.
void expect_agrees_with_parser(const ReplyStreamOptions& o, std::string_view text,
                               const std::string& label) {
  const Collected got = feed_whole(o, text);
  chat::OutputParseOptions po;
  po.starts_in_think = o.starts_in_think;
  const chat::ParsedOutput want = chat::parse_model_output(text, po);
  EXPECT_EQ(got.content, want.content) << label;
  EXPECT_EQ(got.reasoning, want.reasoning) << label;
  std::vector<Call> want_calls;
  for (const chat::ToolCall& c : want.tool_calls) {
    EXPECT_TRUE(c.error.empty()) << label << ": the parser failed a call: " << c.error;
    want_calls.push_back({c.name, c.arguments});
  }
  EXPECT_EQ(got.calls, want_calls) << label;
}

struct Case {
  std::string label;
  std::string text;
  ReplyStreamOptions opts;
};

// Texts on which the stream and the whole-text parser must agree.
std::vector<Case> agreeing_cases() {
  const std::string f(kCallF);
  const std::string g =
      "<tool_call>\n{\"name\": \"g\", \"arguments\": {\"b\": \"x y\"}}\n</tool_call>";
  return {
      {"thinking + answer", "<think>\nLet me think.\n\nStep two.\n</think>\n\nThe answer is 42.",
       chat_opts(false)},
      {"thinking + answer, tools on",
       "<think>\nLet me think.\n\nStep two.\n</think>\n\nThe answer is 42.", chat_opts(true)},
      {"prompt opened the think block", "still thinking\n</think>\n\nanswer\nline two",
       chat_opts(true, true)},
      {"unterminated thinking", "<think>\nI am still thin", chat_opts(true)},
      {"answer + one call", "I will call f.\n" + f, chat_opts(true)},
      {"one call only", f, chat_opts(true)},
      {"two identical calls", f + "\n" + f, chat_opts(true)},
      {"two calls", "Calling both.\n\n" + f + "\n" + g + "\n", chat_opts(true)},
      {"thinking + call", "<think>\nneed f\n</think>\n\n" + f, chat_opts(true)},
      {"leading/trailing whitespace", "\n\n  \t Hello,\n world.  \n\n \r\n", chat_opts(true)},
      {"leading/trailing whitespace, no tools", "\n \n Hello,\n\n world. \n\n", chat_opts(false)},
      {"partial tag at the end is text", "The answer <tool_ca", chat_opts(true)},
      {"lone '<' at the end", "a < b and c <", chat_opts(true)},
      {"tag-like text", "x <tool x> y </tool_call> z <think> w", chat_opts(true)},
      {"call args as a JSON string",
       "<tool_call>\n{\"name\": \"h\", \"arguments\": \"{\\\"k\\\": [1, 2]}\"}\n</tool_call>",
       chat_opts(true)},
      {"whitespace before <think>", " \n <think>\nx\n</think>\ny", chat_opts(true)},
      {"a tag inside the reasoning", "<think>\nmaybe <tool_call> here\n</think>\n\nno",
       chat_opts(true)},
      {"the prompt opened the block, closed at once", "</think>\n\nanswer", chat_opts(true, true)},
      {"empty reply", "", chat_opts(true)},
      {"only whitespace", " \n\t\r\n ", chat_opts(true)},
      {"CRLF text", "line one\r\nline two\r\n", chat_opts(true)},
      {"a call, then a partial tag", f + "\n<tool_c", chat_opts(true)},
      {"utf-8 text", "<think>\n\xC3\xA9t\xC3\xA9\n</think>\n\n\xE2\x9C\x93 fait \xF0\x9F\x98\x80",
       chat_opts(true)},
  };
}

TEST(ReplyStream, SplitDoesNotDependOnTheChunking) {
  std::vector<Case> cases = agreeing_cases();
  const std::string f(kCallF);
  // Cases where the stream and the parser differ by design are still chunking-invariant.
  const std::string bad = "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": 1}\n</tool_call>";
  cases.push_back({"malformed call", bad, chat_opts(true)});
  cases.push_back({"text + malformed call + text", "Before " + bad + " after", chat_opts(true)});
  cases.push_back({"unterminated call that parses",
                   "Sure.\n<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": 1}}\n",
                   chat_opts(true)});
  cases.push_back({"unterminated call that does not parse",
                   "Sure.\n<tool_call>\n{\"name\": ", chat_opts(true)});
  cases.push_back({"content around a call", "A " + f + " B", chat_opts(true)});
  cases.push_back({"content between calls", f + "\n mid \n" + f + "\nend", chat_opts(true)});
  cases.push_back({"a tag inside a call", "<tool_call><tool_call>\n{\"name\": \"f\"}\n</tool_call>",
                   chat_opts(true)});
  cases.push_back({"tools off", "Text\n" + f + "\nmore", chat_opts(false)});
  ReplyStreamOptions raw;
  raw.chat = false;
  cases.push_back({"raw completion", "  <think>\nx</think>\n" + f + "\n\n", raw});
  for (const Case& c : cases) {
    SCOPED_TRACE(c.label);
    expect_chunking_invariant(c.opts, c.text, c.label);
    if (HasFatalFailure()) return;
  }
}

TEST(ReplyStream, AgreesWithTheWholeTextParser) {
  for (const Case& c : agreeing_cases()) expect_agrees_with_parser(c.opts, c.text, c.label);
}

// The expected values of the agreeing cases, from the definition (not from either parser), so a
// bug both share is caught too.
TEST(ReplyStream, SplitsAsDefined) {
  const Call f{"f", "{\"a\":1}"};
  {
    const Collected c = feed_whole(chat_opts(false),
                                   "<think>\nLet me think.\n\nStep two.\n</think>\n\nThe answer.");
    EXPECT_EQ(c.reasoning, "Let me think.\n\nStep two.");
    EXPECT_EQ(c.content, "The answer.");
    EXPECT_TRUE(c.calls.empty());
    ASSERT_EQ(c.parts.size(), 2u);  // reasoning first, then the content
    EXPECT_EQ(c.parts[0].first, ReplyDelta::kReasoning);
    EXPECT_EQ(c.parts[1].first, ReplyDelta::kContent);
  }
  {
    const Collected c = feed_whole(chat_opts(true), "I will call f.\n" + std::string(kCallF));
    EXPECT_EQ(c.content, "I will call f.");
    EXPECT_EQ(c.calls, std::vector<Call>{f});
  }
  {
    const std::string two = std::string(kCallF) + "\n" + std::string(kCallF);
    const Collected c = feed_whole(chat_opts(true), two);
    EXPECT_EQ(c.content, "");
    EXPECT_EQ(c.calls, (std::vector<Call>{f, f}));
  }
  {
    const Collected c = feed_whole(chat_opts(true), "\n\n  \t Hello,\n world.  \n\n \r\n");
    EXPECT_EQ(c.content, "Hello,\n world.");
  }
  {
    const Collected c = feed_whole(chat_opts(true), "The answer <tool_ca");
    EXPECT_EQ(c.content, "The answer <tool_ca");
    EXPECT_TRUE(c.calls.empty());
  }
  {
    // A call followed by content: the parts keep the model's order.
    const Collected c = feed_whole(chat_opts(true), "One.\n" + std::string(kCallF) + "\nTwo.");
    EXPECT_EQ(c.calls, std::vector<Call>{f});
    ASSERT_EQ(c.parts.size(), 3u);
    EXPECT_EQ(c.parts[0], std::make_pair(int(ReplyDelta::kContent), std::string("One.")));
    EXPECT_EQ(c.parts[1].first, ReplyDelta::kToolCall);
    EXPECT_EQ(c.parts[2].first, ReplyDelta::kContent);
    EXPECT_NE(c.parts[2].second.find("Two."), std::string::npos);
  }
}

// A call that is not valid JSON is the model's text, unchanged: no tool call, and the content is
// exactly what it wrote (outer whitespace of the whole reply trimmed, as for any content).
TEST(ReplyStream, AMalformedCallIsContentTextUnchanged) {
  const std::string bad = "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": 1}\n</tool_call>";
  {
    const Collected c = feed_whole(chat_opts(true), bad);
    EXPECT_TRUE(c.calls.empty());
    EXPECT_EQ(c.content, bad);
  }
  {
    const Collected c = feed_whole(chat_opts(true), "Before:" + bad + " after");
    EXPECT_TRUE(c.calls.empty());
    EXPECT_EQ(c.content, "Before:" + bad + " after");
  }
  // The parser, by contrast, reports the failed call and leaves it out of the content.
  const chat::ParsedOutput p = chat::parse_model_output(bad);
  ASSERT_EQ(p.tool_calls.size(), 1u);
  EXPECT_FALSE(p.tool_calls[0].error.empty());
  EXPECT_EQ(p.content, "");
}

// Whitespace that separates text from a malformed call is part of the text the model wrote: it
// must survive as it does when there is no tag at all.
TEST(ReplyStream, AMalformedCallKeepsTheWhitespaceBeforeIt) {
  const std::string bad = "<tool_call>\n{\"name\": \"f\"\n</tool_call>";
  for (const std::string sep : {"\n", " ", "\n\n"}) {
    const Collected c = feed_whole(chat_opts(true), "Here it is:" + sep + bad);
    EXPECT_TRUE(c.calls.empty());
    EXPECT_EQ(c.content, "Here it is:" + sep + bad);
  }
}

TEST(ReplyStream, AnUnterminatedCallAtTheEndThatParsesIsACall) {
  const std::string text = "Sure.\n<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": 1}}\n";
  const Collected c = feed_whole(chat_opts(true), text);
  EXPECT_EQ(c.content, "Sure.");
  EXPECT_EQ(c.calls, (std::vector<Call>{{"f", "{\"a\":1}"}}));
  // One that does not parse is content, with its tag.
  const Collected d = feed_whole(chat_opts(true), "Sure.\n<tool_call>\n{\"name\": ");
  EXPECT_TRUE(d.calls.empty());
  EXPECT_EQ(d.content.substr(0, 5), "Sure.");
  EXPECT_NE(d.content.find("<tool_call>\n{\"name\":"), std::string::npos) << d.content;
  // The parser reports the unterminated block as a failed call (a documented difference).
  const chat::ParsedOutput p = chat::parse_model_output(text);
  ASSERT_EQ(p.tool_calls.size(), 1u);
  EXPECT_FALSE(p.tool_calls[0].error.empty());
}

TEST(ReplyStream, WithoutToolParsingTagsAreText) {
  const std::string text = "Text\n" + std::string(kCallF) + "\nmore";
  const Collected c = feed_whole(chat_opts(false), text);
  EXPECT_TRUE(c.calls.empty());
  EXPECT_EQ(c.content, text);
}

TEST(ReplyStream, ARawCompletionIsPassedThroughByteForByte) {
  ReplyStreamOptions o;
  o.chat = false;
  o.parse_tools = true;  // ignored for raw text
  const std::string text = "  <think>\nx</think>\n" + std::string(kCallF) + "\n\n \xC3";
  std::mt19937 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    ReplyStream s(o);
    std::vector<ReplyDelta> out;
    for (size_t at = 0; at < text.size();) {
      const size_t n = std::min<size_t>(rng() % 6, text.size() - at);
      s.push(std::string_view(text).substr(at, n), &out);
      at += n;
    }
    s.finish(&out);
    std::string got;
    for (const ReplyDelta& d : out) {
      EXPECT_EQ(d.kind, ReplyDelta::kContent);
      got += d.text;
    }
    ASSERT_EQ(got, text) << "trial " << trial;
  }
}

}  // namespace
}  // namespace longctx::server
