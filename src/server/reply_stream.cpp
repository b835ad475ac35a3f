// ReplyStream: reasoning, content and tool calls from streamed model text (see reply_stream.h).
#include "server/reply_stream.h"

#include <algorithm>

namespace longctx::server {
namespace {

constexpr std::string_view kCallOpen = "<tool_call>";
constexpr std::string_view kCallClose = "</tool_call>";

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

// Length of the longest suffix of s that is a proper prefix of tag.
size_t partial_tag(std::string_view s, std::string_view tag) {
  for (size_t n = std::min(s.size(), tag.size() - 1); n > 0; --n) {
    if (s.substr(s.size() - n) == tag.substr(0, n)) return n;
  }
  return 0;
}

}  // namespace

ReplyStream::ReplyStream(ReplyStreamOptions options)
    : opt_(options), think_(options.starts_in_think) {}

// Content with its outer whitespace trimmed: whitespace is held until visible text follows it,
// so whitespace at the start or the end, or before a tool call, never shows (parse_model_output
// differs there: it keeps whitespace around a call inside the content).
void ReplyStream::emit_content(std::string_view text, std::vector<ReplyDelta>* out) {
  size_t last = text.size();
  while (last > 0 && is_space(text[last - 1])) --last;
  if (last == 0) {
    if (any_content_) ws_.append(text);
    return;
  }
  std::string shown;
  if (any_content_) {
    shown = std::move(ws_);
    shown.append(text.substr(0, last));
  } else {
    size_t first = 0;
    while (is_space(text[first])) ++first;
    shown.assign(text.substr(first, last - first));
  }
  ws_.assign(text.substr(last));
  any_content_ = true;
  if (!out->empty() && out->back().kind == ReplyDelta::kContent) {
    out->back().text += shown;
  } else {
    out->push_back({ReplyDelta::kContent, std::move(shown), {}});
  }
}

void ReplyStream::content(std::string_view text, std::vector<ReplyDelta>* out) {
  if (!opt_.parse_tools) return emit_content(text, out);
  held_.append(text);
  for (;;) {
    if (!in_call_) {
      const size_t p = held_.find(kCallOpen);
      if (p == std::string::npos) {
        const size_t keep = partial_tag(held_, kCallOpen);
        emit_content(std::string_view(held_).substr(0, held_.size() - keep), out);
        held_.erase(0, held_.size() - keep);
        return;
      }
      emit_content(std::string_view(held_).substr(0, p), out);
      // Whitespace before a call is layout, not content, if the call turns out to be one.
      ws_before_call_ = std::move(ws_);
      ws_.clear();
      held_.erase(0, p + kCallOpen.size());
      in_call_ = true;
    } else {
      const size_t p = held_.find(kCallClose);
      if (p == std::string::npos) return;
      chat::ToolCall call = chat::parse_tool_call(std::string_view(held_).substr(0, p));
      if (call.error.empty()) {
        out->push_back({ReplyDelta::kToolCall, {}, std::move(call)});
      } else {  // not a call after all: the model's text as it wrote it
        ws_ = std::move(ws_before_call_);
        emit_content(std::string(kCallOpen) + held_.substr(0, p + kCallClose.size()), out);
      }
      ws_before_call_.clear();
      held_.erase(0, p + kCallClose.size());
      in_call_ = false;
    }
  }
}

void ReplyStream::push(std::string_view text, std::vector<ReplyDelta>* out) {
  if (!opt_.chat) {  // a raw completion: exactly the text
    if (!text.empty()) out->push_back({ReplyDelta::kContent, std::string(text), {}});
    return;
  }
  for (chat::StreamSegment& g : think_.push(text)) {
    if (g.text.empty()) continue;
    if (g.reasoning) {
      out->push_back({ReplyDelta::kReasoning, std::move(g.text), {}});
    } else {
      content(g.text, out);
    }
  }
}

void ReplyStream::finish(std::vector<ReplyDelta>* out) {
  if (!opt_.chat) return;
  for (chat::StreamSegment& g : think_.finish()) {
    if (g.text.empty()) continue;
    if (g.reasoning) {
      out->push_back({ReplyDelta::kReasoning, std::move(g.text), {}});
    } else {
      content(g.text, out);
    }
  }
  if (in_call_) {  // the reply ended inside a call (e.g. at the token limit)
    chat::ToolCall call = chat::parse_tool_call(held_);
    if (call.error.empty()) {
      out->push_back({ReplyDelta::kToolCall, {}, std::move(call)});
    } else {
      ws_ = std::move(ws_before_call_);
      emit_content(std::string(kCallOpen) + held_, out);
    }
  } else if (!held_.empty()) {
    emit_content(held_, out);
  }
  held_.clear();
  in_call_ = false;
  ws_.clear();
  ws_before_call_.clear();
}

}  // namespace longctx::server
