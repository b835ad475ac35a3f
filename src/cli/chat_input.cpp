// Line reading and multi-line message assembly for `longctx chat` (see chat_input.h).
#include "cli/chat_input.h"

#include <unistd.h>

#include <cerrno>

namespace longctx::cli {

ReadStatus LineReader::read_line(std::string* line) {
  while (true) {
    const size_t nl = buf_.find('\n');
    if (nl != std::string::npos) {
      size_t end = nl;
      if (end > 0 && buf_[end - 1] == '\r') --end;
      line->assign(buf_, 0, end);
      buf_.erase(0, nl + 1);
      return ReadStatus::kOk;
    }
    if (eof_) {
      if (buf_.empty()) return ReadStatus::kEof;
      line->swap(buf_);
      buf_.clear();
      return ReadStatus::kOk;
    }
    char chunk[4096];
    const ssize_t n = ::read(fd_, chunk, sizeof(chunk));
    if (n < 0) {
      if (errno == EINTR) {
        buf_.clear();
        return ReadStatus::kInterrupted;
      }
      eof_ = true;  // an unreadable stdin ends the chat like Ctrl-D
    } else if (n == 0) {
      eof_ = true;
    } else {
      buf_.append(chunk, static_cast<size_t>(n));
    }
  }
}

bool MessageAssembler::feed(std::string_view line, std::string* message) {
  if (in_block_) {
    if (line == "\"\"\"") {
      in_block_ = false;
      *message = take_partial();
      return true;
    }
    if (continued_) text_ += '\n';
    continued_ = true;  // the block has at least one line: later lines join with '\n'
    text_.append(line);
    return false;
  }
  if (!continued_ && line == "\"\"\"") {
    in_block_ = true;
    return false;
  }
  if (continued_) text_ += '\n';
  if (!line.empty() && line.back() == '\\') {
    text_.append(line.substr(0, line.size() - 1));
    continued_ = true;
    return false;
  }
  text_.append(line);
  *message = take_partial();
  return true;
}

std::string MessageAssembler::take_partial() {
  std::string out;
  out.swap(text_);
  in_block_ = false;
  continued_ = false;
  return out;
}

}  // namespace longctx::cli
