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

// Renders every case; a case with "expected" must match byte for byte, a case with "error"
// (what jinja2 raised) must fail, with the message kept for raise_exception.
void check_cases(const Json& cases, const std::string* shared_template) {
  int checked = 0;
  for (const auto& c : cases) {
    const std::string name = c["name"];
    SCOPED_TRACE("case " + name);
    const std::string source =
        shared_template ? *shared_template : c["template"].get<std::string>();
    auto tmpl = ChatTemplate::parse(source);
    Result<std::string> out =
        tmpl.is_ok() ? tmpl->render(c["context"]) : Result<std::string>(tmpl.status());
    if (c.contains("expected")) {
      ASSERT_TRUE(out.is_ok()) << out.status().message();
      EXPECT_EQ(*out, c["expected"].get<std::string>());
    } else {
      const std::string err = c["error"];
      EXPECT_FALSE(out.is_ok()) << "jinja2 raised " << err << " but we rendered: " << *out;
      if (!out.is_ok() && err.rfind("TemplateError: ", 0) == 0) {
        EXPECT_NE(out.status().message().find(err.substr(15)), std::string::npos)
            << out.status().message();
      }
    }
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(cases.size()));
}

TEST(ChatTemplateFixtures, Qwen3MatchesJinja2) {
  Json f = load_fixture("qwen3_cases.json");
  ASSERT_GE(f["cases"].size(), 25u);
  const std::string tmpl = f["template"];
  check_cases(f["cases"], &tmpl);
}

TEST(ChatTemplateFixtures, Qwen25MatchesJinja2) {
  Json f = load_fixture("qwen25_cases.json");
  ASSERT_GE(f["cases"].size(), 25u);
  const std::string tmpl = f["template"];
  check_cases(f["cases"], &tmpl);
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
  ASSERT_GE(f["cases"].size(), 50u);
  check_cases(f["cases"], nullptr);
}

}  // namespace
}  // namespace longctx::chat
