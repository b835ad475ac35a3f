// libFuzzer target: GBNF grammars (runtime/gbnf.h), a request field any client can send. The
// input is a grammar, then optionally a NUL byte and reply bytes: the grammar must parse or fail
// with a message, and a parsed one must follow the bytes, report its state and fill masks over a
// small vocabulary (every single byte and a few longer tokens) without crashing; a token the mask
// allows must be accepted.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/gbnf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace longctx;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nul = in.find('\0');
  const std::string_view text = in.substr(0, nul);
  const std::string_view reply = nul == std::string_view::npos ? "" : in.substr(nul + 1);
  auto g = GbnfGrammar::parse(text);
  if (!g.is_ok()) {
    if (g.status().message().empty()) std::abort();
    return 0;
  }
  static const auto vocab = [] {
    std::vector<std::string> t;
    for (int c = 0; c < 256; ++c) t.emplace_back(1, static_cast<char>(c));
    for (const char* s : {"ab", "a\"", "\\n", "é", "\xE2\x82", "{\"", "  ", "12"})
      t.emplace_back(s);
    return std::make_shared<const GbnfVocab>(t);
  }();
  GbnfMatcher m(*g, vocab);
  std::vector<uint8_t> mask;
  for (size_t i = 0; i < reply.size() && i < 64; ++i) {
    // With and without a token budget: an allowed token is always accepted.
    m.fill_mask(&mask, i % 2 == 0 ? -1 : static_cast<int64_t>(i % 5));
    for (size_t id = 0; id < mask.size(); ++id) {
      if (mask[id] && !GbnfMatcher(m).accept_token(static_cast<int32_t>(id))) std::abort();
    }
    (void)m.min_bytes_to_complete();
    (void)m.is_complete();
    (void)m.can_continue();
    if (!m.accept_bytes(reply.substr(i, 1))) break;
  }
  return 0;
}
