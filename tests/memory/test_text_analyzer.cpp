// TextAnalyzer: words, folding, stems that join word forms, stop words, CJK bigrams, dates.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "memory/text_analyzer.h"

namespace longctx::memory {
namespace {

std::vector<std::string> terms(const TextAnalyzer& a, std::string_view text) {
  std::vector<std::string> out;
  a.index_terms(text, [&](std::string_view t, int, int) { out.emplace_back(t); });
  return out;
}

std::string one_term(const TextAnalyzer& a, std::string_view word) {
  std::vector<std::string> t = terms(a, word);
  return t.size() == 1 ? t[0] : "<" + std::to_string(t.size()) + " terms>";
}

TEST(TextAnalyzer, WordsAreFoldedAndSplitAtDigitLetterChanges) {
  const TextAnalyzer a;
  std::vector<std::string> got;
  for (const Word& w : a.words("Olga’s NEW flat: 3pm, ＡＢＣ don't-stop Ёлка"))
    got.push_back(w.folded);
  EXPECT_EQ(got, (std::vector<std::string>{"olga's", "new", "flat", "3", "pm", "abc", "don't",
                                           "stop", "елка"}));
}

TEST(TextAnalyzer, EnglishWordFormsShareAStem) {
  const TextAnalyzer a;
  EXPECT_EQ(one_term(a, "moved"), one_term(a, "moving"));
  EXPECT_EQ(one_term(a, "moved"), one_term(a, "moves"));
  EXPECT_EQ(one_term(a, "adopted"), one_term(a, "adopting"));
  EXPECT_EQ(one_term(a, "puppies"), one_term(a, "puppy"));
  EXPECT_EQ(one_term(a, "Olga's"), one_term(a, "olga"));
}

TEST(TextAnalyzer, RussianCaseFormsShareAStem) {
  const TextAnalyzer a;
  EXPECT_EQ(one_term(a, "Казань"), one_term(a, "Казани"));
  EXPECT_EQ(one_term(a, "Казань"), one_term(a, "Казанью"));
  EXPECT_EQ(one_term(a, "собака"), one_term(a, "собаку"));
  EXPECT_EQ(one_term(a, "купила"), one_term(a, "купил"));
}

TEST(TextAnalyzer, StopWordsAreDropped) {
  const TextAnalyzer a;
  EXPECT_EQ(terms(a, "what did you do with the car"), (std::vector<std::string>{"car"}));
  EXPECT_EQ(terms(a, "что ты сделал с машиной").size(), 2u);  // сделал, машиной
  // Query-only words are indexed but left out of queries.
  EXPECT_EQ(terms(a, "remember").size(), 1u);
  EXPECT_TRUE(a.query_words("Do you remember what Olga said?") ==
              (std::vector<std::string>{"olga"}));
}

TEST(TextAnalyzer, ChineseIsCutIntoCharactersAndBigrams) {
  const TextAnalyzer a;
  // 了 is a function character: alone it is dropped, in a pair with a content character kept.
  EXPECT_EQ(terms(a, "马克买了"),
            (std::vector<std::string>{"马", "马克", "克", "克买", "买", "买了"}));
  // A pair of two function characters goes.
  EXPECT_EQ(terms(a, "我们"), std::vector<std::string>{});
  EXPECT_EQ(terms(a, "猫"), (std::vector<std::string>{"猫"}));
  // A number with its unit is one word, as written in dates.
  EXPECT_EQ(terms(a, "2024年3月"), (std::vector<std::string>{"2024年", "3月"}));
  // Words sharing a character meet on it.
  std::vector<std::string> move_to = terms(a, "搬到"), move_house = terms(a, "搬家");
  EXPECT_EQ(move_to.front(), move_house.front());
}

TEST(TextAnalyzer, IsoDatesExpandToTheWordsAQuestionUses) {
  const TextAnalyzer a;
  const std::vector<std::string> t = terms(a, "2024-03-07T18:42:00");
  auto has = [&](const std::string& s) { return std::find(t.begin(), t.end(), s) != t.end(); };
  EXPECT_TRUE(has("2024"));
  EXPECT_TRUE(has(one_term(a, "March")));
  EXPECT_TRUE(has(one_term(a, "марте")));
  EXPECT_TRUE(has("3月"));
  EXPECT_TRUE(has("7"));
  EXPECT_TRUE(has("2024年"));
  EXPECT_FALSE(has("18"));  // the time of day is not a term
  EXPECT_FALSE(has("42"));
  // "08" in a date and "8" in "8 May" are one number.
  EXPECT_EQ(one_term(a, "08"), "8");
}

TEST(TextAnalyzer, InvalidUtf8SeparatesWords) {
  const TextAnalyzer a;
  EXPECT_EQ(terms(a, std::string("cat\xff\xfe"
                                 "dog")),
            (std::vector<std::string>{"cat", "dog"}));
  EXPECT_TRUE(terms(a, std::string("\xc3")).empty());
  EXPECT_TRUE(terms(a, "").empty());
}

}  // namespace
}  // namespace longctx::memory
