// PieceTable: packed pieces and a linear-probing index keyed by the piece's bytes.
#include "tokenizer/piece_table.h"

#include <functional>
#include <limits>

namespace longctx::tok {

Result<PieceTable> PieceTable::build(const std::vector<std::string>& pieces) {
  PieceTable t;
  uint64_t total = 0;
  for (const std::string& p : pieces) total += p.size();
  if (total > std::numeric_limits<uint32_t>::max() ||
      pieces.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return invalid_format("vocabulary too large: " + std::to_string(pieces.size()) + " pieces of " +
                          std::to_string(total) + " bytes");
  }
  t.bytes_.reserve(total);
  t.ends_.reserve(pieces.size());
  for (const std::string& p : pieces) {
    t.bytes_ += p;
    t.ends_.push_back(static_cast<uint32_t>(t.bytes_.size()));
  }
  size_t cap = 16;
  while (cap < pieces.size() * 2) cap *= 2;
  t.slots_.assign(cap, -1);
  t.mask_ = cap - 1;
  const std::hash<std::string_view> hash;
  for (int32_t id = 0; id < t.size(); ++id) {
    const std::string_view p = t.piece(id);
    if (p.empty()) continue;
    uint64_t h = hash(p) & t.mask_;
    while (t.slots_[h] >= 0 && t.piece(t.slots_[h]) != p) h = (h + 1) & t.mask_;
    if (t.slots_[h] < 0) t.slots_[h] = id;  // a repeated piece keeps its first id
  }
  return t;
}

std::optional<int32_t> PieceTable::find(std::string_view piece) const {
  if (piece.empty() || slots_.empty()) return std::nullopt;
  for (uint64_t h = std::hash<std::string_view>()(piece) & mask_;; h = (h + 1) & mask_) {
    const int32_t id = slots_[h];
    if (id < 0) return std::nullopt;
    if (this->piece(id) == piece) return id;
  }
}

}  // namespace longctx::tok
