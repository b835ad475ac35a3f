// The chat formats known by name (`serve --chat-template NAME`) against llama-server's own
// formatter for the same names: tests/chat/data/builtin_templates.json, made by
// tools/chat_builtin_fixtures.py (command in its docstring and in data/README.md).
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "chat/builtin_templates.h"
#include "chat/chat_template.h"
#include "core/file_io.h"

namespace longctx::chat {
namespace {

TEST(BuiltinTemplates, RenderWhatLlamaServerRenders) {
  auto text = read_file(std::string(LONGCTX_TEST_DATA_DIR) + "/builtin_templates.json");
  ASSERT_TRUE(text.is_ok()) << text.status().message();
  const Json fixture = Json::parse(*text);
  std::set<std::string> names;
  int checked = 0;
  for (const Json& c : fixture["cases"]) {
    const std::string name = c["name"];
    SCOPED_TRACE(name + ": " + c["messages"].dump());
    names.insert(name);
    const auto source = builtin_chat_template(name);
    ASSERT_TRUE(source.has_value()) << "no built-in format named " << name;
    auto tmpl = ChatTemplate::parse(*source);
    ASSERT_TRUE(tmpl.is_ok()) << tmpl.status().message();
    Json ctx = {{"messages", c["messages"]}, {"add_generation_prompt", true}};
    auto out = tmpl->render(ctx);
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    EXPECT_EQ(*out, c["prompt"].get<std::string>());
    ++checked;
  }
  // Every format has its cases (a regenerated fixture that lost some would pass silently).
  EXPECT_EQ(names.size(), 16u);
  EXPECT_GE(checked, 16 * 5);
  for (const std::string& n : names) {
    EXPECT_NE(builtin_chat_template_names().find(n), std::string::npos) << n;
  }
}

TEST(BuiltinTemplates, UnknownNamesAreNotFormats) {
  EXPECT_FALSE(builtin_chat_template("llama-3").has_value());
  EXPECT_FALSE(builtin_chat_template("").has_value());
  EXPECT_FALSE(builtin_chat_template("CHATML").has_value());
}

}  // namespace
}  // namespace longctx::chat
