// Model hyperparameters from a Hugging Face config.json (Qwen3, Qwen3-MoE, Qwen2), with the
// defaults transformers applies to absent fields, so a model can be planned or synthesised from
// its published config without downloading the weights.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "core/status.h"
#include "model/hparams.h"

namespace longctx {

// Reads the fields of a parsed config.json. Shape fields (hidden_size, num_hidden_layers,
// num_attention_heads, vocab_size, max_position_embeddings, intermediate_size or the MoE sizes)
// are required; a missing, mistyped, zero or negative one is an error naming the field. Features
// this runtime does not implement (dense layers inside a MoE model, rope types other than
// default/linear/yarn) are refused rather than ignored. The result has passed validate().
Result<ModelHparams> hparams_from_hf_config(const nlohmann::json& config);

// Reads and parses `path` (a ".zst" file is decompressed); JSON syntax errors name the file,
// line and column.
Result<ModelHparams> hparams_from_hf_config_file(const std::string& path);

}  // namespace longctx
