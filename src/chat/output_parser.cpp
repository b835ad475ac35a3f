// Model-output parsing (see output_parser.h). The markers are the ones the Qwen3 and Qwen2.5
// chat templates write: "<think>\n...\n</think>\n\n" and "<tool_call>\n{...}\n</tool_call>".
#include "chat/output_parser.h"

#include "chat/value.h"

namespace longctx::chat {
namespace {

constexpr std::string_view kThinkOpen = "<think>";
constexpr std::string_view kThinkClose = "</think>";
constexpr std::string_view kCallOpen = "<tool_call>";
constexpr std::string_view kCallClose = "</tool_call>";

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

std::string strip_newlines(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && s[b] == '\n') ++b;
  while (e > b && s[e - 1] == '\n') --e;
  return std::string(s.substr(b, e - b));
}

ToolCall parse_call(std::string_view body) {
  using Json = nlohmann::ordered_json;
  ToolCall call;
  call.raw = std::string(body);
  Json j = Json::parse(trim(body), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    call.error = "tool call is not valid JSON";
    return call;
  }
  if (!j.is_object()) {
    call.error = "tool call must be a JSON object";
    return call;
  }
  // Copying and dumping JSON recurse: refuse model output nested deeper than templates accept.
  if (Status st = check_json_depth(j, kMaxValueDepth, "tool call"); !st.is_ok()) {
    call.error = st.message();
    return call;
  }
  if (!j.contains("name") || !j["name"].is_string()) {
    call.error = "tool call has no string 'name'";
    return call;
  }
  call.name = j["name"].get<std::string>();
  Json args = j.contains("arguments") ? j["arguments"] : Json::object();
  if (args.is_string()) {
    // Some models write the arguments as a JSON string holding JSON.
    Json inner = Json::parse(args.get<std::string>(), nullptr, false);
    if (inner.is_discarded()) {
      call.error = "tool call '" + call.name + "': 'arguments' is a string that is not valid JSON";
      return call;
    }
    if (Status st = check_json_depth(inner, kMaxValueDepth, "tool call '" + call.name + "'");
        !st.is_ok()) {
      call.error = st.message();
      return call;
    }
    args = std::move(inner);
  }
  if (!args.is_object()) {
    call.error = "tool call '" + call.name + "': 'arguments' must be a JSON object";
    return call;
  }
  call.arguments_json = args;
  call.arguments = args.dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
  return call;
}

}  // namespace

ToolCall parse_tool_call(std::string_view body) { return parse_call(body); }

ParsedOutput parse_model_output(std::string_view text, const OutputParseOptions& options) {
  ParsedOutput out;
  std::string_view rest = text;
  // 1. Reasoning: from the start (when the prompt opened <think>, or the output opens it after
  // optional whitespace) up to </think>; no </think> means generation stopped while thinking.
  size_t lead = 0;
  while (lead < rest.size() && is_space(rest[lead])) ++lead;
  bool in_think = options.starts_in_think;
  if (rest.substr(lead, kThinkOpen.size()) == kThinkOpen) {
    rest.remove_prefix(lead + kThinkOpen.size());
    in_think = true;
  } else if (!in_think) {
    // A bare "</think>" with no opening tag: the template opened the block in the prompt.
    size_t close = rest.find(kThinkClose);
    size_t first_call = rest.find(kCallOpen);
    in_think = close != std::string_view::npos &&
               (first_call == std::string_view::npos || close < first_call);
  }
  if (in_think) {
    size_t close = rest.find(kThinkClose);
    if (close == std::string_view::npos) {
      out.reasoning = strip_newlines(rest);
      out.reasoning_unterminated = true;
      return out;
    }
    out.reasoning = strip_newlines(rest.substr(0, close));
    rest.remove_prefix(close + kThinkClose.size());
  }
  // 2. Content with <tool_call> blocks cut out; an unterminated block is a per-call error.
  std::string content;
  while (true) {
    size_t open = rest.find(kCallOpen);
    if (open == std::string_view::npos) {
      content += rest;
      break;
    }
    content += rest.substr(0, open);
    rest.remove_prefix(open + kCallOpen.size());
    size_t close = rest.find(kCallClose);
    if (close == std::string_view::npos) {
      ToolCall call = parse_call(rest);
      call.raw = std::string(rest);
      call.error = "unterminated <tool_call> (no </tool_call>)" +
                   (call.error.empty() ? "" : "; " + call.error);
      out.tool_calls.push_back(std::move(call));
      break;
    }
    out.tool_calls.push_back(parse_call(rest.substr(0, close)));
    rest.remove_prefix(close + kCallClose.size());
  }
  out.content = trim(content);
  return out;
}

}  // namespace longctx::chat
