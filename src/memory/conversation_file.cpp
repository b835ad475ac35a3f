// Reading and writing conversation files (JSON array or JSON lines).
#include "memory/conversation_file.h"

#include <nlohmann/json.hpp>

namespace longctx::memory {
namespace {

using nlohmann::json;

Status to_turn(const json& j, const std::string& where, Turn* t) {
  if (!j.is_object()) return invalid_argument(where + ": expected a JSON object");
  auto role = j.find("role");
  if (role == j.end() || !role->is_string()) {
    return invalid_argument(where + ": \"role\" (a string) is missing");
  }
  t->role = role->get<std::string>();
  if (t->role == "developer") t->role = "system";
  if (t->role != "system" && t->role != "user" && t->role != "assistant" && t->role != "tool") {
    return invalid_argument(where + ": role \"" + t->role +
                            "\" is not one of system, user, assistant, tool");
  }
  auto content = j.find("content");
  if (content == j.end()) return invalid_argument(where + ": \"content\" is missing");
  if (content->is_string()) {
    t->content = content->get<std::string>();
  } else if (content->is_null()) {
    t->content.clear();
  } else if (content->is_array()) {
    t->content.clear();
    for (const json& part : *content) {
      if (part.is_string()) {
        if (!t->content.empty()) t->content += "\n";
        t->content += part.get<std::string>();
        continue;
      }
      auto text = part.is_object() ? part.find("text") : part.end();
      if (!part.is_object() || text == part.end() || !text->is_string()) {
        if (part.is_object() && part.contains("type") && part["type"] != "text") continue;
        return invalid_argument(where + ": a content part without \"text\"");
      }
      if (!t->content.empty()) t->content += "\n";
      t->content += text->get<std::string>();
    }
  } else {
    return invalid_argument(where + ": \"content\" must be a string or an array of parts");
  }
  if (auto name = j.find("name"); name != j.end() && !name->is_null()) {
    if (!name->is_string()) return invalid_argument(where + ": \"name\" must be a string");
    t->name = name->get<std::string>();
  }
  if (auto time = j.find("time"); time != j.end() && !time->is_null()) {
    if (time->is_string()) {
      t->time = time->get<std::string>();
    } else if (time->is_number()) {
      t->time = time->dump();
    } else {
      return invalid_argument(where + ": \"time\" must be a string");
    }
  }
  return Status::ok();
}

}  // namespace

Result<std::vector<Turn>> parse_conversation(std::string_view text) {
  std::vector<Turn> out;
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && text.substr(first, 3) == "\xEF\xBB\xBF") first += 3;
  if (first == std::string_view::npos) return out;
  if (text[first] == '[') {
    json j = json::parse(text.substr(first), nullptr, false);
    if (j.is_discarded()) return invalid_argument("not valid JSON (expected an array of turns)");
    for (size_t i = 0; i < j.size(); ++i) {
      Turn t;
      if (Status st = to_turn(j[i], "element " + std::to_string(i), &t); !st) return st;
      t.pos = static_cast<int64_t>(out.size());
      out.push_back(std::move(t));
    }
    return out;
  }
  size_t line_no = 0;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(at, end - at);
    at = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    json j = json::parse(line, nullptr, false);
    const std::string where = "line " + std::to_string(line_no);
    if (j.is_discarded()) return invalid_argument(where + ": not valid JSON");
    Turn t;
    if (Status st = to_turn(j, where, &t); !st) return st;
    t.pos = static_cast<int64_t>(out.size());
    out.push_back(std::move(t));
  }
  return out;
}

std::string turn_to_json_line(const Turn& t) {
  json j = {{"role", t.role}, {"content", t.content}};
  if (!t.name.empty()) j["name"] = t.name;
  if (!t.time.empty()) j["time"] = t.time;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace longctx::memory
