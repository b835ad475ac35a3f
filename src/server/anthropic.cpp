// Anthropic Messages API translation (see anthropic.h). Validation walks the request once and
// stops at the first problem, naming its path as Anthropic's own errors do ("messages.1.role").
#include "server/anthropic.h"

#include <cstdio>
#include <utility>

namespace longctx::server {
namespace {

// JSON text that never throws: invalid UTF-8 (from the model or the client) becomes U+FFFD.
std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += "\n\n";
    out += p;
  }
  return out;
}

std::string at(const std::string& path, size_t i) { return path + "." + std::to_string(i); }
std::string at(const std::string& path, const char* key) { return path + "." + key; }

// One conversion: the first failure sets *err ("path: problem") and makes every step return false.
class Converter {
 public:
  explicit Converter(std::string* err) : err_(err) {}

  bool fail(const std::string& path, const std::string& problem) {
    if (err_) *err_ = path.empty() ? problem : path + ": " + problem;
    return false;
  }

  // obj[key] as a string (required: missing is an error; nonempty: "" is an error too).
  bool string_field(const Json& obj, const char* key, const std::string& path, bool required,
                    bool nonempty, std::string* out) {
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
      return required ? fail(at(path, key), "field required") : true;
    }
    if (!it->is_string() || (nonempty && it->get_ref<const std::string&>().empty())) {
      return fail(at(path, key), nonempty ? "must be a non-empty string" : "must be a string");
    }
    *out = it->get<std::string>();
    return true;
  }

  // A block's "type" (every content block has one).
  bool block_type(const Json& block, const std::string& path, std::string* type) {
    if (!block.is_object()) return fail(path, "must be an object");
    return string_field(block, "type", path, /*required=*/true, /*nonempty=*/false, type);
  }

  bool unsupported_media(const std::string& type, const std::string& path) {
    return fail(path, type + " input is not supported: this server runs a text-only model");
  }

  // tool_result content: a string, or text blocks (joined); absent is "".
  bool tool_result_content(const Json& block, const std::string& path, std::string* out) {
    const auto it = block.find("content");
    if (it == block.end() || it->is_null()) return true;
    if (it->is_string()) {
      *out = it->get<std::string>();
      return true;
    }
    const std::string cpath = at(path, "content");
    if (!it->is_array()) return fail(cpath, "must be a string or an array of content blocks");
    std::vector<std::string> texts;
    for (size_t j = 0; j < it->size(); ++j) {
      const Json& b = (*it)[j];
      const std::string bpath = at(cpath, j);
      std::string type;
      if (!block_type(b, bpath, &type)) return false;
      if (type == "image" || type == "document") return unsupported_media(type, bpath);
      if (type != "text") return fail(at(bpath, "type"), "unknown block type '" + type + "'");
      std::string text;
      if (!string_field(b, "text", bpath, true, false, &text)) return false;
      texts.push_back(std::move(text));
    }
    *out = join(texts);
    return true;
  }

  // One Anthropic message -> one or more OpenAI messages appended to *out.
  bool message(const Json& m, const std::string& path, Json* out) {
    if (!m.is_object()) return fail(path, "must be an object");
    std::string role;
    if (!string_field(m, "role", path, true, false, &role)) return false;
    if (role != "user" && role != "assistant") {
      return fail(at(path, "role"), "unknown role '" + role + "': must be 'user' or 'assistant'");
    }
    const auto c = m.find("content");
    const std::string cpath = at(path, "content");
    if (c == m.end() || c->is_null()) return fail(cpath, "field required");
    if (c->is_string()) {
      out->push_back({{"role", role}, {"content", c->get<std::string>()}});
      return true;
    }
    if (!c->is_array()) return fail(cpath, "must be a string or an array of content blocks");

    std::vector<std::string> texts, thoughts;
    Json tool_calls = Json::array();
    Json tool_msgs = Json::array();
    for (size_t k = 0; k < c->size(); ++k) {
      const Json& b = (*c)[k];
      const std::string bpath = at(cpath, k);
      std::string type;
      if (!block_type(b, bpath, &type)) return false;
      const bool user = role == "user";
      if (type == "text") {
        std::string text;
        if (!string_field(b, "text", bpath, true, false, &text)) return false;
        texts.push_back(std::move(text));
      } else if (type == "image" || type == "document") {
        return unsupported_media(type, bpath);
      } else if (type == "tool_result" && user) {
        std::string id, content;
        if (!string_field(b, "tool_use_id", bpath, true, true, &id)) return false;
        if (!tool_result_content(b, bpath, &content)) return false;
        bool is_error = false;
        if (const auto e = b.find("is_error"); e != b.end() && !e->is_null()) {
          if (!e->is_boolean()) return fail(at(bpath, "is_error"), "must be a boolean");
          is_error = e->get<bool>();
        }
        if (is_error) content = content.empty() ? "Error" : "Error: " + content;
        tool_msgs.push_back({{"role", "tool"}, {"tool_call_id", id}, {"content", content}});
      } else if (type == "tool_use" && !user) {
        std::string id, name;
        if (!string_field(b, "id", bpath, true, true, &id)) return false;
        if (!string_field(b, "name", bpath, true, true, &name)) return false;
        const auto in = b.find("input");
        if (in == b.end()) return fail(at(bpath, "input"), "field required");
        if (!in->is_object()) return fail(at(bpath, "input"), "must be an object");
        tool_calls.push_back({{"id", id},
                              {"type", "function"},
                              {"function", {{"name", name}, {"arguments", dump(*in)}}}});
      } else if (type == "thinking" && !user) {
        std::string thought;
        if (!string_field(b, "thinking", bpath, true, false, &thought)) return false;
        thoughts.push_back(std::move(thought));
      } else if (type == "redacted_thinking" && !user) {
        // Encrypted for Anthropic's models: nothing a local model can read.
      } else if (type == "tool_result" || type == "tool_use" || type == "thinking" ||
                 type == "redacted_thinking") {
        return fail(at(bpath, "type"), "'" + type + "' blocks belong in " +
                                           (user ? "assistant" : "user") + " messages");
      } else {
        return fail(at(bpath, "type"), "unknown block type '" + type + "'");
      }
    }
    const std::string text = join(texts);
    if (role == "user") {
      // OpenAI wants tool results right after the assistant turn that called the tools.
      for (Json& t : tool_msgs) out->push_back(std::move(t));
      if (tool_msgs.empty() || !text.empty()) out->push_back({{"role", "user"}, {"content", text}});
      return true;
    }
    Json msg = {{"role", "assistant"}};
    msg["content"] = text.empty() && !tool_calls.empty() ? Json() : Json(text);
    if (!thoughts.empty()) msg["reasoning_content"] = join(thoughts);
    if (!tool_calls.empty()) msg["tool_calls"] = std::move(tool_calls);
    out->push_back(std::move(msg));
    return true;
  }

  bool system(const Json& s, Json* out) {
    if (s.is_null()) return true;
    std::string text;
    if (s.is_string()) {
      text = s.get<std::string>();
    } else if (s.is_array()) {
      std::vector<std::string> texts;
      for (size_t k = 0; k < s.size(); ++k) {
        const std::string bpath = at("system", k);
        std::string type, t;
        if (!block_type(s[k], bpath, &type)) return false;
        if (type != "text") return fail(at(bpath, "type"), "must be 'text', got '" + type + "'");
        if (!string_field(s[k], "text", bpath, true, false, &t)) return false;
        texts.push_back(std::move(t));
      }
      text = join(texts);
    } else {
      return fail("system", "must be a string or an array of text blocks");
    }
    if (!text.empty()) out->push_back({{"role", "system"}, {"content", text}});
    return true;
  }

  bool tools(const Json& t, Json* out) {
    if (!t.is_array()) return fail("tools", "must be an array");
    for (size_t k = 0; k < t.size(); ++k) {
      const std::string path = at("tools", k);
      const Json& tool = t[k];
      if (!tool.is_object()) return fail(path, "must be an object");
      std::string type, name, description;
      if (!string_field(tool, "type", path, false, false, &type)) return false;
      if (!type.empty() && type != "custom") {
        return fail(at(path, "type"), "server tool '" + type +
                                          "' is not supported: declare a custom tool with "
                                          "name and input_schema");
      }
      if (!string_field(tool, "name", path, true, true, &name)) return false;
      if (!string_field(tool, "description", path, false, false, &description)) return false;
      const auto schema = tool.find("input_schema");
      if (schema == tool.end() || schema->is_null()) {
        return fail(at(path, "input_schema"), "field required");
      }
      if (!schema->is_object()) return fail(at(path, "input_schema"), "must be an object");
      Json fn = {{"name", name}};
      if (tool.contains("description")) fn["description"] = description;
      fn["parameters"] = *schema;
      out->push_back({{"type", "function"}, {"function", std::move(fn)}});
    }
    return true;
  }

  bool tool_choice(const Json& c, Json* chat) {
    if (!c.is_object()) return fail("tool_choice", "must be an object");
    std::string type;
    if (!string_field(c, "type", "tool_choice", true, false, &type)) return false;
    if (type == "auto" || type == "none") {
      (*chat)["tool_choice"] = type;
    } else if (type == "any") {
      (*chat)["tool_choice"] = "required";
    } else if (type == "tool") {
      std::string name;
      if (!string_field(c, "name", "tool_choice", true, true, &name)) return false;
      (*chat)["tool_choice"] = {{"type", "function"}, {"function", {{"name", name}}}};
    } else {
      return fail("tool_choice.type",
                  "must be 'auto', 'any', 'tool' or 'none', got '" + type + "'");
    }
    if (const auto d = c.find("disable_parallel_tool_use"); d != c.end() && !d->is_null()) {
      if (!d->is_boolean())
        return fail("tool_choice.disable_parallel_tool_use", "must be a boolean");
      if (d->get<bool>()) (*chat)["parallel_tool_calls"] = false;
    }
    return true;
  }

  bool thinking(const Json& t, bool* enabled) {
    if (t.is_null()) return true;
    if (!t.is_object()) return fail("thinking", "must be an object");
    std::string type;
    if (!string_field(t, "type", "thinking", true, false, &type)) return false;
    if (type == "enabled" || type == "adaptive") {
      *enabled = true;
    } else if (type != "disabled") {
      return fail("thinking.type",
                  "must be 'enabled', 'adaptive' or 'disabled', got '" + type + "'");
    }
    if (const auto b = t.find("budget_tokens"); b != t.end() && !b->is_null()) {
      if (!b->is_number_integer()) return fail("thinking.budget_tokens", "must be an integer");
    }
    return true;
  }

  bool convert(const Json& body, bool count_only, Json* chat) {
    if (!body.is_object()) return fail("", "the request body must be a JSON object");
    if (const auto m = body.find("model"); m != body.end() && !m->is_null()) {
      if (!m->is_string()) return fail("model", "must be a string");
      (*chat)["model"] = *m;
    }
    Json msgs = Json::array();
    if (const auto s = body.find("system"); s != body.end() && !system(*s, &msgs)) return false;
    const auto m = body.find("messages");
    if (m == body.end() || m->is_null()) return fail("messages", "field required");
    if (!m->is_array()) return fail("messages", "must be an array");
    if (m->empty()) return fail("messages", "at least one message is required");
    for (size_t k = 0; k < m->size(); ++k) {
      if (!message((*m)[k], at("messages", k), &msgs)) return false;
    }
    (*chat)["messages"] = std::move(msgs);
    if (const auto t = body.find("tools"); t != body.end() && !t->is_null()) {
      Json tools_out = Json::array();
      if (!tools(*t, &tools_out)) return false;
      if (!tools_out.empty()) (*chat)["tools"] = std::move(tools_out);
    }
    if (const auto c = body.find("tool_choice"); c != body.end() && !c->is_null()) {
      if (!tool_choice(*c, chat)) return false;
    }
    bool think = false;
    if (const auto t = body.find("thinking"); t != body.end() && !thinking(*t, &think)) {
      return false;
    }
    if (!count_only && !generation_fields(body, chat)) return false;
    (*chat)["chat_template_kwargs"] = {{"enable_thinking", think}};
    return true;
  }

  // max_tokens, stop_sequences, sampling and stream: only a generation needs them.
  bool generation_fields(const Json& body, Json* chat) {
    const auto mt = body.find("max_tokens");
    if (mt == body.end() || mt->is_null()) return fail("max_tokens", "field required");
    if (!mt->is_number_integer() || (!mt->is_number_unsigned() && mt->get<int64_t>() < 1)) {
      return fail("max_tokens", "must be an integer >= 1");
    }
    (*chat)["max_tokens"] = *mt;
    if (const auto s = body.find("stop_sequences"); s != body.end() && !s->is_null()) {
      if (!s->is_array()) return fail("stop_sequences", "must be an array of strings");
      if (s->size() > 16) return fail("stop_sequences", "at most 16 are supported");
      for (size_t k = 0; k < s->size(); ++k) {
        const Json& v = (*s)[k];
        if (!v.is_string() || v.get_ref<const std::string&>().empty()) {
          return fail(at("stop_sequences", k), "must be a non-empty string");
        }
      }
      if (!s->empty()) (*chat)["stop"] = *s;
    }
    // Ranges are checked by parse_chat_request, whose errors use these same names.
    for (const char* key : {"temperature", "top_p", "top_k"}) {
      const auto v = body.find(key);
      if (v == body.end() || v->is_null()) continue;
      const bool integer = std::string_view(key) == "top_k";
      if (integer ? !v->is_number_integer() : !v->is_number()) {
        return fail(key, integer ? "must be an integer" : "must be a number");
      }
      (*chat)[key] = *v;
    }
    if (const auto s = body.find("stream"); s != body.end() && !s->is_null()) {
      if (!s->is_boolean()) return fail("stream", "must be a boolean");
      (*chat)["stream"] = *s;
      if (s->get<bool>()) (*chat)["stream_options"] = {{"include_usage", true}};
    }
    return true;
  }

 private:
  std::string* err_;
};

// Arguments JSON text -> the tool_use input object ({} when it is not one).
Json tool_input(const std::string& arguments) {
  Json j = Json::parse(arguments, nullptr, /*allow_exceptions=*/false);
  return j.is_object() ? j : Json::object();
}

std::string tool_id(const std::string& message_id, const AnthropicToolCall& c, int index) {
  if (!c.id.empty()) return c.id;
  std::string base = message_id.rfind("msg_", 0) == 0 ? message_id.substr(4) : message_id;
  return "toolu_" + base + "_" + std::to_string(index);
}

std::string frame(const char* event, const Json& data) {
  return std::string("event: ") + event + "\ndata: " + dump(data) + "\n\n";
}

Json final_usage(const AnthropicUsage& u) {
  return {{"input_tokens", u.prompt_tokens - u.cached_tokens},
          {"cache_creation_input_tokens", 0},
          {"cache_read_input_tokens", u.cached_tokens},
          {"output_tokens", u.output_tokens}};
}

}  // namespace

std::optional<Json> anthropic_to_chat(const Json& body, std::string* error) {
  Json chat = Json::object();
  if (!Converter(error).convert(body, /*count_only=*/false, &chat)) return std::nullopt;
  return chat;
}

std::optional<Json> anthropic_count_tokens_request(const Json& body, std::string* error) {
  Json chat = Json::object();
  if (!Converter(error).convert(body, /*count_only=*/true, &chat)) return std::nullopt;
  return chat;
}

std::string anthropic_message_id(uint64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "msg_%020llu", static_cast<unsigned long long>(n));
  return buf;
}

std::string anthropic_stop_reason(const std::string& finish, bool has_tool_calls) {
  if (finish == "length") return "max_tokens";
  if (has_tool_calls || finish == "tool_calls") return "tool_use";
  if (finish == "stop_sequence") return "stop_sequence";
  return "end_turn";
}

Json anthropic_message_body(const AnthropicReply& r) {
  Json content = Json::array();
  if (!r.reasoning.empty()) {
    content.push_back({{"type", "thinking"}, {"thinking", r.reasoning}, {"signature", ""}});
  }
  if (!r.text.empty() || (content.empty() && r.tool_calls.empty())) {
    content.push_back({{"type", "text"}, {"text", r.text}});
  }
  for (size_t i = 0; i < r.tool_calls.size(); ++i) {
    const AnthropicToolCall& c = r.tool_calls[i];
    content.push_back({{"type", "tool_use"},
                       {"id", tool_id(r.id, c, static_cast<int>(i))},
                       {"name", c.name},
                       {"input", tool_input(c.arguments)}});
  }
  const std::string reason = anthropic_stop_reason(r.finish, !r.tool_calls.empty());
  const bool seq = reason == "stop_sequence" && !r.stop_sequence.empty();
  return {{"id", r.id},
          {"type", "message"},
          {"role", "assistant"},
          {"model", r.model},
          {"content", std::move(content)},
          {"stop_reason", reason},
          {"stop_sequence", seq ? Json(r.stop_sequence) : Json()},
          {"usage", final_usage(r.usage)}};
}

AnthropicStream::AnthropicStream(std::string id, std::string model, int64_t prompt_tokens)
    : id_(std::move(id)), model_(std::move(model)), prompt_tokens_(prompt_tokens) {}

std::string AnthropicStream::start() {
  if (started_) return "";
  started_ = true;
  const Json message = {{"id", id_},
                        {"type", "message"},
                        {"role", "assistant"},
                        {"model", model_},
                        {"content", Json::array()},
                        {"stop_reason", nullptr},
                        {"stop_sequence", nullptr},
                        {"usage",
                         {{"input_tokens", prompt_tokens_},
                          {"cache_creation_input_tokens", 0},
                          {"cache_read_input_tokens", 0},
                          {"output_tokens", 0}}}};
  return frame("message_start", {{"type", "message_start"}, {"message", message}}) + ping();
}

std::string AnthropicStream::ping() { return frame("ping", {{"type", "ping"}}); }

std::string AnthropicStream::open(Block b) {
  block_ = b;
  const Json block = b == Block::kThinking
                         ? Json{{"type", "thinking"}, {"thinking", ""}, {"signature", ""}}
                         : Json{{"type", "text"}, {"text", ""}};
  return frame(
      "content_block_start",
      {{"type", "content_block_start"}, {"index", next_index_++}, {"content_block", block}});
}

std::string AnthropicStream::close() {
  if (block_ == Block::kNone) return "";
  const int index = next_index_ - 1;
  std::string out;
  if (block_ == Block::kThinking) {
    // Anthropic closes every thinking block with its signature; there is none to give here.
    out +=
        frame("content_block_delta", {{"type", "content_block_delta"},
                                      {"index", index},
                                      {"delta", {{"type", "signature_delta"}, {"signature", ""}}}});
  }
  block_ = Block::kNone;
  return out + frame("content_block_stop", {{"type", "content_block_stop"}, {"index", index}});
}

std::string AnthropicStream::thinking(std::string_view piece) {
  if (finished_ || piece.empty()) return "";
  std::string out = start();
  if (block_ != Block::kThinking) {
    out += close();  // two statements: the operands of + are not sequenced
    out += open(Block::kThinking);
  }
  return out + frame("content_block_delta",
                     {{"type", "content_block_delta"},
                      {"index", next_index_ - 1},
                      {"delta", {{"type", "thinking_delta"}, {"thinking", std::string(piece)}}}});
}

std::string AnthropicStream::text(std::string_view piece) {
  if (finished_ || piece.empty()) return "";
  std::string out = start();
  if (block_ != Block::kText) {
    out += close();  // two statements: the operands of + are not sequenced
    out += open(Block::kText);
  }
  return out + frame("content_block_delta",
                     {{"type", "content_block_delta"},
                      {"index", next_index_ - 1},
                      {"delta", {{"type", "text_delta"}, {"text", std::string(piece)}}}});
}

std::string AnthropicStream::tool_call(const AnthropicToolCall& call) {
  if (finished_) return "";
  std::string out = start();
  out += close();
  const int index = next_index_++;
  const Json block = {{"type", "tool_use"},
                      {"id", tool_id(id_, call, n_tool_calls_++)},
                      {"name", call.name},
                      {"input", Json::object()}};
  out += frame("content_block_start",
               {{"type", "content_block_start"}, {"index", index}, {"content_block", block}});
  out +=
      frame("content_block_delta",
            {{"type", "content_block_delta"},
             {"index", index},
             {"delta",
              {{"type", "input_json_delta"}, {"partial_json", dump(tool_input(call.arguments))}}}});
  return out + frame("content_block_stop", {{"type", "content_block_stop"}, {"index", index}});
}

std::string AnthropicStream::finish(const std::string& finish, const std::string& stop_sequence,
                                    const AnthropicUsage& usage) {
  if (finished_) return "";
  std::string out = start();
  if (next_index_ == 0) out += open(Block::kText);  // an empty reply still has its text block
  out += close();
  finished_ = true;
  const std::string reason = anthropic_stop_reason(finish, n_tool_calls_ > 0);
  const bool seq = reason == "stop_sequence" && !stop_sequence.empty();
  out += frame(
      "message_delta",
      {{"type", "message_delta"},
       {"delta", {{"stop_reason", reason}, {"stop_sequence", seq ? Json(stop_sequence) : Json()}}},
       {"usage", final_usage(usage)}});
  return out + frame("message_stop", {{"type", "message_stop"}});
}

std::string anthropic_error_type(int status) {
  switch (status) {
    case 400:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 503:
    case 529:
      return "overloaded_error";
    case 504:
      return "timeout_error";
    default:
      return status >= 400 && status < 500 ? "invalid_request_error" : "api_error";
  }
}

Json anthropic_error_body(int status, const std::string& message) {
  return {{"type", "error"},
          {"error", {{"type", anthropic_error_type(status)}, {"message", message}}}};
}

std::string anthropic_sse_error(int status, const std::string& message) {
  return frame("error", anthropic_error_body(status, message));
}

Json anthropic_count_tokens_body(int64_t input_tokens) { return {{"input_tokens", input_tokens}}; }

}  // namespace longctx::server
