// The "longctx" FTS5 tokenizer: the memory store's full-text index sees turns through
// TextAnalyzer (folding, stemming, stop words, CJK bigrams, date expansion). It must be
// registered on every connection before the index is read or written.
#pragma once

#include <sqlite3.h>

#include "core/status.h"

namespace longctx::memory {

// Registers the tokenizer named "longctx" with db's FTS5 module.
Status register_fts_tokenizer(sqlite3* db);

}  // namespace longctx::memory
