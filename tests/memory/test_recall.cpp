// Recall search: word forms across languages, speaker and date fields, neighbour smoothing,
// skipping, the K distinct turns, the periods a query names and its date window, and
// pseudo-relevance feedback.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "common/temp_path.h"
#include "memory/dates.h"
#include "memory/recall.h"
#include "memory/store.h"

namespace longctx::memory {
namespace {

namespace fs = std::filesystem;

class RecallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static const fs::path dir = testing_util::unique_temp_dir("recall");
    path_ = (dir / "r.db").string();
    fs::remove(path_);
    auto s = Store::open(path_);
    ASSERT_TRUE(s.is_ok()) << s.status().message();
    store_ = std::move(s).value();
    conv_ = store_->create("c")->id;
  }
  void add(const char* role, const char* name, const char* time, const char* content) {
    std::vector<Turn> t(1);
    t[0].role = role;
    t[0].name = name;
    t[0].time = time;
    t[0].content = content;
    ASSERT_TRUE(store_->append(conv_, &t).is_ok());
  }
  std::vector<int64_t> search(const char* q, int k = 3, RecallOptions o = {}) {
    o.k = k;
    auto r = recall_search(*store_, analyzer_, conv_, q, o);
    EXPECT_TRUE(r.is_ok());
    std::vector<int64_t> out;
    for (const auto& h : *r) out.push_back(h.pos);
    return out;
  }
  std::string path_;
  std::unique_ptr<Store> store_;
  int64_t conv_ = 0;
  TextAnalyzer analyzer_;
};

TEST_F(RecallTest, FindsOtherWordFormsInEachLanguage) {
  add("user", "Olga", "2024-01-05T10:00", "My sister finally moved to Kazan last week");
  add("user", "Mark", "2024-01-05T10:01", "We watched a film about trains");
  add("user", "Olga", "2024-02-01T09:00", "Моя сестра переехала в Казань");
  add("user", "Mark", "2024-02-01T09:05", "Вчера смотрели фильм про поезда");
  add("user", "Li", "2024-03-11T12:00", "我的猫昨天生病了");
  add("user", "Li", "2024-03-11T12:05", "我们周末去爬山");
  EXPECT_EQ(search("Where is she moving?", 1), std::vector<int64_t>{0});
  EXPECT_EQ(search("Кто живет в Казани?", 1), std::vector<int64_t>{2});
  EXPECT_EQ(search("谁的猫生病", 1), std::vector<int64_t>{4});
  EXPECT_EQ(search("поездах", 1), std::vector<int64_t>{3});
  // Speaker and date are indexed with the turn.
  std::vector<int64_t> li = search("What did Li do in March?", 2);
  std::sort(li.begin(), li.end());
  EXPECT_EQ(li, (std::vector<int64_t>{4, 5}));
  EXPECT_TRUE(search("the of and what").empty());
}

TEST_F(RecallTest, AnAnswerRanksRightAfterTheQuestionItAnswers) {
  add("user", "Ann", "", "What did the vet say about the parrot?");
  add("assistant", "", "", "Keep him warm and give vitamins twice a day.");
  for (int i = 0; i < 10; ++i) add("user", "Ann", "", "Nice weather for a walk today");
  const std::vector<int64_t> got = search("vet parrot", 2);
  EXPECT_EQ(got, (std::vector<int64_t>{0, 1}));
}

TEST_F(RecallTest, SkipAndK) {
  for (int i = 0; i < 20; ++i) add("user", "", "", "apples and pears");
  RecallOptions o;
  o.k = 5;
  auto r = recall_search(*store_, analyzer_, conv_, "apples", o, [](int64_t p) { return p >= 10; });
  ASSERT_TRUE(r.is_ok());
  ASSERT_EQ(r->size(), 5u);
  for (const auto& h : *r) EXPECT_LT(h.pos, 10);
  // Distinct turns.
  o.k = 50;
  r = recall_search(*store_, analyzer_, conv_, "apples pears apples", o);
  ASSERT_EQ(r->size(), 20u);
}

TEST_F(RecallTest, FeedbackFindsTheTurnThatNamesWhatTheFirstHitNames) {
  // The question names Ruth and her daughter; the answer only names Nell, whom the first hit
  // introduces.
  add("user", "Mark", "", "My coworker Ruth's daughter Nell has just joined the chess club.");
  const char* filler[] = {"The weather is grim again today.",    "Did you see the match yesterday?",
                          "I need a new pair of running shoes.", "Dinner was lovely, thanks.",
                          "My daughter loves the new library.",  "The train was late again."};
  for (int i = 0; i < 24; ++i) add("user", "Sam", "", filler[i % 6]);
  add("user", "Mark", "", "Nell won the regional under-12s! Unbelievable.");
  for (int i = 0; i < 6; ++i) add("user", "Sam", "", filler[i]);
  std::vector<int64_t> got = search("What did Ruth's daughter win?", 3);
  EXPECT_EQ(got[0], 0);
  EXPECT_NE(std::find(got.begin(), got.end(), 25), got.end());
  RecallOptions none;
  none.feedback_terms = 0;
  got = search("What did Ruth's daughter win?", 30, none);
  EXPECT_EQ(std::find(got.begin(), got.end(), 25), got.end());  // no word of the query in it
}

TEST_F(RecallTest, FeedbackWordsInManyTurnsAreNotUsed) {
  // "chess" is in more turns than feedback_max_df: searching for it again would only drift.
  add("user", "Mark", "", "Ruth's daughter plays chess every day.");
  for (int i = 0; i < 8; ++i) add("user", "Sam", "", "Chess on the telly again.");
  std::vector<int64_t> got = search("Ruth's daughter", 3);
  EXPECT_EQ(got, (std::vector<int64_t>{0, 1}));  // the hit and its neighbour, no chess turns
}

TEST_F(RecallTest, APeriodTheQueryNamesPrefersItsTurns) {
  // The same purchase in three months; the question names one of them, written in words in
  // the turns' times (as dialogue corpora write them) and in the question. The first turn names
  // March in its text, which outweighs a time's month name; the window does not.
  add("user", "Ann", "3:10 pm on 12 February, 2024",
      "Bought a new kettle in the sale, by March it will cost double.");
  add("user", "Ann", "9:00 am on 4 March, 2024", "Bought a new kettle, the old one died.");
  add("user", "Ann", "6:45 pm on 20 April, 2024", "Bought a new kettle, a red one this time.");
  add("user", "Ann", "6:50 pm on 20 April, 2024", "Nice weather for a walk today.");
  EXPECT_EQ(search("What did Ann buy in March 2024?", 1), std::vector<int64_t>{1});
  EXPECT_EQ(search("Which kettle did Ann buy on April 20, 2024?", 1), std::vector<int64_t>{2});
  EXPECT_EQ(search("Что купила Анна в феврале 2024 года? kettle", 1), std::vector<int64_t>{0});
  // A query that is nothing but its period still searches its words.
  EXPECT_FALSE(search("April 2024").empty());
}

TEST(RecallDates, PeriodsAQueryNames) {
  const TextAnalyzer a;
  auto one = [&](const char* q) {
    std::vector<DatePeriod> p = find_periods(a, q);
    EXPECT_EQ(p.size(), 1u) << q;
    return p.empty() ? std::make_pair(0.0, 0.0) : std::make_pair(p[0].from, p[0].to);
  };
  const double day = 86400;
  const double mar1 = unix_seconds(2024, 3, 1), apr1 = unix_seconds(2024, 4, 1);
  EXPECT_EQ(one("What happened in March 2024?"), std::make_pair(mar1, apr1));
  EXPECT_EQ(one("Что было в марте 2024 года?"), std::make_pair(mar1, apr1));
  EXPECT_EQ(one("2024年3月发生了什么？"), std::make_pair(mar1, apr1));
  const double mar10 = unix_seconds(2024, 3, 10);
  for (const char* q : {"on March 10, 2024", "on 10 March 2024", "on the 10th of March, 2024",
                        "10 марта 2024", "2024年3月10日", "2024-03-10", "on Mar 10th 2024"}) {
    EXPECT_EQ(one(q), std::make_pair(mar10, mar10 + day)) << q;
  }
  EXPECT_EQ(one("What did we do in 2023?"),
            std::make_pair(unix_seconds(2023, 1, 1), unix_seconds(2024, 1, 1)));
  EXPECT_EQ(one("in December 2023"),
            std::make_pair(unix_seconds(2023, 12, 1), unix_seconds(2024, 1, 1)));
  // The bytes naming the period.
  const std::string q = "What happened on May 8, 2023 at work?";
  std::vector<DatePeriod> p = find_periods(a, q);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(q.substr(p[0].begin, p[0].end - p[0].begin), "May 8, 2023");
  // No year, no period; "may" as a verb is no month.
  EXPECT_TRUE(find_periods(a, "What did Li do in March?").empty());
  EXPECT_TRUE(find_periods(a, "It may rain on the 5th").empty());
  EXPECT_TRUE(find_periods(a, "I ran 5 km in 25 minutes").empty());
  EXPECT_EQ(find_periods(a, "from March 2023 to May 2024").size(), 2u);
}

}  // namespace
}  // namespace longctx::memory
