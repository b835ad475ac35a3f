// Streaming think-block splitter (see think_stream.h).
#include "chat/think_stream.h"

#include <algorithm>

namespace longctx::chat {
namespace {

constexpr std::string_view kOpen = "<think>";
constexpr std::string_view kClose = "</think>";

// Length of the longest suffix of `s` that is a proper prefix of `tag`.
size_t partial_tag_suffix(std::string_view s, std::string_view tag) {
  for (size_t n = std::min(s.size(), tag.size() - 1); n > 0; --n) {
    if (s.substr(s.size() - n) == tag.substr(0, n)) return n;
  }
  return 0;
}

}  // namespace

ThinkStreamSplitter::ThinkStreamSplitter(bool starts_in_think)
    : in_think_(starts_in_think), open_allowed_(!starts_in_think) {}

void ThinkStreamSplitter::emit(std::string_view text, std::vector<StreamSegment>* out) {
  if (at_start_) {
    while (!text.empty() && text.front() == '\n') text.remove_prefix(1);
    if (!text.empty()) at_start_ = false;
  }
  if (text.empty()) return;
  if (!out->empty() && out->back().reasoning == in_think_) {
    out->back().text.append(text);
  } else {
    out->push_back({in_think_, std::string(text)});
  }
}

std::vector<StreamSegment> ThinkStreamSplitter::push(std::string_view piece) {
  std::vector<StreamSegment> out;
  held_.append(piece);
  while (true) {
    if (in_think_) {
      const size_t at = held_.find(kClose);
      if (at == std::string::npos) break;
      // The reasoning before the tag, without the newlines that separate it from the tag.
      std::string_view before(held_.data(), at);
      while (!before.empty() && before.back() == '\n') before.remove_suffix(1);
      emit(before, &out);
      held_.erase(0, at + kClose.size());
      in_think_ = false;
      at_start_ = true;
      continue;
    }
    if (!open_allowed_) break;
    // As in parse_model_output, "<think>" opens the block only at the start of the output
    // (after whitespace); until the held text rules that out, nothing is shown.
    const size_t lead = std::min(held_.find_first_not_of(" \t\r\n"), held_.size());
    const std::string_view after = std::string_view(held_).substr(lead);
    if (after.starts_with(kOpen)) {
      held_.erase(0, lead + kOpen.size());
      in_think_ = true;
      open_allowed_ = false;
      at_start_ = true;
      continue;
    }
    if (kOpen.starts_with(after)) return out;
    open_allowed_ = false;
  }
  // Hold back a possible "</think>" prefix and the newlines before it (they are dropped if the
  // tag follows); everything before that is final.
  size_t keep = in_think_ ? partial_tag_suffix(held_, kClose) : 0;
  while (keep < held_.size() && held_[held_.size() - keep - 1] == '\n') ++keep;
  emit(std::string_view(held_).substr(0, held_.size() - keep), &out);
  held_.erase(0, held_.size() - keep);
  return out;
}

std::vector<StreamSegment> ThinkStreamSplitter::finish() {
  std::vector<StreamSegment> out;
  std::string_view rest(held_);
  while (!rest.empty() && rest.back() == '\n') rest.remove_suffix(1);
  emit(rest, &out);
  held_.clear();
  return out;
}

}  // namespace longctx::chat
