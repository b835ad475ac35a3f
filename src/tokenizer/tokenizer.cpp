// Tokenizer construction from a TokenizerSpec, the encode pipeline (UTF-8 repair -> added-token
// split -> NFC -> regex pieces -> BPE) and decoding. Loaders live in tokenizer_load.cpp.
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <array>

#include "tokenizer/bpe.h"
#include "tokenizer/piece_table.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/utf8.h"

namespace longctx {

struct Tokenizer::Impl {
  tok::PieceTable pieces;  // each id's bytes (added tokens: their content), and piece -> id
  std::vector<TokenKind> kinds;
  tok::BpeModel bpe;
  tok::RegexSplitter splitter;
  bool nfc = true;
  std::vector<AddedToken> added;
  // Added-token candidates by first byte, longest first, so the first hit is the longest match.
  std::array<std::vector<int32_t>, 256> added_by_byte;  // indices into `added`
  std::optional<int32_t> eos, pad, bos, im_end, endoftext;

  // The longest added token at text[pos], skipping specials unless parse_special; nullptr if none.
  const AddedToken* match_added(std::string_view text, size_t pos, bool parse_special,
                                size_t* skip) const;
  void encode_text(std::string_view text, tok::BpeScratch* scratch, std::string* nfc_buf,
                   std::vector<int32_t>* out) const;
};

namespace {

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

}  // namespace

Result<Tokenizer> Tokenizer::from_spec(TokenizerSpec spec) {
  if (spec.pieces.size() != spec.kinds.size()) {
    return invalid_format("token count " + std::to_string(spec.pieces.size()) +
                          " != token type count " + std::to_string(spec.kinds.size()));
  }
  auto impl = std::make_shared<Impl>();
  const int32_t n = static_cast<int32_t>(spec.pieces.size());

  // BPE sees only normal (and byte) tokens; added and padding entries are matched elsewhere.
  std::vector<std::string> bpe_pieces(spec.pieces.size());
  for (int32_t i = 0; i < n; ++i) {
    if (spec.kinds[i] == TokenKind::kNormal || spec.kinds[i] == TokenKind::kByte) {
      bpe_pieces[i] = spec.pieces[i];
    }
  }
  Result<tok::BpeModel> bpe = tok::BpeModel::build(bpe_pieces, spec.merges);
  if (!bpe.is_ok()) return bpe.status();
  impl->bpe = std::move(bpe).value();

  Result<tok::RegexSplitter> splitter = tok::RegexSplitter::compile(spec.pattern);
  if (!splitter.is_ok()) return splitter.status();
  impl->splitter = std::move(splitter).value();

  for (const AddedToken& a : spec.added) {
    if (a.id < 0 || a.id >= n) {
      return invalid_format("added token \"" + a.content + "\" has id " + std::to_string(a.id) +
                            " outside the vocabulary of " + std::to_string(n));
    }
    if (a.content.empty()) {
      return invalid_format("added token " + std::to_string(a.id) + " has empty content");
    }
    // The content is what decode() prints and what token_id() finds for this id.
    spec.pieces[a.id] = a.content;
  }
  Result<tok::PieceTable> pieces = tok::PieceTable::build(spec.pieces);
  if (!pieces.is_ok()) return pieces.status();
  impl->pieces = std::move(pieces).value();
  impl->kinds = std::move(spec.kinds);
  impl->added = std::move(spec.added);
  impl->nfc = spec.nfc;
  for (size_t k = 0; k < impl->added.size(); ++k) {
    const uint8_t b = static_cast<uint8_t>(impl->added[k].content[0]);
    impl->added_by_byte[b].push_back(static_cast<int32_t>(k));
  }
  for (auto& list : impl->added_by_byte) {
    std::stable_sort(list.begin(), list.end(), [&](int32_t x, int32_t y) {
      return impl->added[x].content.size() > impl->added[y].content.size();
    });
  }

  auto check_id = [&](std::optional<int32_t> id, const char* what) -> Status {
    if (id && (*id < 0 || *id >= n)) {
      return invalid_format(std::string(what) + " id " + std::to_string(*id) +
                            " outside the vocabulary of " + std::to_string(n));
    }
    return Status::ok();
  };
  LONGCTX_RETURN_IF_ERROR(check_id(spec.eos_id, "eos token"));
  LONGCTX_RETURN_IF_ERROR(check_id(spec.pad_id, "padding token"));
  LONGCTX_RETURN_IF_ERROR(check_id(spec.bos_id, "bos token"));
  impl->im_end = impl->pieces.find("<|im_end|>");
  impl->endoftext = impl->pieces.find("<|endoftext|>");
  impl->eos = spec.eos_id ? spec.eos_id : impl->endoftext;
  impl->pad = spec.pad_id;
  impl->bos = spec.bos_id;

  Tokenizer t;
  t.impl_ = std::move(impl);
  return t;
}

const AddedToken* Tokenizer::Impl::match_added(std::string_view text, size_t pos,
                                               bool parse_special, size_t* skip) const {
  *skip = 0;
  const auto& cands = added_by_byte[static_cast<uint8_t>(text[pos])];
  for (int32_t k : cands) {
    const AddedToken& a = added[k];
    if (text.compare(pos, a.content.size(), a.content) != 0) continue;
    if (a.special && !parse_special) {
      // HF finds the match, then leaves its span to be encoded as text; nothing inside it can
      // match another added token, so skip past it.
      *skip = a.content.size();
      return nullptr;
    }
    return &a;
  }
  return nullptr;
}

void Tokenizer::Impl::encode_text(std::string_view text, tok::BpeScratch* scratch,
                                  std::string* nfc_buf, std::vector<int32_t>* out) const {
  if (text.empty()) return;
  if (nfc && !tok::is_ascii(text)) {
    nfc_buf->clear();
    tok::append_nfc(text, nfc_buf);
    text = *nfc_buf;
  }
  size_t consumed = 0;
  Status st = splitter.split(text, [&](std::string_view piece) {
    bpe.encode_word(piece, scratch, out);
    consumed += piece.size();
  });
  // A PCRE2 run-time failure (a resource limit) is not expected for the shipped patterns; the
  // remaining text is then encoded as one piece so that decode(encode(s)) still gives s.
  if (!st.is_ok() && consumed < text.size()) {
    bpe.encode_word(text.substr(consumed), scratch, out);
  }
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool parse_special) const {
  const Impl& m = *impl_;
  std::string repaired;
  if (!tok::is_ascii(text)) {
    std::string tmp;
    if (!tok::append_valid_utf8(text, &tmp)) {
      repaired = std::move(tmp);
      text = repaired;
    }
  }
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 1);
  tok::BpeScratch scratch;
  std::string nfc_buf;

  size_t seg_start = 0;  // start of the text not yet encoded
  size_t pos = 0;
  while (pos < text.size()) {
    if (m.added_by_byte[static_cast<uint8_t>(text[pos])].empty()) {
      ++pos;
      continue;
    }
    size_t skip = 0;
    const AddedToken* a = m.match_added(text, pos, parse_special, &skip);
    if (a == nullptr) {
      pos += skip > 0 ? skip : 1;
      continue;
    }
    size_t seg_end = pos;
    if (a->lstrip) {
      while (seg_end > seg_start && is_ascii_space(text[seg_end - 1])) --seg_end;
    }
    m.encode_text(text.substr(seg_start, seg_end - seg_start), &scratch, &nfc_buf, &out);
    out.push_back(a->id);
    pos += a->content.size();
    if (a->rstrip) {
      while (pos < text.size() && is_ascii_space(text[pos])) ++pos;
    }
    seg_start = pos;
  }
  m.encode_text(text.substr(seg_start), &scratch, &nfc_buf, &out);
  return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  std::string out;
  for (int32_t id : ids) {
    if (id >= 0 && id < n_vocab()) out += impl_->pieces.piece(id);
  }
  return out;
}

std::string Tokenizer::token_piece(int32_t id) const {
  if (id < 0 || id >= n_vocab()) return {};
  return std::string(impl_->pieces.piece(id));
}

std::optional<int32_t> Tokenizer::token_id(std::string_view piece) const {
  return impl_->pieces.find(piece);
}

TokenKind Tokenizer::token_kind(int32_t id) const {
  if (id < 0 || id >= n_vocab()) return TokenKind::kUnused;
  return impl_->kinds[id];
}

int32_t Tokenizer::n_vocab() const { return impl_->pieces.size(); }
std::optional<int32_t> Tokenizer::eos_id() const { return impl_->eos; }
std::optional<int32_t> Tokenizer::end_of_turn_id() const { return impl_->im_end; }
std::optional<int32_t> Tokenizer::end_of_text_id() const { return impl_->endoftext; }
std::optional<int32_t> Tokenizer::pad_id() const { return impl_->pad; }
std::optional<int32_t> Tokenizer::bos_id() const { return impl_->bos; }
const std::string& Tokenizer::pre_tokenizer_pattern() const { return impl_->splitter.pattern(); }

bool Tokenizer::is_end_of_generation(int32_t id) const {
  return (impl_->eos && id == *impl_->eos) || (impl_->im_end && id == *impl_->im_end) ||
         (impl_->endoftext && id == *impl_->endoftext);
}

std::string StreamDecoder::push(int32_t id) {
  pending_ += tokenizer_->token_piece(id);
  const size_t n = tok::utf8_complete_prefix(pending_);
  std::string out;
  tok::append_valid_utf8(std::string_view(pending_).substr(0, n), &out);
  pending_.erase(0, n);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out;
  tok::append_valid_utf8(pending_, &out);
  pending_.clear();
  return out;
}

}  // namespace longctx
