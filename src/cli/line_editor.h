// The chat prompt on a terminal: line editing (arrow keys, Ctrl-A/E/W, ...) and a history kept
// across runs in $XDG_STATE_HOME/longctx/history (else ~/.local/state/longctx/history), through
// libedit. Ctrl-C while typing drops the line (kInterrupted), Ctrl-D on an empty line ends the
// chat (kEof), as chat_input.h's LineReader does for piped input.
#pragma once

#include <memory>
#include <string>

#include "cli/chat_input.h"

namespace longctx::cli {

class LineEditor {
 public:
  // nullptr when libedit cannot run on this terminal (then the plain reader is used).
  static std::unique_ptr<LineEditor> create();
  ~LineEditor();
  LineEditor(const LineEditor&) = delete;
  LineEditor& operator=(const LineEditor&) = delete;

  // Shows `prompt`, returns the edited line without its '\n'; a non-empty line joins the history.
  ReadStatus read_line(const std::string& prompt, std::string* line);

 private:
  LineEditor() = default;
  struct Impl;
  Impl* impl_ = nullptr;
};

}  // namespace longctx::cli
