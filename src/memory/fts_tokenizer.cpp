// FTS5 tokenizer over TextAnalyzer. Documents and queries go through the same analysis, so a
// query word is stemmed exactly as the indexed words were; queries additionally drop the words of
// asking (see TextAnalyzer::is_query_stop_word), which the caller has already left out.
#include "memory/fts_tokenizer.h"

#include <string>

#include "memory/text_analyzer.h"

namespace longctx::memory {
namespace {

struct Tokenizer {
  TextAnalyzer analyzer;
};

int x_create(void*, const char**, int, Fts5Tokenizer** out) {
  try {
    *out = reinterpret_cast<Fts5Tokenizer*>(new Tokenizer());
  } catch (...) {
    return SQLITE_NOMEM;
  }
  return SQLITE_OK;
}

void x_delete(Fts5Tokenizer* t) { delete reinterpret_cast<Tokenizer*>(t); }

int x_tokenize(Fts5Tokenizer* t, void* ctx, int /*flags*/, const char* text, int n,
               int (*token)(void*, int, const char*, int, int, int)) {
  auto* tk = reinterpret_cast<Tokenizer*>(t);
  int rc = SQLITE_OK;
  try {
    tk->analyzer.index_terms(std::string_view(text, static_cast<size_t>(n)),
                             [&](std::string_view term, int b, int e) {
                               if (rc != SQLITE_OK) return;
                               rc = token(ctx, 0, term.data(), static_cast<int>(term.size()), b, e);
                             });
  } catch (...) {
    return SQLITE_NOMEM;
  }
  return rc;
}

}  // namespace

Status register_fts_extensions(sqlite3* db) {
  fts5_api* api = nullptr;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, nullptr) != SQLITE_OK) {
    return unsupported("this SQLite has no FTS5 module (needed for the memory store's recall)");
  }
  sqlite3_bind_pointer(st, 1, &api, "fts5_api_ptr", nullptr);
  sqlite3_step(st);
  sqlite3_finalize(st);
  if (api == nullptr || api->iVersion < 2) {
    return unsupported("this SQLite's FTS5 module is too old for the memory store");
  }
  fts5_tokenizer tok{x_create, x_delete, x_tokenize};
  if (api->xCreateTokenizer(api, "longctx", nullptr, &tok, nullptr) != SQLITE_OK) {
    return unsupported("could not register the memory store's FTS5 tokenizer");
  }
  return register_fts_rank(api);
}

}  // namespace longctx::memory
