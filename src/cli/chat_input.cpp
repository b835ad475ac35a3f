// Line reading and multi-line message assembly for `longctx chat` (see chat_input.h).
#include "cli/chat_input.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <exception>
#include <memory>

#include "cli/line_editor.h"

namespace longctx::cli {
namespace {

bool all_space(std::string_view s) {
  return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

}  // namespace

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

void split_chat_command(std::string_view text, std::string* name, std::string* arg) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  const size_t sp = std::min(text.find_first_of(" \t"), text.size());
  *name = std::string(text.substr(0, sp));
  const size_t at = std::min(text.find_first_not_of(" \t", sp), text.size());
  *arg = std::string(text.substr(at));
}

int run_chat_input(std::atomic<bool>* interrupt,
                   const std::function<bool(std::string_view)>& on_command,
                   const std::function<void(const std::string&)>& on_message) {
  const bool tty_in = isatty(STDIN_FILENO);
  if (tty_in) std::fprintf(stderr, "longctx chat: /help for commands, Ctrl-D to quit\n");
  // A terminal gets line editing and history; piped input is read as it comes.
  std::unique_ptr<LineEditor> editor = tty_in ? LineEditor::create() : nullptr;
  LineReader reader(STDIN_FILENO);
  MessageAssembler assembler;
  std::string line, message;
  while (true) {
    const char* prompt = assembler.pending() ? "... " : "> ";
    if (tty_in && !editor) {
      std::fputs(prompt, stdout);
      std::fflush(stdout);
    }
    // Ctrl-C at the prompt: a blocked read fails with EINTR (the half-typed message is
    // dropped); a Ctrl-C that came between reads only leaves the flag, noticed here.
    if (interrupt->exchange(false)) std::fprintf(stderr, "(use /exit or Ctrl-D to quit)\n");
    const ReadStatus st = editor ? editor->read_line(prompt, &line) : reader.read_line(&line);
    if (st == ReadStatus::kInterrupted) {
      interrupt->store(false);
      assembler.take_partial();
      std::fprintf(stderr, "\n(use /exit or Ctrl-D to quit)\n");
      continue;
    }
    bool complete = false;
    if (st == ReadStatus::kEof) {
      if (tty_in) std::fputs("\n", stdout);
      if (!assembler.pending()) return 0;
      message = assembler.take_partial();  // an unclosed block or '\' at the end: send it
      complete = true;
    } else {
      complete = assembler.feed(line, &message);
    }
    if (!complete || all_space(message)) {
      if (st == ReadStatus::kEof) return 0;
      continue;
    }
    // One failing turn or command (an exception from a library below) is reported and the
    // conversation goes on: nothing typed so far is lost.
    try {
      if (message.front() == '/' && message.find('\n') == std::string::npos) {
        if (!on_command(message)) return 0;
      } else {
        on_message(message);
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "longctx chat: error: %s\n", e.what());
    }
    if (st == ReadStatus::kEof) return 0;
  }
}

}  // namespace longctx::cli
