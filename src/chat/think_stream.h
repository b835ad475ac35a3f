// Splits streamed model output into reasoning (between <think> and </think>) and answer text as
// it arrives, for display: tags may arrive split across pieces, so a possible tag prefix is held
// back until the next piece decides it. The stored message comes from parse_model_output.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace longctx::chat {

struct StreamSegment {
  bool reasoning = false;  // inside the think block
  std::string text;
};

class ThinkStreamSplitter {
 public:
  // starts_in_think: the prompt itself opened the think block (it ended in "<think>\n").
  explicit ThinkStreamSplitter(bool starts_in_think = false);

  // Feeds one piece; returns the text that is now certain, tags removed. As in
  // parse_model_output, "<think>" opens the block only at the start of the output and only one
  // block is recognised. Newlines right after a tag (and at the very start) and right before
  // "</think>" are dropped, so "<think>\nwhy\n</think>\n\nanswer" shows as "why", "answer".
  std::vector<StreamSegment> push(std::string_view piece);
  // End of the stream: releases held text (a partial tag is plain text after all); trailing
  // newlines are dropped.
  std::vector<StreamSegment> finish();

  bool in_reasoning() const { return in_think_; }

 private:
  void emit(std::string_view text, std::vector<StreamSegment>* out);

  bool in_think_;
  bool open_allowed_;     // "<think>" may still open the block (nothing else shown yet)
  bool at_start_ = true;  // no visible text since the last tag: drop leading newlines
  std::string held_;      // a possible tag (prefix), or newlines that may precede "</think>"
};

}  // namespace longctx::chat
