// Tokenizer::from_gguf: reads the tokenizer.ggml.* metadata that llama.cpp's converter writes for
// Qwen2/2.5/3 (model "gpt2", pre "qwen2") into a TokenizerSpec.
#include "gguf/gguf.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"

namespace longctx {
namespace {

// Optional integer id key: absent is fine, present must be a valid int32.
Status optional_id(const GgufFile& f, const char* key, std::optional<int32_t>* out) {
  if (f.find(key) == nullptr) return Status::ok();
  Result<uint64_t> v = f.get_uint(key);
  if (!v.is_ok()) return v.status();
  if (*v > static_cast<uint64_t>(INT32_MAX)) {
    return invalid_format(std::string(key) + " = " + std::to_string(*v) + " is not a token id");
  }
  *out = static_cast<int32_t>(*v);
  return Status::ok();
}

}  // namespace

Result<Tokenizer> Tokenizer::from_gguf(const GgufFile& f) {
  Result<std::string> model = f.get_string("tokenizer.ggml.model");
  if (!model.is_ok()) return model.status();
  if (*model != "gpt2") {
    return unsupported("tokenizer.ggml.model \"" + *model + "\" (only \"gpt2\" byte-level BPE)");
  }
  // The pre-tokenizer is named, not stored: "qwen2" means the Qwen2 regex (Qwen3 reuses it).
  Result<std::string> pre = f.get_string("tokenizer.ggml.pre");
  if (!pre.is_ok()) return pre.status();
  if (*pre != "qwen2" && *pre != "qwen3") {
    return unsupported("tokenizer.ggml.pre \"" + *pre + "\" (only \"qwen2\")");
  }

  Result<std::vector<std::string>> tokens = f.get_string_array("tokenizer.ggml.tokens");
  if (!tokens.is_ok()) return tokens.status();
  Result<std::vector<int64_t>> types = f.get_int_array("tokenizer.ggml.token_type");
  if (!types.is_ok()) return types.status();
  if (types->size() != tokens->size()) {
    return invalid_format("tokenizer.ggml.token_type has " + std::to_string(types->size()) +
                          " entries but tokenizer.ggml.tokens has " +
                          std::to_string(tokens->size()));
  }
  if (tokens->size() > static_cast<size_t>(INT32_MAX)) {
    return invalid_format("tokenizer.ggml.tokens: too many tokens");
  }

  TokenizerSpec spec;
  spec.pattern = tok::kQwen2Pattern;
  spec.nfc = true;
  spec.pieces.resize(tokens->size());
  spec.kinds.resize(tokens->size());
  for (size_t i = 0; i < tokens->size(); ++i) {
    const int64_t t = (*types)[i];
    if (t < 1 || t > 6) {
      return invalid_format("tokenizer.ggml.token_type[" + std::to_string(i) +
                            "] = " + std::to_string(t) + " (expected 1..6)");
    }
    const TokenKind kind = static_cast<TokenKind>(t);
    spec.kinds[i] = kind;
    std::string& text = (*tokens)[i];
    if (kind == TokenKind::kNormal || kind == TokenKind::kByte) {
      // Normal tokens are stored in the byte-level alphabet, like tokenizer.json's vocab.
      std::optional<std::string> raw = tok::byte_level_decode(text);
      if (!raw) {
        return invalid_format("tokenizer.ggml.tokens[" + std::to_string(i) + "] \"" + text +
                              "\" is not byte-level text");
      }
      spec.pieces[i] = std::move(*raw);
    } else {
      // Control, user-defined, unused and unknown tokens are stored as their raw text.
      spec.pieces[i] = std::move(text);
    }
    if (kind == TokenKind::kControl || kind == TokenKind::kUserDefined) {
      AddedToken a;
      a.content = spec.pieces[i];
      a.id = static_cast<int32_t>(i);
      a.special = kind == TokenKind::kControl;
      if (!a.content.empty()) spec.added.push_back(std::move(a));
    }
  }

  Result<std::vector<std::string>> merges = f.get_string_array("tokenizer.ggml.merges");
  if (!merges.is_ok()) return merges.status();
  spec.merges.reserve(merges->size());
  for (size_t r = 0; r < merges->size(); ++r) {
    const std::string& m = (*merges)[r];
    const size_t sp = m.find(' ');
    std::optional<std::string> a, b;
    if (sp != std::string::npos && m.find(' ', sp + 1) == std::string::npos) {
      a = tok::byte_level_decode(std::string_view(m).substr(0, sp));
      b = tok::byte_level_decode(std::string_view(m).substr(sp + 1));
    }
    if (!a || !b || a->empty() || b->empty()) {
      return invalid_format("tokenizer.ggml.merges[" + std::to_string(r) + "] \"" + m +
                            "\" is not two byte-level tokens separated by one space");
    }
    spec.merges.emplace_back(std::move(*a), std::move(*b));
  }

  LONGCTX_RETURN_IF_ERROR(optional_id(f, "tokenizer.ggml.eos_token_id", &spec.eos_id));
  LONGCTX_RETURN_IF_ERROR(optional_id(f, "tokenizer.ggml.padding_token_id", &spec.pad_id));
  LONGCTX_RETURN_IF_ERROR(optional_id(f, "tokenizer.ggml.bos_token_id", &spec.bos_id));
  // add_bos_token is ignored on purpose: Qwen never prepends BOS (the converter writes false).
  return from_spec(std::move(spec));
}

}  // namespace longctx
