// OpenAI's Responses API over the chat path (see responses.h).
#include "server/responses.h"

#include <cstdio>
#include <utility>

namespace longctx::server {
namespace {

bool fail(std::string* error, std::string msg) {
  *error = std::move(msg);
  return false;
}

// The text of a content value: a string, or a list of text parts (input_text, output_text,
// text, refusal) joined with "\n". Other part types are refused by path.
bool content_text(const Json& c, const std::string& path, std::string* out, std::string* error) {
  if (c.is_string()) {
    *out = c.get<std::string>();
    return true;
  }
  if (!c.is_array()) return fail(error, path + " must be a string or a list of content parts");
  out->clear();
  for (size_t k = 0; k < c.size(); ++k) {
    const std::string p = path + "." + std::to_string(k);
    const Json& part = c[k];
    if (!part.is_object() || !part.contains("type") || !part["type"].is_string()) {
      return fail(error, p + " must be an object with a string 'type'");
    }
    const std::string type = part["type"];
    const char* key = type == "refusal" ? "refusal" : "text";
    if (type == "input_text" || type == "output_text" || type == "text" || type == "refusal") {
      if (!part.contains(key) || !part[key].is_string()) {
        return fail(error, p + "." + key + " must be a string");
      }
      if (!out->empty()) *out += "\n";
      *out += part[key].get<std::string>();
    } else if (type == "input_image" || type == "input_file" || type == "input_audio") {
      return fail(error, p + ": " + type +
                             " is not supported: image input is not supported by this text-only "
                             "model");
    } else {
      return fail(error, p + ".type: unknown content part type '" + type + "'");
    }
  }
  return true;
}

bool convert_input(const Json& input, Json* messages, std::string* error) {
  if (input.is_string()) {
    messages->push_back({{"role", "user"}, {"content", input}});
    return true;
  }
  if (!input.is_array()) return fail(error, "'input' must be a string or a list of items");
  std::string reasoning;  // a reasoning item waits for the assistant turn it belongs to
  auto assistant_turn = [&]() -> Json& {
    // function_call items join the assistant message right before them (one turn with text
    // and tool calls), else start their own.
    if (messages->empty() || (*messages)[messages->size() - 1]["role"] != "assistant" ||
        !reasoning.empty()) {
      Json m = {{"role", "assistant"}, {"content", nullptr}};
      if (!reasoning.empty()) m["reasoning_content"] = std::exchange(reasoning, "");
      messages->push_back(std::move(m));
    }
    return (*messages)[messages->size() - 1];
  };
  for (size_t i = 0; i < input.size(); ++i) {
    const std::string path = "input." + std::to_string(i);
    const Json& it = input[i];
    if (!it.is_object()) return fail(error, path + " must be an object");
    std::string type = "message";
    if (it.contains("type")) {
      if (!it["type"].is_string()) return fail(error, path + ".type must be a string");
      type = it["type"].get<std::string>();
    }
    if (type == "message") {
      if (!it.contains("role") || !it["role"].is_string()) {
        return fail(error, path + ".role must be a string");
      }
      std::string role = it["role"];
      if (role == "developer") role = "system";
      if (role != "user" && role != "system" && role != "assistant") {
        return fail(error, path + ".role: unknown role '" + role + "'");
      }
      if (!it.contains("content")) return fail(error, path + ".content is required");
      std::string text;
      if (!content_text(it["content"], path + ".content", &text, error)) return false;
      if (role == "assistant") {
        Json& m = assistant_turn();
        const bool had = m["content"].is_string();
        m["content"] = had ? m["content"].get<std::string>() + "\n" + text : text;
      } else {
        messages->push_back({{"role", role}, {"content", text}});
      }
    } else if (type == "function_call") {
      for (const char* k : {"call_id", "name", "arguments"}) {
        if (!it.contains(k) || !it[k].is_string()) {
          return fail(error, path + "." + k + " must be a string");
        }
      }
      Json& m = assistant_turn();
      if (!m.contains("tool_calls")) m["tool_calls"] = Json::array();
      m["tool_calls"].push_back(
          {{"id", it["call_id"]},
           {"type", "function"},
           {"function", {{"name", it["name"]}, {"arguments", it["arguments"]}}}});
    } else if (type == "function_call_output") {
      if (!it.contains("call_id") || !it["call_id"].is_string()) {
        return fail(error, path + ".call_id must be a string");
      }
      if (!it.contains("output")) return fail(error, path + ".output is required");
      std::string out;
      if (!content_text(it["output"], path + ".output", &out, error)) return false;
      messages->push_back({{"role", "tool"}, {"tool_call_id", it["call_id"]}, {"content", out}});
    } else if (type == "reasoning") {
      // Its text (content parts, or the summary when that is all there is) goes back to the
      // template as the next assistant turn's reasoning_content.
      std::string text;
      for (const char* k : {"content", "summary"}) {
        if (!it.contains(k) || !it[k].is_array()) continue;
        for (const Json& p : it[k]) {
          if (p.is_object() && p.contains("text") && p["text"].is_string()) {
            if (!text.empty()) text += "\n";
            text += p["text"].get<std::string>();
          }
        }
        if (!text.empty()) break;
      }
      reasoning = text;
    } else if (type == "item_reference") {
      return fail(error, path + ": item_reference is not supported (responses are not stored)");
    } else {
      return fail(error, path + ".type: unsupported input item type '" + type + "'");
    }
  }
  return true;
}

bool convert_tools(const Json& body, Json* chat, std::string* error) {
  if (const auto t = body.find("tools"); t != body.end() && !t->is_null()) {
    if (!t->is_array()) return fail(error, "'tools' must be a list");
    Json tools = Json::array();
    for (size_t i = 0; i < t->size(); ++i) {
      const std::string path = "tools." + std::to_string(i);
      const Json& x = (*t)[i];
      if (!x.is_object() || !x.contains("type") || !x["type"].is_string()) {
        return fail(error, path + " must be an object with a string 'type'");
      }
      if (x["type"] != "function") {
        return fail(error, path + ".type: the built-in tool '" + x["type"].get<std::string>() +
                               "' is not available here (function tools only)");
      }
      if (!x.contains("name") || !x["name"].is_string()) {
        return fail(error, path + ".name must be a string");
      }
      Json f = {{"name", x["name"]}};
      if (x.contains("description")) f["description"] = x["description"];
      if (x.contains("parameters") && !x["parameters"].is_null()) f["parameters"] = x["parameters"];
      tools.push_back({{"type", "function"}, {"function", std::move(f)}});
    }
    if (!tools.empty()) (*chat)["tools"] = std::move(tools);
  }
  if (const auto c = body.find("tool_choice"); c != body.end() && !c->is_null()) {
    if (c->is_string()) {
      (*chat)["tool_choice"] = *c;
    } else if (c->is_object() && c->contains("type") && (*c)["type"] == "function" &&
               c->contains("name") && (*c)["name"].is_string()) {
      (*chat)["tool_choice"] = {{"type", "function"}, {"function", {{"name", (*c)["name"]}}}};
    } else {
      return fail(error, "'tool_choice' must be auto, none, required or a function by name");
    }
  }
  return true;
}

// text.format -> response_format.
bool convert_format(const Json& body, Json* chat, std::string* error) {
  const auto t = body.find("text");
  if (t == body.end() || t->is_null()) return true;
  if (!t->is_object()) return fail(error, "'text' must be an object");
  const auto f = t->find("format");
  if (f == t->end() || f->is_null()) return true;
  if (!f->is_object() || !f->contains("type") || !(*f)["type"].is_string()) {
    return fail(error, "text.format must be an object with a string 'type'");
  }
  const std::string type = (*f)["type"];
  if (type == "text") return true;
  if (type == "json_object") {
    (*chat)["response_format"] = {{"type", "json_object"}};
    return true;
  }
  if (type == "json_schema") {
    if (!f->contains("schema")) return fail(error, "text.format.schema is required");
    // (value() would throw on a name that is not a string: checked instead.)
    Json name = "response";
    if (const auto n = f->find("name"); n != f->end() && !n->is_null()) {
      if (!n->is_string()) return fail(error, "text.format.name must be a string");
      name = *n;
    }
    Json js = {{"name", std::move(name)}, {"schema", (*f)["schema"]}};
    if (f->contains("strict")) js["strict"] = (*f)["strict"];
    (*chat)["response_format"] = {{"type", "json_schema"}, {"json_schema", std::move(js)}};
    return true;
  }
  return fail(error, "text.format.type: unknown format '" + type + "'");
}

}  // namespace

std::optional<Json> responses_to_chat(const Json& body, std::string* error) {
  if (!body.is_object()) {
    *error = "the request body must be a JSON object";
    return std::nullopt;
  }
  if (body.contains("previous_response_id") && !body["previous_response_id"].is_null()) {
    *error =
        "'previous_response_id' is not supported: this server does not store responses; send "
        "the whole conversation in 'input'";
    return std::nullopt;
  }
  if (body.contains("background") && body["background"] == true) {
    *error = "'background' responses are not supported";
    return std::nullopt;
  }
  Json chat = Json::object();
  chat["model"] = body.contains("model") ? body["model"] : Json("");
  Json messages = Json::array();
  if (const auto ins = body.find("instructions"); ins != body.end() && !ins->is_null()) {
    if (!ins->is_string()) {
      *error = "'instructions' must be a string";
      return std::nullopt;
    }
    messages.push_back({{"role", "system"}, {"content", *ins}});
  }
  const auto input = body.find("input");
  if (input == body.end() || input->is_null()) {
    *error = "'input' is required";
    return std::nullopt;
  }
  if (!convert_input(*input, &messages, error) || !convert_tools(body, &chat, error) ||
      !convert_format(body, &chat, error)) {
    return std::nullopt;
  }
  chat["messages"] = std::move(messages);
  if (const auto m = body.find("max_output_tokens"); m != body.end() && !m->is_null()) {
    chat["max_tokens"] = *m;
  }
  if (const auto r = body.find("reasoning"); r != body.end() && !r->is_null()) {
    if (!r->is_object()) {
      *error = "'reasoning' must be an object";
      return std::nullopt;
    }
    if (const auto e = r->find("effort"); e != r->end() && e->is_string()) {
      const bool off = *e == "none" || *e == "minimal";
      chat["chat_template_kwargs"]["enable_thinking"] = !off;
    }
  }
  // Passed on as they are (the chat parser checks them): OpenAI's own and llama-server's.
  for (const char* k : {"temperature", "top_p", "stream", "parallel_tool_calls", "top_k", "min_p",
                        "seed", "repeat_penalty", "repeat_last_n", "presence_penalty",
                        "frequency_penalty", "stop", "return_progress", "cache_prompt", "id_slot",
                        "experts", "rope_scaling", "grammar", "logit_bias"}) {
    if (const auto it = body.find(k); it != body.end()) chat[k] = *it;
  }
  if (const auto kw = body.find("chat_template_kwargs"); kw != body.end() && !kw->is_null()) {
    if (!kw->is_object()) {
      *error = "'chat_template_kwargs' must be an object";
      return std::nullopt;
    }
    for (const auto& [k, v] : kw->items()) chat["chat_template_kwargs"][k] = v;
  }
  return chat;
}

std::string responses_id(uint64_t n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "resp_%020llu", static_cast<unsigned long long>(n));
  return buf;
}

namespace {

std::string item_id(const char* prefix, const std::string& resp_id, int index) {
  return std::string(prefix) + resp_id.substr(5) + "_" + std::to_string(index);
}

Json message_item(const std::string& id, const std::string& text, const char* status) {
  Json content = Json::array();
  if (std::string_view(status) == "completed") {
    content.push_back({{"type", "output_text"},
                       {"text", text},
                       {"annotations", Json::array()},
                       {"logprobs", Json::array()}});
  }
  return {{"type", "message"},
          {"id", id},
          {"status", status},
          {"role", "assistant"},
          {"content", std::move(content)}};
}

Json reasoning_item(const std::string& id, const std::string& text, bool done) {
  Json content = Json::array();
  if (done) content.push_back({{"type", "reasoning_text"}, {"text", text}});
  return {{"type", "reasoning"}, {"id", id}, {"summary", Json::array()}, {"content", content}};
}

Json call_item(const std::string& id, const ResponsesToolCall& c, const char* status,
               bool with_args) {
  return {{"type", "function_call"},
          {"id", id},
          {"call_id", c.call_id},
          {"name", c.name},
          {"arguments", with_args ? c.arguments : std::string()},
          {"status", status}};
}

// The settings a response object echoes from its request, with OpenAI's defaults.
Json echo(const Json& request) {
  auto get = [&](const char* k, Json def) {
    const auto it = request.find(k);
    return it != request.end() && !it->is_null() ? *it : def;
  };
  return {{"instructions", get("instructions", nullptr)},
          {"max_output_tokens", get("max_output_tokens", nullptr)},
          {"parallel_tool_calls", get("parallel_tool_calls", true)},
          {"previous_response_id", nullptr},
          {"reasoning", get("reasoning", Json{{"effort", nullptr}, {"summary", nullptr}})},
          {"store", false},
          {"temperature", get("temperature", 1.0)},
          {"text", get("text", Json{{"format", {{"type", "text"}}}})},
          {"tool_choice", get("tool_choice", "auto")},
          {"tools", get("tools", Json::array())},
          {"top_p", get("top_p", 1.0)},
          {"truncation", "disabled"},
          {"metadata", get("metadata", Json::object())}};
}

}  // namespace

Json responses_body(const ResponsesReply& r, const Json& request) {
  Json output = Json::array();
  int index = 0;
  if (!r.reasoning.empty()) {
    output.push_back(reasoning_item(item_id("rs_", r.id, index++), r.reasoning, true));
  }
  if (!r.text.empty() || r.tool_calls.empty()) {
    output.push_back(message_item(item_id("msg_", r.id, index++), r.text, "completed"));
  }
  for (const ResponsesToolCall& c : r.tool_calls) {
    output.push_back(call_item(item_id("fc_", r.id, index++), c, "completed", true));
  }
  Json out = {
      {"id", r.id},
      {"object", "response"},
      {"created_at", r.created_at},
      {"status", r.truncated ? "incomplete" : "completed"},
      {"error", nullptr},
      {"incomplete_details", r.truncated ? Json{{"reason", "max_output_tokens"}} : Json(nullptr)},
      {"model", r.model},
      {"output", std::move(output)}};
  const Json settings = echo(request);  // named: a temporary's items() would dangle
  for (const auto& [k, v] : settings.items()) out[k] = v;
  out["usage"] = {{"input_tokens", r.input_tokens},
                  {"input_tokens_details", {{"cached_tokens", r.cached_tokens}}},
                  {"output_tokens", r.output_tokens},
                  {"output_tokens_details", {{"reasoning_tokens", r.reasoning_tokens}}},
                  {"total_tokens", r.input_tokens + r.output_tokens}};
  return out;
}

ResponsesStream::ResponsesStream(std::string id, std::string model, int64_t created_at,
                                 Json request)
    : id_(std::move(id)),
      model_(std::move(model)),
      created_at_(created_at),
      request_(std::move(request)) {}

std::string ResponsesStream::event(Json data) {
  data["sequence_number"] = seq_++;
  const std::string type = data["type"];
  return "event: " + type + "\ndata: " + data.dump(-1, ' ', false, Json::error_handler_t::replace) +
         "\n\n";
}

Json ResponsesStream::skeleton(const char* status) const {
  Json r = {{"id", id_},        {"object", "response"},   {"created_at", created_at_},
            {"status", status}, {"error", nullptr},       {"incomplete_details", nullptr},
            {"model", model_},  {"output", Json::array()}};
  const Json settings = echo(request_);
  for (const auto& [k, v] : settings.items()) r[k] = v;
  r["usage"] = nullptr;
  return r;
}

std::string ResponsesStream::start() {
  if (started_) return "";
  started_ = true;
  // Two statements: the operands of + are evaluated in no set order, and the sequence
  // numbers must follow the events.
  std::string out = event({{"type", "response.created"}, {"response", skeleton("in_progress")}});
  out += event({{"type", "response.in_progress"}, {"response", skeleton("in_progress")}});
  return out;
}

std::string ResponsesStream::progress(const Json& prompt_progress) {
  return event({{"type", "response.in_progress"},
                {"response", skeleton("in_progress")},
                {"prompt_progress", prompt_progress}});
}

std::string ResponsesStream::close() {
  std::string out;
  if (open_ == Item::kReasoning) {
    out += event({{"type", "response.reasoning_text.done"},
                  {"item_id", item_id_},
                  {"output_index", output_index_},
                  {"content_index", 0},
                  {"text", item_text_}});
    out += event({{"type", "response.output_item.done"},
                  {"output_index", output_index_},
                  {"item", reasoning_item(item_id_, item_text_, true)}});
  } else if (open_ == Item::kMessage) {
    const Json part = {{"type", "output_text"},
                       {"text", item_text_},
                       {"annotations", Json::array()},
                       {"logprobs", Json::array()}};
    out += event({{"type", "response.output_text.done"},
                  {"item_id", item_id_},
                  {"output_index", output_index_},
                  {"content_index", 0},
                  {"text", item_text_},
                  {"logprobs", Json::array()}});
    out += event({{"type", "response.content_part.done"},
                  {"item_id", item_id_},
                  {"output_index", output_index_},
                  {"content_index", 0},
                  {"part", part}});
    out += event({{"type", "response.output_item.done"},
                  {"output_index", output_index_},
                  {"item", message_item(item_id_, item_text_, "completed")}});
  }
  open_ = Item::kNone;
  item_text_.clear();
  return out;
}

std::string ResponsesStream::reasoning(std::string_view piece) {
  if (piece.empty() || finished_) return "";
  std::string out;
  if (open_ != Item::kReasoning) {
    out += close();
    open_ = Item::kReasoning;
    output_index_ = n_items_++;
    item_id_ = item_id("rs_", id_, output_index_);
    out += event({{"type", "response.output_item.added"},
                  {"output_index", output_index_},
                  {"item", reasoning_item(item_id_, "", false)}});
  }
  item_text_ += piece;
  out += event({{"type", "response.reasoning_text.delta"},
                {"item_id", item_id_},
                {"output_index", output_index_},
                {"content_index", 0},
                {"delta", std::string(piece)}});
  return out;
}

std::string ResponsesStream::text(std::string_view piece, const Json& timings) {
  if (piece.empty() || finished_) return "";
  std::string out;
  if (open_ != Item::kMessage) {
    out += close();
    open_ = Item::kMessage;
    output_index_ = n_items_++;
    item_id_ = item_id("msg_", id_, output_index_);
    out += event({{"type", "response.output_item.added"},
                  {"output_index", output_index_},
                  {"item", message_item(item_id_, "", "in_progress")}});
    out += event({{"type", "response.content_part.added"},
                  {"item_id", item_id_},
                  {"output_index", output_index_},
                  {"content_index", 0},
                  {"part",
                   {{"type", "output_text"},
                    {"text", ""},
                    {"annotations", Json::array()},
                    {"logprobs", Json::array()}}}});
  }
  item_text_ += piece;
  Json d = {{"type", "response.output_text.delta"}, {"item_id", item_id_},
            {"output_index", output_index_},        {"content_index", 0},
            {"delta", std::string(piece)},          {"logprobs", Json::array()}};
  if (!timings.is_null()) d["timings"] = timings;
  out += event(std::move(d));
  return out;
}

std::string ResponsesStream::tool_call(const ResponsesToolCall& call) {
  if (finished_) return "";
  std::string out = close();
  const int index = n_items_++;
  const std::string id = item_id("fc_", id_, index);
  out += event({{"type", "response.output_item.added"},
                {"output_index", index},
                {"item", call_item(id, call, "in_progress", false)}});
  out += event({{"type", "response.function_call_arguments.delta"},
                {"item_id", id},
                {"output_index", index},
                {"delta", call.arguments}});
  out += event({{"type", "response.function_call_arguments.done"},
                {"item_id", id},
                {"output_index", index},
                {"name", call.name},
                {"arguments", call.arguments}});
  out += event({{"type", "response.output_item.done"},
                {"output_index", index},
                {"item", call_item(id, call, "completed", true)}});
  return out;
}

std::string ResponsesStream::finish(const ResponsesReply& reply, const Json& timings) {
  if (finished_) return "";
  std::string out = start();
  out += close();
  // A reply with neither text nor tool calls still has its (empty) message, as the
  // non-streamed object does.
  if (reply.text.empty() && reply.tool_calls.empty()) {
    const int index = n_items_++;
    const std::string id = item_id("msg_", id_, index);
    out += event({{"type", "response.output_item.added"},
                  {"output_index", index},
                  {"item", message_item(id, "", "in_progress")}});
    out += event({{"type", "response.output_item.done"},
                  {"output_index", index},
                  {"item", message_item(id, "", "completed")}});
  }
  finished_ = true;
  Json done = {{"type", "response.completed"}, {"response", responses_body(reply, request_)}};
  if (!timings.is_null()) done["timings"] = timings;
  out += event(std::move(done));
  return out;
}

std::string ResponsesStream::error(int status, const std::string& message) {
  if (finished_) return "";
  finished_ = true;
  return event({{"type", "error"},
                {"code", status == 400 ? "invalid_request_error" : "server_error"},
                {"message", message},
                {"param", nullptr}});
}

}  // namespace longctx::server
