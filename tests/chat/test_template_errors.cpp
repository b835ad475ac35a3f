// Interpreter failure modes: syntax errors name the line, runaway loops / recursion / output
// are stopped by the limits, raise_exception surfaces its message, and an unsupported template
// falls back to ChatML with a warning.
#include <gtest/gtest.h>

#include <ctime>
#include <string>

#include "chat/chat_template.h"

namespace longctx::chat {
namespace {

std::string parse_error(const std::string& src) {
  auto t = ChatTemplate::parse(src);
  EXPECT_FALSE(t.is_ok()) << "parsed: " << src;
  return t.is_ok() ? "" : t.status().message();
}

std::string render_error(const std::string& src, const Json& ctx = Json::object(),
                         const RenderLimits& limits = {}) {
  auto t = ChatTemplate::parse(src);
  EXPECT_TRUE(t.is_ok()) << t.status().message();
  if (!t.is_ok()) return "";
  auto out = t->render(ctx, limits);
  EXPECT_FALSE(out.is_ok()) << "rendered: " << (out.is_ok() ? *out : "");
  return out.is_ok() ? "" : out.status().message();
}

TEST(TemplateErrors, SyntaxErrorsNameTheLine) {
  EXPECT_NE(parse_error("a\n{% if x %}\nb\n{% endfor %}").find("line 4"), std::string::npos);
  std::string e = parse_error("a\nb\n{{ 1 + }}");
  EXPECT_NE(e.find("line 3"), std::string::npos) << e;
  e = parse_error("x\n{% for m in messages %}\nbody\n");
  EXPECT_NE(e.find("expected 'endfor'"), std::string::npos) << e;
  EXPECT_NE(e.find("opened at line 2"), std::string::npos) << e;
  EXPECT_NE(parse_error("\n\n{{ 'unterminated }}").find("line 3: unterminated string"),
            std::string::npos);
  EXPECT_NE(parse_error("{# never closed").find("unterminated comment"), std::string::npos);
  EXPECT_NE(parse_error("{{ x ").find("unterminated tag"), std::string::npos);
  EXPECT_NE(parse_error("{% include 'other.j2' %}").find("unsupported statement 'include'"),
            std::string::npos);
  EXPECT_NE(parse_error("{% break %}").find("outside of a for loop"), std::string::npos);
  EXPECT_NE(parse_error("{{ a ? b }}").find("unexpected character '?'"), std::string::npos);
}

TEST(TemplateErrors, RenderErrorsNameTheLine) {
  std::string e = render_error("ok\n{{ 'a' }}\n{{ 'a' + none }}");
  EXPECT_NE(e.find("line 3"), std::string::npos) << e;
  EXPECT_NE(e.find("NoneType"), std::string::npos) << e;
  e = render_error("{{ x|no_such_filter }}");
  EXPECT_NE(e.find("no_such_filter"), std::string::npos) << e;
  e = render_error("{{ nothing.attr }}");
  EXPECT_NE(e.find("'nothing' is undefined"), std::string::npos) << e;
}

TEST(TemplateErrors, DeepNestingIsRejectedNotRecursed) {
  // 100k nested parentheses / blocks would overflow the stack of a naive recursive parser.
  std::string parens = "{{ " + std::string(100000, '(') + "1" + std::string(100000, ')') + " }}";
  EXPECT_NE(parse_error(parens).find("nesting deeper than"), std::string::npos);
  std::string ifs;
  for (int k = 0; k < 5000; ++k) ifs += "{% if true %}";
  EXPECT_NE(parse_error(ifs).find("nesting deeper than"), std::string::npos);
  std::string nots = "{{ " + [] {
    std::string s;
    for (int k = 0; k < 50000; ++k) s += "not ";
    return s;
  }() + "x }}";
  EXPECT_NE(parse_error(nots).find("nesting deeper than"), std::string::npos);
}

TEST(TemplateErrors, RunawayLoopsAreStopped) {
  RenderLimits limits;
  limits.max_steps = 200000;  // small so the test is quick; the default is 2 million
  std::string e = render_error(
      "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
      Json::object(), limits);
  EXPECT_NE(e.find("more than 200000 steps"), std::string::npos) << e;
}

TEST(TemplateErrors, RunawayRecursionIsStopped) {
  std::string e = render_error("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
  EXPECT_NE(e.find("nested deeper than"), std::string::npos) << e;
}

TEST(TemplateErrors, OutputAndStringSizeAreBounded) {
  RenderLimits limits;
  limits.max_output_bytes = 1 << 20;
  std::string e =
      render_error("{% for i in range(100000) %}{{ 'xxxxxxxxxxxxxxxxxxxx' }}{% endfor %}",
                   Json::object(), limits);
  EXPECT_NE(e.find("output exceeds 1048576 bytes"), std::string::npos) << e;
  e = render_error("{{ 'x' * 10000000000 }}");
  EXPECT_NE(e.find("too large"), std::string::npos) << e;
  e = render_error("{{ 2 ** 100 }}");
  EXPECT_NE(e.find("overflow"), std::string::npos) << e;
  e = render_error("{{ range(100001)|length }}");
  EXPECT_NE(e.find("MAX_RANGE (100000)"), std::string::npos) << e;
}

TEST(TemplateErrors, RaiseExceptionSurfacesItsMessage) {
  Json ctx = {{"messages", Json::array()}};
  const char* src =
      "{% if not messages %}{{ raise_exception('Conversation roles must alternate!') }}{% endif %}";
  std::string e = render_error(src, ctx);
  EXPECT_EQ(e, "raise_exception: Conversation roles must alternate!");
  // render_prompt returns it as an error: the template rejected the conversation on purpose.
  auto r = render_prompt(src, ctx);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(), e);
}

TEST(TemplateErrors, UnsupportedTemplateFallsBackToChatMLWithWarning) {
  Json ctx = {
      {"messages", {{{"role", "system"}, {"content", "S"}}, {{"role", "user"}, {"content", "U"}}}},
      {"add_generation_prompt", true}};
  const std::string chatml =
      "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n";
  for (const char* src : {"{% include 'x' %}", "{{ messages|no_such_filter }}"}) {
    auto r = render_prompt(src, ctx);
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    EXPECT_TRUE(r->used_fallback) << src;
    EXPECT_EQ(r->text, chatml);
    EXPECT_NE(r->warning.find("using plain ChatML"), std::string::npos);
  }
  auto ok = render_prompt("{% for m in messages %}{{ m.content }}{% endfor %}", ctx);
  ASSERT_TRUE(ok.is_ok());
  EXPECT_FALSE(ok->used_fallback);
  EXPECT_EQ(ok->text, "SU");
}

}  // namespace
}  // namespace longctx::chat

namespace longctx::chat {
namespace {

// strftime_now is the one built-in whose output depends on the clock, so it is checked against
// the local time here instead of a fixture.
TEST(TemplateBuiltins, StrftimeNowFormatsTheLocalTime) {
  auto t = ChatTemplate::parse("{{ strftime_now('%Y') }}|{{ strftime_now('%d %B') | length > 3 }}");
  ASSERT_TRUE(t.is_ok());
  auto out = t->render(Json::object());
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  EXPECT_EQ(*out, std::to_string(1900 + tm.tm_year) + "|True");
}

}  // namespace
}  // namespace longctx::chat
