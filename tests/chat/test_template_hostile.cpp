// Hostile input must end in a clear error, not a crash, hang or runaway allocation: deeply
// nested request JSON, very long operator/postfix/filter chains, deep or exponentially shared
// template values, huge list concatenations, and chat_template_kwargs that clash with the
// validated request fields. Limits are set small where that keeps the tests fast.
#include <gtest/gtest.h>

#include <string>

#include "chat/chat_template.h"
#include "chat/value.h"

namespace longctx::chat {
namespace {

std::string nested_array(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string render_error(const std::string& src, const RenderLimits& limits = {}) {
  auto t = ChatTemplate::parse(src);
  EXPECT_TRUE(t.is_ok()) << t.status().message();
  if (!t.is_ok()) return "";
  auto out = t->render(Json::object(), limits);
  EXPECT_FALSE(out.is_ok()) << "rendered " << (out.is_ok() ? out->size() : 0) << " bytes";
  return out.is_ok() ? "" : out.status().message();
}

std::string parse_error(const std::string& src) {
  auto t = ChatTemplate::parse(src);
  EXPECT_FALSE(t.is_ok()) << "parsed a template of " << src.size() << " bytes";
  return t.is_ok() ? "" : t.status().message();
}

TemplateSource qwen_like() {
  TemplateSource s;
  s.chat_template = "{% for m in messages %}{{ m.content }}{% endfor %}";
  s.eos_token = "<|im_end|>";
  return s;
}

// The request root is level 1, "tools" 2, tools[0] 3, "function" 4: parameters nested n deep
// reach level 4 + n, and kMaxValueDepth levels are accepted.
std::string request_with_parameters(int n) {
  return R"({"messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function",
             "function": {"name": "f", "parameters": )" +
         nested_array(n) + "}}]}";
}

TEST(TemplateHostileInput, DeeplyNestedRequestIsRejectedNamingTheField) {
  auto deep = context_from_request(Json::parse(request_with_parameters(20000)), qwen_like());
  ASSERT_FALSE(deep.is_ok());
  EXPECT_TRUE(contains(deep.status().message(), "tools[0].function.parameters"))
      << deep.status().message();
  EXPECT_TRUE(contains(deep.status().message(), "deeper than 256")) << deep.status().message();
  // Exactly at the limit is fine, and the context then converts to template values.
  auto edge =
      context_from_request(Json::parse(request_with_parameters(kMaxValueDepth - 4)), qwen_like());
  ASSERT_TRUE(edge.is_ok()) << edge.status().message();
  EXPECT_TRUE(Value::from_json(*edge).is_ok());
  EXPECT_FALSE(
      context_from_request(Json::parse(request_with_parameters(kMaxValueDepth - 3)), qwen_like())
          .is_ok());

  // Tool-call arguments sent as a JSON string are decoded, and checked after decoding.
  Json req = Json::parse(R"({"messages": [{"role": "assistant", "content": null,
      "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": ""}}]}]})");
  req["messages"][0]["tool_calls"][0]["function"]["arguments"] =
      "{\"a\": " + nested_array(20000) + "}";
  auto args = context_from_request(req, qwen_like());
  ASSERT_FALSE(args.is_ok());
  EXPECT_EQ(args.status().message().rfind(
                "request: messages[0].tool_calls[0].function.arguments (decoded): 'a[0][0]", 0),
            0u)
      << args.status().message();
}

TEST(TemplateHostileInput, DeepTemplateContextIsAnErrorNotACrash) {
  Json ctx = Json::parse("{\"x\": " + nested_array(20000) + "}");
  auto t = ChatTemplate::parse("{{ x }}");
  ASSERT_TRUE(t.is_ok());
  auto out = t->render(ctx);
  ASSERT_FALSE(out.is_ok());
  EXPECT_TRUE(contains(out.status().message(), "'x[0][0][0]")) << out.status().message();
  EXPECT_TRUE(contains(out.status().message(), "deeper than 256")) << out.status().message();
}

std::string chain(const std::string& head, const std::string& link, int n) {
  std::string s = head;
  s.reserve(head.size() + link.size() * static_cast<size_t>(n));
  for (int k = 0; k < n; ++k) s += link;
  return s;
}

TEST(TemplateHostileInput, LongOperatorChainsAreRejectedByTheParser) {
  // Each loop-built chain (left-deep tree) counts towards the parser's nesting limit (128), so
  // a long chain fails at link ~128 instead of building a tree whose destructor overflows. 30k
  // links are plenty to overflow a recursive destructor (under ASan) and keep the test fast.
  for (const std::string link : {"+1", "-1", "~1", "*1", "**1", " and 1", " or 1", ".a", "[0]",
                                 "()", "|e", " is defined", " if 1"}) {
    SCOPED_TRACE(link);
    const int n = link == "+1" ? 300000 : 30000;
    std::string e = parse_error("{% if false %}{{ " + chain("1", link, n) + " }}{% endif %}");
    EXPECT_TRUE(contains(e, "nesting deeper than 128")) << e;
  }
  // Chains within the limit still parse and evaluate: 100 terms of 1.
  auto t = ChatTemplate::parse("{{ " + chain("1", "+1", 99) + " }}|{{ (" +
                               chain("'a'", "~'a'", 99) + ")|length }}");
  ASSERT_TRUE(t.is_ok()) << t.status().message();
  auto out = t->render(Json::object());
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(*out, "100|100");
}

TEST(TemplateHostileInput, LargestAcceptedExpressionsAreFreedWithoutDeepRecursion) {
  // Chains at every precedence level, each just under the limit and nested in each other's
  // operands: the tree is as tall as the parser allows; parsing and freeing it must be fine
  // (run under ASan, whose larger frames would overflow first), and evaluation stops at the
  // evaluator's depth limit with an error.
  std::string e = "x";
  for (const std::string link : {"|e", ".a", "**1", "*1", "~1", "+1", " and 1", " or 1"}) {
    std::string wrapped = chain(e, link, 100);
    wrapped.insert(wrapped.begin(), '(');
    wrapped.push_back(')');
    e = std::move(wrapped);
  }
  auto t = ChatTemplate::parse("{{ " + e + " }}");
  ASSERT_TRUE(t.is_ok()) << t.status().message();
  auto out = t->render(Json::object());
  ASSERT_FALSE(out.is_ok());
  EXPECT_TRUE(contains(out.status().message(), "recursion deeper than")) << out.status().message();
}

// A value nested `levels` deep, built five levels per loop iteration through a namespace.
std::string deep_dicts(const std::string& name, int levels) {
  return "{% set " + name + " = namespace(x=1) %}{% for i in range(" + std::to_string(levels / 5) +
         ") %}{% set " + name + ".x = {'a': {'a': {'a': {'a': {'a': " + name +
         ".x}}}}} %}{% endfor %}";
}

TEST(TemplateHostileInput, DeepTemplateValuesAreBoundedWhenPrinted) {
  const std::string build = deep_dicts("ns", 100000);
  std::string e = render_error(build + "{{ ns.x }}");
  EXPECT_TRUE(contains(e, "nested deeper than 256")) << e;
  e = render_error(build + "{{ ns.x|string }}");
  EXPECT_TRUE(contains(e, "nested deeper than 256")) << e;
  e = render_error(build + "{{ ns.x|tojson }}");
  EXPECT_TRUE(contains(e, "nested deeper than")) << e;
  e = render_error(build + "{{ [ns.x]|join }}");
  EXPECT_TRUE(contains(e, "nested deeper than 256")) << e;
  // A value 200 deep still prints, as Python would.
  auto t = ChatTemplate::parse(deep_dicts("ns", 200) + "{{ (ns.x|string)|length }}");
  ASSERT_TRUE(t.is_ok());
  auto out = t->render(Json::object());
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(*out, std::to_string(200 * 7 + 1));  // "{'a': " per level, "1", "}" per level
}

TEST(TemplateHostileInput, DeepTemplateValuesAreBoundedWhenCompared) {
  // 20k levels each (the printing test above covers freeing 100k) keep this fast under ASan.
  const std::string build = deep_dicts("ns", 20000) + deep_dicts("other", 20000);
  std::string e = render_error(build + "{{ ns.x == other.x }}");
  EXPECT_TRUE(contains(e, "nested deeper than 256")) << e;
  e = render_error(build + "{{ ns.x in [other.x] }}");
  EXPECT_TRUE(contains(e, "nested deeper than 256")) << e;
  e = render_error(build + "{{ [ns.x] < [other.x] }}");
  EXPECT_TRUE(contains(e, "nested deeper than 256")) << e;
  // Python compares a value with itself item by item, taking identical items as equal without
  // looking inside, so jinja2 renders True here; so do we.
  auto t = ChatTemplate::parse(deep_dicts("ns", 100000) + "{{ ns.x == ns.x }}");
  ASSERT_TRUE(t.is_ok());
  auto out = t->render(Json::object());
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(*out, "True");
}

TEST(TemplateHostileInput, ListConcatenationIsCapped) {
  RenderLimits limits;
  limits.max_output_bytes = 1 << 20;  // caps lists at (1 MiB / sizeof(Value)) items
  const std::string doubling =
      "{% set ns = namespace(x=[1]) %}{% for i in range(40) %}{% set ns.x = ns.x + ns.x %}"
      "{% endfor %}";
  std::string e = render_error(doubling, limits);
  EXPECT_TRUE(contains(e, "list too long")) << e;
  // Below the cap the result is exact: 2^10 items.
  auto t = ChatTemplate::parse(
      "{% set ns = namespace(x=[1]) %}{% for i in range(10) %}{% set ns.x = ns.x + ns.x %}"
      "{% endfor %}{{ ns.x|length }}");
  ASSERT_TRUE(t.is_ok());
  auto out = t->render(Json::object(), limits);
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(*out, "1024");
}

TEST(TemplateHostileInput, SharedSubValuesCannotBlowUpPrintingOrComparing) {
  // [x, x] forty times is 2^40 leaves when printed: the output budget stops it early.
  RenderLimits limits;
  limits.max_output_bytes = 1 << 20;
  auto doubling = [](const std::string& name) {
    return "{% set " + name + " = namespace(x=[1]) %}{% for i in range(40) %}{% set " + name +
           ".x = [" + name + ".x, " + name + ".x] %}{% endfor %}";
  };
  for (const std::string print : {"{{ ns.x|tojson }}", "{{ ns.x|string }}", "{{ ns.x }}",
                                  "{{ ns.x|tojson(indent=2) }}", "{{ [ns.x]|join }}"}) {
    SCOPED_TRACE(print);
    std::string e = render_error(doubling("ns") + print, limits);
    EXPECT_TRUE(contains(e, "exceeds 1048576 bytes")) << e;
  }
  // Two separately built (not identical) copies: comparing them visits 2^40 pairs; capped.
  std::string e = render_error(doubling("ns") + doubling("other") + "{{ ns.x == other.x }}");
  EXPECT_TRUE(contains(e, "comparison visits more than")) << e;
}

TEST(TemplateHostileInput, ChatTemplateKwargsCannotBypassValidation) {
  auto conv = [](const std::string& body) {
    return context_from_request(Json::parse(body), qwen_like());
  };
  const std::string msgs = R"("messages": [{"role": "user", "content": "hi"}])";
  auto r = conv("{" + msgs + R"(, "chat_template_kwargs": {"add_generation_prompt": "no"}})");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(),
            "request: 'chat_template_kwargs.add_generation_prompt' must be a boolean");
  for (const std::string key : {"messages", "tools", "documents"}) {
    r = conv("{" + msgs + R"(, "chat_template_kwargs": {")" + key + R"(": 5}})");
    ASSERT_FALSE(r.is_ok()) << key;
    EXPECT_EQ(r.status().message(), "request: 'chat_template_kwargs." + key +
                                        "' is not allowed: set the request's own '" + key +
                                        "' instead");
  }
  // A boolean add_generation_prompt in the kwargs is still merged last, as HF does.
  r = conv("{" + msgs + R"(, "chat_template_kwargs": {"add_generation_prompt": false}})");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ((*r)["add_generation_prompt"], false);
}

TEST(TemplateHostileInput, NoJsonExceptionEscapesThePublicApi) {
  // The ChatML fallback reads add_generation_prompt from whatever context it is given.
  Json ctx = Json::parse(R"({"messages": [{"role": "user", "content": "hi"}],
                             "add_generation_prompt": "no"})");
  std::string chatml;
  EXPECT_NO_THROW(chatml = render_chatml(ctx));
  EXPECT_EQ(chatml, "<|im_start|>user\nhi<|im_end|>\n");
  Result<RenderedPrompt> prompt = invalid_argument("unset");
  EXPECT_NO_THROW(prompt = render_prompt("{{ x", ctx));  // unparsable: falls back to ChatML
  ASSERT_TRUE(prompt.is_ok());
  EXPECT_TRUE(prompt->used_fallback);
  // A tokenizer_config whose chat_template list has a non-string name.
  Json config = Json::parse(R"({"chat_template": [{"name": 5, "template": "x"}]})");
  Result<TemplateSource> src = invalid_argument("unset");
  EXPECT_NO_THROW(src = template_source_from_config(config));
  ASSERT_FALSE(src.is_ok());
  EXPECT_TRUE(contains(src.status().message(), "no 'default' entry")) << src.status().message();
}

}  // namespace
}  // namespace longctx::chat
