// Recall search: word forms across languages, speaker and date fields, neighbour smoothing,
// skipping, and the K distinct turns.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "memory/recall.h"
#include "memory/store.h"

namespace longctx::memory {
namespace {

namespace fs = std::filesystem;

class RecallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path dir = fs::temp_directory_path() / ("longctx_recall_" + std::to_string(getpid()));
    fs::create_directories(dir);
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
  std::vector<int64_t> search(const char* q, int k = 3) {
    RecallOptions o;
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

}  // namespace
}  // namespace longctx::memory
