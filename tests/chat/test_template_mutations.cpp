// Robustness: thousands of randomly mutated copies of the real Qwen3 template (deterministic
// seed) must each either render or fail with a Status; syntax errors must name a line inside
// the template. Run under ASan/UBSan this is the in-tree stand-in for a template fuzzer.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <regex>
#include <string>

#include "chat/chat_template.h"
#include "core/file_io.h"

namespace longctx::chat {
namespace {

std::string mutate(std::string s, std::mt19937& rng) {
  static const char* kInserts[] = {"{%", "%}", "{{", "}}", "{#", "#}",    "(",    ")",      "[",
                                   "]",  "'",  "\"", "-",  "+",  "not ",  " if ", "endfor", "endif",
                                   "|",  "**", ".",  ",",  "\n", "loop.", "ns.",  "~"};
  const int n_edits = 1 + static_cast<int>(rng() % 3);
  for (int e = 0; e < n_edits && !s.empty(); ++e) {
    size_t pos = rng() % s.size();
    size_t len = 1 + rng() % 8;
    switch (rng() % 3) {
      case 0:
        s.erase(pos, len);
        break;
      case 1:
        s.insert(pos, s.substr(pos, len));
        break;
      default:
        s.insert(pos, kInserts[rng() % std::size(kInserts)]);
    }
  }
  return s;
}

TEST(TemplateMutations, MutatedQwen3TemplatesFailCleanly) {
  auto fixture = read_file(std::string(LONGCTX_TEST_DATA_DIR) + "/qwen3_cases.json");
  ASSERT_TRUE(fixture.is_ok());
  Json f = Json::parse(*fixture);
  const std::string base = f["template"];
  Json context;
  for (const auto& c : f["cases"]) {
    if (c["name"] == "multi_step_last_query_is_tool_response") context = c["context"];
  }
  ASSERT_TRUE(context.is_object());
  const std::regex syntax_error("^template syntax error at line ([0-9]+): [\\s\\S]+");
  RenderLimits limits;
  limits.max_steps = 100000;
  limits.max_output_bytes = 1 << 20;
  std::mt19937 rng(20240601);
  int parsed = 0, syntax_errors = 0, rendered = 0, render_errors = 0;
  for (int k = 0; k < 1500; ++k) {
    const std::string src = mutate(base, rng);
    const int n_lines = 1 + static_cast<int>(std::count(src.begin(), src.end(), '\n'));
    auto t = ChatTemplate::parse(src);
    if (!t.is_ok()) {
      ++syntax_errors;
      std::smatch m;
      const std::string& msg = t.status().message();
      ASSERT_TRUE(std::regex_match(msg, m, syntax_error)) << msg;
      const int line = std::stoi(m[1]);
      EXPECT_GE(line, 1) << msg;
      EXPECT_LE(line, n_lines) << msg;
      continue;
    }
    ++parsed;
    auto out = t->render(context, limits);
    if (out.is_ok()) {
      ++rendered;
    } else {
      ++render_errors;
      EXPECT_FALSE(out.status().message().empty());
    }
  }
  // The mutations must exercise both the parser's error paths and the evaluator.
  EXPECT_GT(syntax_errors, 100);
  EXPECT_GT(rendered, 100);
  EXPECT_GT(render_errors, 10);
  EXPECT_EQ(parsed, rendered + render_errors);
}

}  // namespace
}  // namespace longctx::chat
