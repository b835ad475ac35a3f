// Converts a Hugging Face tokenizer into GGUF tokenizer metadata, following the converter:
// NORMAL tokens in the byte-level alphabet, added tokens verbatim (CONTROL when special or
// shaped "<|...|>", else USER_DEFINED), missing ids as "[PAD<id>]" UNUSED, merges as "a b".
#include "tokenizer/gguf_export.h"

#include <nlohmann/json.hpp>

#include <filesystem>

#include "core/file_io.h"
#include "gguf/gguf_writer.h"
#include "tokenizer/byte_level.h"

namespace longctx {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// A special-token field of tokenizer_config.json: a string or {"content": ...}; "" if absent.
std::string config_token(const json& config, const char* key) {
  if (!config.is_object() || !config.contains(key)) return "";
  const json& v = config[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string())
    return v["content"].get<std::string>();
  return "";
}

}  // namespace

Result<std::vector<GgufKV>> gguf_tokenizer_metadata(const std::string& hf_dir, uint32_t n_vocab) {
  std::error_code ec;
  std::string tok_path;
  for (const char* name : {"tokenizer.json", "tokenizer.json.zst"}) {
    if (fs::exists(fs::path(hf_dir) / name, ec)) {
      tok_path = (fs::path(hf_dir) / name).string();
      break;
    }
  }
  if (tok_path.empty()) return not_found(hf_dir + ": no tokenizer.json or tokenizer.json.zst");
  Result<std::string> text = read_file(tok_path);
  if (!text) return text.status();
  Result<TokenizerSpec> spec_r = tokenizer_spec_from_hf_json(*text);
  if (!spec_r) return spec_r.status().with_context(tok_path);
  const TokenizerSpec& spec = *spec_r;
  if (spec.pieces.size() > n_vocab) {
    return invalid_argument(tok_path + " has " + std::to_string(spec.pieces.size()) +
                            " tokens, more than the model's vocabulary of " +
                            std::to_string(n_vocab));
  }

  json config = json::object();
  const fs::path config_path = fs::path(hf_dir) / "tokenizer_config.json";
  if (fs::exists(config_path, ec)) {
    Result<std::string> c = read_file(config_path.string());
    if (!c) return c.status();
    config = json::parse(*c, nullptr, false);
    if (config.is_discarded() || !config.is_object()) {
      return invalid_format(config_path.string() + " is not a JSON object");
    }
  }

  std::vector<std::string> tokens(n_vocab);
  std::vector<GgufValue> types(n_vocab);
  // Added tokens keep their text in spec.added (spec.pieces holds only BPE vocabulary entries).
  std::vector<const AddedToken*> added_by_id(spec.pieces.size(), nullptr);
  for (const AddedToken& a : spec.added) added_by_id[size_t(a.id)] = &a;
  for (uint32_t id = 0; id < n_vocab; ++id) {
    TokenKind kind = TokenKind::kUnused;
    if (id < spec.pieces.size() && spec.kinds[id] != TokenKind::kUnused) {
      const std::string& raw = added_by_id[id] ? added_by_id[id]->content : spec.pieces[id];
      if (added_by_id[id]) {
        const bool ctl_shape =
            raw.size() >= 4 && raw.rfind("<|", 0) == 0 && raw.compare(raw.size() - 2, 2, "|>") == 0;
        kind = (spec.kinds[id] == TokenKind::kControl || ctl_shape) ? TokenKind::kControl
                                                                    : TokenKind::kUserDefined;
        tokens[id] = raw;
      } else {
        kind = TokenKind::kNormal;
        tokens[id] = tok::byte_level_encode(raw);
      }
    } else {
      tokens[id] = "[PAD" + std::to_string(id) + "]";
    }
    types[id] = gguf_i32(static_cast<int32_t>(kind));
  }
  std::vector<std::string> merges;
  merges.reserve(spec.merges.size());
  for (const auto& [a, b] : spec.merges) {
    merges.push_back(tok::byte_level_encode(a) + " " + tok::byte_level_encode(b));
  }

  // Special ids: eos and pad from tokenizer_config.json; bos is <|endoftext|>, as Qwen's
  // config.json (bos_token_id 151643) sets it, though it is never added.
  auto id_of = [&](const std::string& content) -> std::optional<uint32_t> {
    for (const AddedToken& a : spec.added) {
      if (a.content == content) return static_cast<uint32_t>(a.id);
    }
    return std::nullopt;
  };
  std::vector<GgufKV> kv;
  kv.push_back({"tokenizer.ggml.model", gguf_string("gpt2")});
  kv.push_back({"tokenizer.ggml.pre", gguf_string("qwen2")});
  kv.push_back({"tokenizer.ggml.tokens", gguf_string_array(tokens)});
  kv.push_back({"tokenizer.ggml.token_type", gguf_array(GgufType::INT32, std::move(types))});
  kv.push_back({"tokenizer.ggml.merges", gguf_string_array(merges)});
  if (auto eos = id_of(config_token(config, "eos_token")))
    kv.push_back({"tokenizer.ggml.eos_token_id", gguf_u32(*eos)});
  if (auto pad = id_of(config_token(config, "pad_token")))
    kv.push_back({"tokenizer.ggml.padding_token_id", gguf_u32(*pad)});
  if (auto bos = id_of("<|endoftext|>"))
    kv.push_back({"tokenizer.ggml.bos_token_id", gguf_u32(*bos)});
  kv.push_back({"tokenizer.ggml.add_bos_token", gguf_bool(config.value("add_bos_token", false))});
  if (config.contains("chat_template") && config["chat_template"].is_string()) {
    kv.push_back(
        {"tokenizer.chat_template", gguf_string(config["chat_template"].get<std::string>())});
  }
  return kv;
}

}  // namespace longctx
