// Streamed reply text on the terminal: reasoning dimmed (or hidden), content plain; shared by
// the plain and the memory chat.
#pragma once

#include <cstdio>
#include <vector>

#include "chat/think_stream.h"

namespace longctx::cli {

// Writes streamed reply text: reasoning dimmed on a terminal, plain otherwise, or not at all.
class ReplyPrinter {
  static constexpr const char* kDim = "\033[2m";
  static constexpr const char* kReset = "\033[0m";

 public:
  ReplyPrinter(bool hide_reasoning, bool tty) : hide_(hide_reasoning), tty_(tty) {}

  void print(const std::vector<chat::StreamSegment>& segments) {
    for (const chat::StreamSegment& s : segments) {
      if (s.reasoning && hide_) continue;
      if (s.reasoning != last_reasoning_ && wrote_) std::fputs("\n", stdout);
      if (s.reasoning && tty_) std::fputs(kDim, stdout);
      std::fwrite(s.text.data(), 1, s.text.size(), stdout);
      if (s.reasoning && tty_) std::fputs(kReset, stdout);
      last_reasoning_ = s.reasoning;
      wrote_ = true;
    }
    std::fflush(stdout);
  }
  void end() {
    if (wrote_) std::fputs("\n", stdout);
    std::fflush(stdout);
  }

 private:
  bool hide_, tty_;
  bool last_reasoning_ = false, wrote_ = false;
};

}  // namespace longctx::cli
