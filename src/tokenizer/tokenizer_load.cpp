// Loaders: Hugging Face tokenizer.json (+ tokenizer_config.json) and GGUF tokenizer metadata,
// both reduced to a TokenizerSpec. Every unsupported setting or malformed field is an error
// that names the field, so a tokenizer is never silently mis-read.
#include <nlohmann/json.hpp>

#include <filesystem>

#include "core/file_io.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/tokenizer.h"

namespace longctx {
namespace {

using nlohmann::json;

// Largest id accepted relative to the number of entries: ids come from the file and size the
// id -> piece table, so a stray huge id must not drive a huge allocation.
int64_t max_plausible_id(size_t n_entries) { return 2 * static_cast<int64_t>(n_entries) + 1024; }

bool json_flag(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_boolean() && it->get<bool>();
}

// Accepts normalizer null, NFC, or a Sequence holding only NFC.
Status read_normalizer(const json& n, bool* nfc) {
  *nfc = false;
  if (n.is_null()) return Status::ok();
  if (!n.is_object() || !n.contains("type") || !n["type"].is_string()) {
    return invalid_format("tokenizer.json normalizer: expected an object with a \"type\"");
  }
  const std::string type = n["type"].get<std::string>();
  if (type == "NFC") {
    *nfc = true;
    return Status::ok();
  }
  if (type == "Sequence" && n.contains("normalizers") && n["normalizers"].is_array()) {
    for (const json& sub : n["normalizers"]) {
      bool sub_nfc = false;
      LONGCTX_RETURN_IF_ERROR(read_normalizer(sub, &sub_nfc));
      *nfc = *nfc || sub_nfc;
    }
    return Status::ok();
  }
  return unsupported("tokenizer.json normalizer type \"" + type + "\" (only NFC is supported)");
}

// Finds the Split regex of the pre-tokenizer (possibly inside a Sequence) and checks that the
// rest is a ByteLevel step that does no splitting of its own.
Status read_pre_tokenizer(const json& p, std::string* pattern) {
  if (!p.is_object() || !p.contains("type") || !p["type"].is_string()) {
    return invalid_format("tokenizer.json pre_tokenizer: expected an object with a \"type\"");
  }
  const std::string type = p["type"].get<std::string>();
  if (type == "Sequence") {
    if (!p.contains("pretokenizers") || !p["pretokenizers"].is_array()) {
      return invalid_format("tokenizer.json pre_tokenizer Sequence: missing \"pretokenizers\"");
    }
    for (const json& sub : p["pretokenizers"]) {
      LONGCTX_RETURN_IF_ERROR(read_pre_tokenizer(sub, pattern));
    }
    return Status::ok();
  }
  if (type == "Split") {
    const json* re = p.contains("pattern") && p["pattern"].is_object() &&
                             p["pattern"].contains("Regex") && p["pattern"]["Regex"].is_string()
                         ? &p["pattern"]["Regex"]
                         : nullptr;
    if (re == nullptr) {
      return unsupported(
          "tokenizer.json pre_tokenizer Split: only a \"Regex\" pattern is supported");
    }
    if (p.value("behavior", std::string()) != "Isolated" || json_flag(p, "invert")) {
      return unsupported(
          "tokenizer.json pre_tokenizer Split: only behavior Isolated, invert false");
    }
    if (!pattern->empty()) return unsupported("tokenizer.json pre_tokenizer: two Split steps");
    *pattern = re->get<std::string>();
    return Status::ok();
  }
  if (type == "ByteLevel") {
    if (json_flag(p, "use_regex") || json_flag(p, "add_prefix_space")) {
      return unsupported(
          "tokenizer.json pre_tokenizer ByteLevel: use_regex and add_prefix_space "
          "must be false");
    }
    return Status::ok();
  }
  return unsupported("tokenizer.json pre_tokenizer type \"" + type + "\"");
}

Result<std::string> bytes_of(const std::string& byte_level, const std::string& where) {
  std::optional<std::string> raw = tok::byte_level_decode(byte_level);
  if (!raw) return invalid_format(where + " \"" + byte_level + "\" is not byte-level text");
  return *raw;
}

Status read_merge(const json& m, size_t rank, TokenizerSpec* spec) {
  std::string a, b;
  if (m.is_string()) {  // "a b": byte-level strings never contain a literal space
    const std::string s = m.get<std::string>();
    const size_t sp = s.find(' ');
    if (sp == std::string::npos || sp == 0 || sp + 1 == s.size() ||
        s.find(' ', sp + 1) != std::string::npos) {
      return invalid_format("merge " + std::to_string(rank) + " \"" + s +
                            "\" is not two tokens separated by one space");
    }
    a = s.substr(0, sp);
    b = s.substr(sp + 1);
  } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
    a = m[0].get<std::string>();
    b = m[1].get<std::string>();
  } else {
    return invalid_format("merge " + std::to_string(rank) + " is neither \"a b\" nor [a, b]");
  }
  Result<std::string> ra = bytes_of(a, "merge " + std::to_string(rank) + " part");
  if (!ra.is_ok()) return ra.status();
  Result<std::string> rb = bytes_of(b, "merge " + std::to_string(rank) + " part");
  if (!rb.is_ok()) return rb.status();
  spec->merges.emplace_back(std::move(ra).value(), std::move(rb).value());
  return Status::ok();
}

Status read_model(const json& model, TokenizerSpec* spec,
                  std::vector<std::pair<int64_t, std::string>>* vocab) {
  if (!model.is_object()) return invalid_format("tokenizer.json: missing \"model\" object");
  if (model.contains("type") && model["type"] != "BPE") {
    return unsupported("tokenizer.json model type " + model["type"].dump() + " (only BPE)");
  }
  if (json_flag(model, "byte_fallback") || json_flag(model, "ignore_merges")) {
    return unsupported("tokenizer.json model: byte_fallback and ignore_merges must be false");
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (model.contains(key) && !model[key].is_null() && model[key] != "") {
      return unsupported(std::string("tokenizer.json model.") + key + " must be empty");
    }
  }
  if (model.contains("dropout") && !model["dropout"].is_null()) {
    return unsupported("tokenizer.json model.dropout must be null");
  }
  if (!model.contains("vocab") || !model["vocab"].is_object()) {
    return invalid_format("tokenizer.json: model.vocab is missing or not an object");
  }
  for (auto it = model["vocab"].begin(); it != model["vocab"].end(); ++it) {
    if (!it.value().is_number_integer()) {
      return invalid_format("tokenizer.json model.vocab[\"" + it.key() + "\"] is not an integer");
    }
    Result<std::string> raw = bytes_of(it.key(), "model.vocab entry");
    if (!raw.is_ok()) return raw.status();
    vocab->emplace_back(it.value().get<int64_t>(), std::move(raw).value());
  }
  if (!model.contains("merges") || !model["merges"].is_array()) {
    return invalid_format("tokenizer.json: model.merges is missing or not an array");
  }
  spec->merges.reserve(model["merges"].size());
  size_t rank = 0;
  for (const json& m : model["merges"]) LONGCTX_RETURN_IF_ERROR(read_merge(m, rank++, spec));
  return Status::ok();
}

Status read_added(const json& added, std::vector<std::pair<int64_t, std::string>>* vocab,
                  TokenizerSpec* spec) {
  if (added.is_null()) return Status::ok();
  if (!added.is_array()) return invalid_format("tokenizer.json added_tokens is not an array");
  for (size_t k = 0; k < added.size(); ++k) {
    const json& a = added[k];
    const std::string where = "tokenizer.json added_tokens[" + std::to_string(k) + "]";
    if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() ||
        !a.contains("content") || !a["content"].is_string()) {
      return invalid_format(where + ": needs integer \"id\" and string \"content\"");
    }
    if (json_flag(a, "single_word")) return unsupported(where + ": single_word is not supported");
    AddedToken t;
    t.content = a["content"].get<std::string>();
    const int64_t id = a["id"].get<int64_t>();
    if (id < 0 || id > INT32_MAX) return invalid_format(where + ": id " + std::to_string(id));
    t.id = static_cast<int32_t>(id);
    t.special = json_flag(a, "special");
    t.lstrip = json_flag(a, "lstrip");
    t.rstrip = json_flag(a, "rstrip");
    vocab->emplace_back(id, t.content);
    spec->added.push_back(std::move(t));
  }
  return Status::ok();
}

// Optional eos token name from tokenizer_config.json: a string or {"content": ...}.
std::optional<std::string> config_eos(const std::string& config_text) {
  json c = json::parse(config_text, nullptr, false);
  if (c.is_discarded() || !c.is_object() || !c.contains("eos_token")) return std::nullopt;
  const json& e = c["eos_token"];
  if (e.is_string()) return e.get<std::string>();
  if (e.is_object() && e.contains("content") && e["content"].is_string()) {
    return e["content"].get<std::string>();
  }
  return std::nullopt;
}

Result<TokenizerSpec> spec_from_hf_json(const std::string& json_text) {
  json j = json::parse(json_text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return invalid_format("tokenizer.json is not a JSON object");
  }
  TokenizerSpec spec;
  std::vector<std::pair<int64_t, std::string>> entries;  // (id, raw bytes); added ones last
  static const json kNull;
  auto model_it = j.find("model");  // by reference: the vocabulary is most of the file
  LONGCTX_RETURN_IF_ERROR(read_model(model_it != j.end() ? *model_it : kNull, &spec, &entries));
  const size_t n_model = entries.size();
  LONGCTX_RETURN_IF_ERROR(read_added(j.value("added_tokens", json()), &entries, &spec));
  LONGCTX_RETURN_IF_ERROR(read_normalizer(j.value("normalizer", json()), &spec.nfc));
  LONGCTX_RETURN_IF_ERROR(read_pre_tokenizer(j.value("pre_tokenizer", json()), &spec.pattern));
  if (spec.pattern.empty()) {
    return unsupported("tokenizer.json pre_tokenizer has no Split regex");
  }

  int64_t max_id = -1;
  for (const auto& [id, raw] : entries) max_id = std::max(max_id, id);
  if (max_id >= max_plausible_id(entries.size())) {
    return invalid_format("tokenizer.json token id " + std::to_string(max_id) +
                          " is implausible for " + std::to_string(entries.size()) + " entries");
  }
  spec.pieces.assign(static_cast<size_t>(max_id + 1), std::string());
  spec.kinds.assign(spec.pieces.size(), TokenKind::kUnused);
  for (size_t k = 0; k < entries.size(); ++k) {
    const auto& [id, raw] = entries[k];
    if (id < 0)
      return invalid_format("tokenizer.json model.vocab id " + std::to_string(id) + " < 0");
    if (k < n_model) {
      if (spec.kinds[id] != TokenKind::kUnused) {
        return invalid_format("tokenizer.json model.vocab id " + std::to_string(id) +
                              " used twice");
      }
      spec.pieces[id] = raw;
      spec.kinds[id] = TokenKind::kNormal;
    }
  }
  for (const AddedToken& a : spec.added) {
    // An added token that duplicates a vocab entry keeps that entry for BPE.
    if (spec.kinds[a.id] != TokenKind::kNormal) {
      spec.kinds[a.id] = a.special ? TokenKind::kControl : TokenKind::kUserDefined;
    }
  }
  return spec;
}

}  // namespace

Result<Tokenizer> Tokenizer::from_hf_json(const std::string& json_text) {
  Result<TokenizerSpec> spec = spec_from_hf_json(json_text);
  if (!spec.is_ok()) return spec.status();
  return from_spec(std::move(spec).value());
}

Result<Tokenizer> Tokenizer::from_hf_path(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::string file = path;
  if (fs::is_directory(path, ec)) {
    file.clear();
    for (const char* name : {"tokenizer.json", "tokenizer.json.zst"}) {
      if (fs::exists(fs::path(path) / name, ec)) {
        file = (fs::path(path) / name).string();
        break;
      }
    }
    if (file.empty()) return not_found(path + ": no tokenizer.json or tokenizer.json.zst");
  }
  Result<std::string> text = read_file(file);
  if (!text.is_ok()) return text.status();
  Result<TokenizerSpec> spec = spec_from_hf_json(*text);
  if (!spec.is_ok()) return spec.status().with_context(file);

  // tokenizer_config.json beside the tokenizer names the eos token (Qwen3: <|im_end|>).
  const fs::path config = fs::path(file).parent_path() / "tokenizer_config.json";
  if (fs::exists(config, ec)) {
    Result<std::string> config_text = read_file(config.string());
    if (!config_text.is_ok()) return config_text.status();
    if (std::optional<std::string> eos = config_eos(*config_text)) {
      for (const AddedToken& a : spec->added) {
        if (a.content == *eos) spec->eos_id = a.id;
      }
      if (!spec->eos_id) {
        return invalid_format(config.string() + ": eos_token \"" + *eos +
                              "\" is not an added token");
      }
    }
  }
  Result<Tokenizer> t = from_spec(std::move(spec).value());
  if (!t.is_ok()) return t.status().with_context(file);
  return t;
}

}  // namespace longctx

namespace longctx {

Result<TokenizerSpec> tokenizer_spec_from_hf_json(const std::string& json_text) {
  return spec_from_hf_json(json_text);
}

}  // namespace longctx
