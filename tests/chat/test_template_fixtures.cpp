// Byte-exact agreement with jinja2 configured as Hugging Face's apply_chat_template: the real
// Qwen3 and Qwen2.5 templates over many conversations, and one synthetic template per feature.
// Fixtures: tests/chat/data/*.json from tools/chat_make_fixtures.py (command in data/README.md).
#include <gtest/gtest.h>

#include <string>

#include "chat/chat_template.h"
#include "core/file_io.h"

namespace longctx::chat {
namespace {

Json load_fixture(const std::string& name) {
  auto text = read_file(std::string(LONGCTX_TEST_DATA_DIR) + "/" + name);
  EXPECT_TRUE(text.is_ok()) << text.status().message();
  return text.is_ok() ? Json::parse(*text) : Json();
}

// How many cases of each kind a fixture file held: the minimums asserted below catch a fixture
// regenerated with cases silently lost (e.g. every error case dropped).
struct CaseCounts {
  int rendered = 0;  // "expected": byte-exact output
  int errors = 0;    // "error": jinja2 raised, so must we
};

// Renders every case; a case with "expected" must match byte for byte, a case with "error"
// (what jinja2 raised) must fail, with the message kept for raise_exception. A failing case
// does not stop the others from being checked.
CaseCounts check_cases(const Json& cases, const std::string* shared_template) {
  CaseCounts counts;
  for (const auto& c : cases) {
    const std::string name = c.value("name", "");
    SCOPED_TRACE("case " + name);
    EXPECT_NE(c.contains("expected"), c.contains("error")) << "needs exactly one of the two";
    const std::string source =
        shared_template ? *shared_template : c["template"].get<std::string>();
    auto tmpl = ChatTemplate::parse(source);
    Result<std::string> out =
        tmpl.is_ok() ? tmpl->render(c["context"]) : Result<std::string>(tmpl.status());
    if (c.contains("expected")) {
      ++counts.rendered;
      EXPECT_TRUE(out.is_ok()) << out.status().message();
      if (out.is_ok()) {
        EXPECT_EQ(*out, c["expected"].get<std::string>());
      }
    } else if (c.contains("error")) {
      ++counts.errors;
      const std::string err = c["error"];
      EXPECT_FALSE(out.is_ok()) << "jinja2 raised " << err << " but we rendered: " << *out;
      if (!out.is_ok() && err.rfind("TemplateError: ", 0) == 0) {
        EXPECT_NE(out.status().message().find(err.substr(15)), std::string::npos)
            << out.status().message();
      }
    }
  }
  return counts;
}

TEST(ChatTemplateFixtures, Qwen3MatchesJinja2) {
  Json f = load_fixture("qwen3_cases.json");
  const std::string tmpl = f["template"];
  CaseCounts n = check_cases(f["cases"], &tmpl);
  EXPECT_GE(n.rendered, 29);  // the file holds 29 rendered conversations and 1 rejected one
  EXPECT_GE(n.errors, 1);
}

TEST(ChatTemplateFixtures, Qwen25MatchesJinja2) {
  Json f = load_fixture("qwen25_cases.json");
  const std::string tmpl = f["template"];
  CaseCounts n = check_cases(f["cases"], &tmpl);
  EXPECT_GE(n.rendered, 26);  // 26 rendered, 1 rejected
  EXPECT_GE(n.errors, 1);
}

TEST(ChatTemplateFixtures, FixtureTemplatesAreTheShippedOnes) {
  // The fixtures embed the template they were rendered with; it must still be the shipped one.
  for (const char* name : {"qwen3_cases.json", "qwen25_cases.json"}) {
    Json f = load_fixture(name);
    auto config = read_file(std::string(LONGCTX_SOURCE_DIR) + "/" + f["source"].get<std::string>());
    ASSERT_TRUE(config.is_ok()) << config.status().message();
    auto src = template_source_from_config(Json::parse(*config));
    ASSERT_TRUE(src.is_ok()) << src.status().message();
    EXPECT_EQ(src->chat_template, f["template"].get<std::string>()) << name;
  }
}

TEST(ChatTemplateFixtures, JinjaFeaturesMatchJinja2) {
  Json f = load_fixture("jinja_features.json");
  CaseCounts n = check_cases(f["cases"], nullptr);
  EXPECT_GE(n.rendered, 61);  // 61 feature templates rendered, 9 that jinja2 rejects
  EXPECT_GE(n.errors, 9);
}

}  // namespace
}  // namespace longctx::chat
