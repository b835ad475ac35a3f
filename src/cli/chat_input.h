// Reading the user's messages for `longctx chat`: lines from a file descriptor with read(2), so a
// SIGINT installed without SA_RESTART interrupts a blocked read, and the multi-line forms (a line
// ending in '\' continues; a line `"""` opens a block closed by the next `"""` line).
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <string_view>

namespace longctx::cli {

enum class ReadStatus { kOk, kEof, kInterrupted };

// Buffered line reader. A final line without '\n' is still returned; kEof only once nothing
// is left.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  // Strips the '\n' (and a '\r' before it). kInterrupted when read(2) failed with EINTR; the
  // bytes of the unfinished line are discarded then (as a shell drops a line on Ctrl-C).
  ReadStatus read_line(std::string* line);

 private:
  int fd_;
  std::string buf_;
  bool eof_ = false;
};

// Joins lines into one message. feed() returns true when `*message` is complete.
class MessageAssembler {
 public:
  bool feed(std::string_view line, std::string* message);
  // Mid-message: a continuation line or an open block (the prompt shows "... " then).
  bool pending() const { return in_block_ || continued_; }
  // What was gathered so far (EOF inside a block sends it; Ctrl-C drops it).
  std::string take_partial();

 private:
  std::string text_;
  bool in_block_ = false;
  bool continued_ = false;
};

// Splits "WORD REST..." (a one-line "/command ARG...", or a command's own argument) into its
// first word and the rest, blanks around them dropped.
void split_chat_command(std::string_view text, std::string* name, std::string* arg);

// The chat's input loop, shared by the plain and the memory chat: reads messages from the
// terminal (line editing and history through libedit) or a pipe until EOF, a message at a time
// (continuation lines and """ blocks joined), and hands each non-blank one to on_message, a
// "/command" on one line to on_command (false from it leaves). Ctrl-C at the prompt (`interrupt`
// set by the SIGINT handler) drops the half-typed message; an exception from a turn is reported
// and the conversation goes on. Returns the exit code (0).

int run_chat_input(std::atomic<bool>* interrupt,
                   const std::function<bool(std::string_view)>& on_command,
                   const std::function<void(const std::string&)>& on_message);

}  // namespace longctx::cli
