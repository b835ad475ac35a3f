// The "longctx" FTS5 tokenizer and ranking function: the memory store's full-text index sees turns
// through TextAnalyzer (folding, stemming, stop words, CJK bigrams, date expansion). It must be
// registered on every connection before the index is read or written.
#pragma once

#include <sqlite3.h>

#include "core/status.h"

namespace longctx::memory {

// Registers the tokenizer named "longctx" and the ranking function lcx_bm25 (fts_rank.cpp) with
// db's FTS5 module.
Status register_fts_extensions(sqlite3* db);

// Registers lcx_bm25 (fts_rank.cpp).
Status register_fts_rank(fts5_api* api);

}  // namespace longctx::memory
