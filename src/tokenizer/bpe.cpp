// BPE merge loop: a doubly linked list of symbols plus a binary min-heap of candidate merges
// keyed by (rank, position). Stale candidates (whose symbols changed) are skipped when popped,
// so each merge costs O(log n) and a word of n bytes O(n log n).
#include "tokenizer/bpe.h"

#include <algorithm>
#include <string>
#include <unordered_map>

namespace longctx::tok {
namespace {

uint64_t pair_key(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

// 64-bit finaliser (splitmix64): spreads adjacent id pairs over the table.
uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Heap order: the candidate with the lowest rank, then the lowest position, is on top.
bool heap_after(const BpeScratch::Candidate& a, const BpeScratch::Candidate& b) {
  return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
}

}  // namespace

Result<BpeModel> BpeModel::build(const std::vector<std::string>& pieces,
                                 const std::vector<std::pair<std::string, std::string>>& merges) {
  BpeModel m;
  std::unordered_map<std::string_view, int32_t> ids;
  ids.reserve(pieces.size());
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (!pieces[i].empty()) ids.emplace(pieces[i], static_cast<int32_t>(i));
  }
  for (int b = 0; b < 256; ++b) {
    auto it = ids.find(std::string_view(reinterpret_cast<const char*>(&b), 1));
    if (it == ids.end()) {
      return invalid_format("BPE vocabulary has no token for byte 0x" +
                            std::string(1, "0123456789abcdef"[b >> 4]) +
                            std::string(1, "0123456789abcdef"[b & 15]));
    }
    m.byte_token_[b] = it->second;
  }

  size_t cap = 16;
  while (cap * 3 < merges.size() * 4) cap *= 2;
  m.slots_.assign(cap, Slot{kEmpty, 0, 0});
  m.mask_ = cap - 1;
  std::string joined;
  for (size_t r = 0; r < merges.size(); ++r) {
    const auto& [a, b] = merges[r];
    auto ia = ids.find(a);
    auto ib = ids.find(b);
    joined = a + b;
    auto im = ids.find(joined);
    if (ia == ids.end() || ib == ids.end() || im == ids.end()) {
      return invalid_format("merge " + std::to_string(r) + " (\"" + a + "\" + \"" + b +
                            "\"): " + (ia == ids.end() || ib == ids.end() ? "part" : "result") +
                            " is not in the vocabulary");
    }
    const uint64_t key = pair_key(ia->second, ib->second);
    uint64_t h = mix(key) & m.mask_;
    while (m.slots_[h].key != kEmpty && m.slots_[h].key != key) h = (h + 1) & m.mask_;
    // A repeated merge keeps its first (lowest) rank, like HF's merge map.
    if (m.slots_[h].key == kEmpty) {
      m.slots_[h] = Slot{key, static_cast<int32_t>(r), im->second};
    }
  }
  return m;
}

const BpeModel::Slot* BpeModel::find_merge(int32_t left, int32_t right) const {
  const uint64_t key = pair_key(left, right);
  for (uint64_t h = mix(key) & mask_;; h = (h + 1) & mask_) {
    const Slot& s = slots_[h];
    if (s.key == key) return &s;
    if (s.key == kEmpty) return nullptr;
  }
}

void BpeModel::push_candidate(BpeScratch* s, int32_t pos) const {
  const int32_t next = s->symbols[pos].next;
  if (next < 0) return;
  const Slot* m = find_merge(s->symbols[pos].id, s->symbols[next].id);
  if (m == nullptr) return;
  s->heap.push_back({m->rank, pos, s->symbols[pos].id, s->symbols[next].id, m->merged});
  std::push_heap(s->heap.begin(), s->heap.end(), heap_after);
}

void BpeModel::encode_word(std::string_view word, BpeScratch* s, std::vector<int32_t>* out) const {
  const int32_t n = static_cast<int32_t>(word.size());
  if (n == 1) {
    out->push_back(byte_token_[static_cast<uint8_t>(word[0])]);
    return;
  }
  s->symbols.resize(n);
  s->heap.clear();
  for (int32_t i = 0; i < n; ++i) {
    s->symbols[i] = {byte_token_[static_cast<uint8_t>(word[i])], i - 1, i + 1 < n ? i + 1 : -1};
  }
  for (int32_t i = 0; i + 1 < n; ++i) push_candidate(s, i);

  while (!s->heap.empty()) {
    std::pop_heap(s->heap.begin(), s->heap.end(), heap_after);
    const BpeScratch::Candidate c = s->heap.back();
    s->heap.pop_back();
    BpeScratch::Symbol& left = s->symbols[c.pos];
    // Stale: the left symbol was merged away or changed, or its right neighbour changed.
    if (left.id != c.left || left.next < 0 || s->symbols[left.next].id != c.right) continue;
    BpeScratch::Symbol& right = s->symbols[left.next];
    left.id = c.merged;
    right.id = -1;
    left.next = right.next;
    if (right.next >= 0) s->symbols[right.next].prev = c.pos;
    if (left.prev >= 0) push_candidate(s, left.prev);
    push_candidate(s, c.pos);
  }
  for (int32_t i = 0; i >= 0; i = s->symbols[i].next) out->push_back(s->symbols[i].id);
}

}  // namespace longctx::tok
