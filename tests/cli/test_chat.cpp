// `longctx chat` driven through the built binary with piped stdin on a tiny random-weight model:
// prefix reuse across turns, /reset, /save, /no_think, multi-line input, unknown commands, EOF,
// a full context and bad command lines. Greedy (--temp 0) keeps the replies deterministic.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <regex>
#include <string>
#include <vector>

#include "common/run_cli.h"
#include "common/temp_path.h"
#include "core/file_io.h"

namespace longctx {
namespace {

using testing_util::run_longctx;
using testing_util::run_longctx_stdin;
using testing_util::unique_temp_path;

class ChatCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = new std::string(unique_temp_path("chat_tiny.gguf"));
    auto r = run_longctx("synth --shape qwen3-tiny --type q8_0 -q -o " + *model_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() {
    std::remove(model_->c_str());
    delete model_;
  }
  void TearDown() override { std::remove(save_path_.c_str()); }

  testing_util::RunResult chat(const std::string& input, const std::string& extra = "") {
    return run_longctx_stdin("chat -m " + *model_ + " --temp 0 -n 8 " + extra, input);
  }
  nlohmann::json saved() {
    auto text = read_file(save_path_);
    EXPECT_TRUE(text.is_ok()) << text.status().message();
    if (!text.is_ok()) return nullptr;
    return nlohmann::json::parse(*text);  // throws (test fails) on invalid JSON
  }

  static std::string* model_;
  const std::string save_path_ = unique_temp_path("chat_transcript.json");
};
std::string* ChatCli::model_ = nullptr;

struct Stats {
  long long n_prompt, n_reused;
};

// The per-reply stats lines on stderr: "... | prompt P tokens, reused R, prefilled ...".
std::vector<Stats> stats_lines(const std::string& err) {
  std::vector<Stats> out;
  const std::regex re(R"(prompt (\d+) tokens, reused (\d+), prefilled)");
  for (auto it = std::sregex_iterator(err.begin(), err.end(), re); it != std::sregex_iterator();
       ++it) {
    out.push_back({std::stoll((*it)[1]), std::stoll((*it)[2])});
  }
  return out;
}

TEST_F(ChatCli, SecondTurnReusesTheFirstTurnsPromptAndSaveKeepsTheOrder) {
  auto r = chat("hello there\nand a second question\n/save " + save_path_ + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto st = stats_lines(r.err);
  ASSERT_EQ(st.size(), 2u) << r.err;
  EXPECT_EQ(st[0].n_reused, 0);
  // Turn 2's prompt starts with turn 1's prompt (the template re-renders the same user turn and
  // "<|im_start|>assistant\n"), so all of it comes from the cache and only the rest is prefilled.
  EXPECT_GE(st[1].n_reused, st[0].n_prompt) << r.err;
  EXPECT_LT(st[1].n_reused, st[1].n_prompt);

  const nlohmann::json j = saved();
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["model"], *model_);
  const auto& m = j["messages"];
  ASSERT_EQ(m.size(), 4u) << j.dump(1);
  const char* roles[] = {"user", "assistant", "user", "assistant"};
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(m[i]["role"], roles[i]) << i;
  EXPECT_EQ(m[0]["content"], "hello there");
  EXPECT_EQ(m[2]["content"], "and a second question");
  // Each stored answer is what was shown (stdout holds the replies, reasoning undimmed).
  for (size_t i : {1u, 3u}) {
    const std::string shown = m[i]["content"];
    EXPECT_NE(r.out.find(shown), std::string::npos) << shown;
  }
  EXPECT_EQ(j["settings"]["thinking"], true);
  EXPECT_EQ(j["settings"]["sampling"]["temperature"], 0.0);
}

// --session: the second run resumes the conversation without a prefill of what it holds (its
// first turn reuses every token the file gave back except where the template re-renders the
// last reply), /session save writes a copy and keeps saving there, /session load of a missing
// or foreign file leaves the conversation as it is, a file of another cache type is refused.
TEST_F(ChatCli, SessionFileResumesTheConversation) {
  const std::string path = unique_temp_path("chat_session.lcs");
  const std::string copy = unique_temp_path("chat_session_copy.lcs");
  std::remove(path.c_str());
  std::remove(copy.c_str());
  auto first = chat("hello there\n", "--session " + path);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto st1 = stats_lines(first.err);
  ASSERT_EQ(st1.size(), 1u) << first.err;
  auto second = chat("and more\n/save " + save_path_ + "\n", "--session " + path);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.err.find("(resumed 2 messages"), std::string::npos) << second.err;
  const auto st2 = stats_lines(second.err);
  ASSERT_EQ(st2.size(), 1u) << second.err;
  EXPECT_GE(st2[0].n_reused, st1[0].n_prompt) << second.err;  // the first prompt came from disk
  const nlohmann::json j = saved();
  ASSERT_EQ(j["messages"].size(), 4u) << j.dump(1);
  EXPECT_EQ(j["messages"][0]["content"], "hello there");
  EXPECT_EQ(j["messages"][2]["content"], "and more");
  // A copy, then loads that fail and leave the conversation.
  auto third = chat("/session save " + copy + "\n/session load " + unique_temp_path("none.lcs") +
                        "\n/session load " + save_path_ + "\n/save " + save_path_ + "\n",
                    "--session " + path);
  ASSERT_EQ(third.exit_code, 0) << third.err;
  EXPECT_NE(third.err.find("(session saved to " + copy), std::string::npos) << third.err;
  EXPECT_NE(third.err.find("/session load failed: cannot open"), std::string::npos) << third.err;
  EXPECT_NE(third.err.find("/session load failed: session file"), std::string::npos) << third.err;
  EXPECT_EQ(saved()["messages"].size(), 4u);
  auto from_copy = chat("", "--session " + copy);
  ASSERT_EQ(from_copy.exit_code, 0) << from_copy.err;
  EXPECT_NE(from_copy.err.find("(resumed 4 messages"), std::string::npos) << from_copy.err;
  // A session written by `run` holds no transcript: chat refuses it at start, and /session load
  // of it keeps the conversation.
  const std::string run_file = unique_temp_path("chat_run_session.lcs");
  std::remove(run_file.c_str());
  auto made = run_longctx("run -q -m " + *model_ + " -p hello -n 2 --temp 0 --session " + run_file);
  ASSERT_EQ(made.exit_code, 0) << made.err;
  auto refused = chat("hi\n", "--session " + run_file);
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("without a chat transcript"), std::string::npos) << refused.err;
  auto kept =
      chat("/session load " + run_file + "\n/save " + save_path_ + "\n", "--session " + path);
  ASSERT_EQ(kept.exit_code, 0) << kept.err;
  EXPECT_NE(kept.err.find("the conversation is kept"), std::string::npos) << kept.err;
  EXPECT_EQ(saved()["messages"].size(), 4u);
  std::remove(run_file.c_str());
  auto wrong = chat("hi\n", "--session " + path + " --kv-type q8_0");
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("f16/f16 KV cache"), std::string::npos) << wrong.err;
  std::remove(path.c_str());
  std::remove(copy.c_str());
}

// --on-full shift in chat drops whole old turns (before a turn that would not fit, or in mid
// reply), keeps the system prompt, and the next turn reuses everything that stayed.
TEST_F(ChatCli, ShiftDropsWholeOldTurnsAndKeepsTheCacheValid) {
  auto r = chat(
      "one two three\nfour five six\nseven eight\nnine ten\neleven\n/save " + save_path_ + "\n",
      "--ctx 96 --on-full shift --system \"You are terse.\"");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("oldest turn(s)"), std::string::npos) << r.err;
  const auto st = stats_lines(r.err);
  ASSERT_EQ(st.size(), 5u) << r.err;
  // After the drop only the new user message (and the re-rendered last reply) is prefilled.
  for (size_t i = 1; i < st.size(); ++i) EXPECT_GE(st[i].n_reused + 16, st[i].n_prompt) << r.err;
  const nlohmann::json j = saved();
  const auto& m = j["messages"];
  ASSERT_GE(m.size(), 3u);
  EXPECT_EQ(m[0]["role"], "system");
  EXPECT_EQ(m.back()["role"], "assistant");
  EXPECT_EQ(m[m.size() - 2]["content"], "eleven");
  EXPECT_LT(m.size(), 11u);  // some turns went
  // Roles still alternate after the system prompt: whole turns were dropped.
  for (size_t i = 1; i < m.size(); ++i) EXPECT_EQ(m[i]["role"], i % 2 ? "user" : "assistant");
}

TEST_F(ChatCli, ResetClearsTheConversationAndTheCache) {
  auto r = chat("hello\n/reset\nhello\n/save " + save_path_ + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto st = stats_lines(r.err);
  ASSERT_EQ(st.size(), 2u) << r.err;
  EXPECT_EQ(st[1].n_reused, 0);
  EXPECT_EQ(st[1].n_prompt, st[0].n_prompt);  // the same single-turn prompt again
  const nlohmann::json j = saved();
  ASSERT_EQ(j["messages"].size(), 2u) << j.dump(1);
  // Greedy on the same prompt from an empty cache: the same reply twice on stdout.
  const std::string reply = j["messages"][1]["content"];
  ASSERT_FALSE(reply.empty());
  const size_t first = r.out.find(reply);
  ASSERT_NE(first, std::string::npos);
  EXPECT_NE(r.out.find(reply, first + reply.size()), std::string::npos) << r.out;
}

TEST_F(ChatCli, NoThinkRendersTheEmptyThinkBlockAndSwitchesUnpinnedSampling) {
  const std::string kEmptyThink = "<think>\n\n</think>";
  auto r = chat("hi\n", "--dump-prompt");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("<|im_start|>user\nhi<|im_end|>"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(kEmptyThink), std::string::npos) << r.err;

  r = chat("/no_think\nhi\n/save " + save_path_ + "\n", "--dump-prompt");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("assistant\n" + kEmptyThink), std::string::npos) << r.err;
  nlohmann::json j = saved();
  EXPECT_EQ(j["settings"]["thinking"], false);
  EXPECT_EQ(j["settings"]["sampling"]["temperature"], 0.0);                // pinned by --temp 0
  EXPECT_FLOAT_EQ(j["settings"]["sampling"]["top_p"].get<float>(), 0.8f);  // non-thinking set

  r = chat("/no_think\n/think\n/save " + save_path_ + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = saved();
  EXPECT_EQ(j["settings"]["thinking"], true);
  EXPECT_FLOAT_EQ(j["settings"]["sampling"]["top_p"].get<float>(), 0.95f);  // thinking set
}

TEST_F(ChatCli, StartingWithNoThinkFlag) {
  auto r = chat("hi\n/save " + save_path_ + "\n", "--no-think --dump-prompt");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("<think>\n\n</think>"), std::string::npos) << r.err;
  EXPECT_EQ(saved()["settings"]["thinking"], false);
}

TEST_F(ChatCli, MultiLineInputArrivesAsOneMessage) {
  auto r = chat(
      "first line \\\nsecond line\n"
      "\"\"\"\nblock a\n\n/not a command\n\"\"\"\n"
      "/save " +
      save_path_ + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(stats_lines(r.err).size(), 2u) << r.err;
  const nlohmann::json j = saved();
  ASSERT_EQ(j["messages"].size(), 4u) << j.dump(1);
  EXPECT_EQ(j["messages"][0]["content"], "first line \nsecond line");
  EXPECT_EQ(j["messages"][2]["content"], "block a\n\n/not a command");
}

TEST_F(ChatCli, UnknownCommandsAndEmptyLinesDoNotReachTheModel) {
  auto r = chat("\n   \n/frobnicate now\n/help\n/save " + save_path_ + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("unknown command /frobnicate"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/no_think"), std::string::npos) << r.err;  // /help's list
  EXPECT_TRUE(stats_lines(r.err).empty()) << r.err;
  EXPECT_TRUE(saved()["messages"].empty());
}

TEST_F(ChatCli, EofAndExitEndCleanly) {
  auto r = chat("");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  r = chat("/exit\nhello\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(stats_lines(r.err).empty()) << r.err;
  r = chat("hello");  // a last line without '\n' is still a message
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(stats_lines(r.err).size(), 1u) << r.err;
}

TEST_F(ChatCli, SaveToABadPathIsReportedNotFatal) {
  auto r = chat("/save /nonexistent-dir/t.json\n/save   \nhello\n/save \t" + save_path_ + "  \n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("/save failed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/save needs a file name"), std::string::npos) << r.err;
  EXPECT_EQ(stats_lines(r.err).size(), 1u) << r.err;
  EXPECT_EQ(saved()["messages"].size(), 2u);  // the name is trimmed of the blanks around it
}

// Bytes that are not UTF-8 in a message never lose the transcript: /save writes valid JSON
// (invalid bytes replaced by U+FFFD) and the chat goes on.
TEST_F(ChatCli, NonUtf8InputStillSaves) {
  auto r =
      chat(std::string("caf\xe9 ok\n/save ") + save_path_ + "\nsecond\n/save " + save_path_ + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = saved();
  ASSERT_EQ(j["messages"].size(), 4u);
  EXPECT_EQ(j["messages"][0]["content"], "caf\xef\xbf\xbd ok");
}

TEST_F(ChatCli, FullContextIsReportedAndTheChatGoesOn) {
  // A 40-token context: the first reply (no -n limit) runs into the end of the context, the
  // second message does not fit any more; both say so, and /reset recovers.
  auto r = run_longctx_stdin("chat -m " + *model_ + " --temp 0 -c 40 -n -1",
                             "hello\nmore words that will not fit now\n/reset\nhi\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("context full: the reply was cut off"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("which was not sent"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--ctx"), std::string::npos) << r.err;
  const auto st = stats_lines(r.err);
  ASSERT_EQ(st.size(), 2u) << r.err;  // turn 1 and the turn after /reset
  EXPECT_EQ(st[1].n_reused, 0);
}

// Reads what is available on fd within `ms` milliseconds into *out; false at end of file.
bool read_some(int fd, int ms, std::string* out) {
  pollfd p = {fd, POLLIN, 0};
  if (poll(&p, 1, ms) <= 0) return true;
  char buf[4096];
  const ssize_t n = read(fd, buf, sizeof(buf));
  if (n > 0) out->append(buf, static_cast<size_t>(n));
  return n > 0;
}

// Polls the stderr file until it contains `what` (up to ~30 s: the reply has no token limit, so
// a slow machine still has it running when the signal comes).
bool wait_for(const std::string& err_path, const std::string& what) {
  for (int i = 0; i < 3000; ++i) {
    auto err = read_file(err_path);
    if (err.is_ok() && err->find(what) != std::string::npos) return true;
    usleep(10000);
  }
  return false;
}

// Kills the child if a failed assertion leaves the test early.
struct ChildGuard {
  pid_t pid = -1;
  ~ChildGuard() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
};

TEST_F(ChatCli, CtrlCStopsTheReplyNotTheProgram) {
  const std::string err_path = unique_temp_path("chat_sigint_err.txt");
  int in_pipe[2], out_pipe[2];
  ASSERT_EQ(pipe(in_pipe), 0);
  ASSERT_EQ(pipe(out_pipe), 0);
  const std::string binary = std::string(LONGCTX_BINARY_DIR) + "/src/longctx";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    const int err_fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(err_fd, 2);
    close(in_pipe[1]);
    close(out_pipe[0]);
    execl(binary.c_str(), "longctx", "chat", "-m", model_->c_str(), "--temp", "0", "-n", "-1",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  ChildGuard guard{pid};
  close(in_pipe[0]);
  close(out_pipe[1]);
  auto say = [&](const std::string& s) {
    ASSERT_EQ(write(in_pipe[1], s.data(), s.size()), static_cast<ssize_t>(s.size()));
  };
  std::string out;
  say("hello\n");
  // 1. Once the reply is streaming, Ctrl-C stops it; the program goes on.
  for (int i = 0; i < 300 && out.size() < 8; ++i) read_some(out_pipe[0], 100, &out);
  ASSERT_GE(out.size(), 8u) << "no reply streamed";
  kill(pid, SIGINT);
  ASSERT_TRUE(wait_for(err_path, "stop: cancelled"));
  // 2. Ctrl-C at the prompt prints a hint and the chat still takes commands.
  kill(pid, SIGINT);
  ASSERT_TRUE(wait_for(err_path, "(use /exit or Ctrl-D to quit)"));
  say("/save " + save_path_ + "\n");
  close(in_pipe[1]);
  while (read_some(out_pipe[0], 30000, &out)) {
  }
  close(out_pipe[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  guard.pid = -1;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  auto err = read_file(err_path);
  std::remove(err_path.c_str());
  ASSERT_TRUE(err.is_ok());
  EXPECT_NE(err->find("(stopped)"), std::string::npos) << *err;
  // The partial reply is kept in the conversation.
  const nlohmann::json j = saved();
  ASSERT_EQ(j["messages"].size(), 2u) << *err;
  const std::string partial = j["messages"][1]["content"];
  EXPECT_FALSE(partial.empty());
  EXPECT_NE(out.find(partial), std::string::npos);
}

TEST_F(ChatCli, BadCommandLinesFailWithAReason) {
  auto r = run_longctx_stdin("chat -m /nonexistent/model.gguf", "hello\n");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("/nonexistent/model.gguf"), std::string::npos) << r.err;
  r = run_longctx_stdin("chat -m " + *model_ + " -n -2", "hello\n");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("-n"), std::string::npos) << r.err;
  r = run_longctx_stdin("chat -m " + *model_ + " --top-p 0", "hello\n");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("top_p"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace longctx
