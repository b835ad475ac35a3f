// Tokenizer metadata for a GGUF file, with the keys, types and token-type rules llama.cpp's
// converter (convert_hf_to_gguf.py, GPT-2 BPE path) uses, so that written models load in both
// longctx and llama.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"

namespace longctx {

// The TokenizerSpec of a tokenizer.json text (the loader behind Tokenizer::from_hf_json).
Result<TokenizerSpec> tokenizer_spec_from_hf_json(const std::string& json_text);

// tokenizer.ggml.{model,pre,tokens,token_type,merges,eos_token_id,padding_token_id,
// bos_token_id,add_bos_token} and tokenizer.chat_template for the Hugging Face tokenizer in
// `hf_dir` (tokenizer.json or tokenizer.json.zst, and tokenizer_config.json), with the token
// list padded to `n_vocab` entries ("[PAD<id>]", type unused) as the converter pads it to the
// model's vocab_size.
Result<std::vector<GgufKV>> gguf_tokenizer_metadata(const std::string& hf_dir, uint32_t n_vocab);

}  // namespace longctx
