// Reading the user's messages for `longctx chat`: lines from a file descriptor with read(2), so a
// SIGINT installed without SA_RESTART interrupts a blocked read, and the multi-line forms (a line
// ending in '\' continues; a line `"""` opens a block closed by the next `"""` line).
#pragma once

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

}  // namespace longctx::cli
